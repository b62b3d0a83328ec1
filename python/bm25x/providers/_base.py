"""What a provider is: the protocol every provider implements and the values it receives."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from bm25x._sparse import SparseVector

if TYPE_CHECKING:
    import httpx

__all__ = ["Call", "Item", "Kind", "Provider", "Vector"]

Kind = Literal["text", "image", "object"]

#: One embedding: sparse, dense (float32), or late interaction (one float32 array per token).
Vector = SparseVector | npt.NDArray[np.float32] | list[npt.NDArray[np.float32]]


@dataclass(frozen=True)
class Item:
    """One thing to embed: a text, an image (URL, base64, data URL, path or bytes) or another
    object (``InferenceObject.object``)."""

    kind: Kind
    value: Any


def texts_only(provider: str, model: str, items: Sequence[Item]) -> list[str]:
    """The texts of ``items``, for a text-only model; :class:`BadInputError` for anything else."""
    from bm25x.errors import BadInputError

    for item in items:
        if item.kind != "text" or not isinstance(item.value, str):
            raise BadInputError(
                f"{model} embeds text only, got a {item.kind}", provider=provider, model=model
            )
    return [item.value for item in items]


@dataclass
class Call:
    """What a provider needs to know about the call beyond the items.

    ``query`` selects query-side encoding; ``headers`` are the request headers the caller gave
    (lower-cased names; where API keys may be); ``client`` is the call's shared HTTP client.
    """

    query: bool = False
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)  # may hold keys
    client: httpx.AsyncClient | None = field(default=None, repr=False)


@runtime_checkable
class Provider(Protocol):
    """An embedding backend.

    ``name`` is used in errors. ``max_batch`` bounds the items of one :meth:`embed_batch` call
    (bm25x splits larger groups), ``max_concurrency`` the batches in flight at once for one
    call of :func:`bm25x.embed`. :meth:`embed_batch` gets items of one kind, for one model and
    one set of options (``mrl`` and API-key options already removed from ``options``; the key
    is in ``api_key_options``), and returns one vector per item, in order.
    """

    name: str
    max_batch: int
    max_concurrency: int

    def batch_limit(self, kind: Kind) -> int:
        """Items per request for this kind of input (at most ``max_batch``)."""
        ...

    async def embed_batch(
        self,
        model: str,
        items: Sequence[Item],
        options: Mapping[str, Any],
        call: Call,
        api_key_options: Mapping[str, str],
    ) -> list[Vector]:
        """Embed ``items`` with ``model``; one vector per item, in order."""
        ...
