"""The API providers (OpenAI, OpenRouter, Jina AI, Cohere v2) against a local server speaking
their wire formats (tests/support/provider_server.py): requests as documented, answers parsed,
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
from qdrant_client import models
from qdrant_client.context_headers import headers as qdrant_headers
from support.provider_server import (
    KEYS,
    PNG,
    Canned,
    FakeProviders,
    fake_vector,
    providers_pointed_at,
)

import bm25x
from bm25x import providers
from bm25x.providers import EmbedRequest, FetchPolicy, Kind, Vector
from bm25x.providers.cohere import CohereProvider
from bm25x.providers.jina import JinaProvider
from bm25x.providers.openai import OpenAIProvider

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}
ENV_SECRET = "sk-env-key-for-locals-7"  # module level: no test frame holds it as a local
# The stand-in image server is on loopback, which the default FetchPolicy refuses.
LOOPBACK = FetchPolicy(allowed_hosts=frozenset({"127.0.0.0/8"}))


@pytest.fixture
def fake(server: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    """Every provider pointed at the local server, no keys in the environment, the registry
    restored afterwards."""
    server.reset()
    # Fresh instances with fast backoff, so retry tests take milliseconds.
    registered = {
        "openai/": OpenAIProvider(**FAST),
        "cohere/": CohereProvider(**FAST),
        "jinaai/": JinaProvider(**FAST),
    }
    with providers_pointed_at(server, monkeypatch, registered):
        yield server


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
    # the provider's answer is at fault, not the input: a malformed answer too
    assert isinstance(info.value, bm25x.ProviderDimensionError)
    assert isinstance(info.value, bm25x.ProviderResponseError)


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


def test_openai_requests_stay_under_its_token_limit_per_request(fake: FakeProviders) -> None:
    # OpenAI takes at most 300,000 tokens summed over one request's inputs; a token is at
    # least one byte, so at most 300,000 bytes of text go in one request (before: 2,048
    # texts of any length, which OpenAI refuses past its token limit).
    texts = [f"{i} " + "x" * 4000 for i in range(100)] + ["short"]
    out = bm25x.embed(texts, model="openai/m", options=key("openai"))
    assert len(out) == 101
    for text, vec in zip(texts, out):
        assert np.allclose(vec, fake_vector(f"m|{text}", 64))
    # the two requests run at once: they may arrive in either order
    sent = sorted(
        (c["body"]["input"] for c in fake.calls("openai")), key=lambda b: texts.index(b[0])
    )
    assert len(sent) == 2
    assert all(sum(len(t.encode()) for t in batch) <= 300_000 for batch in sent)
    assert [t for batch in sent for t in batch] == texts  # in order, each once


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


# -- image URLs: no way into the caller's network (issue 9, SSRF) -----------------------------


def _image(url: str) -> models.Image:
    return models.Image(image=url, model="cohere/embed-v4.0", options=key("cohere"))


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://127.0.0.1:{port}/images/tiny.png", "127.0.0.1 is a loopback address"),
        ("http://localhost:{port}/images/tiny.png", "is a loopback address"),
        ("http://[::1]:{port}/images/tiny.png", "::1 is a loopback address"),
        ("http://[::ffff:127.0.0.1]:{port}/images/tiny.png", "IPv6 form of 127.0.0.1"),
        ("http://[2002:7f00:1::]:{port}/images/tiny.png", "IPv6 form of 127.0.0.1"),
        ("http://0.0.0.0:{port}/images/tiny.png", "unspecified"),
        ("http://169.254.169.254/latest/meta-data/", "cloud metadata address"),
        ("http://10.0.0.1/a.png", "private address"),
        ("http://100.64.0.1/a.png", "shared (CGNAT) address"),
    ],
)
def test_image_urls_to_non_public_addresses_are_refused(
    fake: FakeProviders, url: str, why: str
) -> None:
    with pytest.raises(bm25x.BadInputError, match="was not fetched") as info:
        bm25x.embed(_image(url.format(port=fake.port)))
    assert why in str(info.value) and "FetchPolicy" in str(info.value)
    assert fake.calls("images") == [] and fake.calls("cohere") == []


def test_image_fetch_allow_list_is_the_callers_choice(fake: FakeProviders) -> None:
    url = fake.url("images") + "/tiny.png"
    for policy in (
        FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"})),
        FetchPolicy(allowed_hosts=frozenset({"127.0.0.0/8"})),
        FetchPolicy(allow_private=True),
    ):
        assert bm25x.embed(_image(url), fetch_policy=policy).shape == (40,)
    # allow_private still keeps cloud metadata out, unless listed
    assert not FetchPolicy(allow_private=True).allows_address("169.254.169.254")
    assert FetchPolicy(allowed_hosts=frozenset({"169.254.169.254"})).allows_address(
        "169.254.169.254"
    )


def test_every_redirect_hop_is_checked(fake: FakeProviders) -> None:
    """127.0.0.1 is allowed, 127.0.0.2 (loopback too, another host) is not: a redirect there
    is refused before anything connects to it."""
    other = FakeProviders("127.0.0.2")
    try:
        target = other.url("images") + "/tiny.png"
        url = f"{fake.url('images')}/redirect?302&{target}"
        policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}))
        with pytest.raises(bm25x.BadInputError, match=r"127\.0\.0\.2 is a loopback") as info:
            bm25x.embed(_image(url), fetch_policy=policy)
        assert "after 1 redirect" in str(info.value)
        assert other.calls("images") == [] and fake.calls("cohere") == []
        # once 127.0.0.2 is allowed too, the same redirect is followed
        both = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1", "127.0.0.2"}))
        assert bm25x.embed(_image(url), fetch_policy=both).shape == (40,)
        assert len(other.calls("images")) == 1
    finally:
        other.close()


def test_redirects_are_bounded(fake: FakeProviders) -> None:
    here = fake.url("images") + "/tiny.png"
    url = here
    for _ in range(3):
        url = f"{fake.url('images')}/redirect?307&{url}"
    with pytest.raises(bm25x.BadInputError, match="more than 2 redirects"):
        bm25x.embed(_image(url), fetch_policy=FetchPolicy(allow_private=True, max_redirects=2))
    out = bm25x.embed(_image(url), fetch_policy=FetchPolicy(allow_private=True, max_redirects=3))
    assert out.shape == (40,)


def test_fetched_bytes_must_be_an_image_whatever_they_claim(fake: FakeProviders) -> None:
    url = fake.url("images") + "/secret.png"  # Content-Type: image/png, bytes are text
    with pytest.raises(bm25x.BadInputError, match="not PNG, JPEG, GIF or WebP"):
        bm25x.embed(_image(url), fetch_policy=LOOPBACK)
    assert fake.calls("cohere") == []


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/a.png", "http://user:pw@127.0.0.1/a.png"])
def test_image_url_scheme_and_credentials(fake: FakeProviders, url: str) -> None:
    with pytest.raises(bm25x.BadInputError, match="not fetched") as info:
        bm25x.embed(_image(url), fetch_policy=LOOPBACK)
    assert "pw" not in str(info.value) and fake.calls("images") == []


def test_image_fetch_has_a_total_deadline(fake: FakeProviders) -> None:
    """The server trickles a byte every 50 ms forever: each read is quick, the whole is not."""
    url = fake.url("images") + "/drip.png"
    policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1"}), timeout=0.3)
    with pytest.raises(bm25x.BadInputError, match=r"longer than the fetch policy's 0.3 s"):
        bm25x.embed(_image(url), fetch_policy=policy)


def test_image_fetch_connects_to_the_address_it_checked(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A name is resolved once per connection, checked, and that very address is dialled (a
    name that does not resolve anywhere else proves it): no window for DNS rebinding."""
    import anyio

    lookups: list[str] = []

    async def resolver(host: str, port: int, **kwargs: Any) -> list[Any]:
        lookups.append(host)
        return [(2, 1, 6, "", ("127.0.0.1", port))]

    monkeypatch.setattr(anyio, "getaddrinfo", resolver)
    url = f"http://images.invalid:{fake.port}/images/tiny.png"
    with pytest.raises(bm25x.BadInputError, match=r"images\.invalid resolves to 127\.0\.0\.1"):
        bm25x.embed(_image(url))
    policy = FetchPolicy(allowed_hosts=frozenset({"127.0.0.1/32"}))
    assert bm25x.embed(_image(url), fetch_policy=policy).shape == (40,)
    assert lookups == ["images.invalid", "images.invalid"]


