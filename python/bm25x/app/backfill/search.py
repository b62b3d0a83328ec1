"""Search a backfilled vector: queries encoded as its record says (the model, flavour and
options it was filled with; query side), for ``bm25x search --vector NAME``."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from typing import Any

from bm25x.app.backfill.errors import BackfillError
from bm25x.app.backfill.model import query_encoder
from bm25x.app.backfill.state import is_part_of, vector_key
from bm25x.app.backfill.target import Target
from bm25x.app.store import Hit

__all__ = ["search_vector"]


def search_vector(
    target: Target,
    vector: str,
    queries: Sequence[str],
    *,
    limit: int = 10,
    threads: int | None = None,
    headers: Mapping[str, str] | None = None,
) -> list[list[Hit]]:
    """The top ``limit`` points for each query in the vector ``vector``, which a backfill
    filled (its record says how to encode the queries). An unfinished backfill of the vector
    is an error, as an unfinished ingest is for ``bm25x search``."""
    if limit < 1:
        raise ValueError(f"limit must be a positive integer, got {limit}")
    metadata = target.metadata()
    record = metadata.get(vector_key(vector))
    where = target.describe()
    if not isinstance(record, dict):
        raise BackfillError(
            f"{where} has no record of how vector {vector!r} was filled; fill it with "
            f"`bm25x backfill --vector {vector} --from-field FIELD` first"
        )
    unfinished = [
        key
        for key, value in metadata.items()
        if is_part_of(key, vector) and not (isinstance(value, dict) and value.get("complete"))
    ]
    if unfinished:
        raise BackfillError(
            f"the backfill of vector {vector!r} of {where} did not finish; run the same "
            "`bm25x backfill` command again to resume it"
        )
    encode = query_encoder(record, headers, threads)
    return target.query(vector, encode(list(queries)), limit)


def cmd_search_vector(args: argparse.Namespace) -> list[list[Hit]]:
    """``bm25x search --vector NAME``: the hits for ``args.query``."""
    from bm25x.app.backfill.edge import EdgeTarget
    from bm25x.app.backfill.server import ServerTarget

    target: Any
    if args.url:
        target = ServerTarget.connect(args.url, args.collection, args.api_key)
    else:
        target = EdgeTarget(args.store, shared=True)
    try:
        return search_vector(
            target, args.vector, args.query, limit=args.limit, threads=args.threads
        )
    finally:
        target.close()
