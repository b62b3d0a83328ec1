"""``[warmup]``: the models the operator lists are loaded in the background after start-up,
``/readyz`` answers 503 (with each model's state) until they all are and 200 after, ``/healthz``
answers all along; a model that cannot be loaded keeps the service unready and stops
``bm25x serve`` (exit status 1, naming it)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import require
from support.serve import ServeProcess, asgi_client, free_port

import bm25x
from bm25x import providers
from bm25x.app.serve import ConfigError, ServeConfig, create_app, load_config
from bm25x.app.serve.config import Alias
from bm25x.providers import EmbedRequest, Kind, Vector

require("uvicorn")


class _Slow:
    """A provider that takes ``delay`` seconds per batch, counting its batches."""

    name = "slow"
    max_batch = 8
    max_concurrency = 1
    local = True

    def __init__(self, delay: float, fail: bool = False) -> None:
        self.delay, self.fail, self.batches = delay, fail, 0

    def batch_limit(self, kind: Kind) -> int:
        return self.max_batch

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        await asyncio.sleep(self.delay)
        self.batches += 1
        if self.fail:
            raise bm25x.ModelNotAvailableError("the model's files are not here")
        return [np.ones(4, dtype=np.float32) for _ in request.items]


@pytest.fixture
def slow() -> Any:
    providers.list()
    saved = dict(providers._entries)
    yield providers
    providers._entries.clear()
    providers._entries.update(saved)


def test_readyz_waits_for_the_warmup_models(slow: Any) -> None:
    model = _Slow(0.5)
    slow.register("slow/", model)
    config = ServeConfig(
        allowed_models=("slow/*",),
        aliases={"warm": Alias("slow/b")},
        warmup=("slow/a", "warm"),
    )

    async def main() -> list[Any]:
        async with asgi_client(create_app(config)) as client:
            early = [await client.get("/readyz"), await client.get("/healthz")]
            for _ in range(100):
                await asyncio.sleep(0.05)
                late = await client.get("/readyz")
                if late.status_code == 200:
                    break
            return [*early, late]

    early, health, late = asyncio.run(main())
    assert early.status_code == 503 and health.status_code == 200
    assert early.json() == {
        "status": "not ready",
        "warmup": {"slow/a": "loading", "warm": "loading"},
    }
    assert late.status_code == 200
    assert late.json() == {"status": "ready", "warmup": {"slow/a": "ready", "warm": "ready"}}
    assert model.batches == 2


def test_a_model_that_fails_to_load_keeps_the_service_unready(slow: Any) -> None:
    slow.register("slow/", _Slow(0.0, fail=True))
    app = create_app(ServeConfig(allowed_models=("slow/*",), warmup=("slow/a",)))
    failures: list[Exception] = []
    app.service.on_failure = failures.append

    async def main() -> Any:
        async with asgi_client(app) as client:
            for _ in range(100):
                await asyncio.sleep(0.02)
                if failures:
                    break
            return await client.get("/readyz")

    ready = asyncio.run(main())
    assert ready.status_code == 503
    state = ready.json()["warmup"]["slow/a"]
    assert state.startswith("failed: ") and "files are not here" in state
    assert len(failures) == 1 and "slow/a" in str(failures[0])


def test_warmup_configuration(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    path.write_text('allowed_models = ["bm25"]\n[warmup]\nmodels = ["bm25", "BM25"]\n')
    assert load_config(path, env={}).warmup == ("bm25", "BM25")
    env = {"BM25X_SERVE_WARMUP": "bm25, qdrant/bm25"}
    assert load_config(path, env=env).warmup == ("bm25", "qdrant/bm25")
    path.write_text("[warmup]\nmodel = ['bm25']\n")
    with pytest.raises(ConfigError, match=r"unknown key.*warmup.*accepted: models"):
        load_config(path, env={})
    with pytest.raises(ConfigError, match=r"warmup\.models: 'openai/x' not allowed"):
        create_app(ServeConfig(allowed_models=("bm25",), warmup=("openai/x",)))


def test_bm25x_serve_stops_when_a_warmup_model_cannot_load(tmp_path: Path) -> None:
    require("fastembed")
    path = tmp_path / "serve.toml"
    model = "sentence-transformers/all-MiniLM-L6-v2"
    path.write_text(
        f'allowed_models = ["{model}"]\n[fastembed]\ncache_dir = "{tmp_path / "empty"}"\n'
        f'[warmup]\nmodels = ["{model}"]\n'
    )
    done = subprocess.run(
        [sys.executable, "-m", "bm25x", "serve", "--port", str(free_port()), "--config", str(path)],
        capture_output=True,
        text=True,
        timeout=120,
        env={"HF_HUB_OFFLINE": "1", "PATH": "/usr/bin:/bin", "PYTHONPATH": ":".join(sys.path)},
    )
    assert done.returncode == 1, done.stderr
    assert f"bm25x serve: error: warm-up of model {model!r} failed" in done.stderr


def test_a_real_fastembed_model_is_loaded_before_ready(minilm_dir: Path, tmp_path: Path) -> None:
    model = "sentence-transformers/all-MiniLM-L6-v2"
    path = tmp_path / "serve.toml"
    path.write_text(
        f'allowed_models = ["{model}"]\n'
        f'[fastembed.model_dirs]\n"{model}" = "{minilm_dir}"\n'
        f'[warmup]\nmodels = ["{model}"]\n'
    )
    proc = ServeProcess(path, {"HF_HUB_OFFLINE": "1"}).start(timeout=120)  # waits for /readyz
    try:
        import httpx

        ready = httpx.get(proc.url + "/readyz", timeout=10)
        assert ready.json() == {"status": "ready", "warmup": {model: "ready"}}
        log = [line for line in proc.log if '"event":"warmup"' in line]
        assert len(log) == 1 and model in log[0]
    finally:
        proc.stop()
