"""The API providers (OpenAI, OpenRouter, Jina AI, Cohere v2) against a local server speaking
their wire formats (tests/provider_server.py): requests as documented, answers parsed,
batching, concurrency, dedup, retries, timeouts, malformed answers, typed errors, and API keys
that never leak."""

from __future__ import annotations

import asyncio
import base64
import json
import logging
import os
import pickle
import time
import traceback
from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest
from provider_server import KEYS, PNG, Canned, FakeProviders, fake_vector
from qdrant_client import models
from qdrant_client.context_headers import headers as qdrant_headers

import bm25x
from bm25x import providers
from bm25x.providers import FetchPolicy
from bm25x.providers.cohere import CohereProvider
from bm25x.providers.jina import JinaProvider
from bm25x.providers.openai import OpenAIProvider

ENV_KEYS = ("OPENAI_API_KEY", "CO_API_KEY", "JINA_API_KEY", "OPENROUTER_API_KEY")
FAST = {"backoff_base": 0.01, "backoff_max": 0.05}
ENV_SECRET = "sk-env-key-for-locals-7"  # module level: no test frame holds it as a local
# The stand-in image server is on loopback, which the default FetchPolicy refuses.
LOOPBACK = FetchPolicy(allowed_hosts=frozenset({"127.0.0.0/8"}))


@pytest.fixture(scope="module")
def server() -> Iterator[FakeProviders]:
    fake = FakeProviders()
    yield fake
    fake.close()


@pytest.fixture
def fake(server: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    """Every provider pointed at the local server, no keys in the environment, the registry
    restored afterwards."""
    server.reset()
    for name in ENV_KEYS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url("openai"))
    monkeypatch.setenv("OPENROUTER_BASE_URL", server.url("openrouter"))
    monkeypatch.setenv("JINA_BASE_URL", server.url("jina"))
    monkeypatch.setenv("CO_API_URL", server.url("cohere"))
    providers.list()
    saved = dict(providers._entries), list(providers._catch_all)
    # Fresh instances with fast backoff, so retry tests take milliseconds.
    providers.register("openai/", OpenAIProvider(**FAST))
    providers.register("cohere/", CohereProvider(**FAST))
    providers.register("jinaai/", JinaProvider(**FAST))
    yield server
    providers._entries.clear()
    providers._entries.update(saved[0])
    providers._catch_all[:] = saved[1]
    assert server.violations == []


def key(provider: str) -> dict[str, str]:
    name = {"openai": "openai", "openrouter": "openrouter", "jina": "jina", "cohere": "cohere"}
    return {f"{name[provider]}-api-key": KEYS[provider]}


def _json_error(status: int, body: dict[str, Any], **headers: str) -> Canned:
    return Canned(status=status, body=json.dumps(body).encode(), headers=headers)


# -- OpenAI -------------------------------------------------------------------------------


def test_openai_request_and_answer_as_documented(fake: FakeProviders) -> None:
    texts = ["first text", "second text", "third text"]
    out = bm25x.embed(texts, model="openai/text-embedding-3-small", options=key("openai"))
    assert [v.dtype for v in out] == [np.float32] * 3
    for text, vec in zip(texts, out):
        assert np.allclose(vec, fake_vector(f"text-embedding-3-small|{text}", 64))
    (req,) = fake.calls("openai")
    assert req["path"] == "/openai/v1/embeddings"
    assert req["headers"]["authorization"] == f"Bearer {KEYS['openai']}"
    assert req["headers"]["content-type"] == "application/json"
    assert req["body"] == {
        "model": "text-embedding-3-small",
        "input": texts,
        "encoding_format": "float",
    }


def test_openai_options_pass_through_and_base64(fake: FakeProviders) -> None:
    opts = {**key("openai"), "dimensions": 16, "user": "u-1", "encoding_format": "base64"}
    vec = bm25x.embed("hello", model="openai/text-embedding-3-large", options=opts)
    assert vec.shape == (16,)
    assert np.allclose(vec, fake_vector("text-embedding-3-large|hello", 16))
    body = fake.calls("openai")[0]["body"]
    assert body["dimensions"] == 16 and body["user"] == "u-1"
    assert "openai-api-key" not in body


