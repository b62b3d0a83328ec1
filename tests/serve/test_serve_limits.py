"""``bm25x serve``'s bounds on what a caller can make it keep (issue 20): API keys over
``MAX_KEY_BYTES`` and options over ``limits.max_options_bytes`` refused with 400 before
anything is stored or built; the operator's keys pinned for redaction, so a cut echo of one
never reaches a caller; metrics labels only for names the service knows or has served, cut in
log lines; ``/metrics`` behind the token when the operator says so."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from support.provider_server import KEYS, Canned, FakeProviders, providers_pointed_at
from support.serve import asgi_client, qdrant_body, qdrant_input

from bm25x import _redact, _secrets
from bm25x.app.serve import ConfigError, ServeConfig, create_app, load_config
from bm25x.app.serve.config import Alias, Limits
from bm25x.app.serve.models import MAX_NAME_CHARS
from bm25x.providers import bm25
from bm25x.providers.openai import OpenAIProvider

FAST = {"backoff_base": 0.01, "backoff_max": 0.05}
TOKEN = "svc-token-limits-83c1f0"


@pytest.fixture
def fake(server: FakeProviders, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeProviders]:
    server.reset()
    with providers_pointed_at(server, monkeypatch, {"openai/": OpenAIProvider(**FAST)}):
        yield server


def exchange(
    config: ServeConfig,
    bodies: list[Any],
    headers: Mapping[str, str] | None = None,
    metrics_headers: Mapping[str, str] | None = None,
) -> tuple[list[Any], Any]:
    """POST each body to a fresh app, then GET /metrics; the responses."""

    async def main() -> tuple[list[Any], Any]:
        async with asgi_client(create_app(config)) as client:
            out = [
                await client.post("/inference", json=b, headers=dict(headers or {})) for b in bodies
            ]
            return out, await client.get("/metrics", headers=dict(metrics_headers or {}))

    return asyncio.run(main())


def known_windows(key: str) -> list[str]:
    """The windows of ``key`` that bm25x's redaction registry holds."""
    windows = _redact._REGISTRY.windows
    return [key[i : i + 8] for i in range(len(key) - 7) if key[i : i + 8] in windows]


# -- keys -----------------------------------------------------------------------------------


