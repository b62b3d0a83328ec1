"""``bm25x serve`` under hostile load, as a real process on 127.0.0.1: while callers without the
token dribble slow bodies and send large ones, others send 1 MiB model names, 15 KB keys and
request heads that never finish, valid requests (bm25 and a remote model) all get their own
vectors, the service's memory stays under a stated bound, and what it exposes (``/metrics``,
its log) stays small. Bounded in time: the hostile actors stop when the valid load is done."""

from __future__ import annotations

import asyncio
import contextlib
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from support import require
from support.provider_server import KEYS, fake_vector
from support.serve import (
    FakeProvidersProcess,
    ServeProcess,
    qdrant_body,
    qdrant_input,
    run_load,
)

import bm25x

require("uvicorn")
require("psutil")

TOKEN = "hostile-token-5f0e9a27c3"
MiB = 1024 * 1024

# What the hostile actors send, at once, for the whole of the valid load.
SLOW_BODIES = 64  # connections dribbling a body without the token
BIG_BODIES = 2  # connections posting 4 MiB bodies without the token, one after another
LONG_NAMES = 2  # connections posting 1 MiB model names (with the token)
LONG_KEYS = 2  # connections sending a 15 KB key header (with the token)
STALLED_HEADS = 8  # connections sending half a request head, again and again

VALID_REQUESTS = 400
VALID_CONNECTIONS = 8

# The memory the service may take above its warmed-up size while all of that arrives: the
# bodies being read are capped by limits.max_body_memory (set to 32 MiB below), and nothing a
# caller without the token sends is built beyond its body.
MEMORY_BOUND = 128 * MiB


def _config(path: Path) -> Path:
    path.write_text(
        "\n".join(
            [
                f'token = "{TOKEN}"',
                'allowed_models = ["bm25", "qdrant/bm25", "openai/*"]',
                "[keys]",
                f'openai-api-key = "{KEYS["openai"]}"',
                "[limits]",
                "max_concurrent_requests = 16",
                "max_body_bytes = 8388608",
                "max_body_memory = 33554432",
                "body_timeout = 4.0",
                "header_timeout = 1.0",
            ]
        )
        + "\n"
    )
    return path


@pytest.fixture
def service(tmp_path: Path) -> Iterator[tuple[ServeProcess, FakeProvidersProcess]]:
    fake = FakeProvidersProcess()
    env = {"OPENAI_BASE_URL": fake.url("openai"), "OPENAI_API_KEY": ""}
    proc = ServeProcess(_config(tmp_path / "serve.toml"), env)
    try:
        proc.start()
        yield proc, fake
    finally:
        proc.stop()
        fake.close()


_BM25 = bm25x.Bm25()


def _valid(i: int) -> tuple[dict, dict[str, str], Callable[[Any], str | None]]:
    """A request Qdrant would send: one bm25 input and one remote one."""
    texts = [f"valid {i} bm25 about cookies", f"valid {i} remote about tea"]
    body = qdrant_body(
        [
            qdrant_input(texts[0], "qdrant/bm25"),
            qdrant_input(texts[1], "openai/text-embedding-3-small"),
        ],
        token=TOKEN,
    )

    def check(answer: Any) -> str | None:
        emb = answer.get("embeddings")
        if not isinstance(emb, list) or len(emb) != 2:
            return f"embeddings: {emb!r:.80}"
        if emb[0] != _BM25.encode(texts[0]).as_qdrant():
            return "the bm25 input is not its own vector"
        want = fake_vector(f"text-embedding-3-small|{texts[1]}", 64)
        if not np.allclose(emb[1], want, atol=1e-7):
            return "the remote input is not its own vector"
        return None

    return body, {}, check


async def _status_line(reader: asyncio.StreamReader, timeout: float) -> int | None:
    """The status of the answer on ``reader`` (None: closed without one, or none in time)."""
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except (asyncio.TimeoutError, ConnectionError):
        return None
    parts = line.split()
    return int(parts[1]) if len(parts) >= 2 and parts[1].isdigit() else None


