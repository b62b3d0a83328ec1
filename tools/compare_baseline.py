"""Measure how often the pure-Python baseline (`bm25x.baseline`) differs from Qdrant's own
`qdrant/bm25` (qdrant-edge-py) with default options, per corpus, and show a few examples.

Usage: python tools/compare_baseline.py   (reads ../shared/corpora)
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
from qdrant_edge import Bm25, Bm25Config

from bm25x import baseline

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def texts(path: Path, fields: tuple[str, ...]) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [" ".join(json.loads(line).get(k, "") for k in fields) for line in f]


def main() -> None:
    oracle = Bm25(Bm25Config())
    slow = baseline.Bm25()
    for name, docs in [
        ("pydocs", texts(SHARED / "pydocs.jsonl.gz", ("text",))),
        ("scifact", texts(SHARED / "scifact" / "corpus.jsonl.gz", ("title", "text"))),
    ]:
        bad = []
        for doc in docs:
            want = oracle.embed_document(doc)
            got = slow.encode(doc)
            same = list(want.indices) == got.indices.tolist() and np.array_equal(
                np.asarray(want.values, dtype=np.float32), got.values
            )
            if not same:
                bad.append(doc)
        print(f"{name}: {len(bad)} of {len(docs)} documents differ ({len(bad) / len(docs):.2%})")
        for doc in bad[:3]:
            print("   ", repr(doc[:120]))


if __name__ == "__main__":
    main()
