"""``bm25x serve`` in process (httpx over ASGI): requests shaped exactly as Qdrant sends them,
answers as Qdrant reads them, every error path's status and body, provider faults mapped within
the time budget, and no key, token or input text in any answer or log line."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import pytest
from support import require
from support.provider_server import (
    KEY_HEADERS,
    KEYS,
    PNG,
    Canned,
    FakeProviders,
    fake_vector,
    providers_pointed_at,
)
from support.serve import asgi_client, qdrant_body, qdrant_input

import bm25x
from bm25x import providers
from bm25x.app.serve import ServeConfig, create_app
from bm25x.app.serve.config import Alias, FastembedConfig, Limits
from bm25x.providers import Call, EmbedRequest, FetchPolicy, Item, Kind, Vector
from bm25x.providers.cohere import CohereProvider
from bm25x.providers.jina import JinaProvider
from bm25x.providers.local_models import LocalModelProvider
from bm25x.providers.openai import OpenAIProvider
from bm25x.providers.openrouter import OpenRouterProvider

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}
TOKEN = "svc-token-5f2e9a7c1d"
SECRET_TEXT = "the confidential sentence 8d1f"
ALL_KEYS = KEY_HEADERS


@pytest.fixture
def fake(server: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    """Every provider pointed at the local stand-ins, no keys in the environment, fast
    backoff; the registry restored afterwards."""
    server.reset()
    # Fresh instances with fast backoff, so retry tests take milliseconds.
    registered = {
        "openai/": OpenAIProvider(**FAST),
        "openrouter/": OpenRouterProvider(**FAST),
        "cohere/": CohereProvider(**FAST),
        "jinaai/": JinaProvider(**FAST),
    }
    with providers_pointed_at(server, monkeypatch, registered):
        yield server


def post(
    config: ServeConfig,
    bodies: Sequence[Any],
    headers: Mapping[str, str] | None = None,
    path: str = "/inference",
) -> list[Any]:
    """POST each body (a dict as JSON, or raw bytes) to a fresh app; the httpx responses."""

    async def main() -> list[Any]:
        async with asgi_client(create_app(config)) as client:
            out = []
            for body in bodies:
                if isinstance(body, bytes):
                    r = await client.post(path, content=body, headers=dict(headers or {}))
                else:
                    r = await client.post(path, json=body, headers=dict(headers or {}))
                out.append(r)
            return out

    return asyncio.run(main())


def one(config: ServeConfig, body: Any, headers: Mapping[str, str] | None = None) -> Any:
    return post(config, [body], headers)[0]


def dense(value: Any) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)


# -- the protocol ---------------------------------------------------------------------------


def test_mixed_models_in_one_update_request_answer_in_input_order(fake: FakeProviders) -> None:
    texts = ["first doc", "second doc", "Recipe for baking cookies"]
    inputs = [
        qdrant_input(texts[0], "openai/text-embedding-3-small"),
        qdrant_input(texts[1], "cohere/embed-v4.0", options={"output_dimension": 256}),
        qdrant_input(texts[2], "qdrant/bm25", options={"k": 1.5}),
        qdrant_input(texts[0], "jinaai/jina-embeddings-v3"),
        qdrant_input(texts[1], "openrouter/mistral/mistral-embed"),
        qdrant_input(texts[2], "Qdrant/bm25"),
        qdrant_input(texts[0], "openai/text-embedding-3-small"),  # a duplicate
    ]
    r = one(ServeConfig(), qdrant_body(inputs), ALL_KEYS)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    answer = r.json()
    assert set(answer) == {"embeddings", "usage"}
    # usage as Qdrant reads it: the providers' own counts (the stand-ins count words, Cohere
    # and Jina inputs), bm25's kept terms; the duplicate was embedded, and counted, once
    assert answer["usage"] == {
        "models": {
            "openai/text-embedding-3-small": {"tokens": 2},
            "cohere/embed-v4.0": {"tokens": 1},
            "qdrant/bm25": {"tokens": len(bm25x.Bm25(k=1.5).terms(texts[2]))},
            "jinaai/jina-embeddings-v3": {"tokens": 1},
            "openrouter/mistral/mistral-embed": {"tokens": 2},
            "Qdrant/bm25": {"tokens": len(bm25x.Bm25(flavor="fastembed").terms(texts[2]))},
        }
    }
    emb = answer["embeddings"]
    assert len(emb) == len(inputs)
    assert np.array_equal(
        dense(emb[0]), dense(fake_vector(f"text-embedding-3-small|{texts[0]}", 64))
    )
    cohere = fake_vector(f"embed-v4.0|search_document|{texts[1]}", 256)
    assert np.array_equal(dense(emb[1]), dense(cohere))
    server_bm25 = bm25x.Bm25(k=1.5).encode(texts[2])
    assert emb[2] == server_bm25.as_qdrant()
    jina = fake_vector(f"jina-embeddings-v3|retrieval.passage|{texts[0]}", 32)
    assert np.array_equal(dense(emb[3]), dense(jina))
    assert np.array_equal(
        dense(emb[4]), dense(fake_vector(f"mistral/mistral-embed|{texts[1]}", 48))
    )
    assert emb[5] == bm25x.Bm25(flavor="fastembed").encode(texts[2]).as_qdrant()
    assert emb[6] == emb[0]
    # the duplicate was embedded once; each provider saw the key forwarded in its header
    assert [c["body"]["input"] for c in fake.calls("openai")] == [[texts[0]]]
    for provider in ("openai", "cohere", "jina", "openrouter"):
        (call,) = fake.calls(provider)
        assert call["headers"]["authorization"] == f"Bearer {KEYS[provider]}"


def test_search_requests_are_query_encoded(fake: FakeProviders) -> None:
    q = "how to bake cookies"
    inputs = [
        qdrant_input(q, "cohere/embed-v4.0"),
        qdrant_input(q, "jinaai/jina-embeddings-v3"),
        qdrant_input(q, "bm25"),
    ]
    r = one(ServeConfig(), qdrant_body(inputs, inference="search"), ALL_KEYS)
    assert r.status_code == 200
    emb = r.json()["embeddings"]
    assert np.array_equal(dense(emb[0]), dense(fake_vector(f"embed-v4.0|search_query|{q}", 40)))
    jina = fake_vector(f"jina-embeddings-v3|retrieval.query|{q}", 32)
    assert np.array_equal(dense(emb[1]), dense(jina))
    assert emb[2] == bm25x.Bm25().encode_query(q).as_qdrant()
    assert fake.calls("cohere")[0]["body"]["input_type"] == "search_query"


def test_inference_null_means_update(fake: FakeProviders) -> None:
    body = qdrant_body([qdrant_input("Cookies baking", "bm25")])
    body["inference"] = None
    r = one(ServeConfig(), body)
    assert r.json()["embeddings"] == [bm25x.Bm25().encode("Cookies baking").as_qdrant()]


def test_images_as_url_and_base64(fake: FakeProviders) -> None:
    b64 = base64.b64encode(PNG).decode()
    url = fake.url("images") + "/tiny.png"
    inputs = [
        qdrant_input(url, "jinaai/jina-clip-v2", "image"),
        qdrant_input(b64, "jinaai/jina-clip-v2", "image"),
        qdrant_input(url, "cohere/embed-v4.0", "image"),  # fetched by the service
        qdrant_input(f"data:image/png;base64,{b64}", "cohere/embed-v4.0", "image"),
    ]
    # The stand-in serves images on loopback, which the image guard refuses unless allowed.
    config = ServeConfig(images=FetchPolicy(allow_private=True))
    r = one(config, qdrant_body(inputs), ALL_KEYS)
    assert r.status_code == 200, r.text
    emb = r.json()["embeddings"]
    assert np.array_equal(
        dense(emb[0]), dense(fake_vector(f"jina-clip-v2|retrieval.passage|image:{url}", 32))
    )
    assert np.array_equal(
        dense(emb[1]), dense(fake_vector(f"jina-clip-v2|retrieval.passage|image:{b64}", 32))
    )
    assert emb[2] == emb[3]  # the same PNG, fetched or inline


def test_object_inputs_reach_the_provider_and_text_models_refuse_them(
    fake: FakeProviders,
) -> None:
    r = one(
        ServeConfig(),
        qdrant_body(
            [qdrant_input({"any": ["json", 1]}, "openai/text-embedding-3-small", "object")]
        ),
        ALL_KEYS,
    )
    assert r.status_code == 400
    assert "embeds text only, got an object" in r.json()["error"]


class _MultiVector:
    """A provider answering multi-vectors (late interaction) and echoing objects' sizes."""

    name = "multi"
    max_batch = 8
    max_concurrency = 1

    def batch_limit(self, kind: Kind) -> int:
        return self.max_batch

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        out: list[Vector] = []
        for item in request.items:
            n = len(json.dumps(item.value))
            out.append([np.full(2, n, dtype=np.float32), np.full(2, -n, dtype=np.float32)])
        return out


