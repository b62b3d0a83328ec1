"""A BEIR dataset folder: its corpus file, its queries, and the graded relevance of each
judged query."""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bm25x.app.corpus.files import _checked_lines, _open_bytes, _text
from bm25x.app.corpus.read import read_docs
from bm25x.app.errors import CorpusError

__all__ = ["Beir", "load_beir"]


@dataclass(frozen=True)
class Beir:
    """A BEIR dataset: the corpus file, the queries, and graded relevance per query."""

    corpus: Path
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]


def _one(folder: Path, patterns: Sequence[str], what: str) -> Path:
    for pattern in patterns:
        found = sorted(folder.glob(pattern))
        if found:
            return found[0]
    raise CorpusError(f"{folder}: no {what} file (looked for {', '.join(patterns)})")


def load_beir(folder: Path, split: str = "test") -> Beir:
    """Load a BEIR-format folder: ``corpus.jsonl[.gz]``, ``queries*.jsonl[.gz]`` and
    ``qrels*.tsv`` (or ``qrels/<split>.tsv``). Prefers files named after ``split``."""
    if not folder.is_dir():
        raise CorpusError(f"{folder}: not a directory")
    corpus = _one(folder, ["corpus.jsonl", "corpus.jsonl.gz"], "corpus")
    qpath = _one(
        folder,
        [f"queries_{split}.jsonl", f"queries_{split}.jsonl.gz", "queries*.jsonl*"],
        "queries",
    )
    rpath = _one(folder, [f"qrels_{split}.tsv", f"qrels/{split}.tsv", "qrels*.tsv"], "qrels")
    queries = {d.id: d.text for d in read_docs(qpath, text_fields=("text",))}
    qrels: dict[str, dict[str, int]] = {}
    try:
        with _open_bytes(rpath, None) as binary, _text(binary) as text:
            qrel_lines = list(_checked_lines(text, rpath))
    except (OSError, EOFError, zlib.error) as e:
        raise CorpusError(f"{rpath}: cannot read ({e})") from None
    for n, line in enumerate(qrel_lines, 1):
        cols = line.rstrip("\r\n").split("\t")
        if not line.strip() or (n == 1 and not cols[-1].lstrip("-").isdigit()):
            continue  # blank line or header
        if len(cols) == 4:  # TREC style: query, iteration, doc, score
            cols = [cols[0], cols[2], cols[3]]
        if len(cols) != 3 or not cols[2].lstrip("-").isdigit():
            raise CorpusError(
                f"{rpath} line {n}: expected 'query-id<TAB>corpus-id<TAB>score' "
                f"with an integer score, got {line.strip()!r}"
            )
        qrels.setdefault(cols[0], {})[cols[1]] = int(cols[2])
    if not qrels:
        raise CorpusError(f"{rpath}: no judged queries")
    missing = [q for q in qrels if q not in queries]
    if missing:
        raise CorpusError(
            f"{rpath}: {len(missing)} judged queries are not in {qpath.name} "
            f"(first: {missing[0]!r})"
        )
    return Beir(corpus, {q: queries[q] for q in qrels}, qrels)
