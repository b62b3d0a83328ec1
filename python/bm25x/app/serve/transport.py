"""uvicorn's HTTP/1.1 protocols (httptools, else h11) with a deadline for request heads.

uvicorn bounds an idle kept-alive connection (``timeout_keep_alive``) but not a request whose
line and headers never finish: a client that sends half a request line keeps its connection,
and its socket, for as long as it likes. :func:`head_timeout_protocol` gives uvicorn (its
``http=`` argument takes a protocol class) a protocol that closes such a connection once its
request head has been arriving for longer than the limit: counted from the connection's start,
and on a kept-alive connection from the first byte of the next request.

Both protocols write through :class:`~bm25x.app.serve.writes.BatchedWrites`: an answer's head
and body go out in one write.

httptools (C, the llhttp parser; in the ``serve`` extra) is used when it is installed: on this
project's 2-core test machine an answer costs uvicorn about 40 us of CPU with it against
120 us with h11 (pure Python), which the service pays on every request.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from bm25x.app.serve.writes import BatchedWrites

__all__ = [
    "SERVE_PROTOCOL",
    "HeadTimeoutProtocol",
    "ServeProtocol",
    "head_timeout_protocol",
    "httptools_protocol",
]


class _HeadTimer:
    """The clock of one connection's request head: started when a head begins, stopped once
    it is complete; when it runs out, :meth:`_head_timed_out` closes the connection."""

    head_timeout: float = 10.0
    loop: asyncio.AbstractEventLoop
    transport: asyncio.Transport
    _head_timer: asyncio.TimerHandle | None = None

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if not self.transport.is_closing():
            # As uvicorn closes an idle kept-alive connection: no answer, the socket closed.
            self.transport.close()


def _batched(transport: asyncio.Transport) -> Any:
    """The connection's transport, its writes of one loop step sent together (an answer's
    head and body in one segment: see :mod:`.writes`)."""
    return BatchedWrites(transport, asyncio.get_running_loop())


class HeadTimeoutProtocol(_HeadTimer, H11Protocol):
    """:class:`H11Protocol` that closes a connection whose request head (request line and
    headers) is not complete within :attr:`head_timeout` seconds."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(_batched(transport))
        self._start_head_timer()

    def data_received(self, data: bytes) -> None:
        # The first byte of a request on a kept-alive connection starts its head's clock.
        if self.conn.their_state is h11.IDLE:
            self._start_head_timer()
        super().data_received(data)
        self._stop_head_timer_once_in()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        # A pipelined request already buffered is parsed here, not in data_received.
        if self.conn.their_state is h11.IDLE and self.conn.trailing_data[0]:
            self._start_head_timer()
        self._stop_head_timer_once_in()

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def _stop_head_timer_once_in(self) -> None:
        # h11 leaves IDLE once it has parsed the whole request head.
        if self.conn.their_state is not h11.IDLE:
            self._stop_head_timer()

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            with contextlib.suppress(h11.LocalProtocolError):
                self.conn.send(h11.ConnectionClosed())
            self.transport.close()


def httptools_protocol() -> type[Any] | None:
    """uvicorn's httptools protocol with the head deadline, or None without httptools. The
    parser calls ``on_message_begin`` at a request's first byte and ``on_headers_complete``
    once its head is in: the clock runs between the two (and from the connection's start)."""
    return _HTTPTOOLS


def _httptools_class() -> type[Any] | None:
    try:
        from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
    except ImportError:
        return None

    class HttpToolsHeadTimeoutProtocol(_HeadTimer, HttpToolsProtocol):
        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(_batched(transport))
            self._start_head_timer()

        def on_message_begin(self) -> None:
            self._start_head_timer()
            super().on_message_begin()

        def on_headers_complete(self) -> None:
            self._stop_head_timer()
            super().on_headers_complete()

        def connection_lost(self, exc: Exception | None) -> None:
            self._stop_head_timer()
            super().connection_lost(exc)

    return HttpToolsHeadTimeoutProtocol


_HTTPTOOLS = _httptools_class()

#: The protocol of ``bm25x serve``'s worker processes (``--workers``), by import path (uvicorn
#: hands its settings to them pickled, so not as a class made at run time): httptools' when
#: it is installed, else h11's. Each worker sets its ``head_timeout`` from its configuration.
ServeProtocol: type[Any] = _HTTPTOOLS or HeadTimeoutProtocol
SERVE_PROTOCOL = f"{__name__}:ServeProtocol"


def head_timeout_protocol(seconds: float, *, parser: str = "auto") -> type[Any]:
    """A protocol class closing unfinished request heads after ``seconds`` (uvicorn builds the
    protocol itself, so the limit rides on the class): httptools' when ``parser`` is
    ``"httptools"``, or ``"auto"`` and httptools is installed; else h11's."""
    base: type[Any] | None = None
    if parser in ("auto", "httptools"):
        base = httptools_protocol()
        if base is None and parser == "httptools":
            raise ImportError("httptools is not installed: pip install 'bm25x-sparse[serve]'")
    if base is None:
        base = HeadTimeoutProtocol
    return type(base.__name__, (base,), {"head_timeout": seconds})
