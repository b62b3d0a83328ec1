"""The sample corpus bundled for `bm25x demo`: real text without duplicates, so the demo's
first search shows distinct documents, and its provenance and licence ship beside it."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from bm25x.app.cli import main
from bm25x.app.cli.commands import DEMO_QUERIES, sample_corpus
from bm25x.app.corpus import read_docs


def test_the_sample_has_no_duplicate_texts_or_ids() -> None:
    docs = list(read_docs(sample_corpus()))
    assert len(docs) >= 50
    texts = [" ".join(d.text.split()).lower() for d in docs]
    assert len(set(texts)) == len(texts)
    assert len({d.id for d in docs}) == len(docs)


def test_no_two_sample_documents_open_with_the_same_sentence() -> None:
    # What a user sees of a hit is its opening words: two documents that open alike look like
    # one document found twice.
    docs = list(read_docs(sample_corpus()))
    openings = [re.split(r"(?<=[.;:])\s", d.text, maxsplit=1)[0] for d in docs]
    assert len(set(openings)) == len(openings)


def test_the_sample_ships_its_provenance_and_licence() -> None:
    notes = (sample_corpus().parent / "README.md").read_text(encoding="utf-8")
    assert "public domain" in notes.lower() and "miscfiles" in notes


def test_the_demo_top_hits_are_distinct_texts(tmp_path: Path, capsys: Any) -> None:
    status = main(["demo", "--store", str(tmp_path / "demo"), "--json", "-k", "5"])
    out, err = capsys.readouterr()
    assert status == 0, err
    results = json.loads(out)
    assert [r["query"] for r in results] == list(DEMO_QUERIES)
    for result in results:
        texts = [" ".join(h["text"].split()) for h in result["hits"]]
        assert len(texts) >= 3 and len(set(texts)) == len(texts), result["query"]
        # As the table prints them (cut to 69 characters), still distinct.
        assert len({t[:69] for t in texts}) == len(texts), result["query"]
