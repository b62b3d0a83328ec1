"""Every public error and warning of the bm25x library, defined or re-exported here (one place
to import them from, as httpx does).

The hierarchy (``Exception`` subclasses unless marked as warnings)::

    ValueError
    ├── OptionError            bad encoder option (name, value, how to fix); native
    ├── SparseFormatError      arrays that break SparseVector/SparseBatch invariants
    └── VectorSizeError        a dense vector does not fit the collection (bm25x.qdrant)
    RuntimeError
    ├── InternalError          a bug inside bm25x's native core (please report); native
    └── ThreadStartError       the native thread pool could not start a thread; native
    Exception
    ├── PartialUploadError     a streamed upload stopped at a point that cannot be encoded
    └── InferenceError         bm25x.embed / the providers failed
        ├── UnknownModelError        (also LookupError) no provider serves the model
        ├── MissingApiKeyError       no API key in options, headers or the environment
        ├── BadInputError            (also ValueError) an item or its options cannot be sent
        │   └── KeyTooLongError      an API key over MAX_KEY_BYTES, refused before it is kept
        ├── ModelNotAvailableError   a local model's package or files are absent
        ├── ProviderConfigError      (also ValueError) a provider set up so nothing can work
        ├── ProviderHTTPError        an error status, or no answer in time
        │   └── ProviderResponseError  an answer bm25x cannot use (malformed, a redirect)
        │       └── ProviderDimensionError  (also DimensionMismatchError) its vectors' sizes
        ├── DimensionMismatchError   vectors of another size than asked for
        └── PartialInferenceError    some items embedded, some failed
    UserWarning
    ├── MissingIdfWarning      BM25 vectors in a sparse vector without the IDF modifier
    └── ServerOptionWarning    an option Qdrant's server accepts silently but reads otherwise

Every :class:`InferenceError` carries ``provider``, ``model``, ``status`` (the HTTP status, or
``None``), ``provider_message`` (the provider's own words, when it said any) and ``items`` (the
positions in the caller's input that the error concerns). API keys never appear in any of them:
every text that reaches an error goes through :func:`redact` first (see :mod:`bm25x._secrets`).

The errors of the ``bm25x`` command (``StoreError``, ``CorpusError``) belong to the
application: they live in ``bm25x.app.errors`` and ``bm25x.app`` exports them. Imported from
here they still work, deprecated: this module's ``__getattr__`` imports them when they are asked
for (never when bm25x is imported) and warns with a :class:`DeprecationWarning` naming the new
place. It is the one place the library refers to the application, and the layering test
(``tests/api/test_layering.py``) allows it and nothing else.
"""

from __future__ import annotations

# Aliased: this module's public names are exactly its errors (and redact/Secret).
from collections.abc import Sequence as _Sequence
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

# Raised by the native encoder, so defined there; re-exported here with every other error.
from bm25x._native import InternalError, OptionError, ThreadStartError
from bm25x._redact import Secret, redact

if _TYPE_CHECKING:
    from typing_extensions import TypedDict as _TypedDict
    from typing_extensions import Unpack as _Unpack

    class _Details(_TypedDict, total=False):
        """The keyword arguments of :class:`InferenceError`, for subclasses that add some."""

        provider: str | None
        model: str | None
        status: int | None
        provider_message: str | None
        items: _Sequence[int]


__all__ = [
    "BadInputError",
    "DimensionMismatchError",
    "InferenceError",
    "InternalError",
    "KeyTooLongError",
    "MissingApiKeyError",
    "MissingIdfWarning",
    "ModelNotAvailableError",
    "OptionError",
    "PartialInferenceError",
    "PartialUploadError",
    "ProviderConfigError",
    "ProviderDimensionError",
    "ProviderHTTPError",
    "ProviderResponseError",
    "Secret",
    "ServerOptionWarning",
    "SparseFormatError",
    "ThreadStartError",
    "UnknownModelError",
    "VectorSizeError",
    "redact",
]


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
        items: _Sequence[int] = (),
    ) -> None:
        self.message = redact(message)
        self.provider = provider
        self.model = model
        self.status = status
        self.provider_message = redact(provider_message) if provider_message else None
        self.items: list[int] = list(items)
        super().__init__(self.message)

    def with_items(self, items: _Sequence[int]) -> InferenceError:
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

    def __reduce__(self) -> tuple[_Any, ...]:
        state = dict(self.__dict__)
        return (_rebuild, (type(self), state))


def _rebuild(cls: type[InferenceError], state: dict[str, _Any]) -> InferenceError:
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


class KeyTooLongError(BadInputError):
    """An API key (an option, a header, a provider's ``api_key``, an environment variable) is
    longer than ``bm25x._secrets.MAX_KEY_BYTES`` (4,096 bytes); bm25x refuses it before
    storing anything of it. The message says where the key came from, never the key."""


