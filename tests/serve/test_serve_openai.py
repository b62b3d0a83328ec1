"""``POST /v1/embeddings`` driven by the real ``openai`` SDK against a real ``bm25x serve``
process: the SDK's default base64 answers and float answers, one text or several, ``dimensions``,
aliases, usage, the service token as the SDK's api_key, and the service's refusals as the SDK's
typed errors."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from support import require
from support.provider_server import KEYS, FakeProviders, fake_vector
from support.serve import ServeProcess

openai = require("openai")
require("uvicorn")

TOKEN = "openai-route-token-4e1d"
MODEL = "openai/text-embedding-3-small"


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServeProcess, Any]]:
    fake = FakeProviders()
    config = tmp_path_factory.mktemp("openai") / "serve.toml"
    config.write_text(
        f'token = "{TOKEN}"\n'
        'allowed_models = ["openai/*", "bm25", "qdrant/bm25"]\n'
        "[keys]\n"
        f'openai-api-key = "{KEYS["openai"]}"\n'
        "[aliases.small]\n"
        f'model = "{MODEL}"\n'
        "options = { dimensions = 16 }\n"
        "[limits]\n"
        "max_inputs = 8\n"
    )
    env = {"OPENAI_BASE_URL": fake.url("openai"), "OPENAI_API_KEY": ""}
    proc = ServeProcess(Path(config), env).start()
    try:
        yield proc, fake
    finally:
        proc.stop()
        fake.close()
    assert fake.violations == []


def create(proc: ServeProcess, key: str = TOKEN, **kwargs: Any) -> Any:
    """``client.embeddings.create(**kwargs)`` with a client of the service, closed after."""
    with openai.OpenAI(base_url=f"{proc.url}/v1", api_key=key, max_retries=0, timeout=30) as c:
        return c.embeddings.create(**kwargs)


def vector(text: str, dim: int = 64, model: str = "text-embedding-3-small") -> np.ndarray:
    return np.asarray(fake_vector(f"{model}|{text}", dim), dtype=np.float32)


def test_the_sdks_default_base64_answer(service: tuple[ServeProcess, Any]) -> None:
    proc, _ = service
    texts = ["two words", "three more words"]
    answer = create(proc, model=MODEL, input=texts)
    assert answer.model == MODEL and answer.object == "list"
    assert [d.index for d in answer.data] == [0, 1]
    for text, item in zip(texts, answer.data):
        assert np.array_equal(np.asarray(item.embedding, dtype=np.float32), vector(text))
    assert answer.usage.prompt_tokens == answer.usage.total_tokens == 5


def test_float_answers_one_text_and_dimensions(service: tuple[ServeProcess, Any]) -> None:
    proc, fake = service
    answer = create(proc, model=MODEL, input="one text", encoding_format="float", dimensions=8)
    (item,) = answer.data
    assert np.array_equal(np.asarray(item.embedding, dtype=np.float32), vector("one text", 8))
    # dimensions reached OpenAI as its own option, not cut by bm25x
    assert fake.calls("openai")[-1]["body"]["dimensions"] == 8


def test_aliases_and_the_allow_list_apply(service: tuple[ServeProcess, Any]) -> None:
    proc, _ = service
    answer = create(proc, model="small", input=["alias text"])
    assert answer.model == "small" and len(answer.data[0].embedding) == 16
    with pytest.raises(openai.BadRequestError, match="not allowed on this service"):
        create(proc, model="jinaai/jina-embeddings-v3", input="x")


def test_refusals_are_the_sdks_typed_errors(service: tuple[ServeProcess, Any]) -> None:
    proc, _ = service
    with pytest.raises(openai.AuthenticationError, match="Authorization: Bearer"):
        create(proc, key="not-the-token", model=MODEL, input="x")
    with pytest.raises(openai.BadRequestError, match="sparse vectors"):
        create(proc, model="bm25", input="x")
    with pytest.raises(openai.BadRequestError, match="check_embedding_ctx_length=False"):
        create(proc, model=MODEL, input=[[101, 2023]])
    with pytest.raises(openai.APIStatusError, match=r"limits\.max_inputs") as info:
        create(proc, model=MODEL, input=[f"t{i}" for i in range(9)])
    assert info.value.status_code == 413
    body = info.value.body
    assert isinstance(body, dict) and set(body) >= {"message", "type"}  # OpenAI's error shape


def test_the_bearer_token_is_checked_before_the_body_is_read() -> None:
    import asyncio

    from bm25x.app.serve import ServeConfig, create_app

    app = create_app(ServeConfig(token=TOKEN, allowed_models=("bm25",)))
    received: list[Any] = []
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        received.append(1)
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "method": "POST", "path": "/v1/embeddings", "headers": []}
    asyncio.run(app(scope, receive, send))
    assert sent[0]["status"] == 401 and received == []
    assert (b"www-authenticate", b'Bearer realm="bm25x"') in sent[0]["headers"]
