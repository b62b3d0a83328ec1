"""The HTTP exchange the remote providers share: JSON POST with bounds, retries and redirects.

Retries: on 408, 429 and 5xx answers and on connection errors and timeouts, up to
``max_retries`` more attempts, sleeping an exponentially growing, fully jittered delay
(``uniform(0, min(backoff_max, backoff_base * 2**attempt))``) or, when the answer names one,
the ``Retry-After`` (seconds or an HTTP date) / ``retry-after-ms`` delay. A named delay over
``retry_after_max`` is not waited for: the call fails at once and says what the server asked.
Other statuses, an unusable URL and redirects bm25x will not follow fail at once; an answer
bm25x cannot use (a 2xx that is not JSON or is too large, a 3xx not followed) is a
:class:`ProviderResponseError`, the provider's fault rather than the input's.

Bounds: each attempt (connecting, sending, and reading the whole answer) ends within
``timeout`` seconds, however slowly the server trickles bytes; the answer is read up to
``max_response_bytes`` (counted as it streams in); and nothing outlives the call's deadline
(``deadline``, a ``time.monotonic()`` instant), sleeps between retries included.

Redirects: only ``307``/``308`` to the same origin (scheme, host and port) are followed, at
most :data:`MAX_REDIRECTS` times. A POST carries the key and the texts, and its answer is used
as embeddings, so another host (or plain ``http`` after ``https``) is never asked.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import math
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bm25x.errors import ProviderHTTPError, ProviderResponseError, redact
from bm25x.providers._fetch import display_url

__all__ = [
    "MAX_REDIRECTS",
    "RetryPolicy",
    "check_url",
    "post_json",
    "provider_message",
]

RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504, 520, 521, 522, 523, 524, 529})
MAX_REDIRECTS = 5
# Error answers are read this far: enough for any provider's message, no more.
_ERROR_BODY_BYTES = 64 * 1024


@dataclass(frozen=True)
class RetryPolicy:
    """Timeouts, size bounds and retry pacing for one provider."""

    timeout: float = 60.0
    max_retries: int = 5
    backoff_base: float = 0.5
    backoff_max: float = 30.0
    retry_after_max: float = 60.0
    max_response_bytes: int = 256 * 1024 * 1024

    def delay(self, attempt: int, retry_after: float | None) -> float:
        """Seconds to sleep before retry number ``attempt + 1``."""
        jittered = random.uniform(0.0, min(self.backoff_max, self.backoff_base * 2.0**attempt))
        if retry_after is None:
            return jittered
        return min(self.retry_after_max, retry_after) + random.uniform(0.0, 0.05)


def _retry_after(headers: httpx.Headers) -> float | None:
    ms = headers.get("retry-after-ms")
    if ms:
        try:
            value = float(ms) / 1000.0
            if math.isfinite(value):
                return max(0.0, value)
        except ValueError:
            pass
    text = headers.get("retry-after")
    if not text:
        return None
    try:
        value = float(text)
        return max(0.0, value) if math.isfinite(value) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def provider_message(content: bytes) -> str | None:
    """The error text a provider put in its body: ``error.message`` (OpenAI, OpenRouter),
    ``message`` (Cohere), ``detail`` (Jina), or the raw text, shortened. Keys are masked
    before anything is cut, so a cut never leaves part of one."""
    try:
        body: Any = json.loads(content)
    except ValueError:
        text = content.decode("utf-8", "replace").strip()
        return redact(text, limit=500) if text else None
    if isinstance(body, dict):
        err = body.get("error")
        if isinstance(err, dict) and isinstance(err.get("message"), str):
            return redact(err["message"], limit=2000)
        if isinstance(err, str):
            return redact(err, limit=2000)
        for key in ("message", "detail"):
            value = body.get(key)
            if isinstance(value, str):
                return redact(value, limit=2000)
            if value is not None:
                return redact(json.dumps(value), limit=500)
    return redact(json.dumps(body), limit=500)


def check_url(url: str, *, provider: str, model: str, where: str) -> None:
    """Refuse, before any request, an endpoint that is not an ``http(s)`` URL with a host;
    ``where`` says where the URL was configured."""
    from bm25x.errors import ProviderConfigError

    try:
        parsed = httpx.URL(url)
        ok = parsed.scheme in ("http", "https") and bool(parsed.host)
    except (httpx.InvalidURL, TypeError, ValueError):
        ok = False
    if not ok:
        raise ProviderConfigError(
            f"{provider} endpoint {display_url(url)} is not an http(s) URL with a host; "
            f"check {where}",
            provider=provider,
            model=model,
        )


@dataclass(repr=False)
class _Answer:
    status: int
    headers: httpx.Headers
    content: bytes
    url: httpx.URL
    refused: str | None = None  # a redirect not followed, or a body over the limit

    def __repr__(self) -> str:
        # An error body may echo the key: shown in traceback locals, so never shown.
        return f"<answer HTTP {self.status}, {len(self.content)} bytes>"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


async def _exchange(
    client: httpx.AsyncClient,
    url: str,
    headers: Mapping[str, str],
    payload: bytes,
    policy: RetryPolicy,
) -> _Answer:
    """One attempt: POST, following same-origin 307/308 redirects, reading at most the
    policy's bytes."""
    target = httpx.URL(url)
    seen = {str(target)}
    for _ in range(MAX_REDIRECTS + 1):
        request = client.build_request(
            "POST", target, headers=dict(headers), content=payload, timeout=policy.timeout
        )
        response = await client.send(request, stream=True, follow_redirects=False)
        try:
            if response.is_redirect:
                location = response.headers.get("location", "")
                try:
                    nxt = target.join(location)
                except (httpx.InvalidURL, ValueError):
                    nxt = None
                answer = _Answer(response.status_code, response.headers, b"", target)
                if nxt is None:
                    answer.refused = "with a redirect to an unusable Location"
                elif response.status_code not in (307, 308) or _origin(nxt) != _origin(target):
                    where = f"{nxt.scheme}://{nxt.netloc.decode('ascii', 'replace')}"
                    answer.refused = (
                        f"with a redirect to {where}, which bm25x does not follow for provider "
                        "calls (only 307/308 to the same scheme, host and port)"
                    )
                elif str(nxt) in seen:
                    answer.refused = f"with a redirect loop back to {display_url(nxt)}"
                if answer.refused is not None:
                    return answer
                assert nxt is not None
                seen.add(str(nxt))
                target = nxt
                continue
            limit = policy.max_response_bytes if response.is_success else _ERROR_BODY_BYTES
            declared = response.headers.get("content-length", "")
            if response.is_success and declared.isdigit() and int(declared) > limit:
                answer = _Answer(response.status_code, response.headers, b"", target)
                answer.refused = f"with {int(declared)} bytes, over the {limit}-byte limit"
                return answer
            body = bytearray()
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > limit:
                    if not response.is_success:
                        del body[limit:]
                        break
                    answer = _Answer(response.status_code, response.headers, b"", target)
                    answer.refused = f"with more than the {limit}-byte limit"
                    return answer
            return _Answer(response.status_code, response.headers, bytes(body), target)
        finally:
            await response.aclose()
    answer = _Answer(307, httpx.Headers(), b"", target)
    answer.refused = f"with more than {MAX_REDIRECTS} redirects"
    return answer


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    *,
    headers: Mapping[str, str],
    body: Mapping[str, Any],
    policy: RetryPolicy,
    provider: str,
    model: str,
    deadline: float | None = None,
) -> Any:
    """POST ``body`` as JSON and return the decoded JSON answer, as the module says.

    Raises :class:`ProviderHTTPError` for an error status, a transport failure that outlived
    the retries or the deadline, and :class:`ProviderResponseError` for an answer that cannot
    be used: a 2xx that is not JSON or is too large, a 3xx not followed."""
    # Errors are raised outside ``except`` blocks: an httpx exception as their ``__context__``
    # would carry the request, and with it the Authorization header.
    import anyio

    shown = display_url(url)
    payload = json.dumps(body).encode("utf-8")
    request_headers = {**headers, "Content-Type": "application/json"}
    attempt = 0
    while True:
        retry_after: float | None = None
        failure: str | None = None
        fatal: str | None = None
        answer: _Answer | None = None
        budget = policy.timeout
        if deadline is not None:
            budget = min(budget, deadline - time.monotonic())
            if budget <= 0:
                raise _deadline_error(provider, model, shown, attempt)
        try:
            with anyio.fail_after(budget):
                answer = await _exchange(client, url, request_headers, payload, policy)
        except TimeoutError:
            failure = f"timed out after {attempt + 1} attempt(s)"
        except (httpx.UnsupportedProtocol, httpx.InvalidURL, httpx.LocalProtocolError) as exc:
            fatal = type(exc).__name__
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            kind = "timed out" if isinstance(exc, httpx.TimeoutException) else "failed"
            failure = f"{kind} after {attempt + 1} attempt(s): {type(exc).__name__}"
        if fatal is not None:
            raise ProviderHTTPError(
                f"request to {provider} at {shown} cannot be sent ({fatal}); check the "
                "provider's base URL",
                provider=provider,
                model=model,
            )
        if answer is None:
            if attempt >= policy.max_retries:
                raise ProviderHTTPError(
                    f"request to {provider} {failure} (at {shown})", provider=provider, model=model
                )
        else:
            status = answer.status
            if answer.refused is not None:
                # An answer not used: a redirect not followed (any 3xx), a body over the limit.
                raise ProviderResponseError(
                    f"{provider} answered HTTP {status} at {shown} {answer.refused}",
                    provider=provider,
                    model=model,
                    status=status,
                )
            if status < 300:
                try:
                    return json.loads(answer.content)
                except ValueError:
                    pass
                text = answer.content[:400].decode("utf-8", "replace")
                raise ProviderResponseError(
                    f"{provider} answered {status} with a body that is not "
                    f"JSON: {redact(text, limit=200)!r}",
                    provider=provider,
                    model=model,
                    status=status,
                )
            if status not in RETRY_STATUSES or attempt >= policy.max_retries:
                tried = f" after {attempt + 1} attempts" if attempt else ""
                check = (
                    "; check the provider's base URL and the model name"
                    if status in (404, 405)
                    else ""
                )
                raise ProviderHTTPError(
                    f"{provider} answered HTTP {status}{tried} at {shown}{check}",
                    provider=provider,
                    model=model,
                    status=status,
                    provider_message=provider_message(answer.content),
                    retry_after=_retry_after(answer.headers),
                )
            retry_after = _retry_after(answer.headers)
            if retry_after is not None and retry_after > policy.retry_after_max:
                raise ProviderHTTPError(
                    f"{provider} answered HTTP {status} and asked to retry after "
                    f"{retry_after:g} s, more than the {policy.retry_after_max:g} s bm25x "
                    "waits (the provider's retry_after_max); try again later",
                    provider=provider,
                    model=model,
                    status=status,
                    provider_message=provider_message(answer.content),
                    retry_after=retry_after,
                )
        pause = policy.delay(attempt, retry_after)
        if deadline is not None and time.monotonic() + pause >= deadline:
            raise _deadline_error(provider, model, shown, attempt + 1)
        await asyncio.sleep(pause)
        attempt += 1


def _deadline_error(provider: str, model: str, shown: str, attempts: int) -> ProviderHTTPError:
    return ProviderHTTPError(
        f"request to {provider} at {shown} did not finish before the call's deadline "
        f"({attempts} attempt(s) made); raise embed(deadline=...) or try again later",
        provider=provider,
        model=model,
    )
