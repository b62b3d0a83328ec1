"""uvicorn's HTTP/1.1 protocol (h11) with a deadline for request heads.

uvicorn bounds an idle kept-alive connection (``timeout_keep_alive``) but not a request whose
line and headers never finish: a client that sends half a request line keeps its connection,
and its socket, for as long as it likes. :func:`head_timeout_protocol` gives uvicorn (its
``http=`` argument takes a protocol class) a protocol that closes such a connection once its
request head has been arriving for longer than the limit: counted from the connection's start,
and on a kept-alive connection from the first byte of the next request.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

__all__ = ["HeadTimeoutProtocol", "head_timeout_protocol"]


class HeadTimeoutProtocol(H11Protocol):
    """:class:`H11Protocol` that closes a connection whose request head (request line and
    headers) is not complete within :attr:`head_timeout` seconds."""

    head_timeout: float = 10.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
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

    def _start_head_timer(self) -> None:
        if self._head_timer is None:
            self._head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _stop_head_timer_once_in(self) -> None:
        # h11 leaves IDLE once it has parsed the whole request head.
        if self.conn.their_state is not h11.IDLE:
            self._stop_head_timer()

    def _stop_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            # As uvicorn closes an idle kept-alive connection: no answer, the socket closed.
            with contextlib.suppress(h11.LocalProtocolError):
                self.conn.send(h11.ConnectionClosed())
            self.transport.close()


def head_timeout_protocol(seconds: float) -> type[HeadTimeoutProtocol]:
    """A :class:`HeadTimeoutProtocol` class closing unfinished request heads after
    ``seconds`` (uvicorn builds the protocol itself, so the limit rides on the class)."""
    return type("HeadTimeoutProtocol", (HeadTimeoutProtocol,), {"head_timeout": seconds})
