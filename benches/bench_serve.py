"""``bm25x serve`` throughput and latency, and its overhead over calling the provider directly.

Starts the local provider stand-ins (tests/provider_server.py) and a real ``bm25x serve``
process on 127.0.0.1, then sends the same requests two ways with 64 concurrent workers:

- through the service (HTTP to uvicorn, then bm25x.aembed, then the stand-in), and
- directly: ``bm25x.aembed`` in this process against the same stand-in;

for a remote model (openai/ stand-in) and for bm25 (local, the Rust encoder). Prints requests
per second and p50/p99 latency for each, and the ratio.

    python benches/bench_serve.py [--requests 5000] [--connections 64]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "python"))

from provider_server import KEYS, FakeProviders
from serve_support import LoadResult, ServeProcess, qdrant_body, qdrant_input, run_load

import bm25x

MODELS = {"remote": "openai/text-embedding-3-small", "bm25": "qdrant/bm25"}


def _request(model: str) -> Any:
    def make(i: int) -> tuple[dict, dict[str, str], Any]:
        body = qdrant_body([qdrant_input(f"document {i} about cookies", model)])
        return body, {"openai-api-key": KEYS["openai"]}, lambda answer: None

    return make


async def _direct(model: str, n: int, connections: int) -> LoadResult:
    latencies: list[float] = []
    failures: list[str] = []
    counter = iter(range(n))
    headers = {"openai-api-key": KEYS["openai"]}

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            try:
                await bm25x.aembed([f"document {i} about cookies"], model=model, headers=headers)
            except bm25x.InferenceError as exc:
                failures.append(type(exc).__name__)
                continue
            latencies.append(time.perf_counter() - t0)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return LoadResult(latencies, failures, time.perf_counter() - start)


def _row(name: str, result: LoadResult) -> str:
    rate = len(result.latencies) / result.seconds if result.seconds else 0.0
    return (
        f"| {name} | {rate:,.0f} | {result.percentile(0.5) * 1000:.1f} | "
        f"{result.percentile(0.99) * 1000:.1f} | {len(result.failures)} |"
    )


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=5000)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args()
    fake = FakeProviders()
    os.environ["OPENAI_BASE_URL"] = fake.url("openai")
    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "serve.toml"
        config.write_text("[limits]\nmax_concurrent_requests = 256\n")
        proc = ServeProcess(config, {"OPENAI_BASE_URL": fake.url("openai")}).start()
        try:
            print(f"{args.requests} requests of one input, {args.connections} connections\n")
            print("| path | req/s | p50 ms | p99 ms | failures |")
            print("| --- | ---: | ---: | ---: | ---: |")
            for kind, model in MODELS.items():
                make = _request(model)
                asyncio.run(run_load(proc.url + "/inference", 500, args.connections, make))
                served = asyncio.run(
                    run_load(proc.url + "/inference", args.requests, args.connections, make)
                )
                asyncio.run(_direct(model, 500, args.connections))
                direct = asyncio.run(_direct(model, args.requests, args.connections))
                print(_row(f"{kind}: bm25x.aembed directly", direct))
                print(_row(f"{kind}: through bm25x serve", served))
                fake.reset()
        finally:
            proc.terminate()
            proc.wait(timeout=60)
            fake.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
