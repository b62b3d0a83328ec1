"""The service's time scopes (``bm25x.app.serve.deadlines``): one periodic check instead of a
timer per request, with :func:`asyncio.timeout`'s behaviour: a scope past its deadline ends
in ``TimeoutError`` (at most one resolution late), the task goes on afterwards, a
cancellation from elsewhere stays a cancellation, and nothing is left scheduled once no scope
is pending."""

from __future__ import annotations

import asyncio
import sys
import time

import pytest

from bm25x.app.serve.deadlines import Deadlines


def test_a_scope_past_its_deadline_times_out_and_the_task_goes_on() -> None:
    deadlines = Deadlines(resolution=0.01)

    async def main() -> tuple[float, str]:
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            with deadlines.within(0.05):
                await asyncio.sleep(10)
        elapsed = time.monotonic() - started
        await asyncio.sleep(0.02)  # no cancellation left pending on the task
        return elapsed, "went on"

    elapsed, after = asyncio.run(main())
    assert 0.05 <= elapsed < 2.0
    assert after == "went on"


def test_scopes_in_time_end_as_they_are_and_leave_nothing_scheduled() -> None:
    deadlines = Deadlines(resolution=0.01)

    async def one(i: int) -> int:
        with deadlines.within(5):
            await asyncio.sleep(0.001 * (i % 3))
        return i

    async def main() -> list[int]:
        got = await asyncio.gather(*(one(i) for i in range(50)))
        await asyncio.sleep(0.05)  # the check finds nothing pending and stops
        assert deadlines._due == {} and deadlines._check is None
        return list(got)

    assert asyncio.run(main()) == list(range(50))


def test_only_the_overdue_scopes_end() -> None:
    deadlines = Deadlines(resolution=0.01)

    async def wait(limit: float, sleep: float) -> str:
        try:
            with deadlines.within(limit):
                await asyncio.sleep(sleep)
        except TimeoutError:
            return "timed out"
        return "done"

    async def main() -> list[str]:
        return list(await asyncio.gather(wait(0.03, 10), wait(5, 0.1), wait(0.03, 10), wait(5, 0)))

    assert asyncio.run(main()) == ["timed out", "done", "timed out", "done"]


@pytest.mark.skipif(sys.version_info < (3, 11), reason="Python 3.10 cannot tell cancellations")
def test_a_cancellation_from_elsewhere_stays_a_cancellation() -> None:
    deadlines = Deadlines(resolution=0.01)

    async def main() -> None:
        async def body() -> None:
            with deadlines.within(0.02):
                await asyncio.sleep(10)

        task = asyncio.ensure_future(body())
        await asyncio.sleep(0.005)
        task.cancel()  # the caller's cancellation, before the deadline
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())


def test_an_app_served_on_a_new_loop_still_times_out() -> None:
    deadlines = Deadlines(resolution=0.01)

    async def quick() -> None:
        with deadlines.within(5):
            await asyncio.sleep(0)
        # returns with the check still scheduled on this loop, which then closes

    async def main() -> None:
        with pytest.raises(TimeoutError):
            with deadlines.within(0.02):
                await asyncio.sleep(10)

    asyncio.run(quick())
    assert deadlines._check is not None
    asyncio.run(asyncio.wait_for(main(), 5))  # the first loop's check is gone with it
