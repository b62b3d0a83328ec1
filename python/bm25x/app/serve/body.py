"""Reading request bodies, before the caller is known and outside the work slots.

Qdrant sends the service token inside the JSON body, so every body is read before its sender can
be checked. Reading is therefore kept apart from the work: a :class:`BodyGate` lets a bounded
number of bodies be read at once (``limits.max_concurrent_bodies``), holding a bounded number of
bytes between them (``limits.max_body_memory``), each within its own size and time limits. A
caller without the token holds at most one of these reading places, for at most
``limits.body_timeout`` seconds, and never a work slot.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from bm25x.app.serve.errors import BodiesOverloaded, ClientGone, TooLarge

__all__ = ["BodyGate", "Reading", "read_body"]


class BodyGate:
    """The bodies being read at once and the bytes they hold, both bounded; one per app (the
    app runs on one event loop, so plain counters suffice)."""

    def __init__(self, max_bodies: int, max_bytes: int) -> None:
        self.max_bodies = max_bodies
        self.max_bytes = max_bytes
        self.bodies = 0
        self.bytes = 0

    def reading(self) -> Reading:
        """``with gate.reading() as place:`` a place to read one body; its bytes are given
        back on leaving. :class:`BodiesOverloaded` when every place is taken."""
        return Reading(self)


class Reading:
    """One body's place in a :class:`BodyGate` (a context manager: taken on entering, given
    back with its bytes on leaving): counts its bytes against the gate's total."""

    __slots__ = ("gate", "size")

    def __init__(self, gate: BodyGate) -> None:
        self.gate = gate
        self.size = 0

    def __enter__(self) -> Reading:
        gate = self.gate
        if gate.bodies >= gate.max_bodies:
            raise BodiesOverloaded(
                f"the service is reading {gate.bodies} request bodies, its limit "
                "(limits.max_concurrent_bodies)"
            )
        gate.bodies += 1
        return self

    def __exit__(self, *exc: object) -> None:
        self.gate.bodies -= 1
        self.gate.bytes -= self.size

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
    receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
    declared: str | None,
    place: Reading,
    limit: int,
) -> bytes | bytearray:
    """A body of at most ``limit`` bytes from an ASGI ``receive``, counted in ``place`` as it
    arrives. ``declared`` is the request's Content-Length: over the limit, the body is
    refused unread. :class:`TooLarge` over the limit; :class:`ClientGone` when the client
    disconnects before the body is complete. A body that arrives in one piece (most do) is
    that piece; one in several grows in place (no list of chunks, no joined copy)."""
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise TooLarge(_too_large(int(declared), limit))
    body: bytes | bytearray = b""
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone("the client closed the connection before its body was complete")
        chunk = message.get("body", b"")
        if chunk:
            if len(body) + len(chunk) > limit:
                raise TooLarge(_too_large(len(body) + len(chunk), limit))
            place.take(len(chunk))
            if not body:
                body = chunk
            elif isinstance(body, bytearray):
                body += chunk
            else:
                body = bytearray(body) + chunk
        if not message.get("more_body", False):
            return body


def _too_large(size: int, limit: int) -> str:
    return (
        f"request body of {size}+ bytes is over this service's limit of {limit} bytes "
        "(limits.max_body_bytes); send fewer inputs per request"
    )
