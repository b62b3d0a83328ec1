"""The service's log handler: one JSON line per record on a stream (stderr), the INFO lines
of one event-loop step written together.

Every request logs a line. Written as it comes (``logging.StreamHandler``), each line is a
``write`` to stderr of its own; on the test machine a write costs several microseconds of CPU,
paid on every request. :class:`StepHandler` keeps each record whole (one record per request,
as any other handler sees them) but holds the INFO lines emitted during one step of the event
loop and writes them at the end of the step, in one write. A line of WARNING or above is
written at once, with the lines before it; so is every line emitted outside the loop's thread,
and :meth:`StepHandler.flush` writes what is held (``logging.shutdown`` calls it at exit).

A request's line is a message alone (:data:`BARE`). When the service's logger hands its INFO
records to one such handler and nothing else would see them (no other handler, no filter, no
propagation), :func:`sole_handler` gives that handler, and the service holds the line there
directly (:meth:`StepHandler.info`): the same bytes on the stream, without building a
``LogRecord`` (several microseconds, on every request) that nothing reads. Anything else
configured gets records as usual.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TextIO

__all__ = ["BARE", "StepHandler", "sole_handler"]

#: The formatter of the service's handler: the message alone (the line the app built).
BARE = logging.Formatter("%(message)s")


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
        self._hold(line, record.levelno)

    def info(self, message: str) -> None:
        """Hold an INFO line as :meth:`emit` would for a record of ``message``, formatted by
        :data:`BARE` (see :func:`sole_handler`)."""
        with self.lock:  # type: ignore[union-attr]  # flush may run on another thread
            self._hold(message + self.terminator, logging.INFO)

    def _hold(self, line: str, level: int) -> None:
        self._held.append(line)
        if level >= logging.WARNING:
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


def sole_handler(logger: logging.Logger) -> StepHandler | None:
    """The :class:`StepHandler` that alone would see an INFO record of ``logger``, formatting
    it as the message alone (:data:`BARE`); None when the record would go anywhere else too
    (or nowhere), or be filtered, so that it must be built and handled as usual."""
    if (
        logger.disabled
        or logger.propagate
        or logger.filters
        or not logger.isEnabledFor(logging.INFO)
    ):
        return None
    handlers = logger.handlers
    if len(handlers) != 1:
        return None
    handler = handlers[0]
    if (
        type(handler) is not StepHandler
        or handler.formatter is not BARE
        or handler.filters
        or handler.level > logging.INFO
    ):
        return None
    return handler
