"""bm25x's own event loop and the pooled HTTP client that remote provider calls share.

A pooled client keeps connections (and their TLS sessions) open for reuse, but they belong to
the event loop that opened them, and ``bm25x.embed`` is a synchronous function that would
otherwise need a new loop per call. So remote work runs on one long-lived loop in a daemon
thread, created on the first remote call (never for local models), with one client made on
that loop: every call after the first reuses its connections, whichever thread or loop the
caller is on. The loop and client are rebuilt in a forked child (the thread does not survive
``fork``) and closed at interpreter exit.

The client bm25x's providers post through is an ``aiohttp.ClientSession``
(:func:`shared_session`): its pool hands out an idle connection in constant time and parses
answers in C. On this project's 2-core test machine, 32 concurrent one-input calls cost about
120 us of CPU each through it, against 900 us through 32 one-connection ``httpx`` clients and
over 2 ms through one ``httpx`` pool of 64 connections (httpcore scans every connection of
its pool, reading each one's socket state through anyio, on every request). An
``httpx.AsyncClient`` (:func:`shared_client`) is still made, on first use only, for providers
of other packages that ask for :attr:`bm25x.providers.Call.client`.
"""

from __future__ import annotations

import asyncio
import atexit
import os
import threading
import weakref
from collections.abc import Coroutine
from typing import Any, TypeVar

import httpx

__all__ = [
    "await_shared",
    "new_session",
    "own_session",
    "run_shared",
    "shared_client",
    "shared_session",
]

#: Connections bm25x's pooled session keeps per provider origin (scheme, host, port), and in
#: all: more concurrent requests to one origin wait for one of them.
CONNECTIONS_PER_ORIGIN = 64
CONNECTIONS = 256

T = TypeVar("T")

_lock = threading.Lock()
_state: _Shared | None = None
_abandoned: list[_Shared] = []  # from a parent process: kept, never touched, never collected


class _Shared:
    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.client: httpx.AsyncClient | None = None
        self.session: Any = None  # aiohttp.ClientSession, made on first use
        self.thread = threading.Thread(target=self._serve, name="bm25x-http", daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def close(self) -> None:
        closing = []
        if self.client is not None:
            closing.append(self.client.aclose())
        if self.session is not None:
            closing.append(self.session.close())
        for coro in closing:
            future = asyncio.run_coroutine_threadsafe(coro, self.loop)
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


def new_session(connections: int = CONNECTIONS, per_origin: int = CONNECTIONS_PER_ORIGIN) -> Any:
    """An ``aiohttp.ClientSession`` as bm25x pools it: ``per_origin`` connections per provider
    origin and ``connections`` in all, kept alive between calls; certificates checked against
    certifi's roots (as httpx does); no redirects followed by aiohttp (bm25x follows them
    itself, see :mod:`bm25x.providers._http`), which also passes the environment's proxies
    (``HTTPS_PROXY``, ...) on each request. Make it on the loop that will use it."""
    import ssl

    import aiohttp
    import certifi

    connector = aiohttp.TCPConnector(
        limit=connections,
        limit_per_host=per_origin,
        ssl=ssl.create_default_context(cafile=certifi.where()),
        keepalive_timeout=60.0,
    )
    # No aiohttp timeouts: bm25x.providers._http bounds each attempt itself (the provider's
    # timeout, the call's deadline), and a timer per request more would cost for nothing.
    session = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout())
    _own.add(session)
    return session


_own: weakref.WeakSet[Any] = weakref.WeakSet()


def own_session(session: Any) -> bool:
    """Whether ``session`` was made by :func:`new_session` (bm25x's, not a caller's)."""
    return session in _own


def shared_session() -> Any:
    """The pooled ``aiohttp.ClientSession``; call it on bm25x's loop only (inside
    :func:`run_shared` or :func:`await_shared`)."""
    state = _shared()
    if state.session is None:
        state.session = new_session()
    return state.session


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