def test_multivectors_and_objects(fake: FakeProviders) -> None:
    providers.register("multi/", _MultiVector())
    obj = {"a": [1, 2, 3]}
    r = one(ServeConfig(), qdrant_body([qdrant_input(obj, "multi/colbert", "object")]))
    n = float(len(json.dumps(obj)))
    assert r.json()["embeddings"] == [[[n, n], [-n, -n]]]


def test_token_present_absent_and_wrong(fake: FakeProviders) -> None:
    config = ServeConfig(token=TOKEN)
    good = qdrant_body([qdrant_input("cookies", "bm25")], token=TOKEN)
    absent = qdrant_body([qdrant_input("cookies", "bm25")])
    wrong = qdrant_body([qdrant_input("cookies", "bm25")], token=TOKEN[:-1] + "x")
    ok, no, bad = post(config, [good, absent, wrong])
    assert ok.status_code == 200
    assert no.status_code == 401 and "needs a token" in no.json()["error"]
    assert bad.status_code == 401 and "does not match" in bad.json()["error"]
    assert TOKEN not in no.text + bad.text
    # no token configured: any token (Qdrant's JWT subject) is accepted
    assert one(ServeConfig(), wrong).status_code == 200


def test_a_lone_surrogate_is_a_400_before_the_token_check(
    fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    # JSON's "\ud800" decodes to a lone surrogate, which UTF-8 cannot encode; I-JSON (RFC 7493)
    # forbids it, Qdrant (writing Rust strings) never sends it, and the body's screen, which
    # reads the token without building the rest, refuses it wherever it is.
    for where in ("token", "text"):
        body = qdrant_body([qdrant_input("cookies", "bm25")], token=TOKEN)
        if where == "token":
            body["token"] = "\ud800"
        else:
            body["inputs"][0]["data"] = "a\ud800b"
        raw = json.dumps(body).encode()
        assert b"\\ud800" in raw  # the escape, as serde_json would write it
        for config in (ServeConfig(token=TOKEN), ServeConfig()):
            with caplog.at_level(logging.INFO, logger="bm25x.serve"):
                r = one(config, raw)
            assert r.status_code == 400 and "not valid JSON" in r.json()["error"], where
    assert "Traceback" not in caplog.text and "internal error" not in caplog.text


def test_operator_keys_and_forwarded_headers(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = qdrant_body([qdrant_input("hello", "openai/text-embedding-3-small")])
    every = ("*",)  # with operator keys, the allow-list must be explicit
    operator = ServeConfig(
        keys={"openai-api-key": bm25x.errors.Secret(KEYS["openai"])}, allowed_models=every
    )
    assert one(operator, body).status_code == 200
    # a forwarded header wins over the operator's key: a wrong header fails...
    r = one(operator, body, {"openai-api-key": "sk-wrong-forwarded-123"})
    assert r.status_code == 401 and "sk-wrong-forwarded-123" not in r.text
    # ...and a right header works over a wrong operator key
    wrong_operator = ServeConfig(
        keys={"openai-api-key": bm25x.errors.Secret("sk-op-wrong-9")}, allowed_models=every
    )
    assert one(wrong_operator, body, {"openai-api-key": KEYS["openai"]}).status_code == 200
    # the provider's usual environment variable works too
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai"])
    assert one(ServeConfig(allowed_models=every), body).status_code == 200
    # Qdrant's own api-key header (no leading dash) is never forwarded as a provider key
    monkeypatch.delenv("OPENAI_API_KEY")
    assert one(ServeConfig(), body, {"api-key": KEYS["openai"]}).status_code == 401


def test_aliases_and_default_options(fake: FakeProviders) -> None:
    config = ServeConfig(
        allowed_models=("openai/*",),
        aliases={"small": Alias("openai/text-embedding-3-small", {"dimensions": 16})},
        defaults={"openai/*": {"dimensions": 24}},
    )
    inputs = [
        qdrant_input("a", "small"),
        qdrant_input("a", "SMALL", options={"dimensions": 8}),
        qdrant_input("a", "openai/text-embedding-3-small"),
    ]
    r = one(config, qdrant_body(inputs), ALL_KEYS)
    assert [len(e) for e in r.json()["embeddings"]] == [16, 8, 24]


def test_a_named_bm25_preset_gives_qdrant_bm25_with_its_options(fake: FakeProviders) -> None:
    # Qdrant computes only qdrant/bm25 and bm25 itself and forwards every other name: ingest
    # and queries naming "bm25x/de" get the same options, which cannot drift apart.
    config = ServeConfig(
        allowed_models=("qdrant/bm25",),
        aliases={"bm25x/de": Alias("qdrant/bm25", {"language": "german", "k": 1.5})},
    )
    text = "Die Katzen spielten mit den Mäusen im Garten"
    encoder = bm25x.Bm25(language="german", k=1.5)
    for inference in ("update", "search"):
        preset = qdrant_input(text, "bm25x/de")
        spelled = qdrant_input(text, "qdrant/bm25", options={"language": "german", "k": 1.5})
        body = qdrant_body([preset, spelled], inference=inference)
        got = one(config, body).json()["embeddings"]
        want = encoder.encode_query(text) if inference == "search" else encoder.encode(text)
        assert got[0] == got[1] == want.as_qdrant()
        assert got[0] != bm25x.Bm25().encode(text).as_qdrant()  # the options did apply
    # a request's own options go over the preset's
    body = qdrant_body([qdrant_input(text, "bm25x/de", options={"k": 0.9})])
    got = one(config, body).json()["embeddings"][0]
    assert got == bm25x.Bm25(language="german", k=0.9).encode(text).as_qdrant()


def test_usage_is_counted_per_model_as_the_request_names_it(fake: FakeProviders) -> None:
    config = ServeConfig(
        allowed_models=("openai/*", "bm25"),
        aliases={"small": Alias("openai/text-embedding-3-small", {"dimensions": 16})},
    )
    inputs = [
        qdrant_input("three word text", "small"),
        qdrant_input("two words", "openai/text-embedding-3-small"),
        qdrant_input("baking the cookies", "bm25"),
    ]

    async def main() -> tuple[Any, str]:
        async with asgi_client(create_app(config)) as client:
            r = await client.post("/inference", json=qdrant_body(inputs), headers=ALL_KEYS)
            return r, (await client.get("/metrics")).text

    r, metrics = asyncio.run(main())
    assert r.json()["usage"] == {
        "models": {
            "small": {"tokens": 3},  # the alias, as the caller named it
            "openai/text-embedding-3-small": {"tokens": 2},
            "bm25": {"tokens": 2},  # bake, cooki: the terms bm25 kept
        }
    }
    assert 'bm25x_serve_tokens_total{model="bm25",provider="bm25"} 2.0' in metrics
    assert (
        'bm25x_serve_tokens_total{model="openai/text-embedding-3-small",provider="openai"} 5.0'
        in metrics
    )


def test_usage_is_null_when_no_provider_counts(fake: FakeProviders) -> None:
    answer = {"object": "list", "data": [{"index": 0, "embedding": [0.5] * 8}], "model": "m"}
    fake.script("openai", Canned(body=json.dumps(answer).encode()))
    body = qdrant_body([qdrant_input("x", "openai/m")])
    assert one(ServeConfig(), body, ALL_KEYS).json() == {"embeddings": [[0.5] * 8], "usage": None}


def test_mrl_cuts_dense_vectors(fake: FakeProviders) -> None:
    inputs = [
        qdrant_input("a", "openai/text-embedding-3-small", options={"mrl": 10}),
        qdrant_input("a", "openai/text-embedding-3-small"),
    ]
    emb = one(ServeConfig(), qdrant_body(inputs), ALL_KEYS).json()["embeddings"]
    assert emb[0] == emb[1][:10]


# -- errors: status and body ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b"{not json", 400, "not valid JSON"),
        (b"[1, 2]", 400, "must be a JSON object"),
        ({"inference": "update"}, 400, "'inputs' must be a list"),
        (qdrant_body([], inference="delete"), 400, "'inference' must be 'update' or 'search'"),
        (qdrant_body([qdrant_input("x", "bm25", "audio")]), 400, "data_type must be one of"),
        (qdrant_body([qdrant_input(5, "bm25")]), 400, "inputs[0].data must be the text"),
        (qdrant_body([qdrant_input({"u": 1}, "x/clip", "image")]), 400, "URL or base64"),
        (qdrant_body([qdrant_input("x", "")]), 400, "model must be a non-empty string"),
        (qdrant_body([qdrant_input("x", "bm25", options=[1])]), 400, "options must be an object"),
        (qdrant_body([qdrant_input("x", "acme/none")]), 400, "no provider serves model"),
        (qdrant_body([qdrant_input("x", "bm25", options={"k": "high"})]), 400, "bad options"),
        (
            qdrant_body([qdrant_input("x", "bm25", options={"cache_dir": "/etc"})]),
            400,
            "set by the service's operator",
        ),
        (
            qdrant_body([qdrant_input("x", "bm25", options={"threads": 1024})]),
            400,
            "option(s) threads are set by the service's operator",
        ),
        (
            qdrant_body([qdrant_input("x", "BAAI/bge-small-en-v1.5", options={"threads": 64})]),
            400,
            "option(s) threads are set by the service's operator",
        ),
        (
            qdrant_body([qdrant_input("x", "BAAI/bge-small-en-v1.5", options={"device_id": 1})]),
            400,
            "option(s) device_id are set by the service's operator",
        ),
        (
            qdrant_body([qdrant_input("x", "openai/text-embedding-3-small", options={"mrl": 999})]),
            400,
            "larger than the model's 64 dimensions",
        ),
        (qdrant_body([qdrant_input("x", "cohere/embed-v4.0")]), 401, "needs an API key"),
    ],
)
def test_error_statuses_and_bodies(
    fake: FakeProviders, body: Any, status: int, message: str
) -> None:
    headers = {} if status == 401 else {"openai-api-key": KEYS["openai"]}
    r = one(ServeConfig(), body, headers)
    assert r.status_code == status
    assert r.headers["content-type"] == "application/json"
    error = r.json()
    assert set(error) == {"error"} and message in error["error"], error


