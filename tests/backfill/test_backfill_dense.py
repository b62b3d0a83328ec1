"""`bm25x backfill` with dense models: the vector is created with the model's size (Cosine),
providers take their keys from the environment or from headers, a provider outage stops the
run and the same command resumes it, and --verify checks dense vectors too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import require
from support.backfill import Where, docs, points_of, where
from support.provider_server import KEYS, Canned, FakeProviders, fake_vector, providers_pointed_at

import bm25x
from bm25x.app.cli import main

require("qdrant_client")
require("qdrant_edge")

from support.local_qdrant import LocalQdrant

from bm25x.app.backfill import backfill
from bm25x.providers.openai import OpenAIProvider

MODEL = "openai/text-embedding-3-small"
SIZE = 64  # the fake OpenAI's default size


@pytest.fixture(scope="module")
def provider_server() -> Iterator[FakeProviders]:
    fake = FakeProviders()
    yield fake
    fake.close()


@pytest.fixture
def fake(provider_server: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    provider_server.reset()
    openai = OpenAIProvider(backoff_base=0.01, backoff_max=0.05)
    with providers_pointed_at(provider_server, monkeypatch, {"openai/": openai}):
        yield provider_server


@pytest.fixture
def server() -> Iterator[LocalQdrant]:
    stand_in = LocalQdrant()
    yield stand_in
    stand_in.close()


@pytest.fixture(params=["edge", "server"])
def coll(request: pytest.FixtureRequest, tmp_path: Path, server: LocalQdrant) -> Where:
    return where(request.param, tmp_path, server)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def expected(text: str) -> np.ndarray:
    v = np.asarray(fake_vector(f"text-embedding-3-small|{text}", SIZE), np.float32)
    return v / np.linalg.norm(v)


def test_a_provider_model_fills_a_new_dense_vector(
    coll: Where, fake: Any, capsys: Any, monkeypatch: Any
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai"])
    corpus = docs()
    coll.create(points_of(corpus))
    argv = ["backfill", *coll.argv, "--vector", "oa", "--from-field", "text", "--model", MODEL]
    status, out, err = run(capsys, *argv, "--verify", "10", "--json", "--page-size", "30")
    assert status == 0, err
    assert json.loads(out)["written"] == 92 and json.loads(out)["created"]
    assert "verified 10 random points: all equal a fresh encoding" in err
    record = coll.metadata()["bm25x_vector:oa"]
    assert (record["kind"], record["size"], record["flavor"]) == ("dense", SIZE, None)
    for p in coll.snapshot().values():
        text = json.loads(p["payload"])["text"]
        stored = np.frombuffer(p["vectors"]["oa"][0], np.float32)
        assert np.allclose(stored, expected(text), atol=1e-6)

    status, out, err = run(capsys, "search", *coll.argv, "--vector", "oa", "--json", corpus[7].text)
    assert status == 0, err
    assert json.loads(out)[0]["hits"][0]["id"] == corpus[7].id  # the same text: the same vector


def test_a_provider_key_from_a_header_and_none_at_all(
    tmp_path: Path, fake: Any, capsys: Any
) -> None:
    coll = where("edge", tmp_path)
    coll.create(points_of(docs()[:12]))
    before = coll.snapshot()
    argv = ["backfill", *coll.argv, "--vector", "oa", "--from-field", "text", "--model", MODEL]
    status, _, err = run(capsys, *argv)
    assert status == 1 and "OPENAI_API_KEY" in err
    assert coll.snapshot() == before and '"oa"' not in (coll.path / "edge_config.json").read_text()
    status, _, err = run(capsys, *argv, "-H", f"openai-api-key={KEYS['openai']}")
    assert status == 0, err
    assert KEYS["openai"] not in json.dumps(coll.metadata())  # headers are never recorded


def test_a_provider_outage_stops_the_run_and_the_same_call_resumes(
    coll: Where, fake: FakeProviders, monkeypatch: Any
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai"])
    corpus = docs()
    coll.create(points_of(corpus))
    # The size probe and two pages answered, then the provider is down (503 on every try).
    fake.script("openai", *[Canned(passthrough=True)] * 3, *[Canned(status=503)] * 30)
    kwargs: dict[str, Any] = {
        "vector": "oa",
        "from_field": "text",
        "model": MODEL,
        "page_size": 20,
        "workers": 1,
        "checkpoint_seconds": 0,
        "quiet": True,
        **coll.target,
    }
    with pytest.raises(bm25x.InferenceError):
        backfill(**kwargs)
    fake.reset()  # the provider is back
    written = [p for p in coll.snapshot().values() if "oa" in p["vectors"]]
    assert len(written) == 40
    report = backfill(**kwargs)
    assert report.resumed and report.read == 52 and report.totals["written"] == 92
    for p in coll.snapshot().values():
        text = json.loads(p["payload"])["text"]
        assert np.allclose(
            np.frombuffer(p["vectors"]["oa"][0], np.float32), expected(text), atol=1e-6
        )


def test_a_local_fastembed_model(tmp_path: Path, minilm_dir: Path, capsys: Any) -> None:
    coll = where("edge", tmp_path)
    corpus = [d for d in docs() if "Amendment V" in d.text][:8]
    coll.create(points_of(corpus))
    model = "sentence-transformers/all-MiniLM-L6-v2"
    argv = ["backfill", *coll.argv, "--vector", "minilm", "--from-field", "text", "--model", model]
    argv += ["-O", f"specific_model_path={minilm_dir}", "-O", f"cache_dir={tmp_path / 'cache'}"]
    status, _, err = run(capsys, *argv, "--verify", "3")
    assert status == 0, err
    assert "verified 3 random points: all equal a fresh encoding" in err
    assert coll.metadata()["bm25x_vector:minilm"]["size"] == 384
    status, out, _ = run(
        capsys, "search", *coll.argv, "--vector", "minilm", "--json", "trial by jury"
    )
    assert status == 0
    top = json.loads(out)[0]["hits"][0]["text"].lower()
    assert "jury" in top or "trial" in top
