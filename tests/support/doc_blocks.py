"""The code blocks of the documentation, and a runner for one page's blocks.

A block is a fenced block (```` ```python ````, ```` ```bash ````, ```` ```toml ````, …). A
block that cannot run where the tests run carries a marker on the line before it::

    <!-- not run: needs a Qdrant server -->

Run as ``python -m support.doc_blocks BLOCKS.json`` (from the page's working directory), it runs
one page's runnable blocks in order: Python blocks in one namespace, so a page's blocks build on
one another; shell blocks with ``bash -e -o pipefail``. A failure names the page and line.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["DATA", "RUNNABLE", "Block", "blocks", "dangling_markers", "dump", "main"]

RUNNABLE = ("python", "bash")
DATA = ("toml", "yaml", "json", "text")
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")
MARKER = re.compile(r"^\s*<!-- not run: (.+?) -->\s*$")


@dataclass(frozen=True)
class Block:
    """One fenced block: where it starts (1-based line of the fence), its language, its code,
    and why it is not run (``None``: it runs)."""

    page: str
    line: int
    lang: str
    code: str
    not_run: str | None

    @property
    def where(self) -> str:
        return f"{self.page}:{self.line}"


def _marker(lines: list[str], fence: int) -> str | None:
    """The reason of a marker on the last non-blank line before the fence, if any."""
    for line in reversed(lines[:fence]):
        if line.strip():
            match = MARKER.match(line)
            return match.group(1) if match else None
    return None


def blocks(path: Path, name: str) -> list[Block]:
    """Every fenced block of the Markdown file ``path`` (``name`` is how failures cite it)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    out: list[Block] = []
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if not opening:
            i += 1
            continue
        indent, lang = opening.groups()
        end = i + 1
        while end < len(lines) and lines[end].rstrip() != f"{indent}```":
            end += 1
        assert end < len(lines), f"{name}:{i + 1}: a code fence that is never closed"
        code = "\n".join(line[len(indent) :] for line in lines[i + 1 : end]) + "\n"
        out.append(Block(name, i + 1, lang, code, _marker(lines, i)))
        i = end + 1
    return out


def dangling_markers(path: Path, name: str) -> list[str]:
    """Markers that stand before something other than a code fence (they mark nothing)."""
    lines = path.read_text(encoding="utf-8").split("\n")
    out = []
    for i, line in enumerate(lines):
        if line.strip().startswith("<!-- not run"):
            following = next((x for x in lines[i + 1 :] if x.strip()), "")
            if not MARKER.match(line) or not FENCE.match(following):
                out.append(f"{name}:{i + 1}")
    return out


def _run(page: list[Block]) -> None:
    namespace: dict[str, object] = {"__name__": "__main__"}
    for block in page:
        print(f"--- {block.where} ({block.lang})", file=sys.stderr, flush=True)
        if block.lang == "python":
            exec(compile(block.code, block.where, "exec"), namespace)
            sys.stdout.flush()
        else:
            done = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", block.code], check=False)
            if done.returncode:
                raise SystemExit(f"{block.where}: the shell block exited {done.returncode}")


def main(argv: list[str]) -> None:
    (source,) = argv
    page = [Block(**b) for b in json.loads(Path(source).read_text(encoding="utf-8"))]
    _run(page)


def dump(page: list[Block], path: Path) -> None:
    """Write one page's runnable blocks for :func:`main`."""
    path.write_text(json.dumps([asdict(b) for b in page]), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1:])
