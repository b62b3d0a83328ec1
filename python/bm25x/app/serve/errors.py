"""Every failure of a request and the HTTP answer it gets, in one place.

The service's own refusals are :class:`RequestError` subclasses, each with its status; the
library's typed errors (:mod:`bm25x.errors`) are mapped by :func:`answer_for`. The statuses are
chosen for what Qdrant (``src/common/inference/service.rs``) makes of them:

=====================================  ======  ==============================================
what happened                          status  what Qdrant's client sees
=====================================  ======  ==============================================
malformed request (JSON nested too     400     400 "Inference request validation failed: ..."
deep included), unknown or disallowed
model, bad input/options, ``mrl`` too
large
missing or wrong service token,        401     500 "Authentication failed for inference
missing provider key, provider                 service ..."
refused the key (its 401)
provider forbade it (its 403)          403     the same
the body arrived too slowly            408     500 "Inference service error (408) ..."
body or input count over the limit     413     400 "Inference can't process request (413)"
too many concurrent requests or        429     429, with the Retry-After delay
bodies being read, provider rate limit
outlived retries
provider's answer unusable (malformed, 502     500 "Inference service error (502) ..."
vectors of other or mixed sizes, a
redirect bm25x does not follow)
provider unreachable or failing,       503     500 "Inference service error (503) ..."
local model not available
the request's time budget ran out      504     500 "Inference service error (504) ..."
a bug                                  500     500 "Inference service error (500) ..."
=====================================  ======  ==============================================

Every body is ``{"error": "<text>"}``; texts pass through :func:`bm25x.errors.redact`, so no
key the process has seen appears in them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bm25x.errors import (
    BadInputError,
    DimensionMismatchError,
    InferenceError,
    MissingApiKeyError,
    ModelNotAvailableError,
    PartialInferenceError,
    ProviderHTTPError,
    ProviderResponseError,
    UnknownModelError,
    redact,
)

__all__ = [
    "Answer",
    "BadRequest",
    "BodiesOverloaded",
    "BodyTimeout",
    "ClientGone",
    "Overloaded",
    "RequestError",
    "RequestTimeout",
    "TooLarge",
    "Unauthorized",
    "WarmupError",
    "answer_for",
]


class RequestError(Exception):
    """A request the service refuses before (or instead of) embedding it."""

    status = 400


class BadRequest(RequestError):
    """The body is not a Qdrant inference request, or asks for something not allowed."""

    status = 400


class Unauthorized(RequestError):
    """The service token is missing or wrong."""

    status = 401


class TooLarge(RequestError):
    """The body or the number of inputs is over the configured limit."""

    status = 413


class BodyTimeout(RequestError):
    """The request body did not arrive in time."""

    status = 408


class Overloaded(RequestError):
    """Too many requests are in flight."""

    status = 429


class BodiesOverloaded(Overloaded):
    """Too many request bodies are being read at once, or they hold the bytes allowed."""


class ClientGone(RequestError):
    """The client disconnected before its request body was complete (nobody reads the answer;
    499 is the status the log records, as nginx does)."""

    status = 499


class WarmupError(RuntimeError):
    """A model listed in ``[warmup]`` could not be loaded: the service does not become
    ready (and ``bm25x serve`` stops, exit status 1)."""


class RequestTimeout(RequestError):
    """The request's time budget ran out."""

    status = 504


@dataclass(frozen=True)
class Answer:
    """The HTTP answer to a failure: status, ``{"error": message}``, extra headers, and the
    error's class name for logs and metrics (never its text: it may quote the input)."""

    status: int
    message: str
    kind: str
    headers: dict[str, str] = field(default_factory=dict)


def _status(exc: BaseException) -> int:
    if isinstance(exc, RequestError):
        return exc.status
    if isinstance(exc, PartialInferenceError):
        return _worst([_status(e) for e in exc.errors] or [500])
    if isinstance(exc, MissingApiKeyError):
        return 401
    if isinstance(exc, ProviderResponseError):
        return 502
    if isinstance(exc, ProviderHTTPError):
        upstream = exc.status
        if upstream is None or upstream >= 500 or upstream == 408:
            return 503
        if upstream in (401, 403, 429):
            return upstream
        return 400  # the provider refused this input (bad dimensions, too long, ...)
    # A DimensionMismatchError that gets here is the caller's (mrl over the model's size): the
    # provider's wrong sizes are a ProviderDimensionError, a ProviderResponseError, a 502 above.
    if isinstance(exc, (UnknownModelError, BadInputError, DimensionMismatchError)):
        return 400
    if isinstance(exc, ModelNotAvailableError):
        return 503
    return 500


def _worst(statuses: list[int]) -> int:
    """One status for several failures: a rate limit first (the caller should just retry),
    then the server-side ones, then the caller's own mistakes."""
    if 429 in statuses:
        return 429
    server = [s for s in statuses if s >= 500]
    return max(server) if server else statuses[0]


def _provider_delay(exc: BaseException) -> float | None:
    """The longest delay the rate-limited providers behind ``exc`` asked for, if any."""
    if isinstance(exc, PartialInferenceError):
        delays = [d for d in map(_provider_delay, exc.errors) if d is not None]
        return max(delays) if delays else None
    if isinstance(exc, ProviderHTTPError) and exc.status == 429:
        return exc.retry_after
    return None


def answer_for(exc: BaseException, *, retry_after: int) -> Answer:
    """The answer to ``exc``. ``retry_after`` (seconds) goes into every 429."""
    status = _status(exc)
    if status != 500 and isinstance(exc, (RequestError, InferenceError)):
        message = redact(str(exc))
    else:
        # A bug (here or in a provider): its text could hold anything, the request's texts
        # included, so neither the answer nor the log shows it.
        message = f"internal error ({type(exc).__name__}); the service's log has its traceback"
    headers: dict[str, str] = {}
    if status == 429:
        # A provider's own delay, when it named one, beats the configured one (which is for
        # this service's own concurrency limit).
        upstream = _provider_delay(exc)
        if upstream is not None and upstream > 0:
            retry_after = math.ceil(upstream)
        headers["Retry-After"] = str(retry_after)
    return Answer(status, message, type(exc).__name__, headers)
