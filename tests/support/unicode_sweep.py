"""The Unicode sweep's worker: every code point given, in three contexts, through one tokenizer
and one lowercase/ascii_folding setting, bm25x against qdrant-edge. Run in worker processes by
`test_unicode_sweep.py` (a module of its own so that spawned workers can import it).

Every code point's texts stay attributable:
- `multilingual` and `code` look at a whole text (script detection, identifier structure), so
  qdrant-edge embeds each text on its own;
- `word`, `whitespace` and `prefix` split at every non-alphanumeric (whitespace) char, so a
  newline is a token boundary whatever surrounds it: CHUNK texts are joined with newlines and
  embedded in one call, and a chunk whose vector differs is compared text by text to name the
  code points (this also absorbs Qdrant's random pick between two terms of one chunk that
  share a 32-bit id).
bm25x encodes all texts of a job in one batch call.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import bm25x
from support.qdrant_oracle import oracle

CONTEXTS = ("{c}", "a{c}b", "{c}{c}")
"""Alone, inside a word, doubled."""
TOKENIZERS = ("word", "whitespace", "prefix", "multilingual", "code")
SWITCHES = (
    {"lowercase": True, "ascii_folding": False},
    {"lowercase": False, "ascii_folding": False},
    {"lowercase": True, "ascii_folding": True},
    {"lowercase": False, "ascii_folding": True},
)
CHUNKED = {"word", "whitespace", "prefix"}
CHUNK = 64


def scalar_values(stride: int = 1) -> list[int]:
    """Every Unicode scalar value (no surrogates), or every `stride`-th one."""
    return [c for c in range(0, 0x110000, stride) if not 0xD800 <= c <= 0xDFFF]


def _differing(batch: Any, wants: list[Any]) -> list[int]:
    """Positions where bm25x's CSR `batch` and qdrant-edge's vectors `wants` differ (indices,
    or float32 values bit for bit), compared in bulk."""
    indices: list[int] = []
    values: list[float] = []
    lengths: list[int] = []
    for vec in wants:
        ids = vec.indices
        indices.extend(ids)
        values.extend(vec.values)
        lengths.append(len(ids))
    got_lengths = np.diff(batch.indptr)
    bad = set(np.flatnonzero(got_lengths != np.asarray(lengths)).tolist())
    if not bad:
        want_ids = np.asarray(indices, dtype=np.uint32)
        want_bits = np.asarray(values, dtype=np.float32).view(np.uint32)
        wrong = (want_ids != batch.indices) | (want_bits != batch.values.view(np.uint32))
        rows = np.searchsorted(batch.indptr, np.flatnonzero(wrong), side="right") - 1
        bad.update(rows.tolist())
    else:  # lengths differ somewhere: compare row by row
        start = np.concatenate([[0], np.cumsum(lengths)])
        for i in range(len(wants)):
            lo, hi = int(batch.indptr[i]), int(batch.indptr[i + 1])
            got = (batch.indices[lo:hi].tolist(), batch.values[lo:hi].view(np.uint32).tolist())
            want_slice = slice(int(start[i]), int(start[i + 1]))
            want = (
                indices[want_slice],
                np.asarray(values[want_slice], dtype=np.float32).view(np.uint32).tolist(),
            )
            if got != want:
                bad.add(i)
    return sorted(bad)


def run(job: tuple[str, dict[str, bool], list[int]]) -> list[tuple[int, str]]:
    """(code point, context) pairs whose document vectors differ, for one tokenizer/switch."""
    tokenizer, switches, code_points = job
    options: dict[str, Any] = {"tokenizer": tokenizer, **switches}
    # qdrant-edge 0.9.0 is the reference here, Japanese words included.
    ours = bm25x.Bm25(threads=1, profile="edge-0.9", **options)
    edge = oracle(options)
    texts = [ctx.format(c=chr(cp)) for cp in code_points for ctx in CONTEXTS]
    labels = [(cp, ctx) for cp in code_points for ctx in CONTEXTS]
    suspects: list[int] = list(range(len(texts)))
    if tokenizer in CHUNKED:
        chunks = [range(i, min(i + CHUNK, len(texts))) for i in range(0, len(texts), CHUNK)]
        joined = ["\n".join(texts[i] for i in chunk) for chunk in chunks]
        wants = [edge.embed_document(text) for text in joined]
        suspects = [i for n in _differing(ours.encode(joined), wants) for i in chunks[n]]
    batch = ours.encode([texts[i] for i in suspects])
    wants = [edge.embed_document(texts[i]) for i in suspects]
    return [labels[suspects[n]] for n in _differing(batch, wants)]
