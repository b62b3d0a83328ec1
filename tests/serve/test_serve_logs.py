"""The service's log handler (``bm25x.app.serve.logs.StepHandler``): each record is one line;
the INFO lines of one event-loop step reach the stream in one write, in order, at the end of
the step; a WARNING or worse is written at once with the lines before it; so is a line logged
outside an event loop; ``flush`` writes whatever is held."""

from __future__ import annotations

import asyncio
import logging

from bm25x.app.serve.logs import StepHandler


class Stream:
    def __init__(self) -> None:
        self.writes: list[str] = []
        self.flushes = 0

    def write(self, text: str) -> None:
        self.writes.append(text)

    def flush(self) -> None:
        self.flushes += 1


def logger(stream: Stream) -> logging.Logger:
    log = logging.getLogger(f"bm25x.test.steps.{id(stream)}")
    log.propagate = False
    log.setLevel(logging.INFO)
    handler = StepHandler(stream)  # type: ignore[arg-type]
    handler.setFormatter(logging.Formatter("%(message)s"))
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
