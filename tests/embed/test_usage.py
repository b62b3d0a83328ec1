"""Token counts (``embed(..., usage=bm25x.Usage())``): each remote provider's own count as its
API reports it (against the stand-ins of tests/support/provider_server.py, which count as
documented: OpenAI-style ``usage.total_tokens``, Cohere's ``meta.billed_units``), the local
models' counts (bm25: the terms the encoder kept; fastembed: its tokenizer's tokens), batch
counts shared out exactly, repeats counted once, failures not counted."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support.provider_server import KEY_HEADERS, Canned, FakeProviders, providers_pointed_at

import bm25x
from bm25x.providers.cohere import CohereProvider
from bm25x.providers.jina import JinaProvider
from bm25x.providers.openai import OpenAIProvider
from bm25x.providers.openrouter import OpenRouterProvider

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}
KEYED = KEY_HEADERS


@pytest.fixture
def fake(server: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    server.reset()
    registered = {
        "openai/": OpenAIProvider(max_batch=2, **FAST),
        "openrouter/": OpenRouterProvider(**FAST),
        "cohere/": CohereProvider(**FAST),
        "jinaai/": JinaProvider(**FAST),
    }
    with providers_pointed_at(server, monkeypatch, registered):
        yield server


def embedded(items: Any, **kwargs: Any) -> tuple[Any, bm25x.Usage]:
    usage = bm25x.Usage()
    out = bm25x.embed(items, headers=KEYED, usage=usage, **kwargs)
    return out, usage


def test_openai_counts_each_request_and_shares_it_by_length(fake: FakeProviders) -> None:
    # max_batch=2: three requests; the stand-in counts words, as usage.total_tokens
    texts = ["one", "two words", "three more words", "a b c d", "five"]
    _, usage = embedded(texts, model="openai/text-embedding-3-small")
    sent = sorted(c["body"]["input"] for c in fake.calls("openai"))  # concurrent: any order
    assert sent == sorted([texts[0:2], texts[2:4], texts[4:]])
    assert usage.models == {"openai/text-embedding-3-small": 1 + 2 + 3 + 4 + 1}
    # each batch's count shared by the texts' lengths, adding up to the batch's count
    assert usage.tokens[0] + usage.tokens[1] == 3 and usage.tokens[4] == 1
    assert usage.tokens[2] + usage.tokens[3] == 7 and usage.tokens[2] > usage.tokens[3]


def test_openrouter_jina_and_cohere_report_their_counts(fake: FakeProviders) -> None:
    items = [
        {"text": "route me please", "model": "openrouter/mistral/mistral-embed"},
        {"text": "jina text", "model": "jinaai/jina-embeddings-v3"},
        {"text": "another jina text", "model": "jinaai/jina-embeddings-v3"},
        {"text": "cohere text", "model": "cohere/embed-v4.0"},
    ]
    _, usage = embedded(items)
    # openrouter: usage.total_tokens (words); jina: usage.total_tokens (one per input);
    # cohere: meta.billed_units.input_tokens (one per text)
    assert usage.models == {
        "openrouter/mistral/mistral-embed": 3,
        "jinaai/jina-embeddings-v3": 2,
        "cohere/embed-v4.0": 1,
    }


def test_cohere_without_input_tokens_counts_text_and_image_tokens(fake: FakeProviders) -> None:
    answer = {
        "id": "x",
        "embeddings": {"float": [[0.5] * 40]},
        "meta": {"billed_units": {"images": 1, "image_tokens": 258.0, "text_tokens": 4}},
        "response_type": "embeddings_by_type",
    }
    fake.script("cohere", Canned(body=json.dumps(answer).encode()))
    _, usage = embedded("a text", model="cohere/embed-v4.0")
    assert usage.tokens == [262] and usage.models == {"cohere/embed-v4.0": 262}


def test_an_answer_without_a_count_says_nothing(fake: FakeProviders) -> None:
    answer = {"object": "list", "data": [{"index": 0, "embedding": [0.5] * 8}], "model": "m"}
    fake.script("openai", Canned(body=json.dumps(answer).encode()))
    _, usage = embedded("x", model="openai/m")
    assert usage.tokens == [None] and usage.models == {}


def test_repeats_count_once_and_failures_not_at_all(fake: FakeProviders) -> None:
    fake.script("cohere", Canned(status=400, body=b'{"message": "bad input"}'))
    items = [
        {"text": "same text", "model": "openai/m"},
        {"text": "same text", "model": "openai/m"},
        {"text": "refused", "model": "cohere/embed-v4.0"},
    ]
    usage = bm25x.Usage()
    with pytest.raises(bm25x.PartialInferenceError):
        bm25x.embed(items, headers=KEYED, usage=usage)
    assert usage.tokens == [2, 0, None] and usage.models == {"openai/m": 2}


def test_bm25_counts_the_terms_the_encoder_kept() -> None:
    texts = ["The cookies and the cookies", "baking", "a the of"]
    encoder = bm25x.Bm25(language="english")
    for query in (False, True):
        usage = bm25x.Usage()
        bm25x.embed(texts, model="qdrant/bm25", query=query, usage=usage)
        assert usage.tokens == [len(encoder.terms(t, query=query)) for t in texts]
        assert usage.tokens == [2, 1, 0]  # stopwords are not kept
    usage = bm25x.Usage()
    bm25x.embed(["the cookies"], model="qdrant/bm25", options={"language": "none"}, usage=usage)
    assert usage.tokens == [2]
    # a batch encoded in a worker thread counts the same way
    long = ["cookies " * 1000, "the baking"]
    usage = bm25x.Usage()
    bm25x.embed(long, model="Qdrant/bm25", usage=usage)
    assert usage.tokens == [1000, 1] and usage.models == {"Qdrant/bm25": 1001}


def test_fastembed_counts_its_tokenizers_tokens(minilm_dir: Path, tmp_path: Path) -> None:
    from fastembed import TextEmbedding

    model = "sentence-transformers/all-MiniLM-L6-v2"
    opts = {"specific_model_path": str(minilm_dir), "cache_dir": str(tmp_path)}
    texts = ["A cat sits on the mat", "Stock markets fell today after a long week"]
    usage = bm25x.Usage()
    bm25x.embed(texts, model=model, options=opts, usage=usage)
    reference = TextEmbedding(model, **opts)
    assert usage.tokens == [reference.token_count([t]) for t in texts]
    assert all(n > len(t.split()) for n, t in zip(usage.tokens, texts))  # [CLS], [SEP]


def test_usage_must_be_a_usage() -> None:
    with pytest.raises(TypeError, match=r"usage must be a bm25x\.Usage"):
        bm25x.embed("x", model="qdrant/bm25", usage={})  # type: ignore[arg-type]
