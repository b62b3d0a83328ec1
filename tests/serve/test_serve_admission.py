"""``bm25x serve`` before it knows who is calling: Qdrant sends the service token inside the JSON
body, so every body is read first. Bodies are read outside the work slots, a bounded number at
once holding a bounded number of bytes; each is screened (nesting depth, JSON, the token)
without building it; a caller without the token is answered 401 without ever taking a work
slot, and costs no memory beyond its body."""

from __future__ import annotations

import asyncio
import json
import tracemalloc
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from support.serve import asgi_client, qdrant_body, qdrant_input
from support.strategies import examples

from bm25x import providers
from bm25x.app.serve import ServeConfig, create_app, nesting
from bm25x.app.serve.config import Limits
from bm25x.app.serve.nesting import nesting_depth
from bm25x.app.serve.protocol import MAX_JSON_DEPTH
from bm25x.providers import EmbedRequest, Kind, Vector

TOKEN = "admission-token-7c41e0"


def depth_of(value: Any) -> int:
    """How deep ``value``'s lists and dicts nest (the reference for the byte scan)."""
    if isinstance(value, list):
        return 1 + max(map(depth_of, value), default=0)
    if isinstance(value, dict):
        return 1 + max(map(depth_of, value.values()), default=0)
    return 0


# Strings full of what the scan must not count: brackets, quotes, backslashes, escapes.
_TRICKY = st.text(alphabet=st.sampled_from('[]{}"\\ax\n\u00e9\U0001f600'), max_size=12)
_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | _TRICKY,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(_TRICKY, inner, max_size=4),
    max_leaves=30,
)


@given(value=_JSON, piece=st.sampled_from([1, 2, 3, 5, 8, 1 << 18]), ascii=st.booleans())
@settings(max_examples=examples(300))
def test_nesting_depth_is_the_parsed_values_depth(value: Any, piece: int, ascii: bool) -> None:
    raw = json.dumps(value, ensure_ascii=ascii).encode()
    # Small pieces put runs of backslashes, escapes and strings across their edges.
    with mock.patch.object(nesting, "_PIECE", piece):
        assert nesting_depth(raw, 1000) == depth_of(value)
        assert nesting_depth(bytearray(raw), 1000) == depth_of(value)


def test_nesting_depth_stops_past_the_limit() -> None:
    deep = b"[" * 1_000_000 + b"]" * 1_000_000
    assert nesting_depth(deep, 128) > 128
    assert nesting_depth(b'"' + b"[" * 500 + b'"', 128) == 0  # brackets inside a string
    assert nesting_depth(b'["\\\\", [["\\"[["]]]', 128) == 3


def nested(depth: int) -> Any:
    """A value whose lists nest ``depth`` deep."""
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def nested_json(depth: int) -> bytes:
    """``nested(depth)`` as JSON, built as bytes (json.dumps itself recurses)."""
    return b"[" * depth + b"1" + b"]" * depth


def post_raw(config: ServeConfig, bodies: Sequence[bytes]) -> list[Any]:
    async def main() -> list[Any]:
        async with asgi_client(create_app(config)) as client:
            return [await client.post("/inference", content=body) for body in bodies]

    return asyncio.run(main())


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH, MAX_JSON_DEPTH + 1, 100_000])
@pytest.mark.parametrize("where", ["options", "data", "inputs"])
def test_nesting_past_the_limit_is_a_400_naming_it(where: str, depth: int) -> None:
    # The body's own levels: the object (1), "inputs" (2), an input (3); options' values and
    # object data start at 4.
    inner = depth - 3
    placeholder = qdrant_input("x", "bm25", "object", {"k": "NESTED"})
    if where == "options":
        body = json.dumps(qdrant_body([placeholder], token=None))
        raw = body.replace('"NESTED"', nested_json(inner - 1).decode()).encode()
    elif where == "data":
        body = json.dumps(qdrant_body([qdrant_input("NESTED", "bm25", "object")]))
        raw = body.replace('"NESTED"', nested_json(inner).decode()).encode()
    else:  # the inputs list itself holds the nesting
        raw = b'{"inputs": ' + nested_json(depth - 1) + b', "token": null}'
    # With a token required and none sent, a body that passes the screen is a 401.
    (r,) = post_raw(ServeConfig(token=TOKEN), [raw])
    if depth <= MAX_JSON_DEPTH:
        assert r.status_code == 401, r.text
    else:
        assert r.status_code == 400, r.text
        message = r.json()["error"]
        assert f"more than {MAX_JSON_DEPTH} levels deep" in message, message
    assert "internal error" not in r.text


