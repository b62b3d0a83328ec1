"""``bm25x serve --workers 2``: two processes behind one port, whose metrics add up (whichever
worker answers ``/metrics``), which both answer requests, and which SIGTERM drains as one: the
request in flight finishes and the service exits 0."""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from support import require
from support.provider_server import KEYS, Canned, FakeProviders
from support.serve import (
    ServeProcess,
    free_port,
    qdrant_body,
    qdrant_input,
    run_load,
    terminate_during_request,
)

import bm25x

require("uvicorn")
require("psutil")


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeProviders]:
    server = FakeProviders()
    yield server
    server.close()


def start(tmp_path: Path, fake: FakeProviders) -> ServeProcess:
    config = tmp_path / "serve.toml"
    config.write_text(
        'allowed_models = ["bm25", "openai/*"]\n'
        f'[keys]\nopenai-api-key = "{KEYS["openai"]}"\n'
        "[limits]\nrequest_timeout = 30\n"
    )
    env = {"OPENAI_BASE_URL": fake.url("openai"), "OPENAI_API_KEY": ""}
    return ServeProcess(config, env, args=("--workers", "2")).start(timeout=60)


def metric(text: str, line: str) -> float:
    found = re.search(rf"^{re.escape(line)} (\S+)$", text, re.MULTILINE)
    assert found, f"no {line} in /metrics"
    return float(found.group(1))


def test_two_workers_answer_and_their_metrics_add_up(tmp_path: Path, fake: FakeProviders) -> None:
    proc = start(tmp_path, fake)
    try:
        encoder = bm25x.Bm25()

        def request(i: int) -> tuple[dict, dict[str, str], Any]:
            text = f"document {i} about cookies"
            want = encoder.encode(text).as_qdrant()
            body = qdrant_body([qdrant_input(text, "bm25"), qdrant_input(text, "bm25")])
            return body, {}, lambda a: None if a["embeddings"] == [want, want] else "wrong"

        # The kernel hands each new connection to whichever worker accepts first: rounds of
        # fresh connections until both workers have answered (almost always the first).
        sent, pids = 0, set()
        for _ in range(30):
            result = asyncio.run(run_load(proc.url + "/inference", 200, 32, request))
            assert result.failures == []
            sent += 200
            log = [json.loads(x) for x in proc.log if x.startswith('{"event":"inference"')]
            pids = {record["pid"] for record in log}
            if len(pids) == 2:
                break
        assert len(pids) == 2  # both workers answered
        for _ in range(3):  # each time from whichever worker takes the connection
            text = httpx.get(proc.url + "/metrics", timeout=10).text
            assert metric(text, 'bm25x_serve_requests_total{status="200"}') == sent
            assert (
                metric(text, 'bm25x_serve_inputs_total{model="bm25",provider="bm25"}') == 2 * sent
            )
            assert metric(text, 'bm25x_serve_request_seconds_count{inference="update"}') == sent
            assert metric(text, "bm25x_serve_in_flight_requests") == 0
    finally:
        proc.stop()
    # stopping the service stops its workers too (none is left running after the test)
    import psutil

    alive = psutil.wait_procs(_processes(pids), timeout=10)[1]
    assert [p.pid for p in alive] == []


def _processes(pids: set[int]) -> list[Any]:
    import psutil

    found = []
    for pid in pids:
        with contextlib.suppress(psutil.NoSuchProcess):
            found.append(psutil.Process(pid))
    return found


def test_sigterm_drains_every_worker(tmp_path: Path, fake: FakeProviders) -> None:
    fake.reset()
    proc = start(tmp_path, fake)
    fake.script("openai", Canned(delay=2.0, passthrough=True))
    body = qdrant_body([qdrant_input("drained", "openai/text-embedding-3-small")])
    assert terminate_during_request(proc, fake, body).status_code == 200
    with pytest.raises(httpx.TransportError):
        httpx.get(proc.url + "/healthz", timeout=2)


def test_a_failing_warmup_model_stops_every_worker(tmp_path: Path) -> None:
    require("fastembed")
    model = "sentence-transformers/all-MiniLM-L6-v2"
    path = tmp_path / "serve.toml"
    path.write_text(
        f'allowed_models = ["{model}"]\n[fastembed]\ncache_dir = "{tmp_path / "empty"}"\n'
        f'[warmup]\nmodels = ["{model}"]\n'
    )
    command = [sys.executable, "-m", "bm25x", "serve", "--port", str(free_port())]
    done = subprocess.run(
        [*command, "--config", str(path), "--workers", "2"],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
    )
    assert done.returncode == 1, done.stderr
    assert f"bm25x serve: error: warm-up of model {model!r} failed" in done.stderr
