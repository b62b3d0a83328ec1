"""``qdrant/bm25`` (and ``bm25``), ``Qdrant/bm25``: the Rust BM25 encoder of :class:`bm25x.Bm25`.

``qdrant/bm25`` is Qdrant server's flavour and is matched ignoring case, as Qdrant does;
``Qdrant/bm25`` spelled exactly so is fastembed's model of that name: the fastembed flavour
(fastembed's Python ``Bm25``). An explicit ``flavor`` option wins over the name. Options are
those of :class:`bm25x.Bm25`.

Encoders are cached per distinct options, least recently used out first, bounded in number
(:data:`CACHE_ENCODERS`) and in estimated memory (:data:`CACHE_BYTES`, see
:func:`encoder_bytes`); options over :data:`MAX_OPTIONS_BYTES` as JSON are refused with
:class:`bm25x.OptionError` naming the largest option (build a :class:`bm25x.Bm25` directly for
more).
"""

from __future__ import annotations

import asyncio
import threading
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

from bm25x._encoder import Bm25
from bm25x._native import OptionError
from bm25x._options import canonical_json, options_key, plain
from bm25x.errors import BadInputError
from bm25x.providers._base import Embeddings, EmbedRequest, Kind, Vector, texts_only

__all__ = [
    "CACHE_BYTES",
    "CACHE_ENCODERS",
    "INLINE_CHARS",
    "MAX_OPTIONS_BYTES",
    "Bm25Provider",
    "bm25_flavor",
    "client_flavor",
    "encoder_bytes",
    "shared_encoder",
]

#: The most encoders :func:`shared_encoder` keeps.
CACHE_ENCODERS = 32
#: The most memory the kept encoders take, as :func:`encoder_bytes` estimates it; an encoder
#: estimated over this is built for its call and not kept.
CACHE_BYTES = 128 * 1024 * 1024
#: The largest options (as JSON, UTF-8) :func:`shared_encoder` builds an encoder from. A
#: stopword list costs 15 to 30 times its JSON size once built (each word is a Python string
#: in the options and an entry of the native set); 1 MiB is about 100,000 words.
MAX_OPTIONS_BYTES = 1024 * 1024
#: Texts of at most this many characters in all are encoded on the event loop's thread; more
#: go to a worker thread, so that a long batch never holds up the loop (a character costs the
#: encoder about 10 ns: 4,096 of them, some 40 us).
INLINE_CHARS = 4096
# What encoder_bytes counts, measured on Linux x86-64 (RSS growth per encoder, CPython 3.11):
# about 10 KiB for the plain encoder, 18 KiB per stopword language (541 KiB for all 30), and
# 185 to 221 bytes per custom stopword of 3 to 20 characters, Latin or CJK.
_BASE_BYTES = 64 * 1024
_LANGUAGE_BYTES = 20 * 1024
_WORD_BYTES = 224

_cache: OrderedDict[bytes, tuple[Bm25, int]] = OrderedDict()
_cache_bytes = 0
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


def encoder_bytes(encoder: Bm25) -> int:
    """An estimate (from above) of the memory ``encoder`` holds: a fixed part, each stopword
    language, and each custom stopword with its options' copy."""
    config = encoder.config
    words = config.get("custom_stopwords") or []
    return (
        _BASE_BYTES
        + _LANGUAGE_BYTES * len(config.get("stopword_languages") or [])
        + sum(_WORD_BYTES + len(str(w).encode("utf-8", "surrogatepass")) for w in words)
    )


def _json_size(value: Any) -> int:
    text = canonical_json(value)
    return len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))


def shared_encoder(flavor: str, options: Any, *, threads: int | None = None) -> Bm25:
    """A process-wide cached encoder for a flavour and a Document's options (a mapping, or
    qdrant-client's ``Bm25Config``); an explicit ``flavor`` option wins, and so does a
    ``threads`` option (an execution setting, as in :class:`bm25x.Bm25`) over ``threads``.
    Bad options raise :class:`bm25x.OptionError` / ``TypeError`` as :class:`bm25x.Bm25`
    does, and so do options over :data:`MAX_OPTIONS_BYTES`."""
    global _cache_bytes
    opts = {"flavor": flavor, **plain(options or {})}
    threads = opts.pop("threads", threads)
    data = canonical_json([opts, threads]).encode("utf-8", "surrogatepass")
    if len(data) > MAX_OPTIONS_BYTES:
        biggest = max(opts, key=lambda name: _json_size(opts[name]))
        raise OptionError(
            f'option "{biggest}": {_json_size(opts[biggest]):,} bytes as JSON, which puts the '
            f"options at {len(data):,} bytes, over the limit of {MAX_OPTIONS_BYTES:,} bytes "
            "for a model's options; for more, build a bm25x.Bm25 with them directly"
        )
    key = options_key([opts, threads])  # not the text: it may be a megabyte
    with _cache_lock:
        found = _cache.get(key)
        if found is not None:
            _cache.move_to_end(key)
            return found[0]
    enc = Bm25(threads=threads, **opts)
    cost = encoder_bytes(enc)
    if cost > CACHE_BYTES:
        return enc
    with _cache_lock:
        if key not in _cache:
            _cache[key] = (enc, cost)
            _cache_bytes += cost
        while len(_cache) > CACHE_ENCODERS or _cache_bytes > CACHE_BYTES:
            _, (_, old) = _cache.popitem(last=False)
            _cache_bytes -= old
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
        """Encode the texts: in a worker thread (the encoder releases the GIL), or right here
        when they are under :data:`INLINE_CHARS` in all (a few microseconds of encoding, where
        handing them to a thread and back costs tens of microseconds of CPU)."""
        model = request.model
        texts = texts_only(self.name, model, request.items)
        enc = self.encoder(model, request.options)
        query = request.call.query
        method = enc.encode_query if query else enc.encode

        def work(texts: list[str]) -> Embeddings:
            batch = method(texts)
            # Asked for usage: the terms the encoder kept, per text (they tokenize again).
            tokens = [len(enc.terms(t, query=query)) for t in texts] if count else None
            return Embeddings(batch, tokens=tokens)

        count = request.call.count_tokens
        try:
            if sum(map(len, texts)) <= INLINE_CHARS:
                return work(texts)
            return await asyncio.get_running_loop().run_in_executor(None, work, texts)
        except ValueError as exc:  # text the encoder refuses
            raise BadInputError(str(exc), provider=self.name, model=model) from None