# fastembed constructor options about the vectors a model makes, which a request may set; every
# other one (devices, threads, files, how the model loads) is the operator's.
_VECTOR_OPTIONS = {
    "alpha",
    "avg_len",
    "b",
    "disable_stemmer",
    "k",
    "language",
    "stemmer",
    "stopwords",
    "task_id",
    "token_max_length",
}


def test_every_fastembed_loading_option_is_the_operators() -> None:
    # device_id (singular) reached model loading from a request while device_ids did not. The
    # options are read from fastembed's classes, so one fastembed adds later is decided here.
    fastembed = require("fastembed")
    from bm25x.app.serve.models import OPERATOR_OPTIONS
    from bm25x.providers.local_models import _KINDS

    provider = LocalModelProvider()
    accepted: set[str] = set()
    for _, name in _KINDS:
        cls = getattr(fastembed, name, None)
        if cls is not None:
            accepted |= provider.accepted_options(cls)
    assert "device_id" in accepted and "device_id" in OPERATOR_OPTIONS
    assert sorted(accepted - OPERATOR_OPTIONS - _VECTOR_OPTIONS) == []


def test_the_operator_sets_threads(fake: FakeProviders) -> None:
    config = ServeConfig(defaults={"qdrant/bm25": {"threads": 1}})
    r = one(config, qdrant_body([qdrant_input("Cookies baking", "qdrant/bm25")]))
    assert r.json()["embeddings"] == [bm25x.Bm25(threads=1).encode("Cookies baking").as_qdrant()]


