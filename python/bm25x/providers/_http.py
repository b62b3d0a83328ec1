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
import functools
import json
import math
import random
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from bm25x._aio import fail_after
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


def _retry_after(headers: Mapping[str, str]) -> float | None:
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


@functools.lru_cache(maxsize=256)  # provider endpoints: a handful, parsed on every call
def parsed_url(url: str) -> httpx.URL | None:
    """``url`` parsed (httpx's parser takes tens of microseconds), or None when it cannot be."""
    try:
        return httpx.URL(url)
    except (httpx.InvalidURL, TypeError, ValueError):
        return None


def check_url(url: str, *, provider: str, model: str, where: str) -> None:
    """Refuse, before any request, an endpoint that is not an ``http(s)`` URL with a host;
    ``where`` says where the URL was configured."""
    from bm25x.errors import ProviderConfigError

    parsed = parsed_url(url)
    if parsed is None or parsed.scheme not in ("http", "https") or not parsed.host:
        raise ProviderConfigError(
            f"{provider} endpoint {display_url(url)} is not an http(s) URL with a host; "
            f"check {where}",
            provider=provider,
            model=model,
        )


@dataclass(repr=False)
class _Answer:
    status: int
    headers: Mapping[str, str]  # case-insensitive (httpx.Headers, aiohttp's CIMultiDictProxy)
    content: bytes
    url: httpx.URL
    refused: str | None = None  # a redirect not followed, or a body over the limit

    def __repr__(self) -> str:
        # An error body may echo the key: shown in traceback locals, so never shown.
        return f"<answer HTTP {self.status}, {len(self.content)} bytes>"


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


#: A client provider requests go through: the caller's ``httpx.AsyncClient``, or an
#: ``aiohttp.ClientSession`` (bm25x's pooled one, or the caller's).
Client = Any

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


async def _read_limited(
    answer: _Answer, declared: str, chunks: AsyncIterator[bytes], limit: int
) -> _Answer:
    """``answer`` with its body read from ``chunks``: at most ``limit`` bytes for a success
    (refused above, by its declared length first), an error body cut at ``limit``."""
    success = 200 <= answer.status < 300
    if success and declared.isdigit() and int(declared) > limit:
        answer.refused = f"with {int(declared)} bytes, over the {limit}-byte limit"
        return answer
    body = bytearray()
    async for chunk in chunks:
        body += chunk
        if len(body) > limit:
            if not success:
                del body[limit:]
                break
            answer.refused = f"with more than the {limit}-byte limit"
            return answer
    answer.content = bytes(body)
    return answer


async def _attempt_httpx(
    client: httpx.AsyncClient,
    target: httpx.URL,
    headers: Mapping[str, str],
    payload: bytes,
    policy: RetryPolicy,
) -> tuple[_Answer, str | None]:
    """One POST through an httpx client: the answer, and a redirect's Location (else None)."""
    request = client.build_request(
        "POST", target, headers=dict(headers), content=payload, timeout=policy.timeout
    )
    response = await client.send(request, stream=True, follow_redirects=False)
    try:
        answer = _Answer(response.status_code, response.headers, b"", target)
        if response.is_redirect:
            return answer, response.headers.get("location", "")
        limit = policy.max_response_bytes if response.is_success else _ERROR_BODY_BYTES
        declared = response.headers.get("content-length", "")
        return await _read_limited(answer, declared, response.aiter_bytes(), limit), None
    finally:
        await response.aclose()


