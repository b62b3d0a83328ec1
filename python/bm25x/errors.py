"""The errors of :func:`bm25x.embed` and the providers, defined once.

Every error carries ``provider``, ``model``, ``status`` (the HTTP status, or ``None``),
``provider_message`` (the provider's own words, when it said any) and ``items`` (the positions
in the caller's input that the error concerns). API keys never appear in any of them: every
text that reaches an error goes through :func:`redact` first, which removes each key that bm25x
has resolved during this process (the :data:`MAX_SECRETS` most recently used), and pieces of
them left where a text was cut.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
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
    "MissingIdfWarning",
    "ModelNotAvailableError",
    "PartialInferenceError",
    "PartialUploadError",
    "ProviderConfigError",
    "ProviderHTTPError",
    "ProviderResponseError",
    "Secret",
    "SparseFormatError",
    "ThreadStartError",
    "UnknownModelError",
    "redact",
]

_MASK = "***"
#: How many distinct keys :func:`redact` knows at most (the least recently used is forgotten
#: first). A process that sees more distinct keys than this is unusual (one per tenant of a
#: service, say); the bound keeps redaction cheap and memory flat however many arrive.
MAX_SECRETS = 1024
#: The shortest piece of a key that :func:`redact` masks where a key was cut (a provider or a
#: log line shortening an echoed key): shorter pieces say too little to be worth hiding and
#: would mask ordinary words.
MIN_FRAGMENT = 8
# The characters a cut-off key can sit between; a token is a maximal run of anything else.
_TOKEN = re.compile(r"[^\s\"'`,;()\[\]{}<>|]+")


class Secret(str):
    """An API key (or a header holding one) that hides itself from ``repr()``, so it does not
    show in traceback locals (``capture_locals``, error trackers), debuggers or reprs of the
    containers holding it; ``str()``, formatting and encoding give the real value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(_MASK)


class _Registry:
    """The keys to redact: a bounded LRU, with the lookup structures :func:`redact` needs kept
    up to date on each change (never rebuilt or sorted per redaction)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.keys: OrderedDict[str, None] = OrderedDict()
        # Pieces of keys of at least MIN_FRAGMENT characters, counted so eviction can undo.
        self.heads: dict[str, int] = {}  # prefixes: a key cut at its end
        self.tails: dict[str, int] = {}  # suffixes: a key cut at its start
        self.longest = 0
        self._by_length: list[str] | None = []

    def add(self, key: str) -> None:
        with self.lock:
            if key in self.keys:
                self.keys.move_to_end(key)
                return
            self.keys[key] = None
            self._count(key, +1)
            while len(self.keys) > self.limit:
                old, _ = self.keys.popitem(last=False)
                self._count(old, -1)
            self._by_length = None

    def _count(self, key: str, step: int) -> None:
        for n in range(MIN_FRAGMENT, len(key)):
            for table, piece in ((self.heads, key[:n]), (self.tails, key[-n:])):
                left = table.get(piece, 0) + step
                if left:
                    table[piece] = left
                else:
                    table.pop(piece, None)

    def snapshot(self) -> tuple[list[str], int]:
        """The keys, longest first (sorted once per change), and the longest key's length."""
        with self.lock:
            if self._by_length is None:
                self._by_length = sorted(self.keys, key=len, reverse=True)
                self.longest = len(self._by_length[0]) if self._by_length else 0
            return self._by_length, self.longest

    def clear(self) -> None:
        with self.lock:
            self.keys.clear()
            self.heads.clear()
            self.tails.clear()
            self._by_length = []
            self.longest = 0


_REGISTRY = _Registry(MAX_SECRETS)


def remember_secret(secret: str) -> Secret:
    """Note a key so that :func:`redact` removes it from every later error text; returns it as
    a :class:`Secret`."""
    if len(secret) >= 4:
        _REGISTRY.add(str(secret))
    return Secret(secret)


def redact(text: str, limit: int | None = None) -> str:
    """``text`` with every remembered key replaced by ``***``, cut to ``limit`` characters
    (when given) after the keys are masked, so that a cut never leaves part of a key; pieces
    of keys (at least :data:`MIN_FRAGMENT` characters) left where something else cut a key
    are masked too."""
    keys, longest = _REGISTRY.snapshot()
    if not keys:
        return text if limit is None or len(text) <= limit else text[:limit] + "..."
    for key in keys:
        if key in text:
            text = text.replace(key, _MASK)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return _TOKEN.sub(lambda m: _mask_pieces(m.group(0), longest), text)


def _mask_pieces(token: str, longest: int) -> str:
    """``token`` with a key's head masked at its end and a key's tail masked at its start."""
    if len(token) < MIN_FRAGMENT:
        return token
    heads, tails = _REGISTRY.heads, _REGISTRY.tails
    stripped = token.rstrip(".!?")
    end = ""
    if len(stripped) != len(token):
        end = token[len(stripped) :]
    # The longest head of a key that the token ends with, and the longest tail it starts with.
    for n in range(min(len(stripped), longest), MIN_FRAGMENT - 1, -1):
        if stripped[-n:] in heads:
            stripped = stripped[:-n] + _MASK
            break
    for n in range(min(len(stripped), longest), MIN_FRAGMENT - 1, -1):
        if stripped[:n] in tails:
            stripped = _MASK + stripped[n:]
            break
    return stripped + end


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
    not be reached in time.

    ``retry_after``: the delay in seconds the provider's last answer asked for
    (``Retry-After`` or ``retry-after-ms``) when bm25x gave up on it, else ``None``; a service
    passes it on to its own callers."""

    def __init__(
        self,
        message: str,
        *,
        provider: str | None = None,
        model: str | None = None,
        status: int | None = None,
        provider_message: str | None = None,
        items: Sequence[int] = (),
        retry_after: float | None = None,
    ) -> None:
        super().__init__(
            message,
            provider=provider,
            model=model,
            status=status,
            provider_message=provider_message,
            items=items,
        )
        self.retry_after = retry_after


class ProviderConfigError(InferenceError, ValueError):
    """A provider is configured so that no request can succeed (a base URL that is not an
    ``http(s)`` URL with a host); the message says where the setting came from."""


class ProviderResponseError(ProviderHTTPError):
    """The provider answered 2xx but its body is not what its API documents (not JSON, too
    large, wrong shape, wrong number of vectors, empty vectors, NaN or infinite values, sizes
    that differ between the batches of one call)."""


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


class MissingIdfWarning(UserWarning):
    """BM25 vectors are written to, or searched in, a Qdrant sparse vector created without the
    IDF modifier (``modifier=models.Modifier.IDF``): Qdrant then scores by term frequency
    alone, and rare terms weigh no more than common ones. Recreate the collection with the
    modifier (``bm25x.qdrant.collection_config`` or the adapters' helpers do)."""
