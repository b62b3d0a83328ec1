"""The HTTP client the remote providers share: JSON POST with timeouts and retries.

Retries: on 408, 429 and 5xx answers and on connection errors and timeouts, up to
``max_retries`` more attempts, sleeping an exponentially growing, fully jittered delay
(``uniform(0, min(backoff_max, backoff_base * 2**attempt))``) or, when the answer names one,
at least the ``Retry-After`` (seconds or an HTTP date) / ``retry-after-ms`` delay.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bm25x.errors import ProviderHTTPError, ProviderResponseError, redact

__all__ = ["RetryPolicy", "fetch_bytes", "post_json", "provider_message"]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})


@dataclass(frozen=True)
class RetryPolicy:
    """Timeouts and retry pacing for one provider."""

    timeout: float = 60.0
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 120.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to sleep before retry number ``attempt + 1``."""
        jittered = random.uniform(0.0, min(self.backoff_max, self.backoff_base * 2.0**attempt))
        if retry_after is None:
            return jittered
        return min(self.retry_after_max, retry_after) + random.uniform(0.0, 0.05)


def _retry_after(response: httpx.Response) -> float | None:
    ms = response.headers.get("retry-after-ms")
    if ms:
        try:
            return max(0.0, float(ms) / 1000.0)
        except ValueError:
            pass
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def provider_message(response: httpx.Response) -> str | None:
    """The error text a provider put in its body: ``error.message`` (OpenAI, OpenRouter),
    ``message`` (Cohere), ``detail`` (Jina), or the raw text, shortened."""
    try:
        body: Any = response.json()
    except ValueError:
        text = response.text.strip()
        return redact(text[:500]) if text else None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return redact(err["message"])
        if isinstance(err, str):
            return redact(err)
        for key in ("message", "detail"):
            value = body.get(key)
            if isinstance(value, str):
                return redact(value)
            if value is not None:
                return redact(json.dumps(value)[:500])
    return redact(json.dumps(body)[:500])


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    policy: RetryPolicy,
    provider: str,
    model: str,
) -> Any:
    """POST ``body`` as JSON and return the decoded JSON answer, retrying as the module says.

    Raises :class:`ProviderHTTPError` for an error status or a transport failure that outlived
    the retries, and :class:`ProviderResponseError` for a 2xx answer that is not JSON."""
    # Errors are raised outside ``except`` blocks: an httpx exception as their ``__context__``
    # would carry the request, and with it the Authorization header.
    attempt = 0
    while True:
        retry_after: float | None = None
        failure: str | None = None
        try:
            response = await client.post(
                url, headers=dict(headers), json=body, timeout=policy.timeout
            )
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
            failure = f"{kind} after {attempt + 1} attempt(s): {type(exc).__name__}"
        if failure is not None:
            if attempt >= policy.max_retries:
                raise ProviderHTTPError(
                    f"request to {provider} {failure}", provider=provider, model=model
                )
        else:
            if response.status_code < 300:
                decoded = _json_or_none(response)
                if decoded is not None:
                    return decoded[0]
                raise ProviderResponseError(
                    f"{provider} answered {response.status_code} with a body that is not "
                    f"JSON: {response.text[:200]!r}",
                    provider=provider,
                    model=model,
                    status=response.status_code,
                )
            if response.status_code not in RETRY_STATUSES or attempt >= policy.max_retries:
                message = provider_message(response)
                tried = f" after {attempt + 1} attempts" if attempt else ""
                raise ProviderHTTPError(
                    f"{provider} answered HTTP {response.status_code}{tried}",
                    provider=provider,
                    model=model,
                    status=response.status_code,
                    provider_message=message,
                )
            retry_after = _retry_after(response)
        await asyncio.sleep(policy.delay(attempt, retry_after))
        attempt += 1


def _json_or_none(response: httpx.Response) -> tuple[Any] | None:
    """``(decoded body,)``, or None when the body is not JSON."""
    try:
        return (response.json(),)
    except ValueError:
        return None


async def fetch_bytes(
    client: httpx.AsyncClient, url: str, *, limit: int, policy: RetryPolicy, provider: str
) -> tuple[bytes, str | None]:
    """GET ``url`` (an image to inline), refusing more than ``limit`` bytes; returns the body
    and its Content-Type."""
    from bm25x.errors import BadInputError

    failure: str | None = None
    try:
        async with client.stream("GET", url, timeout=policy.timeout) as response:
            if response.status_code >= 300:
                raise BadInputError(
                    f"could not fetch image {url!r}: HTTP {response.status_code}",
                    provider=provider,
                    status=response.status_code,
                )
            declared = response.headers.get("content-length")
            if declared and declared.isdigit() and int(declared) > limit:
                raise BadInputError(
                    f"image {url!r} is {int(declared)} bytes, over the {limit}-byte limit",
                    provider=provider,
                )
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > limit:
                    raise BadInputError(
                        f"image {url!r} is over the {limit}-byte limit", provider=provider
                    )
                chunks.append(chunk)
            return b"".join(chunks), response.headers.get("content-type")
    except (httpx.TimeoutException, httpx.TransportError) as exc:
        failure = type(exc).__name__
    # Raised here, not in the except block, so that no httpx exception is its __context__.
    raise BadInputError(f"could not fetch image {url!r}: {failure}", provider=provider)
