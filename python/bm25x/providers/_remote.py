"""The base of the API providers: where the key and the base URL come from, and the parsing of
OpenAI-style answers (``{"data": [{"index": i, "embedding": [...]}, ...]}``) that OpenAI, Jina
and OpenRouter share."""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bm25x._secrets import remember_secret
from bm25x.errors import (
    KeyTooLongError,
    MissingApiKeyError,
    ProviderResponseError,
    Secret,
)
from bm25x.providers._base import (
    Call,
    Embeddings,
    EmbedRequest,
    Item,
    Kind,
    Vector,
    texts_only,
    vector_problem,
)
from bm25x.providers._http import RetryPolicy

__all__ = ["HttpProvider", "count", "dense", "parse_openai_style"]


_NUMBER_TYPES = frozenset({int, float})


def dense(
    values: Any, *, provider: str, model: str, index: int | None = None
) -> npt.NDArray[np.float32]:
    """A provider's vector (a list of numbers, or base64 little-endian float32) as float32;
    :class:`ProviderResponseError` for anything else, naming the answer's entry ``index``."""
    vector = _dense(values, provider=provider, model=model)
    problem = vector_problem(vector)
    if problem is not None:
        at = f" at index {index}" if index is not None else ""
        raise ProviderResponseError(
            f"embedding{at} {problem}", provider=provider, model=model, status=200
        )
    return vector


def _dense(values: Any, *, provider: str, model: str) -> npt.NDArray[np.float32]:
    if isinstance(values, str):
        try:
            raw = base64.b64decode(values, validate=True)
        except ValueError:
            raw = b"\x00"  # odd length: reported below
        if len(raw) % 4:
            raise ProviderResponseError(
                "embedding is a string that is not base64 float32", provider=provider, model=model
            )
        return np.frombuffer(raw, dtype="<f4").astype(np.float32)
    # Exactly int and float (what JSON numbers decode to): no bool, no other type.
    if not isinstance(values, list) or not {type(v) for v in values} <= _NUMBER_TYPES:
        raise ProviderResponseError(
            "embedding is not a list of numbers", provider=provider, model=model
        )
    with np.errstate(over="ignore"):  # a value past float32's range: reported as infinite
        return np.asarray(values, dtype=np.float32)


