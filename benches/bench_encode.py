"""The project's benchmark (the logic lives in ``bm25x.app.bench``; ``bm25x bench`` runs the same).
By default it measures ../shared/corpora/pydocs.jsonl.gz, scifact's corpus and the short
documents cut from pydocs (see benches/README.md), when present.

    python benches/bench_encode.py [--processes P] [--repeat R] [--skip NAMES] [--ingest-docs N]
"""

from __future__ import annotations

import sys
from pathlib import Path

from bm25x.app.bench import main

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"
DEFAULT_CORPORA = [SHARED / "pydocs.jsonl.gz", SHARED / "scifact" / "corpus.jsonl.gz"]

if __name__ == "__main__":
    argv = sys.argv[1:]
    if "--corpus" not in argv and "--short" not in argv:
        argv.append("--short")
    raise SystemExit(main(argv, default_corpora=DEFAULT_CORPORA))