def test_disallowed_model(fake: FakeProviders) -> None:
    config = ServeConfig(allowed_models=("qdrant/bm25", "openai/text-embedding-3-small"))
    r = one(config, qdrant_body([qdrant_input("x", "openai/text-embedding-3-large")]), ALL_KEYS)
    assert r.status_code == 400 and "is not allowed on this service" in r.json()["error"]
    assert fake.calls("openai") == []
    ok = one(config, qdrant_body([qdrant_input("x", "QDRANT/BM25")]))
    assert ok.status_code == 200


def test_size_limits(fake: FakeProviders) -> None:
    config = ServeConfig(limits=Limits(max_body_bytes=2000, max_inputs=3))
    many = qdrant_body([qdrant_input(f"t{i}", "bm25") for i in range(4)])
    big = qdrant_body([qdrant_input("x" * 3000, "bm25")])
    r_many, r_big = post(config, [many, big])
    assert r_many.status_code == 413 and "limit of 3 per request" in r_many.json()["error"]
    assert r_big.status_code == 413 and "max_body_bytes" in r_big.json()["error"]


def test_a_10000_input_request_is_split_into_provider_batches_and_answered_in_order(
    fake: FakeProviders,
) -> None:
    # Qdrant sends every input of an API call in one POST. Each provider gets batches within
    # its limit (OpenAI 2,048 texts, Cohere 96), at most provider_concurrency at once each.
    n = 10_000
    config = ServeConfig(limits=Limits(max_inputs=n, provider_concurrency=4))
    models = ["openai/text-embedding-3-small", "cohere/embed-v4.0", "bm25"]
    inputs = [qdrant_input(f"document {i}", models[i % 3]) for i in range(n)]
    r = one(config, qdrant_body(inputs), ALL_KEYS)
    assert r.status_code == 200
    emb = r.json()["embeddings"]
    assert len(emb) == n
    encoder = bm25x.Bm25()
    for i in range(0, n, 7):  # every 7th: all three models, spread over the batches
        text = f"document {i}"
        if i % 3 == 0:
            want = dense(fake_vector(f"text-embedding-3-small|{text}", 64))
            assert np.array_equal(dense(emb[i]), want), i
        elif i % 3 == 1:
            want = dense(fake_vector(f"embed-v4.0|search_document|{text}", 40))
            assert np.array_equal(dense(emb[i]), want), i
        else:
            assert emb[i] == encoder.encode(text).as_qdrant(), i
    openai_batches = [c["body"]["input"] for c in fake.calls("openai")]
    cohere_batches = [c["body"]["texts"] for c in fake.calls("cohere")]
    assert sorted(map(len, openai_batches)) == [1286, 2048]
    assert len(cohere_batches) == 35 and max(map(len, cohere_batches)) == 96
    assert sum(map(len, cohere_batches)) == 3333
    assert fake.max_in_flight <= 2 * 4
    # one more than the configured limit: 413, naming it
    over = one(config, qdrant_body([*inputs, qdrant_input("x", "bm25")]), ALL_KEYS)
    assert over.status_code == 413
    assert "10001 inputs" in over.json()["error"] and "limits.max_inputs" in over.json()["error"]


