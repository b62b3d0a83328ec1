"""Concurrent bm25 requests embedded by one :func:`bm25x.aembed` call.

Encoding a short text with bm25 takes the Rust encoder microseconds; planning and running an
``aembed`` call (resolving, grouping, a task per batch, checking the vectors) takes tens. The
service therefore hands the items of requests that use bm25 only to a :class:`Coalescer`: the
requests that reach it in one turn of the event loop (Qdrant's concurrent calls arrive so) are
embedded together, in one call, and each gets its own items' vectors and tokens back, in its
own order. ``aembed`` groups items by model and options itself, so requests with different
bm25 options share a call too; documents and queries go to separate calls, and so do requests
with an input in common (each request's usage stays its own: ``aembed`` counts equal inputs
once).

A call that fails is not the answer of the requests in it: each request of a failed call is
then embedded alone, and gets the result or the error its own items give (a bad option in one
request does not fail the others). A request that stops waiting (its time budget, a
cancelled task) is left out of the calls not yet made.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from bm25x.internals import settle

__all__ = ["Coalescer", "Embedded"]

#: The vectors of a list of items, in order, and each item's tokens (None: not counted).
Embedded = tuple[list[Any], list[int | None]]
#: Embeds a list of ``aembed`` items as documents (False) or queries (True).
EmbedCall = Callable[[list[dict[str, Any]], bool], Awaitable[Embedded]]


@dataclass
class _Waiting:
    items: list[dict[str, Any]]
    future: asyncio.Future[Embedded] = field(repr=False)


class Coalescer:
    """The requests waiting for one call, per side (documents, queries), on one event loop.
    A call takes at most ``max_items`` items (always at least one request's), and never two
    requests with an input in common (by ``key``, the input's value): ``aembed`` embeds equal
    inputs once and counts their tokens once, which would move one request's usage onto
    another's."""

    def __init__(
        self, embed: EmbedCall, max_items: int, key: Callable[[dict[str, Any]], Hashable]
    ) -> None:
        self._embed = embed
        self._key = key
        self.max_items = max(1, max_items)
        self._queues: dict[bool, list[_Waiting]] = {False: [], True: []}
        self._draining: dict[bool, asyncio.Task[None] | None] = {False: None, True: None}
        #: Calls made (batches and requests embedded alone after a failed batch), for tests.
        self.calls = 0

    async def embed(self, items: list[dict[str, Any]], query: bool) -> Embedded:
        """The vectors and tokens of ``items``, embedded with the other requests of this loop
        turn."""
        loop = asyncio.get_running_loop()
        waiting = _Waiting(items, loop.create_future())
        self._queues[query].append(waiting)
        if self._draining[query] is None:
            self._draining[query] = loop.create_task(self._drain(query))
        return await waiting.future

    def _take(self, query: bool) -> list[_Waiting]:
        """The next call's requests, in arrival order: within ``max_items``, and no two with
        an input in common (the others stay queued for the next call)."""
        batch: list[_Waiting] = []
        rest: list[_Waiting] = []
        seen: set[Hashable] = set()
        items = 0
        for waiting in self._queues[query]:
            if waiting.future.done():  # stopped waiting
                continue
            keys = {self._key(item) for item in waiting.items}
            if batch and (items + len(waiting.items) > self.max_items or not seen.isdisjoint(keys)):
                rest.append(waiting)
                continue
            batch.append(waiting)
            seen |= keys
            items += len(waiting.items)
        self._queues[query] = rest
        return batch

    async def _drain(self, query: bool) -> None:
        batch: list[_Waiting] = []
        try:
            await asyncio.sleep(0)  # the requests of this loop turn join the first call
            while True:
                batch = self._take(query)
                if not batch:
                    return
                if len(batch) == 1:
                    await self._alone(batch[0], query)
                    continue
                items = [item for waiting in batch for item in waiting.items]
                self.calls += 1
                try:
                    vectors, tokens = await self._embed(items, query)
                except Exception:
                    await asyncio.gather(*(self._alone(w, query) for w in batch))
                    continue
                start = 0
                for waiting in batch:
                    stop = start + len(waiting.items)
                    if not waiting.future.done():
                        waiting.future.set_result((vectors[start:stop], tokens[start:stop]))
                    start = stop
        finally:
            self._draining[query] = None
            # Requests left only when the drain itself was cancelled (the loop is closing).
            for waiting in [*batch, *self._queues[query]]:
                if not waiting.future.done():
                    waiting.future.cancel()
            self._queues[query].clear()

    async def _alone(self, waiting: _Waiting, query: bool) -> None:
        """One request embedded by a call of its own: its result or its error."""
        if waiting.future.done():
            return
        self.calls += 1
        await settle(waiting.future, self._embed(waiting.items, query))
