"""bm25x's own event loop and the pooled HTTP client that remote provider calls share.

An ``httpx.AsyncClient`` keeps connections (and their TLS sessions) open for reuse, but they
belong to the event loop that opened them, and ``bm25x.embed`` is a synchronous function that
would otherwise need a new loop per call. So remote work runs on one long-lived loop in a
daemon thread, created on the first remote call (never for local models), with one client
made on that loop: every call after the first reuses its connections, whichever thread or
loop the caller is on. The loop and client are rebuilt in a forked child (the thread does not
survive ``fork``) and closed at interpreter exit.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

__all__ = ["await_shared", "run_shared", "shared_client"]

T = TypeVar("T")

_lock = threading.Lock()
_state: _Shared | None = None
_abandoned: list[_Shared] = []  # from a parent process: kept, never touched, never collected


class _Shared:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.client: httpx.AsyncClient | None = None
        self.thread = threading.Thread(target=self._serve, name="bm25x-http", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def close(self) -> None:
        if self.client is not None:
            future = asyncio.run_coroutine_threadsafe(self.client.aclose(), self.loop)
            try:
                future.result(timeout=2.0)
            except Exception:  # exiting anyway: the OS closes what is left
                pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=2.0)
        if not self.thread.is_alive():
            self.loop.close()


def _shared() -> _Shared:
    global _state
    with _lock:
        state = _state
        if state is None or state.pid != os.getpid() or not state.thread.is_alive():
            if state is not None:
                _abandoned.append(state)
            state = _state = _Shared()
        return state


@atexit.register
def _close() -> None:
    global _state
    with _lock:
        state, _state = _state, None
    if state is not None and state.pid == os.getpid():
        state.close()


def shared_client() -> httpx.AsyncClient:
    """The pooled client; call it on bm25x's loop only (inside :func:`run_shared`)."""
    state = _shared()
    if state.client is None:
        # Redirects are handled per request by bm25x (see bm25x.providers._http).
        state.client = httpx.AsyncClient(
            follow_redirects=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )
    return state.client


def run_shared(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on bm25x's loop and wait for it. An interrupt (Ctrl-C) while waiting
    cancels it there before propagating."""
    future = asyncio.run_coroutine_threadsafe(coro, _shared().loop)
    try:
        return future.result()
    except BaseException:
        future.cancel()
        raise


async def await_shared(coro: Coroutine[Any, Any, T]) -> T:
    """Await ``coro`` running on bm25x's loop; cancelling the awaiting task cancels it."""
    future = asyncio.run_coroutine_threadsafe(coro, _shared().loop)
    return await asyncio.wrap_future(future)
