"""The time limits of the requests in flight (``limits.body_timeout``,
``limits.request_timeout``), kept by one periodic check rather than a timer per request.

Every request goes through two time scopes (reading its body, then its work). An
:func:`asyncio.timeout` costs each a timer made and cancelled (with uvloop, a libuv handle
opened and closed) and two coroutines: about 6 us of CPU per scope in the service, on every
request. Here a scope is a plain ``with`` block entered in a table of deadlines, which one
repeating check goes through every :attr:`Deadlines.resolution` seconds while any is pending.
A scope past its deadline is expired as :func:`asyncio.timeout` expires one: its task is
cancelled, and the ``CancelledError`` that ends the block becomes ``TimeoutError`` (unless
the task was also cancelled from elsewhere, which then goes on as a cancellation). A scope
therefore ends at most ``resolution`` seconds after its deadline.
"""

from __future__ import annotations

import asyncio
from types import TracebackType

__all__ = ["Deadlines"]


class Deadlines:
    """The deadlines of one app's time scopes, on the event loop that runs it, checked every
    ``resolution`` seconds while any is pending."""

    def __init__(self, resolution: float) -> None:
        self.resolution = resolution
        self._due: dict[_Scope, float] = {}  # scope -> loop time
        self._loop: asyncio.AbstractEventLoop | None = None
        self._check: asyncio.TimerHandle | None = None

    def within(self, seconds: float) -> _Scope:
        """``with deadlines.within(s):`` (in a task) cancels its block about ``s`` seconds on
        (at most :attr:`resolution` later) and raises ``TimeoutError``."""
        return _Scope(self, seconds)

    def _enter(self, scope: _Scope) -> None:
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (an app served again): start afresh
            self._due.clear()
            self._loop, self._check = loop, None
        self._due[scope] = loop.time() + scope.seconds
        if self._check is None:
            self._check = loop.call_later(self.resolution, self._expire)

    def _leave(self, scope: _Scope) -> None:
        self._due.pop(scope, None)

    def _expire(self) -> None:
        """Expire the scopes past their deadline; check again later while any is left."""
        loop = self._loop
        assert loop is not None
        now = loop.time()
        for scope in [scope for scope, due in self._due.items() if due <= now]:
            del self._due[scope]
            scope.expire()
        self._check = loop.call_later(self.resolution, self._expire) if self._due else None


class _Scope:
    """One time scope (see :meth:`Deadlines.within`)."""

    __slots__ = ("cancelling", "deadlines", "expired", "seconds", "task")

    def __init__(self, deadlines: Deadlines, seconds: float) -> None:
        self.deadlines = deadlines
        self.seconds = seconds
        self.expired = False
        self.cancelling = 0

    def __enter__(self) -> _Scope:
        task = asyncio.current_task()
        if task is None:
            raise RuntimeError("a time scope runs in a task")
        self.task = task
        # Cancellations asked for before the scope (Python 3.11+ counts them).
        counter = getattr(task, "cancelling", None)
        self.cancelling = counter() if counter is not None else 0
        self.deadlines._enter(self)
        return self

    def expire(self) -> None:
        self.expired = True
        self.task.cancel()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.deadlines._leave(self)
        if not self.expired:
            return
        # As asyncio.timeout: the cancellation is this scope's, and becomes TimeoutError,
        # unless another cancellation is pending (Python 3.11+; 3.10 cannot tell).
        uncancel = getattr(self.task, "uncancel", None)
        if exc_type is asyncio.CancelledError and (
            uncancel is None or uncancel() <= self.cancelling
        ):
            raise TimeoutError from exc
