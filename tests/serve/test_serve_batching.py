"""Cross-request batching in the service: 32 concurrent one-input requests for one local
fastembed model (the real MiniLM, offline) share a few model calls, and answer exactly what
one model call per request ([fastembed] max_batch_tokens = 0) answers."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from support import require
from support.serve import asgi_client, qdrant_body, qdrant_input

from bm25x import providers
from bm25x.app.serve import ServeConfig, create_app
from bm25x.app.serve.config import FastembedConfig
from bm25x.providers.local_models import LocalModelProvider

require("fastembed")
MODEL = "sentence-transformers/all-MiniLM-L6-v2"


def model_calls() -> int:
    provider = providers.resolve(MODEL)[0]
    assert isinstance(provider, LocalModelProvider)
    return sum(b.calls for found in provider._batchers.values() for b in found.values())


def serve(minilm_dir: Path, budget: int) -> tuple[list[Any], int]:
    # Spelt as the model's name: the configuration lower-cases names as the service matches them.
    fastembed = FastembedConfig(model_dirs={MODEL: str(minilm_dir)}, max_batch_tokens=budget)
    config = ServeConfig(allowed_models=(MODEL,), fastembed=fastembed, warmup=(MODEL,))
    texts = [f"document {i} about baking cookies in a hot oven" for i in range(32)]

    async def main() -> tuple[list[Any], int]:
        async with asgi_client(create_app(config)) as client:
            while (await client.get("/readyz")).status_code != 200:
                await asyncio.sleep(0.05)
            before = model_calls()
            answers = await asyncio.gather(
                *(
                    client.post("/inference", json=qdrant_body([qdrant_input(t, MODEL)]))
                    for t in texts
                )
            )
            return [a.json()["embeddings"][0] for a in answers], model_calls() - before

    try:
        return asyncio.run(main())
    finally:
        LocalModelProvider.max_batch_tokens = 16384


def test_concurrent_requests_share_model_calls(minilm_dir: Path) -> None:
    batched, calls = serve(minilm_dir, 16384)
    alone, calls_alone = serve(minilm_dir, 0)
    assert calls_alone == 0  # no batcher at all: one model call per request
    assert 1 <= calls <= 4  # 32 requests, a handful of model calls
    assert batched == alone  # the same vectors, to the last bit