def test_dimension_mismatch_is_reported(fake: FakeProviders) -> None:
    wrong = {
        "object": "list",
        "data": [{"object": "embedding", "index": 0, "embedding": [0.1] * 8}],
        "model": "m",
        "usage": {"prompt_tokens": 1, "total_tokens": 1},
    }
    fake.script("openai", _json_error(200, wrong))
    with pytest.raises(bm25x.DimensionMismatchError) as info:
        bm25x.embed("x", model="openai/m", options={**key("openai"), "dimensions": 16})
    assert info.value.provider == "openai" and info.value.items == [0]


# -- keys ---------------------------------------------------------------------------------


def test_key_from_env_headers_and_qdrant_context(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = "openai/text-embedding-3-small"
    bm25x.embed("a", model=model, headers={"openai-api-key": KEYS["openai"]})
    with qdrant_headers({"openai-api-key": KEYS["openai"]}):
        bm25x.embed("b", model=model)
    monkeypatch.setenv("OPENAI_API_KEY", KEYS["openai"])
    bm25x.embed("c", model=model)
    assert [r["body"]["input"] for r in fake.calls("openai")] == [["a"], ["b"], ["c"]]


def test_missing_key_fails_before_any_request(fake: FakeProviders) -> None:
    with pytest.raises(bm25x.MissingApiKeyError) as info:
        bm25x.embed(["a", "b"], model="cohere/embed-v4.0")
    err = info.value
    assert err.provider == "cohere" and err.model == "embed-v4.0" and err.items == [0, 1]
    assert "CO_API_KEY" in str(err) and "cohere-api-key" in str(err)
    assert fake.calls("cohere") == []


def test_wrong_key_is_an_http_error_that_never_shows_the_key(
    fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "sk-wrong-key-that-must-not-leak-42"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        bm25x.embed("x", model="openai/text-embedding-3-small", options={"openai-api-key": secret})
    err = info.value
    assert err.status == 401 and err.provider == "openai"
    assert err.provider_message is not None and "Incorrect API key" in err.provider_message
    texts = [
        str(err),
        repr(err),
        err.provider_message,
        "".join(traceback.format_exception(type(err), err, err.__traceback__)),
        repr(pickle.loads(pickle.dumps(err))),
        caplog.text,
        repr(providers.get("openai/")),
    ]
    for text in texts:
        assert secret not in text
    # the server did get the key, and answered with it in its message
    assert fake.calls("openai")[0]["headers"]["authorization"] == f"Bearer {secret}"


def test_keys_held_by_bm25x_are_masked_in_traceback_locals(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Error trackers render every frame's locals with repr(); a key bm25x holds (here from the
    environment, so no caller frame has it) must show as '***' there."""
    monkeypatch.setenv("OPENAI_API_KEY", ENV_SECRET)
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        bm25x.embed("x", model="openai/text-embedding-3-small")
    err = info.value
    rendered = "".join(
        traceback.TracebackException.from_exception(err, capture_locals=True).format()
    )
    assert "'***'" in rendered
    assert ENV_SECRET not in rendered
    assert f"Bearer {ENV_SECRET}" == fake.calls("openai")[0]["headers"]["authorization"]


# -- OpenRouter ---------------------------------------------------------------------------


def test_openrouter_vendor_model(fake: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", KEYS["openrouter"])
    out = bm25x.embed(
        ["q1", "q2"],
        model="openrouter/openai/text-embedding-3-small",
        options={"provider": {"allow_fallbacks": False}},
    )
    assert np.allclose(out[1], fake_vector("openai/text-embedding-3-small|q2", 48))
    (req,) = fake.calls("openrouter")
    assert req["path"] == "/openrouter/api/v1/embeddings"
    assert req["body"]["model"] == "openai/text-embedding-3-small"
    assert req["body"]["provider"] == {"allow_fallbacks": False}


# -- Jina ---------------------------------------------------------------------------------


def test_jina_text_tasks_follow_query_flag(fake: FakeProviders) -> None:
    opts = key("jina")
    doc = bm25x.embed("a passage", model="jinaai/jina-embeddings-v3", options=opts)
    q = bm25x.embed("a query", model="jinaai/jina-embeddings-v3", options=opts, query=True)
    other = bm25x.embed("x", model="jinaai/jina-embeddings-v2-base-en", options=opts)
    bodies = [r["body"] for r in fake.calls("jina")]
    assert [b.get("task") for b in bodies] == ["retrieval.passage", "retrieval.query", None]
    assert bodies[0]["input"] == ["a passage"]
    assert np.allclose(doc, fake_vector("jina-embeddings-v3|retrieval.passage|a passage", 32))
    assert np.allclose(q, fake_vector("jina-embeddings-v3|retrieval.query|a query", 32))
    assert other.shape == (32,)


def test_jina_images(fake: FakeProviders) -> None:
    b64 = base64.b64encode(PNG).decode()
    url = fake.url("images") + "/tiny.png"
    items = [
        models.Image(image=url, model="jinaai/jina-clip-v2", options=key("jina")),
        {"image": b64, "model": "jinaai/jina-clip-v2", "options": key("jina")},
        models.Image(
            image=f"data:image/png;base64,{b64}", model="jinaai/jina-clip-v2", options=key("jina")
        ),
    ]
    out = bm25x.embed(items)
    assert np.array_equal(out[1], out[2])  # same image: the data URL is reduced to base64
    (req,) = fake.calls("jina")
    assert req["body"]["input"] == [{"image": url}, {"image": b64}, {"image": b64}]


# -- Cohere -------------------------------------------------------------------------------


def test_cohere_texts_input_type_and_batches_of_96(fake: FakeProviders) -> None:
    texts = [f"doc {i}" for i in range(200)]
    out = bm25x.embed(texts, model="cohere/embed-v4.0", options=key("cohere"))
    assert len(out) == 200
    assert np.allclose(out[150], fake_vector("embed-v4.0|search_document|doc 150", 40))
    calls = fake.calls("cohere")
    assert sorted(len(c["body"]["texts"]) for c in calls) == [8, 96, 96]
    assert all(c["path"] == "/cohere/v2/embed" for c in calls)
    assert all(c["body"]["input_type"] == "search_document" for c in calls)
    assert all(c["body"]["embedding_types"] == ["float"] for c in calls)
    q = bm25x.embed(
        "find docs",
        model="cohere/embed-v4.0",
        options={**key("cohere"), "output_dimension": 256},
        query=True,
    )
    assert q.shape == (256,)
    last = fake.calls("cohere")[-1]["body"]
    assert last["input_type"] == "search_query" and last["output_dimension"] == 256


def test_cohere_images_become_data_urls(fake: FakeProviders) -> None:
    b64 = base64.b64encode(PNG).decode()
    model = "cohere/embed-v4.0"
    out = bm25x.embed(
        [
            models.Image(
                image=fake.url("images") + "/tiny.png", model=model, options=key("cohere")
            ),
            models.Image(image=b64, model=model, options=key("cohere")),
            models.Image(image=f"data:image/png;base64,{b64}", model=model, options=key("cohere")),
        ],
        fetch_policy=LOOPBACK,
    )
    assert len(out) == 3 and np.array_equal(out[0], out[2]) and np.array_equal(out[0], out[1])
    calls = fake.calls("cohere")
    assert len(calls) == 3  # one image per request, as Cohere's v2 API takes them
    assert all(c["body"]["images"] == [f"data:image/png;base64,{b64}"] for c in calls)
    assert all(c["body"]["input_type"] == "search_document" for c in calls)


def test_cohere_image_size_limit(fake: FakeProviders) -> None:
    big = models.Image(
        image=fake.url("images") + "/big.png", model="cohere/embed-v4.0", options=key("cohere")
    )
    with pytest.raises(bm25x.BadInputError, match="limit"):
        bm25x.embed(big, fetch_policy=LOOPBACK)
    raw = base64.b64encode(PNG + b"\x00" * (6 * 1024 * 1024)).decode()
    with pytest.raises(bm25x.BadInputError, match="limit"):
        bm25x.embed(models.Image(image=raw, model="cohere/embed-v4.0", options=key("cohere")))
    with pytest.raises(bm25x.BadInputError, match="PNG, JPEG"):
        bm25x.embed(
            models.Image(
                image=base64.b64encode(b"not an image").decode(),
                model="cohere/embed-v4.0",
                options=key("cohere"),
            )
        )
    assert fake.calls("cohere") == []


def test_text_only_providers_refuse_images(fake: FakeProviders) -> None:
    img = models.Image(image="https://example.invalid/a.png", model="openai/x", options={})
    with pytest.raises(bm25x.BadInputError, match="text only"):
        bm25x.embed(img, headers={"openai-api-key": KEYS["openai"]})
    assert fake.calls("openai") == []


# -- grouping, batching, concurrency, dedup, order ----------------------------------------


def test_batches_run_concurrently_and_order_is_kept(fake: FakeProviders) -> None:
    providers.register("openai/", OpenAIProvider(max_batch=4, max_concurrency=3, **FAST))
    fake.script("openai", *[Canned(delay=0.15, passthrough=True) for _ in range(5)])
    texts = [f"t{i}" for i in range(20)]
    start = time.monotonic()
    out = bm25x.embed(texts, model="openai/m", options=key("openai"))
    elapsed = time.monotonic() - start
    for text, vec in zip(texts, out):
        assert np.allclose(vec, fake_vector(f"m|{text}", 64))
    calls = fake.calls("openai")
    assert len(calls) == 5 and all(len(c["body"]["input"]) == 4 for c in calls)
    assert sorted(t for c in calls for t in c["body"]["input"]) == sorted(texts)
    assert 2 <= fake.max_in_flight <= 3
    assert elapsed < 0.15 * 5


def test_identical_inputs_are_embedded_once(fake: FakeProviders) -> None:
    texts = ["a", "b", "a", "c", "b", "a"]
    out = bm25x.embed(texts, model="openai/m", options=key("openai"))
    (req,) = fake.calls("openai")
    assert req["body"]["input"] == ["a", "b", "c"]
    assert np.array_equal(out[0], out[2]) and out[0] is not out[2]
    out[0][0] = 42.0  # results never share memory
    assert out[2][0] != 42.0


def test_mixed_models_grouped_per_model_and_options(fake: FakeProviders) -> None:
    items = [
        models.Document(text="one", model="openai/m", options=key("openai")),
        models.Document(text="one", model="qdrant/bm25"),
        {"text": "two", "model": "cohere/embed-v4.0", "options": key("cohere")},
        models.Document(text="two", model="openai/m", options={**key("openai"), "dimensions": 8}),
        "three",
        models.Document(text="four", model="openai/m", options=key("openai")),
    ]
    out = bm25x.embed(items, model="openai/m", options=key("openai"))
    assert isinstance(out[1], bm25x.SparseVector)
    assert out[1] == bm25x.Bm25().encode("one")
    assert out[3].shape == (8,) and out[0].shape == (64,)
    assert np.allclose(out[4], fake_vector("m|three", 64))
    inputs = sorted(sorted(c["body"]["input"]) for c in fake.calls("openai"))
    assert inputs == [["four", "one", "three"], ["two"]]
    assert len(fake.calls("cohere")) == 1


def test_mrl_computes_once_and_cuts(fake: FakeProviders) -> None:
    model = "openai/text-embedding-3-small"
    items = [
        models.Document(text="cookies", model=model, options=key("openai")),
        models.Document(text="cookies", model=model, options={**key("openai"), "mrl": 16}),
        models.Document(text="cookies", model=model, options={**key("openai"), "mrl": 8}),
    ]
    full, m16, m8 = bm25x.embed(items)
    assert len(fake.calls("openai")) == 1
    assert "mrl" not in fake.calls("openai")[0]["body"]
    assert m16.shape == (16,) and m8.shape == (8,)
    assert np.array_equal(m16, full[:16]) and np.array_equal(m8, full[:8])
    with pytest.raises(bm25x.DimensionMismatchError):
        bm25x.embed("cookies", model=model, options={**key("openai"), "mrl": 1000})
    with pytest.raises(bm25x.BadInputError):
        bm25x.embed("cookies", model="qdrant/bm25", options={"mrl": 4})


# -- retries, timeouts, malformed answers, partial failures -------------------------------


def test_429_honours_retry_after(fake: FakeProviders) -> None:
    fake.script(
        "openai",
        _json_error(429, {"error": {"message": "Rate limit reached"}}, **{"Retry-After": "1"}),
    )
    start = time.monotonic()
    vec = bm25x.embed("x", model="openai/m", options=key("openai"))
    assert time.monotonic() - start >= 1.0
    assert vec.shape == (64,) and len(fake.calls("openai")) == 2


def test_429_retry_after_ms_and_5xx_backoff(fake: FakeProviders) -> None:
    fake.script(
        "cohere",
        _json_error(429, {"message": "too many requests"}, **{"retry-after-ms": "150"}),
        _json_error(503, {"message": "unavailable"}),
        Canned(status=502, body=b"<html>bad gateway</html>", headers={"Content-Type": "text/html"}),
    )
    start = time.monotonic()
    vec = bm25x.embed("x", model="cohere/embed-v4.0", options=key("cohere"))
    assert time.monotonic() - start >= 0.15
    assert vec.shape == (40,) and len(fake.calls("cohere")) == 4


def test_retries_give_up_with_status_and_message(fake: FakeProviders) -> None:
    providers.register("jinaai/", JinaProvider(max_retries=2, **FAST))
    fake.script("jina", *[_json_error(500, {"detail": "internal trouble"})] * 3)
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        bm25x.embed(["a", "b"], model="jinaai/jina-embeddings-v3", options=key("jina"))
    err = info.value
    assert err.status == 500 and err.provider_message == "internal trouble"
    assert err.items == [0, 1] and "after 3 attempts" in str(err)
    assert len(fake.calls("jina")) == 3


def test_client_errors_are_not_retried(fake: FakeProviders) -> None:
    fake.script("openai", _json_error(400, {"error": {"message": "input too long"}}))
    with pytest.raises(bm25x.ProviderHTTPError, match="input too long") as info:
        bm25x.embed("x", model="openai/m", options=key("openai"))
    assert info.value.status == 400 and len(fake.calls("openai")) == 1


def test_slow_replies_time_out_then_retry(fake: FakeProviders) -> None:
    providers.register("openai/", OpenAIProvider(timeout=0.3, max_retries=1, **FAST))
    fake.script("openai", Canned(delay=0.8, passthrough=True), Canned(delay=0.8, passthrough=True))
    with pytest.raises(bm25x.ProviderHTTPError, match="timed out"):
        bm25x.embed("x", model="openai/m", options=key("openai"))
    fake.script("openai", Canned(delay=0.8, passthrough=True))
    assert bm25x.embed("y", model="openai/m", options=key("openai")).shape == (64,)


@pytest.mark.parametrize(
    "body",
    [
        b"this is not json",
        b'{"object": "list"}',
        b'{"data": [{"index": 0, "embedding": "###"}]}',
        b'{"data": [{"index": 0, "embedding": ["a", "b"]}]}',
        b'{"data": [{"index": 0, "embedding": [1.0]}, {"index": 0, "embedding": [1.0]}]}',
        b'{"data": [{"index": 5, "embedding": [1.0]}]}',
    ],
)
def test_malformed_answers(fake: FakeProviders, body: bytes) -> None:
    fake.script("openai", Canned(status=200, body=body))
    with pytest.raises(bm25x.ProviderResponseError) as info:
        bm25x.embed(["x", "y"], model="openai/m", options=key("openai"))
    assert info.value.items == [0, 1]


def test_cohere_malformed_answer(fake: FakeProviders) -> None:
    fake.script("cohere", _json_error(200, {"embeddings": {"float": [[0.1, 0.2]]}}))
    with pytest.raises(bm25x.ProviderResponseError, match="1 vectors for 2"):
        bm25x.embed(["a", "b"], model="cohere/embed-v4.0", options=key("cohere"))


def test_partial_failure_names_failed_items(fake: FakeProviders) -> None:
    fake.script("cohere", _json_error(400, {"message": "invalid model"}))
    items = [
        models.Document(text="ok one", model="openai/m", options=key("openai")),
        models.Document(text="bad", model="cohere/nope", options=key("cohere")),
        models.Document(text="ok two", model="qdrant/bm25"),
        models.Document(text="bad", model="cohere/nope", options=key("cohere")),
    ]
    with pytest.raises(bm25x.PartialInferenceError) as info:
        bm25x.embed(items)
    err = info.value
    assert err.items == [1, 3]
    assert "2 of 4 items failed" in str(err) and "items: [1, 3]" in str(err)
    (inner,) = err.errors
    assert isinstance(inner, bm25x.ProviderHTTPError)
    assert inner.provider == "cohere" and inner.model == "nope" and inner.status == 400
    assert inner.provider_message == "invalid model"
    assert err.results[1] is None and err.results[3] is None
    assert np.allclose(err.results[0], fake_vector("m|ok one", 64))
    assert err.results[2] == bm25x.Bm25().encode("ok two")


# -- async, base URLs in code -------------------------------------------------------------


def test_aembed_and_embed_inside_a_running_loop(fake: FakeProviders) -> None:
    async def main() -> tuple[Any, Any]:
        a = await bm25x.aembed(["a", "b"], model="openai/m", options=key("openai"))
        b = bm25x.embed("c", model="openai/m", options=key("openai"))  # from inside the loop
        return a, b

    a, b = asyncio.run(main())
    assert len(a) == 2 and b.shape == (64,)


def test_base_url_and_key_set_in_code(fake: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/never-used")
    provider = OpenAIProvider(base_url=fake.url("openai"), api_key=KEYS["openai"], **FAST)
    providers.register("openai/", provider)
    assert bm25x.embed("x", model="openai/m").shape == (64,)
    assert KEYS["openai"] not in repr(provider)
    assert os.environ["OPENAI_BASE_URL"].endswith("never-used")


def test_unreachable_endpoint_is_retried_then_reported(fake: FakeProviders) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again below: nothing listens there
    provider = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1", max_retries=1, **FAST)
    providers.register("openai/", provider)
    with pytest.raises(bm25x.ProviderHTTPError, match="failed after 2 attempt") as info:
        bm25x.embed("x", model="openai/m", options=key("openai"))
    assert info.value.status is None and info.value.items == [0]


def test_transport_errors_do_not_chain_the_request(fake: FakeProviders) -> None:
    """An httpx exception kept as ``__context__`` would carry the request and its
    Authorization header."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    provider = OpenAIProvider(base_url=f"http://127.0.0.1:{port}/v1", max_retries=0, **FAST)
    providers.register("openai/", provider)
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        bm25x.embed("x", model="openai/m", options=key("openai"))
    chain: list[BaseException] = []
    err: BaseException | None = info.value
    while err is not None and len(chain) < 10:
        chain.append(err)
        err = err.__cause__ or err.__context__
    assert [type(e) for e in chain] == [bm25x.ProviderHTTPError]
