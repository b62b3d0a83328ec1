"""Reading request bodies, before the caller is known and outside the work slots.

Qdrant sends the service token inside the JSON body, so every body is read before its sender can
be checked. Reading is therefore kept apart from the work: a :class:`BodyGate` lets a bounded
number of bodies be read at once (``limits.max_concurrent_bodies``), holding a bounded number of
bytes between them (``limits.max_body_memory``), each within its own size and time limits. A
caller without the token holds at most one of these reading places, for at most
``limits.body_timeout`` seconds, and never a work slot.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from typing import Any

from bm25x.app.serve.errors import BodiesOverloaded, ClientGone, TooLarge

__all__ = ["BodyGate", "Reading", "body_chunks", "read_body"]


class BodyGate:
    """The bodies being read at once and the bytes they hold, both bounded; one per app (the
    app runs on one event loop, so plain counters suffice)."""

    def __init__(self, max_bodies: int, max_bytes: int) -> None:
        self.max_bodies = max_bodies
        self.max_bytes = max_bytes
        self.bodies = 0
        self.bytes = 0

    @contextlib.contextmanager
    def reading(self) -> Iterator[Reading]:
        """A place to read one body; its bytes are given back on leaving.
        :class:`BodiesOverloaded` when every place is taken."""
        if self.bodies >= self.max_bodies:
            raise BodiesOverloaded(
                f"the service is reading {self.bodies} request bodies, its limit "
                "(limits.max_concurrent_bodies)"
            )
        self.bodies += 1
        place = Reading(self)
        try:
            yield place
        finally:
            self.bodies -= 1
            self.bytes -= place.size


class Reading:
    """One body's place in a :class:`BodyGate`: counts its bytes against the gate's total."""

    def __init__(self, gate: BodyGate) -> None:
        self.gate = gate
        self.size = 0

    def take(self, n: int) -> None:
        """Count ``n`` more bytes; :class:`BodiesOverloaded` when the gate's total would pass
        its limit."""
        gate = self.gate
        if gate.bytes + n > gate.max_bytes:
            raise BodiesOverloaded(
                f"the request bodies being read hold {gate.bytes} bytes; this one's next "
                f"{n} would pass the limit of {gate.max_bytes} (limits.max_body_memory)"
            )
        gate.bytes += n
        self.size += n


async def read_body(
    chunks: AsyncIterator[bytes], declared: str | None, place: Reading, limit: int
) -> bytearray:
    """A body of at most ``limit`` bytes from ``chunks``, counted in ``place`` as it arrives.
    ``declared`` is the request's Content-Length: over the limit, the body is refused unread.
    :class:`TooLarge` over the limit."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(_too_large(int(declared), limit))
    body = bytearray()  # grows in place: no list of chunks, no joined copy
    async for chunk in chunks:
        if len(body) + len(chunk) > limit:
            raise TooLarge(_too_large(len(body) + len(chunk), limit))
        place.take(len(chunk))
        body += chunk
    return body


def _too_large(size: int, limit: int) -> str:
    return (
        f"request body of {size}+ bytes is over this service's limit of {limit} bytes "
        "(limits.max_body_bytes); send fewer inputs per request"
    )


async def body_chunks(
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
) -> AsyncIterator[bytes]:
    """The chunks of a request body, from an ASGI ``receive``; :class:`ClientGone` when the
    client disconnects before the body is complete."""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("the client closed the connection before its body was complete")
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return