def test_concurrency_limit_answers_429_with_retry_after(fake: FakeProviders) -> None:
    fake.script("openai", Canned(delay=1.0, passthrough=True))
    config = ServeConfig(limits=Limits(max_concurrent_requests=1, retry_after=3))
    body = qdrant_body([qdrant_input("slow", "openai/text-embedding-3-small")])

    async def main() -> list[Any]:
        async with asgi_client(create_app(config)) as client:
            first = asyncio.ensure_future(client.post("/inference", json=body, headers=ALL_KEYS))
            await asyncio.sleep(0.3)
            second = await client.post("/inference", json=body, headers=ALL_KEYS)
            return [await first, second]

    first, second = asyncio.run(main())
    assert first.status_code == 200
    assert second.status_code == 429 and second.headers["retry-after"] == "3"
    assert "limits.max_concurrent_requests" in second.json()["error"]


def test_a_dripping_body_is_a_408_and_frees_its_slot(fake: FakeProviders) -> None:
    config = ServeConfig(limits=Limits(max_concurrent_requests=1, body_timeout=0.3))
    sent: list[bytes] = []

    async def drip() -> Any:
        for piece in (b'{"inputs": [', b"{", b'"data"', b": ", b'"x"', b"}]}") * 20:
            sent.append(piece)
            yield piece
            await asyncio.sleep(0.1)

    async def main() -> list[Any]:
        async with asgi_client(create_app(config)) as client:
            slow = await client.post("/inference", content=drip())
            after = await client.post(
                "/inference", json=qdrant_body([qdrant_input("cookies", "bm25")])
            )
            return [slow, after]

    slow, after = asyncio.run(main())
    assert slow.status_code == 408 and "limits.body_timeout" in slow.json()["error"]
    assert len(sent) < 20  # answered long before the body's end
    assert after.status_code == 200  # the one slot was given back


def test_provider_errors_are_mapped(fake: FakeProviders) -> None:
    body = qdrant_body([qdrant_input("x", "openai/text-embedding-3-small")])

    def err(status: int, **headers: str) -> Canned:
        payload = {"error": {"message": f"upstream said {status}", "type": "x"}}
        return Canned(status=status, body=json.dumps(payload).encode(), headers=headers)

    fake.script("openai", err(403))
    assert one(ServeConfig(), body, ALL_KEYS).status_code == 403
    fake.script("openai", err(400))
    r = one(ServeConfig(), body, ALL_KEYS)
    assert r.status_code == 400 and "upstream said 400" in r.json()["error"]
    fake.script("openai", *[err(500)] * 6)
    assert one(ServeConfig(), body, ALL_KEYS).status_code == 503


