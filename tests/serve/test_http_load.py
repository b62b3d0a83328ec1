"""The benchmark's lean load generator (``support.http_load``) counts every answer that is not
200 as a failure, hands every 200 to the check, sends each request as encoded, and keeps
going when the server closes a connection: its figures are only worth what it checks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Coroutine
from typing import Any

import orjson
import pytest
from support import require

require("aiohttp")
require("httptools")

from aiohttp import web
from support.http_load import Answer, LoadRun, http_request, post_all


async def _answer(request: web.Request) -> web.Response:
    """Echoes the request: 503 for i % 4 == 1, a closed connection after i % 4 == 2, else
    200; the body says what arrived."""
    i = orjson.loads(await request.read())["i"]
    seen = {
        "i": i,
        "path": request.path,
        "key": request.headers.get("openai-api-key"),
        "type": request.headers.get("content-type"),
    }
    if i % 4 == 1:
        return web.Response(status=503, body=b"busy")
    headers = {"Connection": "close"} if i % 4 == 2 else {}
    return web.Response(body=orjson.dumps(seen), headers=headers)


@contextlib.asynccontextmanager
async def echo_server() -> AsyncIterator[tuple[str, int]]:
    app = web.Application()
    app.router.add_post("/inference", _answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield "127.0.0.1", port
    finally:
        await runner.cleanup()


def run_on(loop: str, coro: Coroutine[Any, Any, LoadRun]) -> LoadRun:
    """``coro`` run on asyncio's loop or uvloop's (whose transports are not asyncio classes)."""
    if loop == "uvloop":
        import uvloop

        result: LoadRun = uvloop.run(coro)
        return result
    return asyncio.run(coro)


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_every_status_and_every_checked_body_counts(loop: str) -> None:
    if loop == "uvloop":
        pytest.importorskip("uvloop")

    async def main() -> LoadRun:
        async with echo_server() as (host, port):
            requests = [
                http_request("/inference", f"{host}:{port}", headers, orjson.dumps({"i": i}))
                for i in range(40)
            ]
            return await post_all(host, port, requests, 4, check)

    headers = [("openai-api-key", "k"), ("content-type", "application/json")]
    checked: list[int] = []

    def check(i: int, answer: Answer) -> str | None:
        checked.append(i)
        seen = orjson.loads(answer.body)
        if seen != {"i": i, "path": "/inference", "key": "k", "type": "application/json"}:
            return f"wrong echo {seen}"
        return "planted" if i == 8 else None

    run = run_on(loop, main())

    assert len(run.latencies) == 40  # every request answered, closed connections reopened
    refused = sorted(int(f.split(":")[0].removeprefix("request ")) for f in run.failures)
    assert refused == sorted([i for i in range(40) if i % 4 == 1] + [8])
    assert all("HTTP 503" in f for f in run.failures if not f.endswith("planted"))
    assert sorted(checked) == [i for i in range(40) if i % 4 != 1]


def test_a_server_that_never_answers_is_a_failure_not_a_hang() -> None:
    done = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        # Reads the request, never answers; closes once the client has given up.
        while await reader.read(1 << 16):
            pass
        writer.close()
        await writer.wait_closed()
        done.set()

    async def main() -> LoadRun:
        listener = await asyncio.start_server(silent, "127.0.0.1", 0)
        port = listener.sockets[0].getsockname()[1]
        async with listener:
            request = http_request("/inference", "x", [], b"{}")
            run = await post_all("127.0.0.1", port, [request], 1, timeout=0.2)
            await asyncio.wait_for(done.wait(), 10)
        return run

    run = asyncio.run(main())
    assert run.latencies == []
    assert run.failures == ["request 0: TimeoutError: no answer in time"]