def count(value: Any) -> int | None:
    """A token count from an answer: a non-negative finite number (a whole one, or a float
    such as Cohere's), as an int; None for anything else."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    if not math.isfinite(value) or value < 0:
        return None
    return round(value)


def parse_openai_style(
    body: Any, n: int, *, provider: str, model: str
) -> list[npt.NDArray[np.float32]]:
    """The vectors of an OpenAI-style answer, ordered by their ``index``; exactly ``n``."""
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list):
        raise ProviderResponseError(
            "answer has no 'data' list", provider=provider, model=model, status=200
        )
    out: list[npt.NDArray[np.float32] | None] = [None] * n
    for pos, entry in enumerate(data):
        if not isinstance(entry, dict) or "embedding" not in entry:
            raise ProviderResponseError(
                "answer entry has no 'embedding'", provider=provider, model=model, status=200
            )
        index = entry.get("index", pos)
        if not isinstance(index, int) or not 0 <= index < n or out[index] is not None:
            raise ProviderResponseError(
                f"answer has a bad or repeated index {index!r} for {n} inputs",
                provider=provider,
                model=model,
                status=200,
            )
        out[index] = dense(entry["embedding"], provider=provider, model=model, index=index)
    missing = [i for i, v in enumerate(out) if v is None]
    if missing:
        raise ProviderResponseError(
            f"answer has {n - len(missing)} vectors for {n} inputs",
            provider=provider,
            model=model,
            status=200,
        )
    return [v for v in out if v is not None]


class HttpProvider:
    """A provider behind an HTTP API.

    Subclasses set ``name``, ``key_option`` (the Qdrant option and header name of the key),
    ``key_env``, ``base_env``, ``default_base`` and ``path``, and implement :meth:`request`
    and :meth:`parse`. ``base_url``, ``api_key`` and the retry settings given to the
    constructor win over the environment; register the instance to use them::

        providers.register("openai/", OpenAIProvider(base_url="http://localhost:8080/v1"))
    """

    name = "http"
    key_option = ""
    key_env = ""
    base_env = ""
    default_base = ""
    path = "/embeddings"
    max_batch = 128
    max_concurrency = 4
    #: The option that asks the API for a number of dimensions (``None``: it has none).
    dimensions_option: str | None = "dimensions"

    def __init__(
        self,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff_base: float = 0.5,
        backoff_max: float = 30.0,
        retry_after_max: float = 60.0,
        max_response_bytes: int = 256 * 1024 * 1024,
        max_batch: int | None = None,
        max_concurrency: int | None = None,
    ) -> None:
        self.base_url = base_url
        self._api_key = (
            remember_secret(api_key, where=f"{type(self).__name__}(api_key=...)")
            if api_key
            else None
        )
        self.policy = RetryPolicy(
            timeout=timeout,
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_max=backoff_max,
            retry_after_max=retry_after_max,
            max_response_bytes=max_response_bytes,
        )
        if max_batch is not None:
            self.max_batch = max_batch
        if max_concurrency is not None:
            self.max_concurrency = max_concurrency

    def __repr__(self) -> str:  # never shows the key
        return f"{type(self).__name__}(base_url={self.url()!r})"

    def batch_limit(self, kind: Kind) -> int:
        """Items per request (the same for every kind unless a subclass says otherwise)."""
        return self.max_batch

    def url(self) -> str:
        """The endpoint: ``{base}{path}``, base from the constructor, the environment, or the
        provider's public default."""
        base = self.base_url or os.environ.get(self.base_env) or self.default_base
        return base.rstrip("/") + self.path

    def api_key(self, model: str, key_options: Mapping[str, str], call: Call) -> str:
        """The key: the ``<provider>-api-key`` option, else the header of that name, else the
        constructor's key, else the environment variable."""
        for source, where in (
            (key_options.get(self.key_option), f"option {self.key_option!r}"),
            (call.headers.get(self.key_option), f"header {self.key_option!r}"),
            (self._api_key, f"{type(self).__name__}(api_key=...)"),
            (os.environ.get(self.key_env), f"environment variable {self.key_env}"),
        ):
            if isinstance(source, str) and source.strip():
                try:
                    return remember_secret(source.strip(), where=where)
                except KeyTooLongError as exc:
                    exc.provider, exc.model = self.name, model
                    raise
        raise MissingApiKeyError(
            f"{self.name} needs an API key: pass options={{'{self.key_option}': ...}}, "
            f"a '{self.key_option}' header, or set {self.key_env}",
            provider=self.name,
            model=model,
        )

    def headers(self, key: str) -> dict[str, str]:
        """Request headers: bearer auth and JSON."""
        return {
            "Authorization": Secret(f"Bearer {key}"),
            "Content-Type": "application/json",
            "Accept": "application/json",
        }

    def text_only(self, model: str, items: Sequence[Item]) -> list[str]:
        """The texts of ``items``; :class:`BadInputError` for anything else."""
        return texts_only(self.name, model, items)

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        """Build the request, send it with retries, parse the answer."""
        model, items, call = request.model, request.items, request.call
        from bm25x.providers._http import check_url, post_json

        url = self.url()
        where = f"base_url= or {self.base_env}" if self.base_env else "base_url="
        check_url(url, provider=self.name, model=model, where=where)
        key = self.api_key(model, request.api_key_options, call)
        body = await self.request(model, items, request.options, call)
        answer = await post_json(
            call.http,
            url,
            headers=self.headers(key),
            body=body,
            policy=self.policy,
            provider=self.name,
            model=model,
            deadline=call.deadline,
        )
        return Embeddings(self.parse(answer, len(items), model), tokens=self.tokens(answer))

    def tokens(self, body: Any) -> int | None:
        """The tokens the provider says the request used: ``usage.total_tokens`` (else
        ``usage.prompt_tokens``) of an OpenAI-style answer (OpenAI, OpenRouter, Jina), or
        None when the answer has no such count."""
        usage = body.get("usage") if isinstance(body, dict) else None
        if not isinstance(usage, dict):
            return None
        return count(usage.get("total_tokens", usage.get("prompt_tokens")))

    async def request(
        self, model: str, items: Sequence[Item], options: Mapping[str, Any], call: Call
    ) -> dict[str, Any]:
        """The JSON body for one batch."""
        raise NotImplementedError

    def parse(self, body: Any, n: int, model: str) -> list[npt.NDArray[np.float32]]:
        """The ``n`` vectors of an answer."""
        return parse_openai_style(body, n, provider=self.name, model=model)