# -- faults: mapped within the time budget, never a hang -----------------------------------


def test_stall_past_the_timeout_is_a_504_within_budget(fake: FakeProviders) -> None:
    fake.script("openai", Canned(delay=3.0, passthrough=True))
    config = ServeConfig(limits=Limits(request_timeout=0.5))
    t0 = time.monotonic()
    r = one(config, qdrant_body([qdrant_input("x", "openai/text-embedding-3-small")]), ALL_KEYS)
    assert r.status_code == 504 and "did not finish within 0.5 s" in r.json()["error"]
    assert time.monotonic() - t0 < 2.5  # answered before the stand-in did


def test_rate_limit_outliving_retries_is_a_429_with_retry_after(fake: FakeProviders) -> None:
    limited = Canned(status=429, body=b'{"error": {"message": "slow down"}}')
    limited.headers = {"Retry-After": "0"}
    fake.script("openai", *[limited] * 6)
    body = qdrant_body([qdrant_input("x", "openai/text-embedding-3-small")])
    r = one(ServeConfig(limits=Limits(retry_after=2)), body, ALL_KEYS)
    assert r.status_code == 429 and r.headers["retry-after"] == "2"
    assert "slow down" in r.json()["error"]
    assert len(fake.calls("openai")) == 6  # the library retried 5 times, then gave up


def test_a_providers_retry_after_reaches_the_caller(fake: FakeProviders) -> None:
    # More than the library waits (retry_after_max, 60 s): it gives up at once, and the
    # service's 429 carries the provider's delay, not its own configured one.
    limited = Canned(status=429, body=b'{"error": {"message": "slow down"}}')
    limited.headers = {"Retry-After": "120"}
    fake.script("openai", limited)
    body = qdrant_body([qdrant_input("x", "openai/text-embedding-3-small")])
    r = one(ServeConfig(limits=Limits(retry_after=2)), body, ALL_KEYS)
    assert r.status_code == 429 and r.headers["retry-after"] == "120"
    assert len(fake.calls("openai")) == 1


def test_malformed_provider_json_is_a_502(fake: FakeProviders) -> None:
    fake.script("openai", Canned(status=200, body=b"{this is not json"))
    body = qdrant_body([qdrant_input("x", "openai/text-embedding-3-small")])
    r = one(ServeConfig(), body, ALL_KEYS)
    assert r.status_code == 502 and "not JSON" in r.json()["error"]


def _vectors_of_sizes(*sizes: int) -> Canned:
    """An OpenAI-style answer with one vector of each size."""
    data = [
        {"object": "embedding", "index": i, "embedding": [0.1] * n} for i, n in enumerate(sizes)
    ]
    answer = {"object": "list", "data": data, "model": "m", "usage": None}
    return Canned(status=200, body=json.dumps(answer).encode())


@pytest.mark.parametrize(
    ("answer", "texts", "options", "message"),
    [
        (_vectors_of_sizes(8, 16), ["a", "b"], None, "vectors of sizes [8, 16]"),
        (_vectors_of_sizes(8), ["a"], {"dimensions": 16}, "vectors of sizes [8], asked for 16"),
        (
            Canned(status=302, headers={"Location": "http://127.0.0.2:9/v1/embeddings"}),
            ["a"],
            None,
            "which bm25x does not follow",
        ),
    ],
)
def test_a_providers_unusable_answer_is_a_502(
    fake: FakeProviders, answer: Canned, texts: list[str], options: Any, message: str
) -> None:
    # Qdrant shows a 400 to its client as "validation failed", the client's fault: a
    # provider's answer of the wrong shape is the provider's (a bad gateway).
    fake.script("openai", answer)
    inputs = [qdrant_input(t, "openai/text-embedding-3-small", options=options) for t in texts]
    r = one(ServeConfig(), qdrant_body(inputs), ALL_KEYS)
    assert r.status_code == 502 and message in r.json()["error"], r.text
    assert len(fake.calls("openai")) == 1  # refused at once, not retried