class ModelNotAvailableError(InferenceError):
    """A local model (the local-models provider, through the fastembed package) cannot be
    loaded: the package or the model files are absent."""


class ProviderHTTPError(InferenceError):
    """The provider answered with an error status (after retries, for 429 and 5xx), or could
    not be reached in time.

    ``retry_after``: the delay in seconds the provider's last answer asked for
    (``Retry-After`` or ``retry-after-ms``) when bm25x gave up on it, else ``None``; a service
    passes it on to its own callers."""

    def __init__(
        self, message: str, *, retry_after: float | None = None, **details: _Unpack[_Details]
    ) -> None:
        super().__init__(message, **details)
        self.retry_after = retry_after


class ProviderConfigError(InferenceError, ValueError):
    """A provider is configured so that no request can succeed (a base URL that is not an
    ``http(s)`` URL with a host); the message says where the setting came from."""


class ProviderResponseError(ProviderHTTPError):
    """The provider answered, but with nothing bm25x can use: a 2xx whose body is not what its
    API documents (not JSON, too large, wrong shape, wrong number of vectors, empty vectors,
    NaN or infinite values, vectors of mixed sizes or of another size than asked for), or a
    redirect (3xx) bm25x does not follow. A fault of the provider's answer, not of the
    input: a service answers it as a bad gateway (502)."""


class DimensionMismatchError(InferenceError):
    """Vectors have another size than asked for (``dimensions``, ``mrl``), or differ in size
    within one model's answer. When the provider's vectors are at fault, the error is a
    :class:`ProviderDimensionError`; ``mrl`` larger than the model's size is the caller's."""


class ProviderDimensionError(ProviderResponseError, DimensionMismatchError):
    """The provider's vectors differ in size within one model's answer, or have another size
    than the ``dimensions`` (``output_dimension``) asked for: a malformed answer
    (:class:`ProviderResponseError`) and a :class:`DimensionMismatchError` both."""


class PartialInferenceError(InferenceError):
    """Some items were embedded and some failed.

    ``items`` lists every failed input position; ``errors`` holds the underlying errors (each
    with its own ``items``); ``results`` holds one entry per input, ``None`` where it failed.
    """

    def __init__(
        self, errors: _Sequence[InferenceError], results: _Sequence[_Any], n_items: int
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
        self.results: list[_Any] = list(results)


class PartialUploadError(Exception):
    """A streamed upload (``bm25x.qdrant.Client.upload_points``) stopped at a point that cannot
    be encoded. ``index`` and ``point_id`` name that point; ``written`` points before it were
    sent to Qdrant (``exact``: they are written; else at most that many, as with
    ``parallel > 1``); nothing from the failing point on was sent. The cause is chained."""

    def __init__(
        self, message: str, *, index: int, point_id: _Any, written: int, exact: bool
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


class ServerOptionWarning(UserWarning):
    """A ``qdrant/bm25`` option a Qdrant server accepts without a word but does not read as
    written, met where bm25x encodes as the server would (the ``bm25x.qdrant`` wrapper of a
    remote client, :func:`bm25x.qdrant.server_options`): an unknown key (ignored), a language
    the server does not know (treated as ``"none"``: no stopwords, no stemmer), and the like.
    bm25x encodes as the server does, and warns once per distinct problem per process.

    ``option`` is the option's path (``"language"``, ``"stopwords.English"``), ``value`` the
    value given, ``effect`` what the server does with it and ``advice`` what to write instead.
    To make it an error: ``strict_options=True`` on ``bm25x.qdrant.wrap`` / ``Client`` (raises
    :class:`OptionError`), or ``warnings.simplefilter("error", ServerOptionWarning)`` (raises
    this warning, each time)."""

    def __init__(
        self,
        message: str,
        *,
        option: str = "",
        value: _Any = None,
        effect: str = "",
        advice: str = "",
    ) -> None:
        super().__init__(message)
        self.option = option
        self.value = value
        self.effect = effect
        self.advice = advice


class VectorSizeError(ValueError):
    """A dense vector computed from a model does not fit the collection's vector size."""


def __getattr__(name: str) -> type[Exception]:
    """``StoreError`` and ``CorpusError``, errors of the ``bm25x`` command that were defined here,
    from ``bm25x.app.errors`` with a :class:`DeprecationWarning`: imported when asked for, so
    that importing the library never imports the application."""
    if name not in ("StoreError", "CorpusError"):
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import warnings

    from bm25x.app.errors import CorpusError, StoreError

    warnings.warn(
        f"bm25x.errors.{name} is deprecated: it is an error of the bm25x command, import it "
        f"from bm25x.app (from bm25x.app import {name})",
        DeprecationWarning,
        stacklevel=2,
    )
    return StoreError if name == "StoreError" else CorpusError