def drip(body: bytes, pieces: int, pause: float) -> AsyncIterator[bytes]:
    """``body`` in ``pieces`` parts, ``pause`` seconds apart (a slow client)."""
    size = -(-len(body) // pieces)

    async def parts() -> AsyncIterator[bytes]:
        for start in range(0, len(body), size):
            await asyncio.sleep(pause)
            yield body[start : start + size]

    return parts()


def encoded(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()


GOOD = encoded(qdrant_body([qdrant_input("cookies", "bm25")], token=TOKEN))
NO_TOKEN = encoded(qdrant_body([qdrant_input("cookies", "bm25")]))


def test_callers_without_the_token_hold_no_work_slot() -> None:
    # The tester's case: a concurrency limit of 4 and four slow bodies without the token. They
    # are read in places of their own, so every valid request meanwhile is answered.
    config = ServeConfig(token=TOKEN, limits=Limits(max_concurrent_requests=4, body_timeout=10))

    async def main() -> tuple[list[Any], list[Any]]:
        async with asgi_client(create_app(config)) as client:
            slow = [
                asyncio.ensure_future(client.post("/inference", content=drip(NO_TOKEN, 10, 0.15)))
                for _ in range(4)
            ]
            await asyncio.sleep(0.3)
            valid = [await client.post("/inference", content=GOOD) for _ in range(11)]
            assert not any(task.done() for task in slow)  # still reading meanwhile
            return valid, list(await asyncio.gather(*slow))

    valid, slow = asyncio.run(main())
    assert [r.status_code for r in valid] == [200] * 11
    assert [r.status_code for r in slow] == [401] * 4


class _Slow:
    """A local provider that takes half a second per batch (holds a work slot)."""

    name = "slow"
    max_batch = 8
    max_concurrency = 4
    local = True

    def batch_limit(self, kind: Kind) -> int:
        return self.max_batch

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        await asyncio.sleep(0.5)
        return [np.ones(2, dtype=np.float32) for _ in request.items]


@pytest.fixture
def slow_model() -> Iterator[str]:
    providers.list()
    saved = dict(providers._entries), list(providers._catch_all)
    providers.register("slow/", _Slow())
    yield "slow/model"
    providers._entries.clear()
    providers._entries.update(saved[0])
    providers._catch_all[:] = saved[1]


def test_without_the_token_a_401_even_when_every_work_slot_is_busy(slow_model: str) -> None:
    config = ServeConfig(token=TOKEN, limits=Limits(max_concurrent_requests=1, retry_after=3))
    busy = encoded(qdrant_body([qdrant_input("x", slow_model)], token=TOKEN))

    async def main() -> list[Any]:
        async with asgi_client(create_app(config)) as client:
            first = asyncio.ensure_future(client.post("/inference", content=busy))
            await asyncio.sleep(0.2)  # the one work slot is taken
            no_token = await client.post("/inference", content=NO_TOKEN)
            valid = await client.post("/inference", content=GOOD)
            return [await first, no_token, valid]

    first, no_token, valid = asyncio.run(main())
    assert first.status_code == 200
    assert no_token.status_code == 401 and "needs a token" in no_token.json()["error"]
    # a caller with the token finds the work slot taken: the 429 of the work slots
    assert valid.status_code == 429 and valid.headers["retry-after"] == "3"
    assert "limits.max_concurrent_requests" in valid.json()["error"]


def test_bodies_read_at_once_are_bounded() -> None:
    config = ServeConfig(
        token=TOKEN, limits=Limits(max_concurrent_bodies=2, retry_after=2, body_timeout=10)
    )

    async def main() -> list[Any]:
        async with asgi_client(create_app(config)) as client:
            slow = [
                asyncio.ensure_future(client.post("/inference", content=drip(GOOD, 5, 0.1)))
                for _ in range(2)
            ]
            await asyncio.sleep(0.2)
            refused = await client.post("/inference", content=GOOD)
            done = await asyncio.gather(*slow)
            after = await client.post("/inference", content=GOOD)
            return [refused, *done, after]

    refused, *done, after = asyncio.run(main())
    assert refused.status_code == 429 and refused.headers["retry-after"] == "2"
    assert "limits.max_concurrent_bodies" in refused.json()["error"]
    assert [r.status_code for r in done] == [200, 200]
    assert after.status_code == 200  # the places were given back


def test_bytes_held_by_bodies_being_read_are_bounded() -> None:
    config = ServeConfig(
        token=TOKEN,
        limits=Limits(max_body_bytes=2000, max_body_memory=2500, body_timeout=10),
    )
    filler = "y" * 1500
    big = encoded(qdrant_body([qdrant_input(filler, "bm25")], token=TOKEN))
    second = encoded(qdrant_body([qdrant_input("x" * 1000, "bm25")], token=TOKEN))
    assert len(big) < 2000 and len(second) < 2000 and len(big) + len(second) > 2500

    async def main() -> list[Any]:
        async with asgi_client(create_app(config)) as client:

            async def stalls() -> AsyncIterator[bytes]:
                yield big[:-10]  # most of it at once, then the rest after a while
                await asyncio.sleep(0.6)
                yield big[-10:]

            held = asyncio.ensure_future(client.post("/inference", content=stalls()))
            await asyncio.sleep(0.2)
            refused = await client.post("/inference", content=second)
            small = await client.post("/inference", content=GOOD)  # fits beside it
            first = await held
            after = await client.post("/inference", content=second)
            return [refused, small, first, after]

    refused, small, first, after = asyncio.run(main())
    assert refused.status_code == 429 and "limits.max_body_memory" in refused.json()["error"]
    assert small.status_code == 200 and first.status_code == 200
    assert after.status_code == 200  # the bytes were given back


def test_a_16_mib_body_without_the_token_builds_nothing() -> None:
    # Millions of empty lists: 16 MiB of JSON that json.loads turns into some 360 MiB of Python
    # objects. The screen reads the token without building any of it.
    size = 16 * 1024 * 1024 - 64
    head, tail = b'{"inputs": [', b'[]], "token": null}'
    raw = head + b"[]," * ((size - len(head) - len(tail)) // 3) + tail
    config = ServeConfig(token=TOKEN)

    async def main() -> tuple[Any, int]:
        async with asgi_client(create_app(config)) as client:
            tracemalloc.start()
            try:
                r = await client.post("/inference", content=raw)
                return r, tracemalloc.get_traced_memory()[1]
            finally:
                tracemalloc.stop()

    r, peak = asyncio.run(main())
    assert r.status_code == 401
    # The body itself (16 MiB, once on the service's side) and the scan's pieces; not ~360 MiB.
    assert peak < 2 * len(raw), f"peak {peak / 2**20:.0f} MiB for a {len(raw) / 2**20:.0f} MiB body"


def test_a_token_that_is_no_string_is_refused_unbuilt() -> None:
    raw = b'{"inputs": [], "token": [' + b"[]," * 100_000 + b"[]]}"
    (r,) = post_raw(ServeConfig(token=TOKEN), [raw])
    assert r.status_code == 400 and "'token' must be a string or null" in r.json()["error"]
    # and a body that is no object, or no JSON, says so
    bad = post_raw(ServeConfig(), [b"[1, 2]", b'{"inputs": [}', b""])
    assert [r.status_code for r in bad] == [400, 400, 400]
    assert "must be a JSON object" in bad[0].json()["error"]
    assert "not valid JSON" in bad[1].json()["error"] and "byte" in bad[1].json()["error"]
