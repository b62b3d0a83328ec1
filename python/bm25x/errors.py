"""The errors of :func:`bm25x.embed` and the providers, defined once.

Every error carries ``provider``, ``model``, ``status`` (the HTTP status, or ``None``),
``provider_message`` (the provider's own words, when it said any) and ``items`` (the positions
in the caller's input that the error concerns). API keys never appear in any of them: every
text that reaches an error goes through :func:`redact` first, which removes each key that bm25x
has resolved during this process.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

# Raised by the native encoder, so defined there; re-exported here with every other error.
from bm25x._native import InternalError, ThreadStartError

__all__ = [
    "BadInputError",
    "DimensionMismatchError",
    "InferenceError",
    "InternalError",
    "MissingApiKeyError",
    "ModelNotAvailableError",
    "PartialInferenceError",
    "PartialUploadError",
    "ProviderHTTPError",
    "ProviderResponseError",
    "Secret",
    "SparseFormatError",
    "ThreadStartError",
    "UnknownModelError",
    "redact",
]

_SECRETS: set[str] = set()
_SECRETS_LOCK = threading.Lock()
_MASK = "***"


class Secret(str):
    """An API key (or a header holding one) that hides itself from ``repr()``, so it does not
    show in traceback locals (``capture_locals``, error trackers), debuggers or reprs of the
    containers holding it; ``str()``, formatting and encoding give the real value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(_MASK)


def remember_secret(secret: str) -> Secret:
    """Note a key so that :func:`redact` removes it from every later error text; returns it as
    a :class:`Secret`."""
    if len(secret) >= 4:
        with _SECRETS_LOCK:
            _SECRETS.add(str(secret))
    return Secret(secret)


def redact(text: str) -> str:
    """``text`` with every remembered key replaced by ``***``."""
    with _SECRETS_LOCK:
        secrets = sorted(_SECRETS, key=len, reverse=True)
    for secret in secrets:
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class InferenceError(Exception):
    """Embedding failed. The base of every error :func:`bm25x.embed` raises for a model or
    provider problem."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status: int | None = None,
        provider_message: str | None = None,
        items: Sequence[int] = (),
    ) -> None:
        self.message = redact(message)
        self.provider = provider
        self.model = model
        self.status = status
        self.provider_message = redact(provider_message) if provider_message else None
        self.items: list[int] = list(items)
        super().__init__(self.message)

    def with_items(self, items: Sequence[int]) -> InferenceError:
        """Set the input positions this error concerns (returns ``self``)."""
        self.items = sorted(set(items))
        return self

    def __str__(self) -> str:
        parts = [self.message]
        where = ", ".join(
            f"{name}={value!r}"
            for name, value in (
                ("provider", self.provider),
                ("model", self.model),
                ("status", self.status),
            )
            if value is not None
        )
        if where:
            parts.append(f"({where})")
        if self.provider_message and self.provider_message not in self.message:
            parts.append(f"provider said: {self.provider_message}")
        if self.items:
            shown = ", ".join(str(i) for i in self.items[:20])
            more = f", ... ({len(self.items)} items)" if len(self.items) > 20 else ""
            parts.append(f"items: [{shown}{more}]")
        return redact(" ".join(parts))

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        state = dict(self.__dict__)
        return (_rebuild, (type(self), state))


def _rebuild(cls: type[InferenceError], state: dict[str, Any]) -> InferenceError:
    err = cls.__new__(cls)
    Exception.__init__(err, state.get("message", ""))
    err.__dict__.update(state)
    return err


class UnknownModelError(InferenceError, LookupError):
    """No provider serves the model (and the caller did not ask for Qdrant Cloud passthrough)."""


class MissingApiKeyError(InferenceError):
    """A provider needs an API key and none was given in options, headers or the environment."""


class BadInputError(InferenceError, ValueError):
    """An item, or its options, cannot be sent to its model (e.g. an image to a text-only
    provider, a non-string text, an image over the size limit, bad bm25 options)."""


class ModelNotAvailableError(InferenceError):
    """A local model (fastembed) cannot be loaded: the package or the model files are absent."""


class ProviderHTTPError(InferenceError):
    """The provider answered with an error status (after retries, for 429 and 5xx), or could
    not be reached in time."""


class ProviderResponseError(ProviderHTTPError):
    """The provider answered 2xx but its body is not what its API documents (not JSON, wrong
    shape, wrong number of vectors)."""


class DimensionMismatchError(InferenceError):
    """Vectors have another size than asked for (``dimensions``, ``mrl``), or differ in size
    within one model's answer."""


class PartialInferenceError(InferenceError):
    """Some items were embedded and some failed.

    ``items`` lists every failed input position; ``errors`` holds the underlying errors (each
    with its own ``items``); ``results`` holds one entry per input, ``None`` where it failed.
    """

    def __init__(
        self, errors: Sequence[InferenceError], results: Sequence[Any], n_items: int
    ) -> None:
        failed = sorted({i for e in errors for i in e.items})
        kinds = "; ".join(
            f"{type(e).__name__} for {len(e.items)} item(s): {e.message}" for e in errors[:5]
        )
        super().__init__(
            f"{len(failed)} of {n_items} items failed: {kinds}",
            items=failed,
        )
        self.errors: list[InferenceError] = list(errors)
        self.results: list[Any] = list(results)


class PartialUploadError(Exception):
    """A streamed upload (``bm25x.qdrant.Client.upload_points``) stopped at a point that cannot
    be encoded. ``index`` and ``point_id`` name that point; ``written`` points before it were
    sent to Qdrant (``exact``: they are written; else at most that many, as with
    ``parallel > 1``); nothing from the failing point on was sent. The cause is chained."""

    def __init__(
        self, message: str, *, index: int, point_id: Any, written: int, exact: bool
    ) -> None:
        super().__init__(message)
        self.index = index
        self.point_id = point_id
        self.written = written
        self.exact = exact


class SparseFormatError(ValueError):
    """Arrays given to :class:`bm25x.SparseVector` / :class:`bm25x.SparseBatch` break their
    invariants (the ones bm25x's own vectors satisfy): indices strictly ascending within a
    vector (so no duplicates), values finite, ``indptr`` starting at 0, never decreasing and
    ending at the number of entries. The message names the first offending position."""
