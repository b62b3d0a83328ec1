"""``bm25x serve`` as a real uvicorn process on 127.0.0.1: SIGTERM lets the request in flight
finish before the process exits, and a bounded load (20,000 requests over 64 connections,
mixing models) gets every embedding back, right, in order, none duplicated, with flat memory.
Throughput and latency are measured by ``benches/bench_serve.py``, not here."""

from __future__ import annotations

import asyncio
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import require
from support.provider_server import KEYS, Canned, FakeProviders, fake_vector
from support.serve import (
    FakeProvidersProcess,
    ServeProcess,
    closed_by_server,
    qdrant_body,
    qdrant_input,
    run_load,
    terminate_during_request,
)

import bm25x

require("uvicorn")
require("psutil")

TOKEN = "proc-token-93b1c0"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    server = FakeProviders()
    yield server
    server.close()


def write_config(path: Path, **limits: Any) -> Path:
    lines = [
        f'token = "{TOKEN}"',
        'allowed_models = ["bm25", "qdrant/bm25", "openai/*", "cohere/*", "jinaai/*"]',
        "[keys]",
        f'openai-api-key = "{KEYS["openai"]}"',
        f'cohere-api-key = "{KEYS["cohere"]}"',
        "[limits]",
        *(f"{k} = {v}" for k, v in limits.items()),
    ]
    path.write_text("\n".join(lines) + "\n")
    return path


def provider_env(fake: FakeProviders | FakeProvidersProcess) -> dict[str, str]:
    return {
        "OPENAI_BASE_URL": fake.url("openai"),
        "CO_API_URL": fake.url("cohere"),
        "JINA_BASE_URL": fake.url("jina"),
        "OPENAI_API_KEY": "",
        "CO_API_KEY": "",
        "JINA_API_KEY": "",
    }


@pytest.fixture
def serve(fake: FakeProviders, tmp_path: Path) -> Iterator[Callable[..., ServeProcess]]:
    started: list[ServeProcess] = []

    def start(**limits: Any) -> ServeProcess:
        fake.reset()
        proc = ServeProcess(write_config(tmp_path / "serve.toml", **limits), provider_env(fake))
        started.append(proc.start())
        return proc

    yield start
    for proc in started:
        proc.stop()
    assert fake.violations == []


@pytest.fixture
def fake_process() -> Iterator[FakeProvidersProcess]:
    """The stand-ins in a process of their own (the load test's: their CPU is not the load
    generator's)."""
    server = FakeProvidersProcess()
    yield server
    server.close()


def test_sigterm_drains_the_request_in_flight(
    fake: FakeProviders, serve: Callable[..., ServeProcess]
) -> None:
    import httpx

    proc = serve(request_timeout=30)
    fake.script("openai", Canned(delay=2.0, passthrough=True))
    body = qdrant_body([qdrant_input("drained", "openai/text-embedding-3-small")], token=TOKEN)
    response = terminate_during_request(proc, fake, body)
    assert response.status_code == 200
    expected = fake_vector("text-embedding-3-small|drained", 64)
    assert np.allclose(response.json()["embeddings"][0], expected)
    records = [json.loads(line) for line in proc.log if line.startswith("{")]
    assert [r["status"] for r in records] == [200]
    # nothing secret in what the process wrote
    text = "\n".join(proc.log)
    assert TOKEN not in text and KEYS["openai"] not in text and "drained" not in text
    with pytest.raises(httpx.TransportError):
        httpx.get(proc.url + "/healthz", timeout=2)


