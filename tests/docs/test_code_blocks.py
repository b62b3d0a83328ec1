"""Every code block of the documentation runs: README.md, CONTRIBUTING.md, CHANGELOG.md and the
pages under docs/ (the site includes the first three's neighbours, CONTRIBUTING and CHANGELOG).

- Python and bash blocks run page by page, in order, in a fresh process per page and a fresh
  temporary directory holding a small corpus (bm25x's sample as ``corpus.jsonl``,
  ``corpus.jsonl.gz`` and ``corpus.csv``), with ``bm25x`` on the PATH as this interpreter's
  ``python -m bm25x`` and warnings as errors.
- A block marked ``<!-- not run: REASON -->`` (a Qdrant server, the network, an API key, a
  build) is a skipped test with that reason, so ``pytest -ra`` lists them all.
- TOML, YAML and JSON blocks are parsed.
- A page whose blocks import a package that is not installed is skipped locally and an error
  in CI (``support.require``).

The README's own contract is checked too: at most 200 lines, the two set-up commands verbatim,
and relative links that lead to files.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from support import require
from support.doc_blocks import DATA, RUNNABLE, Block, blocks, dangling_markers, dump
from support.strategies import REPO

if sys.version_info >= (3, 11):
    import tomllib
else:  # the serve extra's TOML reader
    import tomli as tomllib

PAGES = [
    REPO / "README.md",
    REPO / "CONTRIBUTING.md",
    REPO / "CHANGELOG.md",
    *sorted((REPO / "docs").rglob("*.md")),
]
NAMES = {page: page.relative_to(REPO).as_posix() for page in PAGES}
BLOCKS = {NAMES[page]: blocks(page, NAMES[page]) for page in PAGES}
ALL = [block for page in BLOCKS.values() for block in page]
RUN = {
    name: [b for b in page if b.lang in RUNNABLE and b.not_run is None]
    for name, page in BLOCKS.items()
}
RUN = {name: page for name, page in RUN.items() if page}
NOT_RUN = [b for b in ALL if b.lang in RUNNABLE and b.not_run is not None]
PARSED = [b for b in ALL if b.lang in DATA and b.lang != "text"]

# Third-party warnings the blocks may raise that say nothing about bm25x: llama-index creates a
# payload index, which embedded Qdrant says has no effect.
IGNORED_WARNINGS = ["ignore:Payload indexes have no effect in the local Qdrant"]
TIMEOUT = 300  # seconds per page; the slowest (the frameworks) takes about ten


def _corpus(where: Path) -> None:
    """bm25x's sample corpus as the three files the pages read."""
    from bm25x.app.cli.commands import sample_corpus

    sample = sample_corpus().read_bytes()
    (where / "corpus.jsonl").write_bytes(sample)
    (where / "corpus.jsonl.gz").write_bytes(gzip.compress(sample))
    rows = [json.loads(line) for line in sample.decode("utf-8").splitlines() if line.strip()]
    with (where / "corpus.csv").open("w", encoding="utf-8", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=["id", "title", "text"])
        writer.writeheader()
        for row in rows:
            writer.writerow({"id": row["_id"], "title": row["title"], "text": row["text"]})


def _bm25x_on_path(bin_dir: Path) -> None:
    """``bm25x`` as this interpreter's ``python -m bm25x`` (the code under test, not whatever
    ``bm25x`` the PATH holds)."""
    bin_dir.mkdir()
    shim = bin_dir / "bm25x"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m bm25x "$@"\n', encoding="utf-8")
    shim.chmod(0o755)


def _imports(page: list[Block]) -> set[str]:
    code = "\n".join(b.code for b in page if b.lang == "python")
    return set(re.findall(r"^\s*(?:from|import)\s+([A-Za-z_]\w*)", code, flags=re.M))


def test_every_fence_names_a_known_language_and_every_marker_marks_a_block() -> None:
    unknown = [
        f"{b.where} ({b.lang or 'no language'})" for b in ALL if b.lang not in RUNNABLE + DATA
    ]
    assert not unknown, f"fences need one of {RUNNABLE + DATA}: {unknown}"
    dangling = [where for page in PAGES for where in dangling_markers(page, NAMES[page])]
    assert not dangling, (
        f"'<!-- not run: REASON -->' must stand right before a code fence: {dangling}"
    )
    marked_data = [b.where for b in ALL if b.lang in DATA and b.not_run is not None]
    assert not marked_data, f"data blocks are parsed, not run; unmark them: {marked_data}"


def test_the_documentation_runs_most_of_its_code() -> None:
    ran = sum(len(page) for page in RUN.values())
    assert ran >= 20, (ran, len(NOT_RUN))  # the parser finds the blocks


def test_every_framework_example_runs() -> None:
    code = "".join(
        b.code for b in RUN["docs/guides/frameworks.md"] + RUN["docs/guides/qdrant-client.md"]
    )
    for word in (
        "bm25x.integrations.fastembed",
        "langchain_qdrant",
        "llama_index",
        "haystack",
        "AsyncQdrantClient",
        '"fast-sparse-bm25"',
    ):
        assert word in code, word


@pytest.mark.parametrize("name", sorted(RUN))
def test_page_runs(name: str, tmp_path: Path) -> None:
    page = RUN[name]
    for module in sorted(_imports(page)):
        if importlib.util.find_spec(module) is None:
            require(module)  # a skip locally when not installed, an error in CI
    work = tmp_path / "work"
    work.mkdir()
    _corpus(work)
    _bm25x_on_path(tmp_path / "bin")
    dump(page, tmp_path / "blocks.json")
    env = dict(os.environ)
    env["PATH"] = f"{tmp_path / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(
        [str(REPO / "tests"), *filter(None, [env.get("PYTHONPATH")])]
    )
    command = [sys.executable, "-W", "error"]
    for rule in IGNORED_WARNINGS:
        command += ["-W", rule]
    command += ["-m", "support.doc_blocks", str(tmp_path / "blocks.json")]
    done = subprocess.run(
        command, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT, check=False
    )
    assert done.returncode == 0, f"{name}:\n{done.stdout[-4000:]}\n{done.stderr[-8000:]}"
    if any("print(" in b.code for b in page if b.lang == "python"):
        assert done.stdout.strip(), f"{name}: its blocks print nothing"


@pytest.mark.parametrize("block", NOT_RUN, ids=[b.where for b in NOT_RUN])
def test_marked_block_is_not_run(block: Block) -> None:
    if block.lang == "python":
        compile(block.code, block.where, "exec")  # even a block that is not run is Python
    pytest.skip(f"{block.where} not run: {block.not_run}")


@pytest.mark.parametrize("block", PARSED, ids=[b.where for b in PARSED])
def test_data_block_parses(block: Block) -> None:
    if block.lang == "toml":
        tomllib.loads(block.code)
    elif block.lang == "json":
        json.loads(block.code)
    else:
        yaml = require("yaml")
        assert yaml.safe_load(block.code) is not None


README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_is_short_and_keeps_the_two_commands() -> None:
    assert len(README.splitlines()) <= 200
    demo = "make demo   # builds the wheel, installs it, runs `bm25x demo`"
    test = "make test   # installs the development dependencies, builds the extension, runs every"
    assert demo in README and test in README
    assert "make test" in (REPO / ".ci" / "run").read_text(encoding="utf-8")


def test_readme_links_lead_to_files() -> None:
    links = re.findall(r"\]\(([^)#]+)(?:#[^)]*)?\)", README)
    local = [link for link in links if "://" not in link]
    assert local, "the README links to the documentation"
    missing = [link for link in local if not (REPO / link).exists()]
    assert not missing, missing
