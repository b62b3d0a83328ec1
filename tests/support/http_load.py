"""A lean HTTP/1.1 load generator for ``benches/bench_serve.py``: each caller holds one
keep-alive TCP connection (an asyncio protocol) and sends requests encoded beforehand, one at
a time; answers are read by httptools' C parser (llhttp: Content-Length or chunked), so that
the generator costs the machine tens of microseconds per request, not the hundred an aiohttp
session does, and leaves the shared cores to what is measured.

Every answer's status is checked; ``check`` (given each answer, or a sample of them) checks
its body. A connection the server closes is opened again for the next request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import cast

import httptools

__all__ = ["Answer", "LoadRun", "http_request", "post_all"]


def http_request(path: str, host: str, headers: Iterable[tuple[str, str]], body: bytes) -> bytes:
    """A ``POST`` request, as bytes on the wire: request line, ``Host``, ``headers``,
    ``Content-Length``, then ``body``."""
    lines = [f"POST {path} HTTP/1.1", f"host: {host}"]
    lines += [f"{name}: {value}" for name, value in headers]
    lines.append(f"content-length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


@dataclass
class Answer:
    status: int
    body: bytes


@dataclass
class LoadRun:
    """Latencies (s) of the requests answered, failures (request index: what), wall time."""

    latencies: list[float]
    failures: list[str]
    seconds: float


class _Connection(asyncio.Protocol):
    """One client connection: writes a request, resolves its future with the answer once the
    parser has read all of it."""

    def __init__(self) -> None:
        self.parser = httptools.HttpResponseParser(self)
        self.transport: asyncio.Transport | None = None
        self.waiter: asyncio.Future[Answer] | None = None
        self.chunks: list[bytes] = []
        self.closed = False
        self.timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports are asyncio's in all but class (not subclasses).
        self.transport = cast(asyncio.Transport, transport)

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            self._fail(ConnectionError(f"unreadable answer: {exc}"))
            if self.transport is not None:
                self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._fail(ConnectionError("the server closed the connection before answering"))

    # httptools' callbacks
    def on_body(self, body: bytes) -> None:
        self.chunks.append(body)

    def on_message_complete(self) -> None:
        if not self.parser.should_keep_alive():
            self.closed = True
            if self.transport is not None:
                self.transport.close()
        waiter, self.waiter = self.waiter, None
        self._stop_timer()
        if waiter is not None and not waiter.done():
            body = self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)
            waiter.set_result(Answer(self.parser.get_status_code(), body))

    def _fail(self, exc: Exception) -> None:
        waiter, self.waiter = self.waiter, None
        self._stop_timer()
        if waiter is not None and not waiter.done():
            waiter.set_exception(exc)

    def _stop_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None

    def _timed_out(self) -> None:
        self.timer = None
        self._fail(TimeoutError("no answer in time"))
        if self.transport is not None:
            self.transport.close()  # a late answer must not be taken for the next one's

    def send(self, raw: bytes, timeout: float) -> asyncio.Future[Answer]:
        """Write ``raw``; the future is the answer, or fails after ``timeout`` seconds (a
        timer, not a task per request) or when the connection is lost."""
        assert self.transport is not None and self.waiter is None
        loop = asyncio.get_running_loop()
        self.chunks = []
        self.waiter = loop.create_future()
        self.timer = loop.call_later(timeout, self._timed_out)
        self.transport.write(raw)
        return self.waiter


async def post_all(
    host: str,
    port: int,
    requests: Sequence[bytes],
    connections: int,
    check: Callable[[int, Answer], str | None] | None = None,
    *,
    timeout: float = 60.0,
) -> LoadRun:
    """Send ``requests`` (encoded by :func:`http_request`) from ``connections`` concurrent
    callers, each on its own connection, one request at a time. An answer that is not 200 is
    a failure; ``check(i, answer)`` (None: right) checks the body of each 200."""
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    failures: list[str] = []
    counter = iter(range(len(requests)))

    async def connect() -> _Connection:
        _, conn = await loop.create_connection(_Connection, host, port)
        return conn

    async def caller() -> None:
        conn = await connect()
        try:
            for i in counter:
                if conn.closed:
                    conn = await connect()
                t0 = time.perf_counter()
                try:
                    answer = await conn.send(requests[i], timeout)
                except OSError as exc:  # ConnectionError, TimeoutError
                    failures.append(f"request {i}: {type(exc).__name__}: {exc}")
                    conn.closed = True
                    continue
                latencies.append(time.perf_counter() - t0)
                if answer.status != 200:
                    failures.append(f"request {i}: HTTP {answer.status} {answer.body[:200]!r}")
                elif check is not None:
                    problem = check(i, answer)
                    if problem is not None:
                        failures.append(f"request {i}: {problem}")
        finally:
            if conn.transport is not None:
                conn.transport.close()

    start = time.perf_counter()
    await asyncio.gather(*(caller() for _ in range(connections)))
    return LoadRun(latencies, failures, time.perf_counter() - start)
