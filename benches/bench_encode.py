"""Side-by-side encoding benchmark (the logic lives in ``bm25x.app.bench``; ``bm25x bench`` runs
the same). This entry point defaults to ../shared/corpora/pydocs.jsonl.gz when present.

    python benches/bench_encode.py [--corpus PATH] [--limit N] [--repeat R] [--skip NAMES]
"""

from __future__ import annotations

from pathlib import Path

from bm25x.app.bench import main

DEFAULT_CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pydocs.jsonl.gz"

if __name__ == "__main__":
    raise SystemExit(main(default_corpus=DEFAULT_CORPUS))
