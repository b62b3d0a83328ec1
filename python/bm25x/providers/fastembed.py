"""Local fastembed models (dense, sparse, late interaction, image), through the optional extra
``pip install bm25x-sparse[fastembed]``, imported only when such a model is used.

Any model fastembed lists is served under its own name (``"BAAI/bge-small-en-v1.5"``) and
under ``fastembed/<name>``. Options go to fastembed's model constructor; the useful ones for
working offline are ``specific_model_path`` (a directory holding the model's ONNX file and
tokenizer files, e.g. from a package that ships them), ``cache_dir`` (a cache filled by an
earlier download; ``FASTEMBED_CACHE_PATH`` works too) and ``local_files_only`` (never
contact the hub; also implied by ``HF_HUB_OFFLINE=1``).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from bm25x._sparse import SparseVector
from bm25x.errors import BadInputError, ModelNotAvailableError
from bm25x.providers._base import Call, EmbedRequest, Item, Kind, Vector, texts_only

__all__ = ["FastembedProvider"]

_KINDS = (
    ("dense", "TextEmbedding"),
    ("sparse", "SparseTextEmbedding"),
    ("late", "LateInteractionTextEmbedding"),
    ("image", "ImageEmbedding"),
)

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
            f"local fastembed models need the fastembed package: "
            f"pip install 'bm25x-sparse[fastembed]' ({exc})",
            provider="fastembed",
        ) from None
    return fastembed


class FastembedProvider:
    """Runs fastembed models in worker threads, one loaded instance per (model, options)."""

    name = "fastembed"
    max_batch = 256
    max_concurrency = 1
    local = True  # runs in-process: bm25x.embed builds no HTTP client for it

    def __init__(self) -> None:
        self._models: dict[str, tuple[str, Any]] = {}
        self._names: dict[str, tuple[str, str]] | None = None
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return "FastembedProvider()"

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

    def _load(self, model: str, options: Mapping[str, Any]) -> tuple[str, Any]:
        key = json.dumps([model, dict(options)], sort_keys=True, default=repr)
        with self._lock:
            found = self._models.get(key)
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
        return kind, instance

    async def embed_batch(self, request: EmbedRequest) -> list[Vector]:
        """Load (once) and run the model in a worker thread."""
        loop = asyncio.get_running_loop()
        model = request.model
        kind, instance = await loop.run_in_executor(None, self._load, model, request.options)
        return await loop.run_in_executor(
            None, self._run, model, kind, instance, request.items, request.call
        )

    def _run(
        self, model: str, kind: str, instance: Any, items: Sequence[Item], call: Call
    ) -> list[Vector]:
        if kind == "image":
            images = [self._image(model, item) for item in items]
            return [np.asarray(v, dtype=np.float32) for v in instance.embed(images)]
        texts = texts_only(self.name, model, items)
        method = instance.query_embed if call.query else instance.embed
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

    def _image(self, model: str, item: Item) -> Any:
        if item.kind != "image":
            raise BadInputError(
                f"{model} embeds images only, got a {item.kind}", provider=self.name, model=model
            )
        value = item.value
        if isinstance(value, (bytes, bytearray, memoryview)):
            data = bytes(value)
        elif isinstance(value, str) and value.startswith("data:"):
            data = self._b64(model, value.partition(",")[2])
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            raise BadInputError(
                "local fastembed image models take a file path, bytes or base64, not a URL",
                provider=self.name,
                model=model,
            )
        elif isinstance(value, str) and len(value) > 512:
            data = self._b64(model, value)
        else:
            return value  # a path (str or PathLike) or a PIL image: fastembed opens it
        from PIL import Image

        return Image.open(io.BytesIO(data))

    def _b64(self, model: str, text: str) -> bytes:
        try:
            return base64.b64decode("".join(text.split()), validate=True)
        except (binascii.Error, ValueError):
            raise BadInputError(
                "image string is not valid base64", provider=self.name, model=model
            ) from None
