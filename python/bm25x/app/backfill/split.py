"""Splitting one backfill into parts that run apart (processes, machines, a Dask cluster): id
ranges in Qdrant's order, each part a ``backfill(..., id_range=part)`` call with a checkpoint
of its own (see ``docs/guides/backfill.md``)."""

from __future__ import annotations

import uuid

from bm25x.app.backfill.run import IdRange

__all__ = ["split_ids"]

_UUIDS = 1 << 128


def split_ids(parts: int, *, max_int: int | None = None) -> list[IdRange]:
    """``parts`` id ranges that together cover every point id once.

    By default the UUID space is cut into equal slices (random UUIDs, such as the ones
    ``bm25x ingest`` and most clients make, spread evenly over them); integer ids, which
    Qdrant orders before every UUID, fall in the first part. With ``max_int``, the integers
    from 0 to ``max_int`` are cut instead, and the last part also takes every id above
    (UUIDs included).

    >>> split_ids(2)
    [(None, '80000000-0000-0000-0000-000000000000'), ('80000000-0000-0000-0000-000000000000', None)]
    >>> split_ids(3, max_int=299)
    [(None, 100), (100, 200), (200, None)]
    """
    if not isinstance(parts, int) or parts < 1:
        raise ValueError(f"parts must be a positive integer, got {parts!r}")
    cuts: list[int | str]
    if max_int is None:
        cuts = [str(uuid.UUID(int=_UUIDS * k // parts)) for k in range(1, parts)]
    else:
        if max_int < 0:
            raise ValueError(f"max_int must be at least 0, got {max_int}")
        cuts = sorted({(max_int + 1) * k // parts for k in range(1, parts)} - {0})
    bounds: list[int | str | None] = [None, *cuts, None]
    return [(bounds[i], bounds[i + 1]) for i in range(len(bounds) - 1)]