def test_a_key_over_the_bound_is_refused_before_anything_is_stored(fake: FakeProviders) -> None:
    long_key = "sk-" + secrets.token_hex(_secrets.MAX_KEY_BYTES // 2)
    body = qdrant_body([qdrant_input("x", "openai/text-embedding-3-small")])
    in_options = qdrant_body(
        [qdrant_input("x", "openai/text-embedding-3-small", options={"openai-api-key": long_key})]
    )
    (header, option), _ = exchange(ServeConfig(), [body, in_options], {"openai-api-key": long_key})
    assert header.status_code == 400 and option.status_code == 400
    assert "header 'openai-api-key' is 4,099 bytes" in header.json()["error"]
    assert "inputs[0].options['openai-api-key'] is 4,099 bytes" in option.json()["error"]
    assert "4,096 bytes for an API key" in option.json()["error"]
    assert long_key[:40] not in header.text + option.text
    assert known_windows(long_key) == [] and fake.calls("openai") == []


def test_operator_key_cut_in_a_provider_error_never_reaches_a_caller(
    fake: FakeProviders, monkeypatch: pytest.MonkeyPatch
) -> None:
    fresh = _redact._Registry(_secrets.MAX_SECRETS, _secrets.MAX_SECRET_BYTES)
    monkeypatch.setattr(_redact, "_REGISTRY", fresh)
    operator = "sk-OPERATOR-" + secrets.token_hex(20) + "yz0123456789"
    env_key = "sk-ENVIRONMENT-" + secrets.token_hex(20)
    monkeypatch.setenv("CO_API_KEY", env_key)
    config = ServeConfig(keys={"openai-api-key": operator}, allowed_models=("openai/*",))
    create_app(config)  # pins the operator's keys: [keys] and the environment's
    # Callers' keys flood the registry (each request with a header key remembers one).
    for i in range(_secrets.MAX_SECRETS + 10):
        _secrets.remember_secret(f"sk-caller-{i:06d}-{secrets.token_hex(8)}")
    echoes = [
        f"{operator[:12]}…{operator[-12:]}",
        f"...{operator[-12:]}",
        f"{operator[:12]}****{operator[-12:]}",
        f"{operator[:12]}[...]{operator[-12:]}",
    ]
    for echo in echoes:
        payload = {"error": {"message": f"Incorrect API key provided: {echo}", "type": "x"}}
        fake.script("openai", Canned(status=401, body=json.dumps(payload).encode()))
    body = qdrant_body([qdrant_input("x", "openai/text-embedding-3-small")])
    answers, _ = exchange(config, [body] * len(echoes))
    for answer in answers:
        assert answer.status_code == 401 and "Incorrect API key provided: " in answer.text
        assert not [
            operator[i : i + 8]
            for i in range(len(operator) - 7)
            if operator[i : i + 8] in answer.text
        ]
    assert len(known_windows(env_key)) == len(env_key) - 7


def test_config_refuses_keys_over_the_bound(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    long_key = "sk-" + "k" * _secrets.MAX_KEY_BYTES
    with pytest.raises(ConfigError, match=r"keys\.openai-api-key is 4,099 bytes") as info:
        ServeConfig(keys={"openai-api-key": long_key}, allowed_models=("*",))
    assert long_key not in str(info.value)
    path = tmp_path / "serve.toml"
    path.write_text(f'token = "{long_key}"\n')
    with pytest.raises(ConfigError, match="token is 4,099 bytes"):
        load_config(path, env={})
    with pytest.raises(ConfigError, match="BM25X_SERVE_TOKEN is 4,099 bytes"):
        load_config(None, env={"BM25X_SERVE_TOKEN": long_key})
    monkeypatch.setenv("OPENAI_API_KEY", long_key)
    with pytest.raises(ConfigError, match="OPENAI_API_KEY is 4,099 bytes"):
        create_app(ServeConfig(allowed_models=("*",)))


# -- options --------------------------------------------------------------------------------


def test_options_over_the_bound_are_refused_before_an_encoder_is_built() -> None:
    words = [f"stop{i:06d}" for i in range(10_000)]  # about 130 KB of JSON
    big = qdrant_body(
        [qdrant_input("x", "bm25", options={"k": 1.2, "stopwords": {"custom": words}})]
    )
    fits = qdrant_body([qdrant_input("x", "bm25", options={"stopwords": {"custom": words[:10]}})])
    cached = set(bm25._cache)
    config = ServeConfig(limits=Limits(max_options_bytes=64 * 1024))
    (refused, served), _ = exchange(config, [big, fits])
    assert refused.status_code == 400, refused.text
    error = refused.json()["error"]
    assert re.search(r"inputs\[0\]\.options is 130,[\d]{3} bytes as JSON", error), error
    assert "the largest option: 'stopwords'" in error
    assert "limits.max_options_bytes" in error
    assert served.status_code == 200
    assert len(set(bm25._cache) - cached) <= 1  # only the small one's encoder was built
    assert Limits().max_options_bytes == 64 * 1024


# -- metrics --------------------------------------------------------------------------------


def test_metrics_labels_are_bounded_in_length_and_number(
    fake: FakeProviders, caplog: pytest.LogCaptureFixture
) -> None:
    config = ServeConfig(
        allowed_models=("openai/*", "bm25", "qdrant/bm25"),
        aliases={"small": Alias("openai/text-embedding-3-small")},
    )
    long_names = [f"openai/{i}-" + "m" * 64 * 1024 for i in range(8)]
    bodies = [qdrant_body([qdrant_input("x", name)]) for name in long_names]
    bodies += [
        qdrant_body([qdrant_input("x", "openai/never-worked")]),  # no key: a 401
        qdrant_body([qdrant_input("x", "small")]),  # an alias: known, even failing
        qdrant_body([qdrant_input("x", "QDRANT/BM25")]),  # bm25's own, as configured
        qdrant_body([qdrant_input("x", "openai/text-embedding-3-large")], token=None),
    ]
    with caplog.at_level(logging.INFO, logger="bm25x.serve"):
        answers, metrics = exchange(config, bodies[:-1])
        worked, metrics_after = exchange(config, bodies[-1:], {"openai-api-key": KEYS["openai"]})
    # the long names are refused for their length (over MAX_MODEL_BYTES) before any provider
    assert [a.status_code for a in answers] == [400] * 8 + [401] * 2 + [200]
    assert worked[0].status_code == 200
    text = metrics.text
    assert len(metrics.content) < 64 * 1024, len(metrics.content)
    assert (
        'bm25x_serve_errors_total{error="MissingApiKeyError",model="other",provider="openai"} 1.0'
        in text
    )
    assert (
        'bm25x_serve_errors_total{error="BadInputError",model="other",provider="openai"} 8.0'
        in (text)
    )
    assert 'model="openai/text-embedding-3-small"' in text  # the alias's model
    assert 'bm25x_serve_inputs_total{model="qdrant/bm25",provider="bm25"} 1.0' in text
    assert "never-worked" not in text and "mmmm" not in text
    # a name allowed by a pattern becomes a label once a request for it has worked
    assert (
        'bm25x_serve_inputs_total{model="openai/text-embedding-3-large",provider="openai"} 1.0'
        in (metrics_after.text)
    )
    # log lines show names cut to MAX_NAME_CHARS
    records = [json.loads(r.getMessage()) for r in caplog.records if r.name == "bm25x.serve"]
    shown = [name for rec in records for name in rec.get("models", {})]
    assert max(map(len, shown)) == MAX_NAME_CHARS + 3
    assert long_names[0][:MAX_NAME_CHARS] + "..." in shown
    assert max(len(r.getMessage()) for r in caplog.records if r.name == "bm25x.serve") < 4096


def test_metrics_can_require_the_token(tmp_path: Path) -> None:
    config = ServeConfig(token=TOKEN, metrics_token_required=True)
    _, bare = exchange(config, [])
    _, wrong = exchange(config, [], metrics_headers={"authorization": "Bearer not-it"})
    _, basic = exchange(config, [], metrics_headers={"authorization": f"Basic {TOKEN}"})
    _, right = exchange(config, [], metrics_headers={"authorization": f"Bearer {TOKEN}"})
    assert bare.status_code == wrong.status_code == basic.status_code == 401
    assert bare.headers["www-authenticate"].startswith("Bearer")
    assert "bm25x_serve" not in bare.text + wrong.text and TOKEN not in bare.text
    assert right.status_code == 200 and "bm25x_serve_requests" in right.text
    # off by default; on needs a token; file and environment
    assert ServeConfig().metrics_token_required is False
    with pytest.raises(ConfigError, match="metrics_token_required is set but there is no token"):
        ServeConfig(metrics_token_required=True)
    path = tmp_path / "serve.toml"
    path.write_text(f'token = "{TOKEN}"\nmetrics_token_required = true\n')
    assert load_config(path, env={}).metrics_token_required is True
    env = {"BM25X_SERVE_TOKEN": TOKEN, "BM25X_SERVE_METRICS_TOKEN_REQUIRED": "1"}
    assert load_config(None, env=env).metrics_token_required is True
    path.write_text("metrics_token_required = 'yes'\n")
    with pytest.raises(ConfigError, match="metrics_token_required must be true or false"):
        load_config(path, env={})
