"""A fast stand-in for OpenAI's embeddings API, for ``benches/bench_serve.py``: it answers in
tens of microseconds (aiohttp's server, with its C HTTP parser), so that what a benchmark
measures is bm25x and not the stand-in. Run it in a process of its own::

    python tests/support/fast_provider.py      # prints its port, serves until stdin closes

``POST /openai/v1/embeddings`` with ``{"model", "input": str | [str], "dimensions"?}`` answers
as OpenAI does (``data`` with ``index`` and ``embedding``, ``model``, ``usage``). It checks
only what the benchmark relies on (the bearer key, the input list); the full rules of each
provider are checked by ``provider_server.py``, which the tests use. Each vector is
:func:`fast_vector` of its text (cheap to compute and to check), and ``usage`` counts one
token per whitespace-separated word, as ``provider_server`` does.

``GET /_stats`` gives the requests and inputs seen so far.
"""

from __future__ import annotations

import asyncio
import sys
import zlib
from typing import Any

import orjson

KEY = "sk-test-openai-0123456789abcdef"  # the same key as provider_server.KEYS["openai"]
DIMS = 64
PATH = "/openai/v1/embeddings"


def fast_vector(text: str, dim: int = DIMS) -> list[float]:
    """The vector the stand-in gives ``text``: 24 bits of its CRC-32 as a fraction, then
    halves (values exact in float32, so that a check can compare them as they are)."""
    return [_first(text)] + [0.5] * (dim - 1)


def _first(text: str) -> float:
    return (zlib.crc32(text.encode("utf-8", "surrogatepass")) & 0xFFFFFF) / 2**24


class _Stats:
    requests = 0
    inputs = 0


def make_app() -> Any:
    from aiohttp import web

    stats = _Stats()
    rests: dict[int, bytes] = {}
    bearer = f"Bearer {KEY}"

    def rest(dim: int) -> bytes:
        found = rests.get(dim)
        if found is None:
            found = rests[dim] = b",0.5" * (dim - 1)
        return found

    async def embeddings(request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != bearer:
            return web.json_response({"error": {"message": "Incorrect API key"}}, status=401)
        try:
            body = orjson.loads(await request.read())
        except orjson.JSONDecodeError:
            return web.json_response({"error": {"message": "body is not JSON"}}, status=400)
        inputs = body.get("input")
        if isinstance(inputs, str):
            inputs = [inputs]
        dim = body.get("dimensions", DIMS)
        if not isinstance(inputs, list) or not inputs or not isinstance(dim, int) or dim < 1:
            return web.json_response({"error": {"message": "bad input"}}, status=400)
        stats.requests += 1
        stats.inputs += len(inputs)
        tail = rest(dim)
        parts = []
        tokens = 0
        for i, text in enumerate(inputs):
            first = _first(text)
            parts.append(
                b'{"object":"embedding","index":%d,"embedding":[%s%s]}'
                % (i, repr(first).encode(), tail)
            )
            tokens += len(text.split())
        usage = b'{"prompt_tokens":%d,"total_tokens":%d}' % (tokens, tokens)
        answer = b'{"object":"list","data":[%s],"model":%s,"usage":%s}' % (
            b",".join(parts),
            orjson.dumps(body.get("model")),
            usage,
        )
        return web.Response(body=answer, content_type="application/json")

    async def state(request: web.Request) -> web.Response:
        return web.json_response({"requests": stats.requests, "inputs": stats.inputs})

    app = web.Application()
    app.router.add_post(PATH, embeddings)
    app.router.add_get("/_stats", state)
    return app


async def _serve() -> None:
    from aiohttp import web

    runner = web.AppRunner(make_app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, backlog=1024)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    print(port, flush=True)
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, sys.stdin.read)  # until the parent closes stdin
    await runner.cleanup()


class FastProviderProcess:
    """The stand-in in a process of its own; ``url`` is the base URL for ``OPENAI_BASE_URL``,
    ``pid`` its process id (for its CPU time)."""

    def __init__(self) -> None:
        import subprocess

        self.proc = subprocess.Popen(
            [sys.executable, __file__], stdin=subprocess.PIPE, stdout=subprocess.PIPE
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())
        self.pid = self.proc.pid
        self.url = f"http://127.0.0.1:{self.port}/openai/v1"

    def stats(self) -> dict[str, int]:
        import httpx

        found: dict[str, int] = httpx.get(f"http://127.0.0.1:{self.port}/_stats").json()
        return found

    def close(self) -> None:
        from support.serve import stop_stand_in  # the parent's side only

        stop_stand_in(self.proc)


if __name__ == "__main__":
    asyncio.run(_serve())
