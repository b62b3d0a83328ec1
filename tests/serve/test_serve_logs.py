"""The service's log handler (``bm25x.app.serve.logs.StepHandler``): each record is one line;
the INFO lines of one event-loop step reach the stream in one write, in order, at the end of
the step; a WARNING or worse is written at once with the lines before it; so is a line logged
outside an event loop; ``flush`` writes whatever is held."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from bm25x.app.serve.logs import BARE, StepHandler, sole_handler
from bm25x.app.serve.run import configure_logging


class Stream:
    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushes = 0

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        self.flushes += 1


def logger(stream: Stream, formatter: logging.Formatter | None = None) -> logging.Logger:
    """A logger whose one handler is a StepHandler on ``stream``, formatting with
    ``formatter`` (default: a message-alone formatter of its own, not the service's
    :data:`BARE`)."""
    log = logging.getLogger(f"bm25x.test.steps.{id(stream)}")
    log.propagate = False
    log.setLevel(logging.INFO)
    handler = StepHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(formatter or logging.Formatter("%(message)s"))
    log.handlers = [handler]
    return log


def test_the_info_lines_of_one_step_are_one_write() -> None:
    stream = Stream()
    log = logger(stream)

    async def main() -> None:
        log.info("a")
        log.info("b")
        assert stream.writes == []  # held until the end of the step
        await asyncio.sleep(0)
        assert stream.writes == ["a\nb\n"]
        log.info("c")
        await asyncio.sleep(0)

    asyncio.run(main())
    assert stream.writes == ["a\nb\n", "c\n"]


def test_a_warning_goes_at_once_with_the_lines_before_it() -> None:
    stream = Stream()
    log = logger(stream)

    async def main() -> None:
        log.info("a")
        log.error("trouble")
        assert stream.writes == ["a\ntrouble\n"]
        await asyncio.sleep(0)

    asyncio.run(main())
    assert stream.writes == ["a\ntrouble\n"]


def test_outside_an_event_loop_each_line_goes_at_once_and_flush_writes_what_is_held() -> None:
    stream = Stream()
    log = logger(stream)
    log.info("no loop here")
    assert stream.writes == ["no loop here\n"]

    async def main() -> None:
        log.info("held")
        log.handlers[0].flush()
        assert stream.writes == ["no loop here\n", "held\n"]

    asyncio.run(main())
    assert stream.flushes >= 2


# -- the service's request lines without a LogRecord (sole_handler) ---------------------------


def service_logger(stream: Stream) -> tuple[logging.Logger, StepHandler]:
    """:func:`logger` set up as the service sets its own: the :data:`BARE` formatter."""
    log = logger(stream, BARE)
    handler = log.handlers[0]
    assert isinstance(handler, StepHandler)
    return log, handler


def test_the_sole_handler_holds_the_same_line_a_record_would_give() -> None:
    direct, by_record = Stream(), Stream()
    log, handler = service_logger(direct)
    assert sole_handler(log) is handler
    other, _ = service_logger(by_record)

    async def main() -> None:
        handler.info('{"status":200}')
        handler.info("second")
        other.info('{"status":200}')
        other.info("second")
        assert direct.writes == []  # held until the end of the step, as a record's line
        await asyncio.sleep(0)

    asyncio.run(main())
    assert direct.writes == by_record.writes == ['{"status":200}\nsecond\n']


def test_no_sole_handler_when_anything_else_would_see_or_filter_the_record() -> None:
    def changed(change: Callable[[logging.Logger, StepHandler], object]) -> StepHandler | None:
        log, handler = service_logger(Stream())
        change(log, handler)
        return sole_handler(log)

    assert changed(lambda log, h: None) is not None
    assert changed(lambda log, h: log.addHandler(logging.NullHandler())) is None
    assert changed(lambda log, h: log.addFilter(lambda r: True)) is None
    assert changed(lambda log, h: h.addFilter(lambda r: True)) is None
    assert changed(lambda log, h: setattr(log, "propagate", True)) is None
    assert changed(lambda log, h: h.setFormatter(logging.Formatter("%(message)s"))) is None
    assert changed(lambda log, h: h.setLevel(logging.WARNING)) is None
    assert changed(lambda log, h: log.setLevel(logging.WARNING)) is None
    assert changed(lambda log, h: setattr(log, "disabled", True)) is None
    assert changed(lambda log, h: setattr(log, "handlers", [])) is None


def test_request_lines_reach_a_handler_the_operator_added() -> None:
    """With a handler of the operator's beside the service's, each request line is a record
    again (the operator's handler may read any of its fields)."""
    from bm25x.app.serve import app as service_app

    configure_logging()
    log = logging.getLogger(service_app.LOGGER_NAME)
    assert sole_handler(log) is not None  # the service's handler alone, as configured
    seen: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            seen.append(record)

    keep = Keep()
    log.addHandler(keep)
    try:
        assert sole_handler(log) is None
        service_app._request_line('{"status":200}')
    finally:
        log.removeHandler(keep)
    assert [(r.getMessage(), r.levelno, r.name) for r in seen] == [
        ('{"status":200}', logging.INFO, service_app.LOGGER_NAME)
    ]