# -- keys: masked before any cut, and never in clear in bm25x's locals (issue 9) -----------

LEAKY = "sk-leaky-0123456789abcdefghijklmnopqrstuv"  # module level: in no test frame's locals


def _fragments(secret: str, n: int = 8) -> list[str]:
    return [secret[i : i + n] for i in range(len(secret) - n + 1)]


@pytest.mark.parametrize("cut", [200, 500])
def test_a_key_echoed_across_a_cut_leaves_no_part(fake: FakeProviders, cut: int) -> None:
    """A non-JSON error body is cut at 500 characters, a non-JSON 2xx body at 200; a key
    echoed across the cut must leave none of itself behind."""
    pad = b"x" * (cut - 20)
    status = 401 if cut == 500 else 200
    fake.script("openai", Canned(status=status, body=pad + b" key " + LEAKY.encode() + b" end"))
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        bm25x.embed("x", model="openai/m", options={"openai-api-key": LEAKY})
    err = info.value
    texts = [str(err), repr(err), repr(pickle.loads(pickle.dumps(err))), err.provider_message]
    for text in filter(None, texts):
        assert not [f for f in _fragments(LEAKY) if f in text], text


def test_a_key_the_provider_cut_itself_is_masked(fake: FakeProviders) -> None:
    body = {"error": {"message": f"Incorrect API key provided: {LEAKY[:24]}"}}
    fake.script("openai", _json_error(401, body))
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        bm25x.embed("x", model="openai/m", options={"openai-api-key": LEAKY})
    assert info.value.provider_message == "Incorrect API key provided: ***"


