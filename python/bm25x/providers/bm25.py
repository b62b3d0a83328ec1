"""``qdrant/bm25`` (and ``bm25``), ``Qdrant/bm25``: the Rust BM25 encoder of :class:`bm25x.Bm25`.

``qdrant/bm25`` is Qdrant server's flavour and is matched ignoring case, as Qdrant does;
``Qdrant/bm25`` spelled exactly so is fastembed's model of that name, the fastembed flavour.
An explicit ``flavor`` option wins over the name. Options are those of :class:`bm25x.Bm25`.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from bm25x._encoder import Bm25
from bm25x._native import OptionError
from bm25x.errors import BadInputError
from bm25x.providers._base import Call, Item, Kind, Vector, texts_only

__all__ = ["Bm25Provider"]

_CACHE_SIZE = 32


class Bm25Provider:
    """Sparse BM25 vectors computed locally; queries get :meth:`bm25x.Bm25.encode_query`."""

    max_batch = 8192
    max_concurrency = 2

    def __init__(self, flavor: str = "qdrant", *, threads: int | None = None) -> None:
        self.flavor = flavor
        self.name = "bm25" if flavor == "qdrant" else "bm25-fastembed"
        self._threads = threads
        self._encoders: dict[str, Bm25] = {}
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"Bm25Provider({self.flavor!r})"

    def batch_limit(self, kind: Kind) -> int:
        """Items per encoder call."""
        return self.max_batch

    def encoder(self, model: str, options: Mapping[str, Any]) -> Bm25:
        """The (cached) encoder for these options."""
        opts = {"flavor": self.flavor, **options}
        key = json.dumps(opts, sort_keys=True, default=repr)
        with self._lock:
            enc = self._encoders.get(key)
        if enc is not None:
            return enc
        threads = opts.pop("threads", self._threads)  # bm25x's own option, as in Bm25
        try:
            enc = Bm25(threads=threads, **opts)
        except (OptionError, TypeError, ValueError) as exc:
            raise BadInputError(
                f"bad options for {model}: {exc}", provider=self.name, model=model
            ) from exc
        with self._lock:
            if len(self._encoders) >= _CACHE_SIZE:
                self._encoders.pop(next(iter(self._encoders)))
            self._encoders[key] = enc
        return enc

    async def embed_batch(
        self,
        model: str,
        items: Sequence[Item],
        options: Mapping[str, Any],
        call: Call,
        api_key_options: Mapping[str, str],
    ) -> list[Vector]:
        """Encode the texts in a worker thread (the encoder releases the GIL)."""
        texts = texts_only(self.name, model, items)
        enc = self.encoder(model, options)
        method = enc.encode_query if call.query else enc.encode
        try:
            batch = await asyncio.get_running_loop().run_in_executor(None, method, texts)
        except ValueError as exc:  # text the encoder refuses
            raise BadInputError(str(exc), provider=self.name, model=model) from None
        return list(batch)
