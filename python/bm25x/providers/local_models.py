"""The local-models provider: the ONNX models the fastembed package lists (dense, sparse, late
interaction, image), run in this process through the optional extra ``pip install
bm25x-sparse[fastembed]``, imported only when such a model is used.

Not to be confused with the fastembed flavour of the BM25 encoder (``Bm25(flavor="fastembed")``,
fastembed's Python ``Bm25``), which bm25x computes itself and ``bm25x.providers.bm25`` serves,
nor with the drop-in :mod:`bm25x.integrations.fastembed`. This module was
``bm25x.providers.fastembed`` before; that name still imports, with a DeprecationWarning.

Any model fastembed lists is served under its own name (``"BAAI/bge-small-en-v1.5"``) and
under ``fastembed/<name>`` (a model name prefix: part of the protocol, unchanged by the module's
new name). Options go to fastembed's model constructor; the useful ones for working offline are
``specific_model_path`` (a directory holding the model's ONNX file and tokenizer files, e.g.
from a package that ships them), ``cache_dir`` (a cache filled by an earlier download;
``FASTEMBED_CACHE_PATH`` works too) and ``local_files_only`` (never contact the hub; also
implied by ``HF_HUB_OFFLINE=1``). Options fastembed would silently ignore are refused, naming
them.

Images: a data URL, an ``http(s)`` URL (fetched by bm25x under the call's ``fetch_policy``)
or base64 as a string; a local file only as a path object (``pathlib.Path``) or as bytes. A
string is never opened as a file name: strings are what remote callers send.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import inspect
import io
import json
import os
import re
import threading
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from bm25x._sparse import SparseVector
from bm25x.errors import BadInputError, ModelNotAvailableError
from bm25x.providers._base import (
    Call,
    Embeddings,
    EmbedRequest,
    Item,
    Kind,
    Vector,
    kind_of,
    texts_only,
)
from bm25x.providers._batching import Batcher
from bm25x.providers._fetch import fetch_image, split_data_url

__all__ = ["LocalModelProvider"]


class _ModelBatcher(Batcher):
    """A :class:`Batcher` that keeps the model instance it serves alive (the key is its id)."""

    def __init__(
        self, instance: Any, run: Callable[[list[str]], list[Any]], budget: int, max_items: int
    ) -> None:
        super().__init__(run, budget, max_items)
        self.instance = instance


_KINDS = (
    ("dense", "TextEmbedding"),
    ("sparse", "SparseTextEmbedding"),
    ("late", "LateInteractionTextEmbedding"),
    ("image", "ImageEmbedding"),
)

# Texts of at most this many characters in all are counted on the event loop's thread.
_INLINE_CHARS = 4096

# Any "scheme://" start; only http(s) is fetched (the fetch policy refuses other schemes).
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")

_HOW = (
    "To use it offline, pass options={'specific_model_path': DIR} with DIR holding the "
    "model's ONNX file and tokenizer files, or options={'cache_dir': DIR} (or set "
    "FASTEMBED_CACHE_PATH) with a cache from an earlier download; or let fastembed download it "
    "(needs access to the Hugging Face hub)."
)


def _import_fastembed() -> Any:
    try:
        import fastembed
    except ImportError as exc:
        raise ModelNotAvailableError(
            f"local models (bm25x.providers.local_models) need the fastembed package: "
            f"pip install 'bm25x-sparse[fastembed]' ({exc})",
            provider="fastembed",
        ) from None
    return fastembed


class LocalModelProvider:
    """Runs the fastembed package's models locally, in worker threads, one loaded instance per
    (model, options), at most :attr:`max_loaded` of them; options fastembed does not take are
    refused. Registered under the ``fastembed/`` prefix and as the catch-all."""

    #: The provider's name in errors, usage and metrics labels (kept: callers match on it).
    name = "fastembed"
    max_batch = 256
    max_concurrency = 1
    local = True  # runs in-process: bm25x.embed builds no HTTP client for it

    #: Loaded models kept at once (least recently used dropped first): each distinct set of
    #: options loads its own ONNX session, hundreds of MB for larger models.
    max_loaded = 16

    #: The padded tokens (texts times the longest one's tokens) of one model call that
    #: concurrent calls share (see :mod:`bm25x.providers._batching`), as text-embeddings-
    #: inference's ``max_batch_tokens`` (the same default); 0: each call runs alone.
    max_batch_tokens = 16384

    def __init__(self, *, max_batch_tokens: int | None = None) -> None:
        if max_batch_tokens is not None:
            self.max_batch_tokens = max_batch_tokens
        self._batchers: weakref.WeakKeyDictionary[
            asyncio.AbstractEventLoop, dict[tuple[int, str, bool], _ModelBatcher]
        ] = weakref.WeakKeyDictionary()
        self._models: OrderedDict[str, tuple[str, Any]] = OrderedDict()
        self._accepted: dict[str, frozenset[str]] = {}
        self._names: dict[str, tuple[str, str]] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "LocalModelProvider()"

    def batch_limit(self, kind: Kind) -> int:
        """Items per call to the model."""
        return self.max_batch

    def catalogue(self) -> dict[str, tuple[str, str]]:
        """Lower-cased model name -> (kind, fastembed's spelling), for every model fastembed
        lists; empty when fastembed is not installed."""
        if self._names is not None:
            return self._names
        try:
            fastembed = _import_fastembed()
        except ModelNotAvailableError:
            return {}
        names: dict[str, tuple[str, str]] = {}
        for kind, cls_name in _KINDS:
            cls = getattr(fastembed, cls_name, None)
            if cls is None:
                continue
            for desc in cls.list_supported_models():
                name = desc["model"] if isinstance(desc, dict) else getattr(desc, "model", None)
                if isinstance(name, str):
                    names.setdefault(name.lower(), (kind, name))
        self._names = names
        return names

    def supports(self, model: str) -> bool:
        """Whether fastembed is installed and lists ``model`` (any case)."""
        return model.lower() in self.catalogue()

    def accepted_options(self, cls: Any) -> frozenset[str]:
        """The options a fastembed model class takes: the keyword parameters of the class and
        of the implementations it dispatches to (fastembed passes any other keyword on
        without a word), ``local_files_only`` (read by its download step) and bm25x's
        ``model_path`` (``specific_model_path``)."""
        found = self._accepted.get(cls.__name__)
        if found is None:
            names = {"local_files_only", "model_path"}
            for impl in (cls, *getattr(cls, "EMBEDDINGS_REGISTRY", ())):
                for param in inspect.signature(impl.__init__).parameters.values():
                    if param.kind in (param.POSITIONAL_OR_KEYWORD, param.KEYWORD_ONLY):
                        names.add(param.name)
            found = self._accepted[cls.__name__] = frozenset(names - {"self", "model_name"})
        return found

    def _loaded(self, model: str, options: Mapping[str, Any]) -> tuple[str, Any] | None:
        """The model already loaded with these options, or None."""
        key = json.dumps([model, dict(options)], sort_keys=True, default=repr)
        with self._lock:
            found = self._models.get(key)
            if found is not None:
                self._models.move_to_end(key)
            return found

    def _load(self, model: str, options: Mapping[str, Any]) -> tuple[str, Any]:
        key = json.dumps([model, dict(options)], sort_keys=True, default=repr)
        found = self._loaded(model, options)
        if found is not None:
            return found
        fastembed = _import_fastembed()
        entry = self.catalogue().get(model.lower())
        if entry is None:
            raise ModelNotAvailableError(
                f"fastembed does not list model {model!r}", provider=self.name, model=model
            )
        kind, spelled = entry
        cls = getattr(fastembed, dict(_KINDS)[kind])
        accepted = self.accepted_options(cls)
        unknown = sorted(k for k in options if k not in accepted)
        if unknown:
            raise BadInputError(
                f"unknown option(s) for fastembed model {spelled!r}: {', '.join(unknown)}; "
                f"accepted: {', '.join(sorted(accepted))}",
                provider=self.name,
                model=model,
            )
        kwargs = dict(options)
        if "model_path" in kwargs:
            kwargs["specific_model_path"] = kwargs.pop("model_path")
        try:
            instance = cls(spelled, **kwargs)
        except Exception as exc:
            raise ModelNotAvailableError(
                f"fastembed could not load {spelled!r}: {type(exc).__name__}: {exc}. {_HOW}",
                provider=self.name,
                model=model,
            ) from None
        with self._lock:
            self._models[key] = (kind, instance)
            self._models.move_to_end(key)
            while len(self._models) > self.max_loaded:
                self._models.popitem(last=False)
        return kind, instance

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        """Load (once) and run the model in a worker thread; image URLs are fetched first,
        under the call's :class:`~bm25x.providers.FetchPolicy`. Texts go through the model's
        :class:`~bm25x.providers._batching.Batcher` on this loop: concurrent calls for one
        model share model calls, within :attr:`max_batch_tokens`."""
        loop = asyncio.get_running_loop()
        model, items, call = request.model, request.items, request.call
        loaded = self._loaded(model, request.options)
        if loaded is None:
            loaded = await loop.run_in_executor(None, self._load, model, request.options)
        kind, instance = loaded
        if kind == "image":
            images = [await self._image(model, item, call) for item in items]
            return await loop.run_in_executor(None, self._images, instance, images)
        texts = texts_only(self.name, model, items)
        run = functools.partial(self._texts, kind, instance, call.query)
        if self.max_batch_tokens <= 0:  # no batching across calls
            tokens = self._tokens(instance, texts) if call.count_tokens else None
            return Embeddings(await loop.run_in_executor(None, run, texts), tokens=tokens)
        # Counting a few short texts takes the tokenizer microseconds: here, where a worker
        # thread would cost more, and where every concurrent caller reaches its batcher in the
        # same loop turn.
        if sum(map(len, texts)) <= _INLINE_CHARS:
            counts = self._tokens(instance, texts)
        else:
            counts = await loop.run_in_executor(None, self._tokens, instance, texts)
        batcher = self._batcher(loop, instance, kind, call.query, run)
        vectors = await batcher.embed(texts, counts)
        return Embeddings(vectors, tokens=counts if call.count_tokens else None)

    def _batcher(
        self,
        loop: asyncio.AbstractEventLoop,
        instance: Any,
        kind: str,
        query: bool,
        run: Callable[[list[str]], list[Vector]],
    ) -> Batcher:
        """The batcher of one loaded model and side on ``loop``."""
        with self._lock:
            batchers = self._batchers.get(loop)
            if batchers is None:
                batchers = self._batchers[loop] = {}
            key = (id(instance), kind, query)
            found = batchers.get(key)
            if found is None or found.instance is not instance:
                found = batchers[key] = _ModelBatcher(
                    instance, run, self.max_batch_tokens, self.max_batch
                )
            return found

    @staticmethod
    def _images(instance: Any, images: list[Any]) -> list[Vector]:
        return [np.asarray(v, dtype=np.float32) for v in instance.embed(images)]

    @staticmethod
    def _texts(kind: str, instance: Any, query: bool, texts: list[str]) -> list[Vector]:
        method = instance.query_embed if query else instance.embed
        out: list[Vector] = []
        for raw in method(texts):
            if kind == "sparse":
                order = np.argsort(np.asarray(raw.indices))
                out.append(
                    SparseVector(np.asarray(raw.indices)[order], np.asarray(raw.values)[order])
                )
            elif kind == "late":
                matrix = np.asarray(raw, dtype=np.float32)
                out.append([row.copy() for row in matrix])
            else:
                out.append(np.asarray(raw, dtype=np.float32))
        return out

    @staticmethod
    def _tokens(instance: Any, texts: list[str]) -> list[int]:
        """Each text's tokens, as the model's tokenizer counts them (fastembed's
        ``token_count``; a model without one: a quarter of the characters, plus two)."""
        counter = getattr(instance, "token_count", None)
        if not callable(counter):
            return [len(text) // 4 + 2 for text in texts]
        return [int(counter([text])) for text in texts]

    async def _image(self, model: str, item: Item, call: Call) -> Any:
        """What fastembed opens for one image item.

        A string is only ever data: a data URL, an ``http(s)`` URL (fetched here, under the
        call's fetch policy) or base64; never a file name, since strings are what remote
        callers send (a service must not open its own files for them). Local files are given
        as a path object (``pathlib.Path``) or as bytes, by Python callers."""
        if item.kind != "image":
            raise BadInputError(
                f"{model} embeds images only, got {kind_of(item)}", provider=self.name, model=model
            )
        value = item.value
        if isinstance(value, os.PathLike):
            return value  # the caller's own file: fastembed opens it
        if isinstance(value, (bytes, bytearray, memoryview)):
            return self._opened(model, bytes(value))
        if not isinstance(value, str):
            if type(value).__module__.startswith("PIL."):
                return value  # an image already opened
            raise BadInputError(
                "image must be a data URL, an http(s) URL, base64, bytes or a pathlib.Path, got "
                f"{type(value).__name__}",
                provider=self.name,
                model=model,
            )
        if value.startswith("data:"):
            _, payload = split_data_url(value, provider=self.name, model=model)
            return self._opened(model, self._b64(model, payload))
        if _URL.match(value):
            data, _ = await fetch_image(value, call.fetch_policy, provider=self.name, model=model)
            return self._opened(model, data)
        return self._opened(model, self._b64(model, value))

    def _opened(self, model: str, data: bytes) -> Any:
        from PIL import Image, UnidentifiedImageError

        try:
            return Image.open(io.BytesIO(data))
        except (UnidentifiedImageError, OSError, ValueError):
            raise BadInputError(
                f"image data ({len(data)} bytes) is not an image format fastembed can read",
                provider=self.name,
                model=model,
            ) from None

    def _b64(self, model: str, text: str) -> bytes:
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise BadInputError(
                "image string is not a data URL, an http(s) URL or valid base64 (strings are "
                "never opened as files: pass a local file as a pathlib.Path or bytes)",
                provider=self.name,
                model=model,
            ) from None
