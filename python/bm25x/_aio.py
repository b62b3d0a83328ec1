"""Small asyncio helpers shared by the embed calls and the providers."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Awaitable
from contextlib import AbstractAsyncContextManager
from typing import TypeVar

__all__ = ["fail_after", "settle"]

T = TypeVar("T")


def fail_after(seconds: float | None) -> AbstractAsyncContextManager[object]:
    """``async with fail_after(s):`` cancels its body after ``s`` seconds (``None``: never)
    and raises ``TimeoutError``. On Python 3.11+ it is :func:`asyncio.timeout` (one timer
    handle); ``anyio.fail_after``, used before, costs several times as much per call."""
    if sys.version_info >= (3, 11):
        return asyncio.timeout(seconds)
    return _anyio_fail_after(seconds)  # pragma: no cover - Python 3.10 only


async def settle(future: asyncio.Future[T], work: Awaitable[T]) -> None:
    """Give ``future`` what ``work`` gives, or the error it raises, unless ``future`` was
    settled (or cancelled) meanwhile: one waiter's answer from a call of its own, as a batcher
    makes it when a shared call failed."""
    try:
        result = await work
    except Exception as exc:
        if not future.done():
            future.set_exception(exc)
        return
    if not future.done():
        future.set_result(result)


@contextlib.asynccontextmanager
async def _anyio_fail_after(seconds: float | None) -> AsyncIterator[None]:
    import anyio

    with anyio.fail_after(seconds):
        yield
