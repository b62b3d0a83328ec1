"""What a provider is: the protocol every provider implements and the values it receives."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from bm25x._sparse import SparseVector
from bm25x.providers._fetch import FetchPolicy

if TYPE_CHECKING:
    import httpx

__all__ = [
    "Call",
    "EmbedRequest",
    "Embeddings",
    "Item",
    "Kind",
    "Provider",
    "Vector",
    "kind_of",
    "vector_problem",
]

DEFAULT_FETCH_POLICY = FetchPolicy()

Kind = Literal["text", "image", "object"]

#: One embedding: sparse, dense (float32), or late interaction (one float32 array per token).
Vector = SparseVector | npt.NDArray[np.float32] | list[npt.NDArray[np.float32]]


@dataclass(frozen=True)
class Item:
    """One thing to embed: a text, an image (URL, base64, data URL, path or bytes) or another
    object (``InferenceObject.object``)."""

    kind: Kind
    value: Any


def vector_problem(vector: Any) -> str | None:
    """What makes a vector unusable as an embedding (no values, NaN or infinite values), or
    ``None``; for dense, late-interaction (each row) and sparse vectors alike."""
    if isinstance(vector, SparseVector):
        values = np.asarray(vector.values)
        if values.size and not np.isfinite(values).all():
            return "has a NaN or infinite value"
        return None
    if isinstance(vector, list):
        if not vector:
            return "is empty"
        return next((p for p in map(vector_problem, vector) if p is not None), None)
    array = np.asarray(vector)
    if array.size == 0:
        return "is empty"
    if array.dtype.kind in "fc" and not np.isfinite(array).all():
        bad = int(np.flatnonzero(~np.isfinite(array.ravel()))[0])
        return f"has a NaN or infinite value (at position {bad})"
    return None


def kind_of(item: Item) -> str:
    """An item's kind with its article, for error texts.

    >>> kind_of(Item("object", {})), kind_of(Item("image", b"")), kind_of(Item("text", ""))
    ('an object', 'an image', 'a text')
    """
    return f"{'an' if item.kind[:1] in ('a', 'e', 'i', 'o', 'u') else 'a'} {item.kind}"


def texts_only(provider: str, model: str, items: Sequence[Item]) -> list[str]:
    """The texts of ``items``, for a text-only model; :class:`BadInputError` for anything else."""
    from bm25x.errors import BadInputError

    for item in items:
        if item.kind != "text" or not isinstance(item.value, str):
            raise BadInputError(
                f"{model} embeds text only, got {kind_of(item)}"
                + ("" if item.kind != "text" else f" of type {type(item.value).__name__}"),
                provider=provider,
                model=model,
            )
    return [item.value for item in items]


class Call:
    """What a provider needs to know about the call beyond the items.

    ``query`` selects query-side encoding; ``headers`` are the request headers the caller gave
    (lower-cased names; where API keys may be); ``fetch_policy`` governs image URLs a provider
    fetches itself; ``deadline`` is the ``time.monotonic()`` instant by which the call must end
    (``None``: no deadline). ``count_tokens``: the caller asked for token counts
    (``usage=``); a provider that counts at a cost of its own (local models tokenize again)
    does so only then, and returns :class:`Embeddings`.

    Two HTTP clients, both made on first use only (so local models never build one):
    :attr:`http` is what bm25x's own HTTP providers post through
    (``bm25x.providers._http.post_json`` takes it): the caller's ``http_client``, else bm25x's
    pooled ``aiohttp.ClientSession``. :attr:`client` is an ``httpx.AsyncClient`` for providers
    that send requests themselves: the caller's, else bm25x's pooled one.
    """

    __slots__ = (
        "_client",
        "_connect",
        "_http",
        "_open",
        "count_tokens",
        "deadline",
        "fetch_policy",
        "headers",
        "query",
    )

    def __init__(
        self,
        query: bool = False,
        headers: Mapping[str, str] | None = None,
        client: httpx.AsyncClient | None = None,
        fetch_policy: FetchPolicy = DEFAULT_FETCH_POLICY,
        deadline: float | None = None,
        connect: Callable[[], httpx.AsyncClient] | None = None,
        http: Any = None,
        open_http: Callable[[], Any] | None = None,
        count_tokens: bool = False,
    ) -> None:
        self.query = query
        self.count_tokens = count_tokens
        self.headers: Mapping[str, str] = {} if headers is None else headers  # may hold keys
        self.fetch_policy = fetch_policy
        self.deadline = deadline
        self._client = client
        self._connect = connect
        self._http = http
        self._open = open_http

    @property
    def client(self) -> httpx.AsyncClient:
        """The ``httpx.AsyncClient``: the one given, else one from ``connect`` (bm25x's pooled
        client), made on first use."""
        if self._client is None:
            if self._connect is None:
                raise RuntimeError("this Call has no HTTP client; bm25x.embed gives providers one")
            self._client = self._connect()
        return self._client

    @property
    def http(self) -> Any:
        """The client bm25x's HTTP providers post through: the one given (an
        ``httpx.AsyncClient`` or an ``aiohttp.ClientSession``), else one from ``open_http``
        (bm25x's pooled session), else :attr:`client`; made on first use."""
        if self._http is None:
            self._http = self._open() if self._open is not None else self.client
        return self._http

    def __repr__(self) -> str:  # headers may hold keys: never shown
        return (
            f"Call(query={self.query!r}, fetch_policy={self.fetch_policy!r}, "
            f"deadline={self.deadline!r})"
        )


class Embeddings(list[Any]):
    """What :meth:`Provider.embed_batch` may return instead of a plain list: the vectors, in
    order, and ``tokens``, the tokens the provider counted for them: an ``int`` for the batch
    (an API's billed or used tokens), a list of one ``int`` per item (a local model's count),
    or ``None`` when it does not say (as for a plain list)."""

    def __init__(
        self, vectors: Iterable[Any] = (), tokens: int | Sequence[int] | None = None
    ) -> None:
        super().__init__(vectors)
        self.tokens = tokens


@dataclass(frozen=True)
class EmbedRequest:
    """One batch for a provider: items of one kind, for one model and one set of options.

    ``options`` has ``mrl`` and the API-key options removed (the keys are in
    ``api_key_options``, as :class:`bm25x.errors.Secret` values that never show in a repr);
    ``call`` says what holds for the whole call (query side, headers, HTTP client, deadline).
    """

    model: str
    items: Sequence[Item]
    options: Mapping[str, Any] = field(default_factory=dict)
    call: Call = field(default_factory=Call)
    api_key_options: Mapping[str, str] = field(default_factory=dict, repr=False)


@runtime_checkable
class Provider(Protocol):
    """An embedding backend.

    ``name`` is used in errors. ``max_batch`` bounds the items of one :meth:`embed_batch` call
    (bm25x splits larger groups), ``max_concurrency`` the batches in flight at once for one
    call of :func:`bm25x.embed`. A provider that never uses the network may set a class
    attribute ``local = True``: calls that need only such providers run without an HTTP client.
    :meth:`embed_batch` gets one :class:`EmbedRequest` and returns one vector per item, in
    order: a list, or :class:`Embeddings` to say how many tokens it counted.
    """

    name: str
    max_batch: int
    max_concurrency: int

    def batch_limit(self, kind: Kind) -> int:
        """Items per request for this kind of input (at most ``max_batch``)."""
        ...

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        """Embed ``request.items`` with ``request.model``; one vector per item, in order."""
        ...