@pytest.mark.parametrize("where", ["options", "document", "headers"])
def test_keys_given_by_the_caller_are_masked_in_every_frame(
    fake: FakeProviders, where: str
) -> None:
    """capture_locals renders every frame of the chain (error trackers do this by default):
    the key given in options, Document.options or headers shows in none of bm25x's frames."""
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        if where == "options":
            bm25x.embed(["x", "y"], model="openai/m", options={"openai-api-key": LEAKY})
        elif where == "document":
            bm25x.embed(
                [models.Document(text="x", model="openai/m", options={"openai-api-key": LEAKY})]
            )
        else:
            bm25x.embed("x", model="openai/m", headers={"openai-api-key": LEAKY})
    err: BaseException | None = info.value
    rendered = ""
    while err is not None:
        rendered += "".join(
            traceback.TracebackException.from_exception(err, capture_locals=True).format()
        )
        err = err.__cause__ or err.__context__
    assert "'***'" in rendered
    assert not [f for f in _fragments(LEAKY) if f in rendered]
    assert fake.calls("openai")[0]["headers"]["authorization"] == f"Bearer {LEAKY}"


# -- provider calls never follow another origin's redirect (issue 9) ------------------------


def test_provider_posts_do_not_follow_cross_origin_redirects(fake: FakeProviders) -> None:
    other = FakeProviders("127.0.0.2")
    try:
        target = other.url("openai") + "/embeddings?token=hidden"
        fake.script("openai", Canned(status=307, headers={"Location": target}))
        with pytest.raises(bm25x.ProviderResponseError) as info:
            bm25x.embed("x", model="openai/m", options=key("openai"))
        message = str(info.value)
        assert f"redirect to http://127.0.0.2:{other.port}" in message
        assert "hidden" not in message and info.value.status == 307
        assert other.calls("openai") == []  # the other host never saw the key or the text
        assert len(fake.calls("openai")) == 1
    finally:
        other.close()