def test_an_unfinished_request_head_is_closed(serve: Callable[..., ServeProcess]) -> None:
    # uvicorn has no deadline for a request's line and headers: half a request line kept its
    # connection open for as long as the client liked.
    proc = serve(header_timeout=0.5)
    with socket.create_connection(("127.0.0.1", proc.port)) as sock:
        sock.sendall(b"POST /inference HTT")  # half a request line, then nothing
        assert closed_by_server(sock, within=10)
    # a head that takes a while but finishes in time is answered, and the connection kept
    with socket.create_connection(("127.0.0.1", proc.port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(0.2)
        sock.sendall(b"Host: bm25x\r\n\r\n")
        sock.settimeout(10)
        answer = b""
        while not answer.endswith(b'{"status":"ok"}'):  # the whole answer, head and body
            answer += sock.recv(1024)
        assert answer.startswith(b"HTTP/1.1 200 ")
        # idle between requests is the keep-alive's business (120 s), not the head's ...
        time.sleep(1.0)
        # ... but the next request's head has the same deadline from its first byte
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        assert closed_by_server(sock, within=10)


# The mix of models of the load test; each request carries one to three of them.
_MODELS = (
    ("bm25", None),
    ("openai/text-embedding-3-small", ("text-embedding-3-small", 64)),
    ("Qdrant/bm25", None),
    ("cohere/embed-v4.0", ("embed-v4.0|search_document", 40)),
    ("jinaai/jina-embeddings-v2-base-en", ("jina-embeddings-v2-base-en|None", 32)),
)
_BM25 = {"bm25": bm25x.Bm25(), "Qdrant/bm25": bm25x.Bm25(flavor="fastembed")}


def _load_request(i: int) -> tuple[dict, dict[str, str], Callable[[Any], str | None]]:
    picks = [_MODELS[(i + k) % len(_MODELS)] for k in range(1 + i % 3)]
    texts = [f"document {i} part {k} about cookies" for k in range(len(picks))]
    body = qdrant_body([qdrant_input(t, m) for t, (m, _) in zip(texts, picks)], token=TOKEN)
    headers = {"jina-api-key": KEYS["jina"]}

    def check(answer: Any) -> str | None:
        emb = answer.get("embeddings")
        if not isinstance(emb, list) or len(emb) != len(texts):
            return f"{len(emb) if isinstance(emb, list) else emb!r} embeddings for {len(texts)}"
        for k, ((model, remote), text) in enumerate(zip(picks, texts)):
            if remote is None:
                want = _BM25[model].encode(text).as_qdrant()
                if emb[k] != want:
                    return f"input {k} ({model}) is not its own bm25 vector"
            else:
                prefix, dim = remote
                want_dense = fake_vector(f"{prefix}|{text}", dim)
                if not np.allclose(emb[k], want_dense, atol=1e-7):
                    return f"input {k} ({model}) is not its own vector"
        return None

    return body, headers, check


def test_load_every_embedding_in_order_with_flat_memory(
    fake_process: FakeProvidersProcess, tmp_path: Path
) -> None:
    fake = fake_process
    config = write_config(tmp_path / "serve.toml", max_concurrent_requests=128)
    proc = ServeProcess(config, provider_env(fake)).start()
    try:
        _load(fake, proc)
    finally:
        proc.stop()
    assert fake.violations == []


def _load(fake: FakeProvidersProcess, proc: ServeProcess) -> None:
    url = proc.url + "/inference"
    warm = asyncio.run(run_load(url, 2_000, 64, _load_request))
    assert warm.failures == []
    base = proc.rss()
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(0.5):
            samples.append(proc.rss())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    n = 20_000
    result = asyncio.run(run_load(url, n, 64, lambda i: _load_request(i + 2_000)))
    stop.set()
    sampler.join(timeout=5)
    samples.append(proc.rss())
    assert result.failures == [], result.failures[:5]
    assert len(result.latencies) == n
    # every remote input reached its provider exactly once (warm-up included)
    remote = 0
    for i in range(n + 2_000):
        picks = [_MODELS[(i + k) % len(_MODELS)] for k in range(1 + i % 3)]
        remote += sum(1 for _, r in picks if r is not None)
    sent = 0
    for call in fake.calls():
        if call["provider"] in ("openai", "cohere", "jina"):
            sent += len(call["body"].get("input") or call["body"].get("texts") or [])
    assert sent == remote
    growth = max(samples) - base
    assert growth < 40 * 1024 * 1024, f"RSS grew by {growth / 1e6:.1f} MB over {n} requests"
    records = [line for line in proc.log if line.startswith("{")]
    assert len(records) == n + 2_000
