"""Batching across calls: the texts of concurrent callers of one local model, run through it
together, as text-embeddings-inference does with its ``max_batch_tokens``.

A :class:`Batcher` serves one model (one loaded instance, one side: documents or queries) on
one event loop. Callers :meth:`~Batcher.embed` their texts with each text's token count and
wait. While the model is busy, callers queue; when it is free, the batcher takes the queued
callers in arrival order while the batch stays within the token budget (counted padded:
texts times the longest one's tokens, since the model pads every text of a batch to the
longest) and the item limit, always at least one caller, and runs them in one model call in a
worker thread. Each caller gets its own texts' vectors. When a batch fails, each of its
callers is run alone, so that every caller gets the result or the error its own texts give.
A caller that stops waiting (its deadline, a cancelled request) is left out of the batches
not yet run.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from bm25x._aio import settle

__all__ = ["Batcher"]


@dataclass
class _Caller:
    texts: list[str]
    tokens: list[int]
    future: asyncio.Future[list[Any]] = field(repr=False)

    @property
    def longest(self) -> int:
        return max(self.tokens, default=0)


class Batcher:
    """The queue of one model on one loop; ``run`` embeds a list of texts (in a worker
    thread), ``budget`` bounds a batch's padded tokens, ``max_items`` its texts."""

    def __init__(self, run: Callable[[list[str]], list[Any]], budget: int, max_items: int):
        self.run = run
        self.budget = budget
        self.max_items = max(1, max_items)
        self.queue: deque[_Caller] = deque()
        self.running = False
        self.task: asyncio.Task[None] | None = None  # the drain (kept: the loop holds weakly)
        #: Model calls made, and texts embedded by them (for tests and metrics).
        self.calls = 0

    async def embed(self, texts: list[str], tokens: Sequence[int]) -> list[Any]:
        """The vectors of ``texts`` (with their ``tokens``), run with other callers'."""
        loop = asyncio.get_running_loop()
        caller = _Caller(texts, list(tokens), loop.create_future())
        self.queue.append(caller)
        if not self.running:
            self.running = True
            self.task = loop.create_task(self._drain())
        return await caller.future

    def _take(self) -> list[_Caller]:
        """The next batch: queued callers in order, within the budget (at least one)."""
        batch: list[_Caller] = []
        items = longest = 0
        while self.queue:
            caller = self.queue[0]
            if caller.future.done():  # stopped waiting
                self.queue.popleft()
                continue
            n = items + len(caller.texts)
            widest = max(longest, caller.longest)
            if batch and (n > self.max_items or n * widest > self.budget):
                break
            batch.append(self.queue.popleft())
            items, longest = n, widest
        return batch

    async def _drain(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            await asyncio.sleep(0)  # the callers of this loop turn join the first batch
            while self.queue:
                batch = self._take()
                if not batch:
                    continue
                texts = [t for caller in batch for t in caller.texts]
                try:
                    self.calls += 1
                    vectors = await loop.run_in_executor(None, self.run, texts)
                except Exception:
                    await self._alone(batch)
                    continue
                start = 0
                for caller in batch:
                    stop = start + len(caller.texts)
                    if not caller.future.done():
                        caller.future.set_result(vectors[start:stop])
                    start = stop
        finally:
            self.running = False
            for caller in self.queue:  # only when the loop itself is going away
                if not caller.future.done():
                    caller.future.cancel()

    async def _alone(self, batch: list[_Caller]) -> None:
        """Each caller of a failed batch run alone: its own result or its own error."""
        loop = asyncio.get_running_loop()
        for caller in batch:
            if caller.future.done():
                continue
            self.calls += 1
            await settle(caller.future, loop.run_in_executor(None, self.run, caller.texts))
