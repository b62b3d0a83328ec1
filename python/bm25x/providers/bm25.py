"""``qdrant/bm25`` (and ``bm25``), ``Qdrant/bm25``: the Rust BM25 encoder of :class:`bm25x.Bm25`.

``qdrant/bm25`` is Qdrant server's flavour and is matched ignoring case, as Qdrant does;
``Qdrant/bm25`` spelled exactly so is fastembed's model of that name, the fastembed flavour.
An explicit ``flavor`` option wins over the name. Options are those of :class:`bm25x.Bm25`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from typing import Any

from bm25x._encoder import Bm25
from bm25x._native import OptionError
from bm25x.errors import BadInputError
from bm25x.providers._base import EmbedRequest, Kind, Vector, texts_only

__all__ = ["Bm25Provider", "bm25_flavor", "client_flavor", "shared_encoder"]

_CACHE_SIZE = 32
_cache: dict[str, Bm25] = {}
_cache_lock = threading.Lock()

BM25_MODELS: dict[str, str] = {"qdrant/bm25": "qdrant", "Qdrant/bm25": "fastembed"}
"""Model name -> bm25x flavour. ``qdrant/bm25`` is the model Qdrant's server runs (also
``bm25`` and other spellings of either name), ``Qdrant/bm25`` exactly is fastembed's (what
qdrant-client's local inference runs)."""


def bm25_flavor(model: str) -> str | None:
    """The bm25x flavour serving ``model``, or None when it is not a bm25 model.

    >>> bm25_flavor("Qdrant/bm25"), bm25_flavor("QDRANT/BM25"), bm25_flavor("openai/x")
    ('fastembed', 'qdrant', None)
    """
    if model in BM25_MODELS:
        return BM25_MODELS[model]
    return "qdrant" if model.lower() in ("qdrant/bm25", "bm25") else None


def client_flavor(model: str, *, local: bool) -> str | None:
    """The flavour in which qdrant-client (>= 1.17.1) itself has a ``Document`` of ``model``
    embedded, or None when it is not a bm25 model. The name is compared lower-cased, as both
    qdrant-client and the server compare it:

    - a remote client (``url=``, ``host=``) sends any spelling of ``qdrant/bm25`` to the
      server, which computes its own flavour (``"qdrant"``);
    - a local-mode client (``":memory:"``, ``path=``) runs fastembed's ``Qdrant/bm25`` on it
      (``"fastembed"``); fastembed also matches the name ignoring case.

    ``bm25`` is the server's other name for its model (qdrant-client does not embed it).

    >>> client_flavor("Qdrant/bm25", local=False), client_flavor("qdrant/bm25", local=True)
    ('qdrant', 'fastembed')
    """
    name = model.lower()
    if name == "qdrant/bm25":
        return "fastembed" if local else "qdrant"
    return "qdrant" if name == "bm25" else None


def shared_encoder(flavor: str, options: Any, *, threads: int | None = None) -> Bm25:
    """A process-wide cached encoder for a flavour and a Document's options (a mapping, or
    qdrant-client's ``Bm25Config``); an explicit ``flavor`` option wins, and so does a
    ``threads`` option (an execution setting, as in :class:`bm25x.Bm25`) over ``threads``.
    Bad options raise :class:`bm25x.OptionError` / ``TypeError`` as :class:`bm25x.Bm25`
    does."""
    dump = getattr(options, "model_dump", None)
    if callable(dump):
        options = dump(exclude_none=True)
    opts = {"flavor": flavor, **dict(options or {})}
    threads = opts.pop("threads", threads)
    key = json.dumps([opts, threads], sort_keys=True, default=repr)
    with _cache_lock:
        enc = _cache.get(key)
    if enc is None:
        enc = Bm25(threads=threads, **opts)
        with _cache_lock:
            if len(_cache) >= _CACHE_SIZE:
                _cache.pop(next(iter(_cache)))
            _cache[key] = enc
    return enc


class Bm25Provider:
    """Sparse BM25 vectors computed locally; queries get :meth:`bm25x.Bm25.encode_query`."""

    max_batch = 8192
    max_concurrency = 2
    local = True  # runs in-process: bm25x.embed builds no HTTP client for it

    def __init__(self, flavor: str = "qdrant", *, threads: int | None = None) -> None:
        self.flavor = flavor
        self.name = "bm25" if flavor == "qdrant" else "bm25-fastembed"
        self._threads = threads

    def __repr__(self) -> str:
        return f"Bm25Provider({self.flavor!r})"

    def batch_limit(self, kind: Kind) -> int:
        """Items per encoder call."""
        return self.max_batch

    def encoder(self, model: str, options: Mapping[str, Any]) -> Bm25:
        """The (cached) encoder for these options."""
        try:
            return shared_encoder(self.flavor, options, threads=self._threads)
        except (OptionError, TypeError, ValueError) as exc:
            raise BadInputError(
                f"bad options for {model}: {exc}", provider=self.name, model=model
            ) from exc

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        """Encode the texts in a worker thread (the encoder releases the GIL)."""
        model = request.model
        texts = texts_only(self.name, model, request.items)
        enc = self.encoder(model, request.options)
        method = enc.encode_query if request.call.query else enc.encode
        try:
            batch = await asyncio.get_running_loop().run_in_executor(None, method, texts)
        except ValueError as exc:  # text the encoder refuses
            raise BadInputError(str(exc), provider=self.name, model=model) from None
        return list(batch)