def test_same_origin_308_is_followed_and_a_loop_is_named(fake: FakeProviders) -> None:
    here = fake.url("openai") + "/embeddings"
    fake.script("openai", Canned(status=308, headers={"Location": here + "?hop=1"}))
    assert bm25x.embed("x", model="openai/m", options=key("openai")).shape == (64,)
    assert [c["path"] for c in fake.calls("openai")][-1].endswith("?hop=1")
    fake.script(
        "openai",
        Canned(status=308, headers={"Location": here + "?hop=1"}),
        Canned(status=308, headers={"Location": here}),  # back to the start: a loop
    )
    with pytest.raises(bm25x.ProviderHTTPError, match="redirect loop") as info:
        bm25x.embed("y", model="openai/m", options=key("openai"))
    assert info.value.status == 308 and len(fake.calls("openai")) == 4


# -- answers that are not embeddings (issue 9) ----------------------------------------------


@pytest.mark.parametrize(
    ("embedding", "problem"),
    [
        ("[0.5, NaN]", "NaN or infinite"),
        ("[Infinity, 0.5]", "NaN or infinite"),
        ("[1e39, 0.5]", "NaN or infinite"),  # past float32's range
        ("[]", "empty"),
    ],
)
def test_nan_inf_and_empty_vectors_are_refused(
    fake: FakeProviders, embedding: str, problem: str
) -> None:
    body = '{"data": [{"index": 0, "embedding": [0.5, 0.5]}, {"index": 1, "embedding": %s}]}'
    fake.script("openai", Canned(status=200, body=(body % embedding).encode()))
    with pytest.raises(bm25x.ProviderResponseError, match=problem) as info:
        bm25x.embed(["x", "y"], model="openai/m", options=key("openai"))
    assert "index 1" in str(info.value) and info.value.model == "m"


def test_sizes_that_differ_between_batches_are_refused(fake: FakeProviders) -> None:
    providers.register("openai/", OpenAIProvider(max_batch=1, max_concurrency=1, **FAST))
    fake.script(
        "openai", Canned(passthrough=True), _json_error(200, {"data": [{"embedding": [0.5] * 8}]})
    )
    with pytest.raises(bm25x.ProviderResponseError, match="differ in size between batches") as info:
        bm25x.embed(["x", "y"], model="openai/m", options=key("openai"))
    err = info.value
    assert err.model == "m" and err.items == [0, 1]
    assert "64 for item 0" in str(err) and "8 for item 1" in str(err)
    assert isinstance(err, bm25x.DimensionMismatchError)


# -- bounds: time, Retry-After, size (issue 9) ----------------------------------------------


def test_a_dripping_server_is_cut_off_by_the_attempt_timeout(fake: FakeProviders) -> None:
    providers.register("openai/", OpenAIProvider(timeout=0.3, max_retries=0, **FAST))
    fake.script("openai", Canned(drip=0.05))
    with pytest.raises(bm25x.ProviderHTTPError, match="timed out after 1 attempt"):
        bm25x.embed("x", model="openai/m", options=key("openai"))


def test_the_call_has_a_total_deadline(fake: FakeProviders) -> None:
    providers.register("openai/", OpenAIProvider(timeout=0.2, max_retries=50, **FAST))
    fake.script("openai", *[Canned(drip=0.05)] * 50)
    with pytest.raises(bm25x.ProviderHTTPError, match="deadline") as info:
        bm25x.embed("x", model="openai/m", options=key("openai"), deadline=0.5)
    assert info.value.items == [0]
    assert len(fake.calls("openai")) < 50
    with pytest.raises(ValueError, match="deadline must be a positive number"):
        bm25x.embed("x", model="openai/m", options=key("openai"), deadline=0)


