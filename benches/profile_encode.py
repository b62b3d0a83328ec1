"""Driver for benches/profile.sh: encode a corpus once to warm the per-thread memo, then
`passes` more times (the profile's difference between passes=1 and passes=2 is one
steady-state pass).

    python benches/profile_encode.py [pydocs|short] [threads] [passes]
"""

from __future__ import annotations

import sys
from pathlib import Path

import bm25x
from bm25x.app.bench import load_corpus, short_documents

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpora" / "pydocs.jsonl.gz"

if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "pydocs"
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    passes = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    docs, _ = load_corpus(CORPUS, None)
    if kind == "short":
        docs = short_documents(docs)
    enc = bm25x.Bm25(threads=threads)
    for _ in range(1 + passes):
        enc.encode(docs)
