"""A backfill's pages: points read in id order (stopping at the end of an id range), each
point's text or the problem that keeps it from having one, and the work of one page on a
worker (encode, write)."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from bm25x import SparseBatch
from bm25x.app.backfill.fields import FieldPath, Problem
from bm25x.app.backfill.model import VectorModel
from bm25x.app.backfill.target import PointId, Target, id_order

__all__ = ["Page", "encode_and_write", "pages"]


@dataclass
class Page:
    """One page as read: where the next starts, how many points it held, the ids and texts
    to encode, and the points without usable text."""

    following: PointId | None
    read: int
    ids: list[PointId]
    texts: list[str]
    problems: list[Problem]


def pages(
    target: Target,
    start: PointId | None,
    end: PointId | None,
    size: int,
    field: FieldPath,
    flt: Mapping[str, Any] | None,
    missing: str | None,
) -> Iterator[Page]:
    """Pages of ``size`` points from ``start`` (None: the first) to before ``end`` (None: the
    last), as :meth:`Target.scroll` selects them."""
    offset = start
    stop = id_order(end) if end is not None else None
    while True:
        records, following = target.scroll(offset, size, field.path, flt, missing)
        if stop is not None:
            inside = [r for r in records if id_order(r[0]) < stop]
            if len(inside) < len(records) or (
                following is not None and id_order(following) >= stop
            ):
                records, following = inside, None
        ids: list[PointId] = []
        texts: list[str] = []
        problems: list[Problem] = []
        for pid, payload in records:
            text = field.text(pid, payload)
            if isinstance(text, Problem):
                problems.append(text)
            else:
                ids.append(pid)
                texts.append(text)
        yield Page(following, len(records), ids, texts, problems)
        if following is None:
            return
        offset = following


def encode_and_write(
    target: Target, model: VectorModel, name: str, ids: list[PointId], texts: list[str]
) -> tuple[int, int]:
    """Encode and write one page; returns (vectors written, vectors without a term)."""
    vectors = model.encode(texts)
    target.write(ids, name, vectors)
    if isinstance(vectors, SparseBatch):
        return len(ids), int(np.count_nonzero(np.diff(vectors.indptr) == 0))
    return len(ids), 0