def test_a_long_retry_after_fails_fast_and_says_it(fake: FakeProviders) -> None:
    fake.script(
        "openai", _json_error(429, {"error": {"message": "slow down"}}, **{"Retry-After": "999999"})
    )
    with pytest.raises(bm25x.ProviderHTTPError, match="retry after 999999 s") as info:
        bm25x.embed("x", model="openai/m", options=key("openai"))
    assert info.value.status == 429 and info.value.provider_message == "slow down"
    assert info.value.retry_after == 999999.0  # the provider's delay, for the caller to honour
    assert len(fake.calls("openai")) == 1


def test_giving_up_on_a_429_keeps_the_providers_delay(fake: FakeProviders) -> None:
    limited = _json_error(429, {"error": {"message": "slow down"}}, **{"retry-after-ms": "20"})
    fake.script("openai", *[limited] * 6)
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        bm25x.embed("x", model="openai/m", options=key("openai"))
    assert info.value.status == 429 and info.value.retry_after == pytest.approx(0.02)
    assert pickle.loads(pickle.dumps(info.value)).retry_after == pytest.approx(0.02)
    # an answer that names no delay leaves it unset
    fake.script("openai", _json_error(400, {"error": {"message": "bad input"}}))
    with pytest.raises(bm25x.ProviderHTTPError) as bad:
        bm25x.embed("x", model="openai/m", options=key("openai"))
    assert bad.value.status == 400 and bad.value.retry_after is None


@pytest.mark.parametrize("declared", [True, False])
def test_answers_over_the_size_limit_are_refused_while_streaming(
    fake: FakeProviders, declared: bool
) -> None:
    providers.register("openai/", OpenAIProvider(max_response_bytes=100_000, **FAST))
    if declared:
        fake.script("openai", Canned(status=200, body=b" " * 200_000))
    else:
        fake.script("openai", Canned(status=200, size=50_000_000))  # chunked, no length
    with pytest.raises(bm25x.ProviderResponseError, match="100000-byte limit"):
        bm25x.embed("x", model="openai/m", options=key("openai"))


# -- misconfigured endpoints fail fast and say where (issue 9) ------------------------------


