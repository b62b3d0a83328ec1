"""Measure how often Python's `snowballstemmer` disagrees with rust-stemmers 1.2 (what Qdrant and
fastembed run, reached here through `py_rust_stemmers`), to choose the release `bm25x.baseline`
pins.

Usage: python tools/compare_snowball.py [SNOWBALL_PATH ...]
Each SNOWBALL_PATH is a directory holding another `snowballstemmer` release (for example made
with `pip install --target DIR snowballstemmer==3.1.1`); the installed one is always measured.
The English vocabulary is every distinct word of ../shared/corpora (both corpora).
"""

from __future__ import annotations

import gzip
import json
import re
import subprocess
import sys
from pathlib import Path

import py_rust_stemmers

SHARED = Path(__file__).resolve().parents[2] / "shared" / "corpora"


def vocabulary() -> list[str]:
    words: set[str] = set()
    for path, fields in [
        (SHARED / "pydocs.jsonl.gz", ("text",)),
        (SHARED / "scifact" / "corpus.jsonl.gz", ("title", "text")),
    ]:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                row = json.loads(line)
                for field in fields:
                    words.update(re.findall(r"[^\W\d_]+", row.get(field, "").lower()))
    return sorted(words)


PROBE = """
import json, sys, snowballstemmer
words = json.load(sys.stdin)
s = snowballstemmer.stemmer("english")
json.dump([snowballstemmer.__file__, [s.stemWord(w) for w in words]], sys.stdout)
"""


def main() -> None:
    words = vocabulary()
    reference = py_rust_stemmers.SnowballStemmer("english").stem_words(words)
    for extra in [None, *sys.argv[1:]]:
        env = {"PYTHONPATH": extra} if extra else None
        out = subprocess.run(
            [sys.executable, "-c", PROBE],
            input=json.dumps(words),
            capture_output=True,
            text=True,
            check=True,
            env=env,
        )
        origin, stems = json.loads(out.stdout)
        diff = [(w, a, b) for w, a, b in zip(words, stems, reference) if a != b]
        print(f"{origin}: {len(diff)} of {len(words)} words differ ({len(diff) / len(words):.3%})")
        for w, a, b in diff[:8]:
            print(f"    {w}: snowballstemmer {a!r}, rust-stemmers {b!r}")


if __name__ == "__main__":
    main()
