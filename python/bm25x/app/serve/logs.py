"""The service's log handler: one JSON line per record on a stream (stderr), the INFO lines
of one event-loop step written together.

Every request logs a line. Written as it comes (``logging.StreamHandler``), each line is a
``write`` to stderr of its own; on the test machine a write costs several microseconds of CPU,
paid on every request. :class:`StepHandler` keeps each record whole (one record per request,
as any other handler sees them) but holds the INFO lines emitted during one step of the event
loop and writes them at the end of the step, in one write. A line of WARNING or above is
written at once, with the lines before it; so is every line emitted outside the loop's thread,
and :meth:`StepHandler.flush` writes what is held (``logging.shutdown`` calls it at exit).
"""

from __future__ import annotations

import asyncio
import logging
from typing import TextIO

__all__ = ["StepHandler"]


class StepHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A stream handler writing the INFO lines of one loop step together (see the module)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__(stream)
        self._held: list[str] = []
        self._scheduled = False

    def emit(self, record: logging.LogRecord) -> None:
        try:
            line = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        self._held.append(line)
        if record.levelno >= logging.WARNING:
            self.flush()
            return
        if self._scheduled:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # not on an event loop's thread: no step to wait for
            self.flush()
            return
        self._scheduled = True
        loop.call_soon(self.flush)

    def flush(self) -> None:
        """Write the lines held, in one write, and flush the stream."""
        with self.lock:  # type: ignore[union-attr]
            self._scheduled = False
            held, self._held = self._held, []
            if self.stream is None:
                return
            if held:
                self.stream.write(held[0] if len(held) == 1 else "".join(held))
            if hasattr(self.stream, "flush"):
                self.stream.flush()