@pytest.fixture
def resetting_server() -> Iterator[str]:
    """A server on 127.0.0.1 that reads each request and resets the connection."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = sock.accept()
            except OSError:
                continue
            conn.recv(65536)
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()  # RST, not FIN

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{sock.getsockname()[1]}/v1"
    stop.set()
    thread.join(timeout=5)
    sock.close()


def test_connection_reset_is_a_503(
    fake: FakeProviders, resetting_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", resetting_server)
    body = qdrant_body([qdrant_input("x", "openai/text-embedding-3-small")])
    r = one(ServeConfig(), body, ALL_KEYS)
    assert r.status_code == 503 and "failed after 6 attempt(s)" in r.json()["error"]


# -- logs and metrics ------------------------------------------------------------------------


class _Leaky(_MultiVector):
    """A provider with a bug whose exception quotes the request: its key and its text."""

    name = "leaky"

    async def embed_batch(
        self,
        model: str,
        items: Sequence[Item],
        options: Mapping[str, Any],
        call: Call,
        api_key_options: Mapping[str, str],
    ) -> list[Vector]:
        raise RuntimeError(f"bug with {call.headers.get('leaky-api-key')} on {items[0].value}")


def test_one_json_log_line_per_request_without_secrets(
    fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    providers.register("leaky/", _Leaky())
    config = ServeConfig(token=TOKEN)
    wrong_key = "sk-wrong-but-secret-4417"
    leaky_key = "lk-leaky-secret-key-9931"
    bodies = [
        qdrant_body([qdrant_input(SECRET_TEXT, "openai/text-embedding-3-small")], token=TOKEN),
        qdrant_body([qdrant_input(SECRET_TEXT, "cohere/embed-v4.0")], token=TOKEN),
        qdrant_body([qdrant_input(SECRET_TEXT, "bm25")], token="not-" + TOKEN),
        qdrant_body([qdrant_input(SECRET_TEXT, "bm25", "image")], token=TOKEN),
        qdrant_body([qdrant_input(SECRET_TEXT, "leaky/model")], token=TOKEN),  # a 500
    ]
    headers = {
        "openai-api-key": KEYS["openai"],
        "cohere-api-key": wrong_key,
        "leaky-api-key": leaky_key,
    }
    with caplog.at_level(logging.INFO, logger="bm25x.serve"):
        responses = post(config, bodies, headers)
    assert [r.status_code for r in responses] == [200, 401, 401, 400, 500]
    assert "internal error (InferenceError)" in responses[4].json()["error"]
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bm25x.serve"]
    requests = [rec for rec in records if rec["event"] == "inference"]
    assert [rec["status"] for rec in requests] == [200, 401, 401, 400, 500]
    assert requests[0]["models"] == {"openai/text-embedding-3-small": 1}
    assert requests[0]["inputs"] == 1 and requests[0]["inference"] == "update"
    assert requests[1]["error"] == "ProviderHTTPError"
    # the 500 leaves where it happened in the log, for the operator
    (bug,) = [rec for rec in records if rec["event"] == "internal error"]
    assert bug["traceback"][0] == "InferenceError"
    everything = caplog.text + "".join(r.text for r in responses)
    for secret in (TOKEN, KEYS["openai"], wrong_key, leaky_key, SECRET_TEXT):
        assert secret not in everything


def test_metrics(fake: FakeProviders) -> None:
    async def main() -> str:
        async with asgi_client(create_app(ServeConfig())) as client:
            body = qdrant_body(
                [qdrant_input("a", "bm25"), qdrant_input("b", "bm25"), qdrant_input("c", "x/y")]
            )
            await client.post("/inference", json=body)
            await client.post(
                "/inference",
                json=qdrant_body([qdrant_input("a", "bm25"), qdrant_input("b", "bm25")]),
            )
            r = await client.get("/metrics")
            assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
            return r.text

    text = asyncio.run(main())
    assert 'bm25x_serve_requests_total{status="200"} 1.0' in text
    assert 'bm25x_serve_requests_total{status="400"} 1.0' in text
    assert 'bm25x_serve_inputs_total{model="bm25",provider="bm25"} 2.0' in text
    # a name no provider serves is no label of its own
    assert 'bm25x_serve_errors_total{error="UnknownModelError",model="other"' in text
    assert 'bm25x_serve_request_seconds_count{inference="update"} 2.0' in text
    assert "bm25x_serve_in_flight_requests 0.0" in text


def test_health_readiness_and_paths(fake: FakeProviders) -> None:
    async def main() -> list[Any]:
        app = create_app(ServeConfig(path="/v1/infer"))
        async with asgi_client(app) as client:
            body = qdrant_body([qdrant_input("a", "bm25")])
            return [
                await client.get("/healthz"),
                await client.get("/readyz"),
                await client.post("/v1/infer", json=body),
                await client.post("/", json=body),
                await client.get("/v1/infer"),
            ]

    health, ready, infer, root, get = asyncio.run(main())
    assert health.json() == {"status": "ok"} and ready.json() == {"status": "ready"}
    assert infer.status_code == root.status_code == 200
    assert get.status_code == 405


def test_a_client_gone_mid_body_is_logged_499_not_an_internal_error(
    fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    # ServeApp reads bodies from ASGI's receive(); a disconnect used to reach the handler as
    # Starlette's ClientDisconnect: a 500 "internal error" with a traceback in the log.
    app = create_app(ServeConfig())
    sent: list[dict[str, Any]] = []
    messages = [
        {"type": "http.request", "body": b'{"inputs": [', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/inference", "headers": []}

    async def main() -> None:
        async with app.router.lifespan_context(app):
            await app(scope, receive, send)

    with caplog.at_level(logging.INFO, logger="bm25x.serve"):
        asyncio.run(main())
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bm25x.serve"]
    assert [(r["status"], r["error"]) for r in records] == [(499, "ClientGone")]
    assert "internal error" not in caplog.text and "Traceback" not in caplog.text
    assert sent[0]["status"] == 499  # uvicorn drops it: nobody is there to read it


def test_the_service_posts_through_its_own_pooled_session(fake: FakeProviders) -> None:
    # One aiohttp session on the service's loop (not httpx, not bm25x's own loop): the
    # requests of several callers share its kept-alive connections.
    config = ServeConfig(allowed_models=("openai/*",), keys={"openai-api-key": KEYS["openai"]})
    bodies = [qdrant_body([qdrant_input(f"text {i}", "openai/m")]) for i in range(4)]
    answers = post(config, bodies)
    assert [a.status_code for a in answers] == [200] * 4
    calls = fake.calls("openai")
    assert len(calls) == 4 and len({c["client_port"] for c in calls}) == 1
    assert all("aiohttp" in c["headers"].get("user-agent", "") for c in calls)


# -- the real offline fastembed model -------------------------------------------------------


def test_local_fastembed_model_offline(
    fake: FakeProviders,
    minilm_dir: Any,
    tmp_path: Any,
) -> None:
    model = "sentence-transformers/all-MiniLM-L6-v2"
    config = ServeConfig(
        allowed_models=(model.lower(), "openai/*"),
        fastembed=FastembedConfig(
            cache_dir=str(tmp_path), model_dirs={model.lower(): str(minilm_dir)}
        ),
    )
    texts = ["A cat sits on the mat", "Stock markets fell today"]
    inputs = [
        qdrant_input(texts[0], model),
        qdrant_input(texts[1], "openai/text-embedding-3-small"),
        qdrant_input(texts[1], model, options={"mrl": 32}),
    ]
    r = one(config, qdrant_body(inputs), ALL_KEYS)
    assert r.status_code == 200, r.text
    emb = r.json()["embeddings"]
    opts = {"specific_model_path": str(minilm_dir), "cache_dir": str(tmp_path)}
    direct = bm25x.embed(texts, model=model, options=opts)
    assert np.allclose(dense(emb[0]), direct[0], atol=1e-6) and len(emb[0]) == 384
    assert np.allclose(dense(emb[2]), direct[1][:32], atol=1e-6) and len(emb[2]) == 32
    q = one(config, qdrant_body(inputs[:1], inference="search"), ALL_KEYS).json()
    assert np.allclose(dense(q["embeddings"][0]), direct[0], atol=1e-6)


def test_local_fastembed_model_not_on_disk_is_not_downloaded(
    fake: FakeProviders, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    require("fastembed")
    # Offline by configuration alone: no HF_HUB_OFFLINE here, yet nothing is fetched.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    config = ServeConfig(fastembed=FastembedConfig(cache_dir=str(tmp_path)))
    r = one(config, qdrant_body([qdrant_input("x", "BAAI/bge-small-en-v1.5")]))
    assert r.status_code == 503 and "could not load" in r.json()["error"]


def test_image_strings_never_open_the_services_files(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    fastembed = pytest.importorskip("fastembed")
    from PIL import Image as PILImage
    from support.fastembed_stand_ins import _StandIn

    monkeypatch.setattr(fastembed, "ImageEmbedding", type("ImageEmbedding", (_StandIn,), {}))
    provider = LocalModelProvider()
    provider._names = {"x/image": ("image", "X/Image")}
    providers.register("x/image", provider)
    secret = tmp_path / "secret.png"
    PILImage.new("RGB", (5, 2)).save(secret)
    bodies = [
        qdrant_body([qdrant_input(str(secret), "x/image", "image")]),
        qdrant_body([qdrant_input(str(tmp_path / "absent.png"), "x/image", "image")]),
        qdrant_body([qdrant_input(base64.b64encode(PNG).decode(), "x/image", "image")]),
    ]
    there, absent, inline = post(ServeConfig(), bodies)
    assert there.status_code == absent.status_code == 400
    assert "never opened as files" in there.json()["error"]
    assert there.json() == absent.json()  # nothing tells whether the file exists
    assert str(secret) not in there.text
    assert inline.status_code == 200


# -- the image guard (bm25x.providers.FetchPolicy, from the [images] section) -----------------


def _cohere_image(url: str) -> dict[str, Any]:
    return qdrant_body([qdrant_input(url, "cohere/embed-v4.0", "image")])


def test_image_urls_to_loopback_are_refused_by_default(fake: FakeProviders) -> None:
    url = fake.url("images") + "/tiny.png"
    r = one(ServeConfig(), _cohere_image(url), ALL_KEYS)
    assert r.status_code == 400 and "was not fetched" in r.json()["error"]
    assert "loopback" in r.json()["error"]
    assert fake.calls("cohere") == []


def test_redirects_to_loopback_are_refused(fake: FakeProviders) -> None:
    other = FakeProviders("127.0.0.2")
    try:
        target = other.url("images") + "/tiny.png"
        url = f"{fake.url('images')}/redirect?302&{target}"
        one_host = ServeConfig(images=FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"})))
        r = one(one_host, _cohere_image(url), ALL_KEYS)
        assert r.status_code == 400 and "127.0.0.2 is a loopback" in r.json()["error"]
        assert other.calls("images") == [] and fake.calls("cohere") == []
        both = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1", "127.0.0.2"}))
        assert one(ServeConfig(images=both), _cohere_image(url), ALL_KEYS).status_code == 200
    finally:
        other.close()


def test_image_size_limit_from_config(fake: FakeProviders) -> None:
    url = fake.url("images") + "/tiny.png"
    small = ServeConfig(images=FetchPolicy(allow_private=True, max_bytes=10))
    r = one(small, _cohere_image(url), ALL_KEYS)
    assert r.status_code == 400 and "was not fetched" in r.json()["error"]
