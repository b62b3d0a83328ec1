"""What the ``bm25x`` command writes: encoded corpora (.npz, .parquet) and search results
(a table, or JSON)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bm25x.app.store import Hit, f32

__all__ = ["print_hits", "score_text", "write_npz", "write_parquet"]


def write_npz(path: Path, ids: list[str], batch: Any) -> None:
    """The vectors as CSR arrays (``indptr``, ``indices``, ``values``) and the ids in the same
    layout: ``id_utf8``, every id's UTF-8 bytes one after another (uint8), and ``id_offsets``
    (int64, one more than there are ids), where id ``i`` is ``id_utf8[id_offsets[i]:
    id_offsets[i + 1]]``. Each id is kept exactly, whatever its length or characters (a
    fixed-width string array pads every id to the longest one and drops trailing NULs), and
    ``np.load`` reads it without pickle."""
    import numpy as np

    encoded = [doc_id.encode("utf-8") for doc_id in ids]
    offsets = np.zeros(len(encoded) + 1, dtype=np.int64)
    np.cumsum([len(b) for b in encoded], out=offsets[1:])
    with open(path, "wb") as f:
        np.savez(
            f,
            id_utf8=np.frombuffer(b"".join(encoded), dtype=np.uint8),
            id_offsets=offsets,
            indptr=batch.indptr,
            indices=batch.indices,
            values=batch.values,
        )


def write_parquet(path: Path, ids: list[str], batch: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    offsets = pa.array(batch.indptr.astype("int32") if len(batch.indices) < 2**31 else batch.indptr)
    list_type = pa.ListArray if offsets.type == pa.int32() else pa.LargeListArray
    table = pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "indices": list_type.from_arrays(offsets, pa.array(batch.indices)),
            "values": list_type.from_arrays(offsets, pa.array(batch.values)),
        }
    )
    pq.write_table(table, path)


def score_text(score: float) -> str:
    """A score as the table and JSON print it: float32's shortest round-tripping text, the
    same whichever store it came from (``12.038683``)."""
    return repr(f32(score))


def print_hits(queries: Sequence[str], results: list[list[Hit]], as_json: bool) -> None:
    if as_json:
        # Always a list, one entry per query, so a script reads one shape however many
        # queries it passed.
        rows = [
            {
                "query": q,
                "hits": [
                    {"rank": r, "id": h.id, "score": f32(h.score), **h.payload}
                    for r, h in enumerate(hits, 1)
                ],
            }
            for q, hits in zip(queries, results)
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for q, hits in zip(queries, results):
        print(f"query: {q}")
        if not hits:
            print("  (no matches)")
        width = max([len(h.id) for h in hits] + [2])
        scores = [score_text(h.score) for h in hits]
        score_width = max([len(s) for s in scores] + [5])
        print(f"  {'#':>2}  {'score':>{score_width}}  {'id':<{width}}  text")
        for r, (h, score) in enumerate(zip(hits, scores), 1):
            text = str(h.payload.get("text", "")).replace("\n", " ")
            if len(text) > 70:
                text = text[:69] + "…"
            print(f"  {r:>2}  {score:>{score_width}}  {h.id:<{width}}  {text}")
        print()
