"""A griffe extension for the API reference (mkdocs.yml loads it): bm25x's docstrings are written
in reST habits, and the site renders Markdown. Three rewrites, nothing else:

- a doctest (lines from ``>>>`` to the next blank line) becomes a fenced ``pycon`` block, so its
  output (``[2, 2, 1]``) is not read as a Markdown link;
- a paragraph ending in ``::`` ends in ``:`` (its indented block is already a Markdown code block);
- a Sphinx role (``:class:`bm25x.Bm25```, ``:func:`~bm25x.embed```) becomes a cross-reference when
  it names a public bm25x object by its full path, else plain code. mkdocs builds with --strict,
  so a cross-reference to an object the reference does not render fails the build.
"""

from __future__ import annotations

import re
from typing import Any

import griffe

ROLE = re.compile(r":(?:class|func|meth|mod|attr|exc|data|obj):`(~?)([^`]+)`")


def _public_path(target: str) -> bool:
    parts = target.split(".")
    return parts[0] == "bm25x" and len(parts) > 1 and not any(p.startswith("_") for p in parts)


def _role(match: re.Match[str]) -> str:
    short, target = match.group(1), match.group(2)
    shown = target.rsplit(".", 1)[-1] if short else target
    if _public_path(target):
        return f"[`{shown}`][{target}]"
    return f"`{shown}`"


def _fence_doctests(lines: list[str]) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.lstrip().startswith(">>>"):
            indent = line[: len(line) - len(line.lstrip())]
            block = []
            while i < len(lines) and lines[i].strip():
                block.append(lines[i])
                i += 1
            if out and out[-1].strip():
                out.append("")
            out += [f"{indent}```pycon", *block, f"{indent}```"]
            continue
        out.append(line)
        i += 1
    return out


def markdown(text: str) -> str:
    """A reST-flavoured docstring as Markdown (the three rewrites above)."""
    lines = _fence_doctests(text.split("\n"))
    text = "\n".join(re.sub(r"(\S)::$", r"\1:", line) for line in lines)
    return ROLE.sub(_role, text)


class RestToMarkdown(griffe.Extension):
    """Rewrites each docstring once, when griffe has loaded its object (griffe reports the
    top-level package through ``on_package`` only, every other object through ``on_object``)."""

    def __init__(self) -> None:
        super().__init__()
        self._done: set[str] = set()

    def _rewrite(self, obj: griffe.Object) -> None:
        if obj.docstring is not None and obj.path not in self._done:
            self._done.add(obj.path)
            obj.docstring.value = markdown(obj.docstring.value)

    def on_object(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        self._rewrite(obj)

    def on_package(self, *, pkg: griffe.Module, **kwargs: Any) -> None:
        self._rewrite(pkg)