def test_a_non_http_base_url_fails_at_once_naming_it(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", "ftp://user:pw@files.example/v1?key=abc")
    with pytest.raises(bm25x.ProviderConfigError) as info:
        bm25x.embed("x", model="openai/m", options=key("openai"))
    message = str(info.value)
    assert "ftp://files.example/v1" in message and "OPENAI_BASE_URL" in message
    assert "pw" not in message and "abc" not in message


def test_a_base_url_that_404s_is_not_retried_and_named(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    base = fake.url("openai").replace("http://", "http://user:pw-secret@") + "/wrong"
    monkeypatch.setenv("OPENAI_BASE_URL", base)
    with pytest.raises(bm25x.ProviderHTTPError) as info:
        bm25x.embed("x", model="openai/m", options=key("openai"))
    message = str(info.value)
    assert info.value.status == 404 and "check the provider's base URL" in message
    assert f"{fake.url('openai')}/wrong/embeddings" in message and "pw-secret" not in message
    assert fake.violations == ["POST to unknown path /openai/v1/wrong/embeddings"]
    fake.violations.clear()


# -- the client: none for local models, one pooled for remote calls (issue 9) --------------


def test_local_models_build_no_http_client(monkeypatch: pytest.MonkeyPatch) -> None:
    import httpx

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("a local model built an HTTP client")

    monkeypatch.setattr(httpx.AsyncClient, "__init__", refuse)
    assert bm25x.embed("x", model="qdrant/bm25") == bm25x.Bm25().encode("x")
    assert asyncio.run(bm25x.aembed("x", model="Qdrant/bm25")) is not None


def test_remote_calls_reuse_pooled_connections(fake: FakeProviders) -> None:
    for text in ("a", "b", "c"):
        bm25x.embed(text, model="openai/m", options=key("openai"))

    async def in_a_new_loop() -> Any:
        return await bm25x.aembed("d", model="openai/m", options=key("openai"))

    asyncio.run(in_a_new_loop())
    ports = {c["client_port"] for c in fake.calls("openai")}
    assert len(fake.calls("openai")) == 4 and len(ports) == 1  # one kept-alive connection


def test_a_given_http_client_is_used_and_left_open(fake: FakeProviders) -> None:
    import httpx

    seen: list[str] = []

    async def hook(request: httpx.Request) -> None:
        seen.append(str(request.url))

    async def main() -> tuple[Any, bool]:
        async with httpx.AsyncClient(event_hooks={"request": [hook]}) as client:
            out = await bm25x.aembed(
                ["a", "b"], model="openai/m", options=key("openai"), http_client=client
            )
            return out, client.is_closed

    out, closed = asyncio.run(main())
    assert len(out) == 2 and not closed
    assert seen == [fake.url("openai") + "/embeddings"]


def test_a_given_aiohttp_session_is_used_and_left_open(fake: FakeProviders) -> None:
    import aiohttp

    async def main() -> tuple[Any, bool]:
        async with aiohttp.ClientSession() as session:
            out = await bm25x.aembed(
                ["a", "b"], model="openai/m", options=key("openai"), http_client=session
            )
            return out, session.closed

    out, closed = asyncio.run(main())
    assert len(out) == 2 and not closed
    (call,) = fake.calls("openai")
    assert call["path"] == "/openai/v1/embeddings"


def test_bm25xs_own_session_goes_through_the_environments_proxy(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    # As httpx did: a proxy named by HTTP(S)_PROXY carries the provider requests (read once
    # per URL); aiohttp's own trust_env would look it up in a thread on every request.
    import http.server
    import threading

    seen: list[str] = []

    class Proxy(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            seen.append(self.requestline)
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    proxy = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Proxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        monkeypatch.setenv("OPENAI_BASE_URL", "http://provider.example/v1")
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        providers.register("openai/", OpenAIProvider(max_retries=0))
        with pytest.raises(bm25x.ProviderHTTPError) as info:
            bm25x.embed("x", model="openai/m", options=key("openai"))
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert info.value.status == 503
    assert seen == ["POST http://provider.example/v1/embeddings HTTP/1.1"]


class _HttpxProvider:
    """A third-party provider that sends its own requests through ``call.client``."""

    name = "plugin"
    max_batch = 8
    max_concurrency = 1

    def batch_limit(self, kind: Kind) -> int:
        return self.max_batch

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        answer = await request.call.client.get(request.model)
        return [np.full(2, float(answer.status_code), dtype=np.float32) for _ in request.items]


def test_providers_of_other_packages_still_get_an_httpx_client(fake: FakeProviders) -> None:
    import aiohttp

    providers.register("plugin/", _HttpxProvider())
    url = fake.url("images") + "/tiny.png"
    assert bm25x.embed("x", model=f"plugin/{url}").tolist() == [200.0, 200.0]

    async def with_a_session() -> Any:
        async with aiohttp.ClientSession() as session:
            return await bm25x.aembed("x", model=f"plugin/{url}", http_client=session)

    with pytest.raises(bm25x.InferenceError, match="pass one as http_client"):
        asyncio.run(with_a_session())


def test_bm25_batches_on_either_side_of_the_inline_limit_are_the_encoders() -> None:
    from bm25x.providers.bm25 import INLINE_CHARS

    short = ["a short text about cookies"] * 3
    long = [f"text {i} " + "word " * (INLINE_CHARS // 40) for i in range(12)]
    assert sum(map(len, long)) > INLINE_CHARS >= sum(map(len, short))
    encoder = bm25x.Bm25()
    for texts in (short, long):
        assert bm25x.embed(texts, model="qdrant/bm25") == list(encoder.encode(texts))