async def _attempt_aiohttp(
    session: Any,
    target: httpx.URL,
    headers: Mapping[str, str],
    payload: bytes,
    policy: RetryPolicy,
) -> tuple[_Answer, str | None]:
    """One POST through an aiohttp session: the answer, and a redirect's Location (else
    None)."""
    from bm25x.providers._clients import own_session

    url = str(target)
    # bm25x's own session goes through the environment's proxies; a caller's session is
    # configured by its owner (its trust_env, its proxy).
    proxy, proxy_auth = _env_proxy(url) if own_session(session) else (None, None)
    # post_json bounds each attempt (a timer of its own); bm25x's session sets no aiohttp
    # timer on top (see new_session), a caller's session keeps its own.
    async with session.post(
        _aiohttp_url(url),
        data=payload,
        headers=headers,
        allow_redirects=False,
        proxy=proxy,
        proxy_auth=proxy_auth,
    ) as response:
        status = response.status
        answer = _Answer(status, response.headers, b"", target)
        if status in _REDIRECTS and "location" in response.headers:
            return answer, response.headers["location"]
        limit = policy.max_response_bytes if 200 <= status < 300 else _ERROR_BODY_BYTES
        declared = response.headers.get("content-length", "")
        return await _read_limited(answer, declared, response.content.iter_any(), limit), None


@functools.lru_cache(maxsize=256)
def _aiohttp_url(url: str) -> Any:
    """``url`` as aiohttp takes it (a ``yarl.URL``, parsed once), without credentials: the
    key travels in the Authorization header, and aiohttp refuses a request with both."""
    from yarl import URL

    return URL(url, encoded=True).with_user(None)


@functools.lru_cache(maxsize=256)
def _env_proxy(url: str) -> tuple[Any, Any]:
    """The proxy (and its credentials) the environment names for ``url`` (``HTTPS_PROXY``,
    ``NO_PROXY``, ...), else ``(None, None)``; read once per URL, as an httpx client reads
    them once when it is made. (aiohttp's own ``trust_env`` looks them, and ``~/.netrc``, up
    in a worker thread on every request.)"""
    from aiohttp.helpers import get_env_proxy_for_url

    try:
        return get_env_proxy_for_url(_aiohttp_url(url))
    except LookupError:
        return None, None


async def _exchange(
    client: Client,
    url: str,
    headers: Mapping[str, str],
    payload: bytes,
    policy: RetryPolicy,
) -> _Answer:
    """One attempt: POST, following same-origin 307/308 redirects, reading at most the
    policy's bytes."""
    attempt = _attempt_httpx if isinstance(client, httpx.AsyncClient) else _attempt_aiohttp
    target = parsed_url(url) or httpx.URL(url)
    seen = {str(target)}
    for _ in range(MAX_REDIRECTS + 1):
        answer, location = await attempt(client, target, headers, payload, policy)
        if location is None:
            return answer
        try:
            nxt: httpx.URL | None = target.join(location)
        except (httpx.InvalidURL, ValueError):
            nxt = None
        if nxt is None:
            answer.refused = "with a redirect to an unusable Location"
        elif answer.status not in (307, 308) or _origin(nxt) != _origin(target):
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
    answer = _Answer(307, httpx.Headers(), b"", target)
    answer.refused = f"with more than {MAX_REDIRECTS} redirects"
    return answer


def _errors() -> tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]]:
    """The exceptions of a request that cannot be sent at all (a bad URL or header: no retry),
    and those of a transport failure (retried), of httpx and aiohttp alike."""
    global _ERRORS
    if _ERRORS is None:
        import aiohttp

        fatal = (
            httpx.UnsupportedProtocol,
            httpx.InvalidURL,
            httpx.LocalProtocolError,
            aiohttp.InvalidURL,
            # aiohttp refuses a header value with a line break with ValueError.
            ValueError,
        )
        transport = (httpx.TimeoutException, httpx.TransportError, aiohttp.ClientError, OSError)
        _ERRORS = fatal, transport
    return _ERRORS


_ERRORS: tuple[tuple[type[BaseException], ...], tuple[type[BaseException], ...]] | None = None


async def post_json(
    client: Client,
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
    shown = display_url(url)
    payload = json.dumps(body).encode("utf-8")
    request_headers = {**headers, "Content-Type": "application/json"}
    fatal_errors, transport_errors = _errors()
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
            async with fail_after(budget):
                answer = await _exchange(client, url, request_headers, payload, policy)
        except TimeoutError:
            failure = f"timed out after {attempt + 1} attempt(s)"
        except fatal_errors as exc:
            fatal = type(exc).__name__
        except transport_errors as exc:
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
