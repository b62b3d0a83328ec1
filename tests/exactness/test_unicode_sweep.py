"""Every Unicode scalar value, alone, inside a word and doubled, through every tokenizer and the
lowercase/ascii_folding switches: bm25x's document vectors equal qdrant-edge 0.9.0's.

This is what pins the Unicode tables (rust/core/Cargo.toml: unicode-normalization 0.1.25 and
friends, the versions in the qdrant-edge-py 0.9.0 wheel and the Qdrant v1.18/v1.19 servers) and
the toolchain's `char` tables. The default run takes every 61st code point plus the ones known
to be sensitive; the full sweep (all 1,112,064) runs when ``CI`` is set (as in CI) or with
``BM25X_UNICODE_SWEEP=full``, on two worker processes.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from support import require

import bm25x

require("qdrant_edge")
from support.unicode_sweep import SWITCHES, TOKENIZERS, run, scalar_values

# Assigned in Unicode 17, which unicode-normalization 0.1.26 knows and 0.1.25 (Qdrant's) does
# not: with the newer tables `multilingual` turns them into letters (U+209F -> "z").
UNICODE_17 = [
    0x0558, 0x058B, 0x058C, 0x209D, 0x209E, 0x209F,
    *range(0x107BB, 0x107C0), *range(0x1B123, 0x1B127), 0x1D6A6, 0x1DF95,
    *range(0x1DFCD, 0x1E000),
]  # fmt: skip
SLICE = 1 << 17
FULL = os.environ.get("BM25X_UNICODE_SWEEP") == "full" or os.environ.get("CI", "") not in (
    "",
    "0",
    "false",
)


def code_points() -> list[int]:
    if FULL:
        return scalar_values()
    return sorted({*scalar_values(61), *UNICODE_17})


def test_the_sensitive_code_points_are_empty_as_on_qdrant() -> None:
    """U+209F is an empty vector on the server and in qdrant-edge 0.9.0 (both use
    unicode-normalization 0.1.25); bm25x built with 0.1.26 gave the term `z`."""
    enc = bm25x.Bm25(tokenizer="multilingual")
    for cp in UNICODE_17:
        assert enc.encode(chr(cp)).indices.tolist() == [], hex(cp)


def test_every_code_point_in_every_tokenizer() -> None:
    cps = code_points()
    # Slices keep each worker's memory small and the two workers evenly loaded.
    slices = [cps[i : i + SLICE] for i in range(0, len(cps), SLICE)]
    jobs = [(tok, sw, part) for tok in TOKENIZERS for sw in SWITCHES for part in slices]
    workers = min(2, os.cpu_count() or 1)
    # spawn: the parent holds bm25x's thread pools, which fork would not carry over safely.
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        results = list(pool.map(run, jobs))
    differ: dict[str, list[tuple[str, str]]] = {}
    for (tok, switches, _), found in zip(jobs, results):
        if found:
            differ.setdefault(f"{tok} {switches}", []).extend(
                (f"U+{cp:04X}", ctx) for cp, ctx in found[:20]
            )
    assert not differ, differ
