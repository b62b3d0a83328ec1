"""Batching of the local-models provider across calls: concurrent calls for one model share model
calls within the token budget, each gets exactly what it gets alone (the real MiniLM), a
failing text fails only its own call, and a call that stops waiting is left out."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import require

import bm25x
from bm25x import providers
from bm25x.providers.local_models import LocalModelProvider

MODEL = "sentence-transformers/all-MiniLM-L6-v2"


@pytest.fixture
def registry() -> Iterator[Any]:
    providers.list()
    saved = dict(providers._entries)
    yield providers
    providers._entries.clear()
    providers._entries.update(saved)


class _Model:
    """A stand-in for a loaded fastembed model: one-hot-ish vectors, its calls recorded."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed(self, texts: list[str]) -> Iterator[np.ndarray]:
        self.calls.append(list(texts))
        if any("boom" in t for t in texts):
            raise ValueError("the model refuses this text")
        for text in texts:
            yield np.asarray([len(text), text.count("a"), 1.0], dtype=np.float32)

    def token_count(self, texts: list[str]) -> int:
        return sum(len(t.split()) + 2 for t in texts)


def stub(budget: int) -> tuple[LocalModelProvider, _Model]:
    provider, model = LocalModelProvider(max_batch_tokens=budget), _Model()
    provider._loaded = lambda name, options: ("dense", model)  # type: ignore[method-assign]
    return provider, model


async def concurrently(texts: list[str], model: str = "stub/m", **kwargs: Any) -> list[Any]:
    calls = [bm25x.aembed(t, model=model, **kwargs) for t in texts]
    return await asyncio.gather(*calls, return_exceptions=True)


def test_concurrent_calls_share_one_model_call(registry: Any) -> None:
    provider, model = stub(budget=1000)
    registry.register("stub/", provider)
    texts = [f"text number {i} {'a' * i}" for i in range(8)]
    out = asyncio.run(concurrently(texts))
    assert len(model.calls) == 1 and sorted(model.calls[0]) == sorted(texts)
    for text, vector in zip(texts, out):
        assert vector.tolist() == [len(text), text.count("a"), 1.0]


def test_the_token_budget_bounds_each_model_call(registry: Any) -> None:
    # each text: 4 words + 2 = 6 tokens; a budget of 12 padded tokens takes two texts
    provider, model = stub(budget=12)
    registry.register("stub/", provider)
    texts = [f"w x y {i}" for i in range(6)]
    out = asyncio.run(concurrently(texts))
    assert [len(c) for c in model.calls] == [2, 2, 2]
    assert [v.tolist()[0] for v in out] == [len(t) for t in texts]
    # a call over the budget on its own still runs, alone
    provider, model = stub(budget=5)
    registry.register("stub/", provider)
    asyncio.run(concurrently(["w x y z", "a b c d"]))
    assert [len(c) for c in model.calls] == [1, 1]


def test_a_failing_text_fails_only_its_own_call(registry: Any) -> None:
    provider, model = stub(budget=1000)
    registry.register("stub/", provider)
    out = asyncio.run(concurrently(["fine one", "boom here", "fine two"]))
    assert isinstance(out[1], bm25x.InferenceError) and "refuses this text" in str(out[1])
    assert out[0].tolist()[0] == len("fine one") and out[2].tolist()[0] == len("fine two")
    # the batch, then each caller alone
    assert len(model.calls[0]) == 3 and sorted(map(len, model.calls[1:])) == [1, 1, 1]


def test_no_batching_when_the_budget_is_zero(registry: Any) -> None:
    provider, model = stub(budget=0)
    registry.register("stub/", provider)
    asyncio.run(concurrently(["a", "b", "c"]))
    assert sorted(map(len, model.calls)) == [1, 1, 1]


def test_batched_vectors_equal_the_ones_computed_alone(
    minilm_dir: Path, tmp_path: Path, registry: Any
) -> None:
    require("fastembed")
    opts = {"specific_model_path": str(minilm_dir), "cache_dir": str(tmp_path)}
    texts = [
        "A cat sits on the mat",
        "Stock markets fell today after a long and difficult week of trading",
        "short",
        "The quick brown fox jumps over the lazy dog near the river bank",
    ] * 4
    batched = LocalModelProvider()
    registry.register("fastembed/", batched)
    asyncio.run(concurrently(texts[:1], model=f"fastembed/{MODEL}", options=opts))  # load
    out = asyncio.run(concurrently(texts, model=f"fastembed/{MODEL}", options=opts))
    calls = sum(b.calls for found in batched._batchers.values() for b in found.values())
    assert calls == 2  # the loading call, then one model call for the 16 concurrent calls
    registry.register("fastembed/", LocalModelProvider(max_batch_tokens=0))
    alone = [bm25x.embed(t, model=f"fastembed/{MODEL}", options=opts) for t in texts]
    for got, want in zip(out, alone):
        assert np.array_equal(got, want)  # identical, padding to the batch's longest text or not
