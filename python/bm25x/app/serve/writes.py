"""A connection's writes of one event-loop step sent together.

uvicorn writes an answer in two pieces, its head (``http.response.start``) and its body, each
straight to the socket: two ``send`` calls per answer, and two TCP segments for the client to
read. On the test machine a ``send`` on a loopback connection costs several microseconds of
CPU (the kernel delivers the segment within the call), paid on every request.
:class:`BatchedWrites` stands between uvicorn's protocol and the connection's transport: what
is written during one step of the loop (an ASGI app sends an answer's head and body in one
step) goes out in one ``write`` at the end of the step. Order is kept (every write of the
connection goes through it), nothing waits beyond the step, ``close`` sends what is pending
first and ``abort`` drops it, as the transport itself would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

__all__ = ["BatchedWrites"]


class BatchedWrites:
    """``transport`` with the writes of each loop step joined into one (see the module)."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes | bytearray | memoryview] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        if not self._pending:
            self._loop.call_soon(self.flush)
        self._pending.append(data)

    def writelines(self, lines: Iterable[bytes | bytearray | memoryview]) -> None:
        for data in lines:
            self.write(data)

    def flush(self) -> None:
        """Send what is pending now, in one write."""
        pending, self._pending = self._pending, []
        if not pending or self._transport.is_closing():
            return  # a closed transport takes no more (asyncio's would drop it too)
        self._transport.write(pending[0] if len(pending) == 1 else b"".join(pending))

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + sum(len(d) for d in self._pending)

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending = []
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        # Everything else is the transport's own (is_closing, get_extra_info, pause_reading,
        # resume_reading, set_protocol, ...).
        return getattr(self._transport, name)