class Hostile:
    """The hostile actors, each a loop until :attr:`stop`; what each was answered."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.stop = asyncio.Event()
        self.seen: Counter[tuple[str, int | str]] = Counter()

    async def _open(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        return await asyncio.open_connection("127.0.0.1", self.port)

    async def slow_body(self) -> None:
        """A body without the token, 1 KiB every 50 ms, of a declared 4 MiB: held until the
        body timeout answers it, then again."""
        while not self.stop.is_set():
            reader, writer = await self._open()
            try:
                writer.write(
                    b"POST /inference HTTP/1.1\r\nHost: bm25x\r\n"
                    b"Content-Type: application/json\r\nContent-Length: 4194304\r\n\r\n"
                    b'{"inputs": ['
                )
                status = None
                while not self.stop.is_set():
                    writer.write(b" " * 1024)
                    await writer.drain()
                    status = await _status_line(reader, 0.05)
                    if status is not None or reader.at_eof():
                        break
                if status is not None:
                    self.seen["slow body", status] += 1
            except ConnectionError:
                self.seen["slow body", "reset"] += 1
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    async def stalled_head(self) -> None:
        """Half a request line, then nothing: closed by the header timeout."""
        while not self.stop.is_set():
            reader, writer = await self._open()
            try:
                writer.write(b"POST /inference HTT")
                await writer.drain()
                closed = await asyncio.wait_for(reader.read(1), 5.0) == b""
                self.seen["stalled head", "closed" if closed else "answered"] += 1
            except asyncio.TimeoutError:
                self.seen["stalled head", "still open"] += 1
            except ConnectionError:
                self.seen["stalled head", "closed"] += 1
            finally:
                writer.close()
                with contextlib.suppress(ConnectionError):
                    await writer.wait_closed()

    async def posts(self, kind: str, make: Callable[[], tuple[bytes, dict[str, str]]]) -> None:
        """Whole requests of one kind, one after another on one connection."""
        limits = httpx.Limits(max_connections=1, max_keepalive_connections=1)
        async with httpx.AsyncClient(limits=limits, timeout=30.0) as client:
            while not self.stop.is_set():
                body, headers = make()
                headers = {"content-type": "application/json", **headers}
                try:
                    response = await client.post(
                        f"http://127.0.0.1:{self.port}/inference", content=body, headers=headers
                    )
                except httpx.HTTPError as exc:
                    self.seen[kind, type(exc).__name__] += 1
                    continue
                self.seen[kind, response.status_code] += 1
                await asyncio.sleep(0.01)


def _big_body() -> tuple[bytes, dict[str, str]]:
    text = "x" * (4 * MiB - 200)
    return json.dumps(qdrant_body([qdrant_input(text, "qdrant/bm25")])).encode(), {}


def _long_name() -> tuple[bytes, dict[str, str]]:
    name = "openai/" + "m" * MiB
    return json.dumps(qdrant_body([qdrant_input("hi", name)], token=TOKEN)).encode(), {}


def _long_key() -> tuple[bytes, dict[str, str]]:
    body = qdrant_body([qdrant_input("hi", "openai/text-embedding-3-small")], token=TOKEN)
    return json.dumps(body).encode(), {"openai-api-key": "sk-" + "k" * 15_000}


async def _siege(proc: ServeProcess) -> tuple[Any, Counter[tuple[str, int | str]]]:
    hostile = Hostile(proc.port)
    actors = [
        *(hostile.slow_body() for _ in range(SLOW_BODIES)),
        *(hostile.stalled_head() for _ in range(STALLED_HEADS)),
        *(hostile.posts("big body", _big_body) for _ in range(BIG_BODIES)),
        *(hostile.posts("long name", _long_name) for _ in range(LONG_NAMES)),
        *(hostile.posts("long key", _long_key) for _ in range(LONG_KEYS)),
    ]
    tasks = [asyncio.ensure_future(a) for a in actors]
    await asyncio.sleep(1.0)  # let every actor get going before the valid load starts
    try:
        valid = await run_load(proc.url + "/inference", VALID_REQUESTS, VALID_CONNECTIONS, _valid)
    finally:
        hostile.stop.set()
        done, pending = await asyncio.wait(tasks, timeout=15)
    assert not pending, f"{len(pending)} hostile actors did not stop"
    for task in done:
        task.result()  # an actor's own bug fails the test
    return valid, hostile.seen


def test_valid_requests_succeed_under_hostile_load_with_bounded_memory(
    service: tuple[ServeProcess, FakeProvidersProcess],
) -> None:
    proc, fake = service
    warm = asyncio.run(run_load(proc.url + "/inference", 50, 4, _valid))
    assert warm.failures == []
    base = proc.rss()
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.1):
            samples.append(proc.rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        valid, seen = asyncio.run(_siege(proc))
    finally:
        stop.set()
        sampler.join(timeout=5)

    # Every valid request got its own vectors, none refused.
    assert valid.failures == [], valid.failures[:5]
    assert len(valid.latencies) == VALID_REQUESTS

    # Each hostile kind was answered as the limits say, and never with a 5xx or a 200.
    by_kind: dict[str, Counter[int | str]] = {}
    for (kind, outcome), n in seen.items():
        by_kind.setdefault(kind, Counter())[outcome] += n
    assert set(by_kind["slow body"]) <= {408, 429, "reset"}, by_kind
    assert by_kind["slow body"][408] > 0, by_kind  # the body timeout answered them
    assert set(by_kind["stalled head"]) == {"closed"}, by_kind
    assert set(by_kind["big body"]) <= {401, 429}, by_kind
    assert by_kind["big body"][401] > 0, by_kind
    assert set(by_kind["long name"]) <= {400, 403, 429}, by_kind
    assert set(by_kind["long key"]) <= {400, 429}, by_kind
    assert by_kind["long key"][400] > 0, by_kind

    # Memory: bounded while it all arrived.
    growth = max(samples, default=base) - base
    assert growth < MEMORY_BOUND, f"RSS grew by {growth / MiB:.0f} MiB under hostile load"

    # What the service exposes stays small: no 1 MiB name in the metrics or the log, no key.
    metrics = httpx.get(proc.url + "/metrics", timeout=10).text
    assert len(metrics) < 64 * 1024 and "mmmmmmmmmm" * 20 not in metrics
    log = proc.log
    assert max(map(len, log)) < 8 * 1024
    text = "\n".join(log)
    assert "k" * 64 not in text and KEYS["openai"] not in text and TOKEN not in text
    assert fake.violations == []
