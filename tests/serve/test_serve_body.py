"""Reading request bodies (``bm25x.app.serve.body``): a body in one piece or in several is
read whole and counted against the gate, given back on leaving; the size limit holds on the
declared length and on what arrives; a client that leaves mid-body is told apart; the gate's
places are bounded."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import pytest

from bm25x.app.serve.body import BodyGate, read_body
from bm25x.app.serve.errors import BodiesOverloaded, ClientGone, TooLarge

Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]


def messages(*chunks: bytes, gone: bool = False) -> Receive:
    queue: list[MutableMapping[str, Any]] = [
        {"type": "http.request", "body": c, "more_body": k < len(chunks) - 1 or gone}
        for k, c in enumerate(chunks)
    ]
    if gone:
        queue.append({"type": "http.disconnect"})

    async def receive() -> MutableMapping[str, Any]:
        return queue.pop(0)

    return receive


def read(gate: BodyGate, receive: Receive, declared: str | None = None, limit: int = 100) -> Any:
    async def main() -> Any:
        with gate.reading() as place:
            body = await read_body(receive, declared, place, limit)
            assert gate.bytes == len(body) and gate.bodies == 1
            return body

    return asyncio.run(main())


def test_one_piece_or_several_and_the_gate_given_back() -> None:
    gate = BodyGate(max_bodies=2, max_bytes=1000)
    assert read(gate, messages(b'{"a": 1}')) == b'{"a": 1}'
    assert read(gate, messages(b'{"a"', b"", b": ", b"1}")) == b'{"a": 1}'
    assert read(gate, messages(b"")) == b""
    assert (gate.bodies, gate.bytes) == (0, 0)


def test_the_size_limit_declared_or_arriving() -> None:
    gate = BodyGate(max_bodies=2, max_bytes=1000)
    with pytest.raises(TooLarge):
        read(gate, messages(b"x"), declared="101")
    with pytest.raises(TooLarge):
        read(gate, messages(b"x" * 60, b"x" * 41), declared="10")
    assert read(gate, messages(b"x" * 60, b"x" * 40)) == b"x" * 100
    assert (gate.bodies, gate.bytes) == (0, 0)


def test_the_gates_bytes_and_places_are_bounded() -> None:
    gate = BodyGate(max_bodies=1, max_bytes=50)
    with pytest.raises(BodiesOverloaded):
        read(gate, messages(b"x" * 30, b"x" * 30))
    assert (gate.bodies, gate.bytes) == (0, 0)
    with gate.reading():
        with pytest.raises(BodiesOverloaded):
            with gate.reading():
                pass
        assert gate.bodies == 1
    assert gate.bodies == 0


def test_a_client_that_leaves_mid_body() -> None:
    gate = BodyGate(max_bodies=2, max_bytes=1000)
    with pytest.raises(ClientGone):
        read(gate, messages(b'{"a"', gone=True))
    assert (gate.bodies, gate.bytes) == (0, 0)
