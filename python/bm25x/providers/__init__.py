"""The registry that maps model names to embedding providers.

A key is either an exact model name (``"qdrant/bm25"``) or a prefix ending in ``/``
(``"openai/"``): the prefix's provider gets the rest of the name as its model. Lookup order:

1. an exact name, spelled exactly as registered (so ``"Qdrant/bm25"``, fastembed's spelling,
   finds the fastembed flavour of the BM25 encoder, fastembed's Python ``Bm25``);
2. an exact name, ignoring case, as Qdrant matches model names (so ``"QDRANT/BM25"`` or
   ``"qdrant/BM25"`` find the server flavour registered as ``"qdrant/bm25"``);
3. the longest registered prefix, ignoring case;
4. catch-all providers registered under ``"*"`` (the local-models provider,
   :mod:`bm25x.providers.local_models`, which runs the fastembed package's models), each asked
   whether it serves the model.

Third-party packages add providers through the entry-point group ``bm25x.providers``: the
entry point's name is the key, its object a provider or a zero-argument callable returning one.
Entry points are loaded on the first lookup; built-in and code-registered providers win.

>>> from bm25x import providers
>>> "qdrant/bm25" in providers.list() and "openai/" in providers.list()
True
>>> providers.resolve("QDRANT/bm25")[1]
'qdrant/bm25'
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Callable
from typing import Any, cast

from bm25x.errors import UnknownModelError
from bm25x.providers._base import Call, Embeddings, EmbedRequest, Item, Kind, Provider, Vector
from bm25x.providers._fetch import FetchPolicy

__all__ = [
    "ENTRY_POINT_GROUP",
    "Call",
    "EmbedRequest",
    "Embeddings",
    "FetchPolicy",
    "Item",
    "Kind",
    "Provider",
    "Vector",
    "get",
    "list",
    "register",
    "resolve",
    "unregister",
]

ENTRY_POINT_GROUP = "bm25x.providers"

ProviderOrFactory = Provider | Callable[[], Provider]

_lock = threading.RLock()
_entries: dict[str, ProviderOrFactory] = {}
_catch_all: builtins.list[ProviderOrFactory] = []
_provider_types: set[type] = set()  # types whose instances passed isinstance(x, Provider)
# Names resolved through a registry key: name -> (registry state, key, provider, name given).
# Names that only a catch-all serves (the local-models provider asks fastembed's catalogue)
# are not kept.
_resolved: dict[str, tuple[tuple[int, int, int], str, Provider, str]] = {}
_RESOLVED_MAX = 4096
_generation = 0  # counts register/unregister calls
_builtins_loaded = False
_entry_points_loaded = False


def register(prefix_or_name: str, provider: ProviderOrFactory) -> None:
    """Map a model name, a prefix ending in ``/``, or ``"*"`` (catch-all, asked through its
    ``supports(model)`` method) to a provider, or to a zero-argument factory called on first
    use. A later registration of the same key replaces the earlier one."""
    if not isinstance(prefix_or_name, str) or not prefix_or_name:
        raise ValueError("register needs a non-empty model name or prefix")
    if not (isinstance(provider, Provider) or callable(provider)):
        raise TypeError(
            f"provider must implement bm25x.providers.Provider or be a factory, "
            f"got {type(provider).__name__}"
        )
    _ensure_builtins()
    global _generation
    with _lock:
        _generation += 1
        if prefix_or_name == "*":
            _catch_all.insert(0, provider)
        else:
            _entries[prefix_or_name] = provider


def unregister(prefix_or_name: str) -> None:
    """Remove a key (exactly as registered). Unknown keys are ignored."""
    _ensure_builtins()
    global _generation
    with _lock:
        _generation += 1
        _entries.pop(prefix_or_name, None)


def list() -> builtins.list[str]:
    """Every registered name and prefix (prefixes end in ``/``), sorted; ``"*"`` when a
    catch-all provider (the local-models provider) is registered."""
    _ensure_all()
    with _lock:
        keys = sorted(_entries)
        return [*keys, "*"] if _catch_all else keys


def get(prefix_or_name: str) -> Provider:
    """The provider registered under exactly this key."""
    _ensure_all()
    with _lock:
        if prefix_or_name not in _entries:
            raise KeyError(prefix_or_name)
        return _instantiate_entry(prefix_or_name)


def resolve(model: str) -> tuple[Provider, str]:
    """The provider for ``model`` and the model name to give it (the part after a prefix).

    Raises :class:`bm25x.UnknownModelError` when nothing serves the model."""
    if not isinstance(model, str) or not model:
        raise UnknownModelError(f"model must be a non-empty string, got {model!r}", model=None)
    _ensure_all()
    with _lock:
        # Every embed call resolves each of its models, and a service does so on every
        # request: a name found before is looked up again only if the registry changed.
        found = _resolved.get(model)
        state = (_generation, len(_entries), len(_catch_all))
        if found is not None and found[0] == state and _entries.get(found[1]) is found[2]:
            return found[2], found[3]
        key, provider, name = _lookup(model)
        if key is not None and provider is not None:
            if len(_resolved) >= _RESOLVED_MAX:
                _resolved.clear()
            _resolved[model] = (state, key, provider, name)
        if provider is not None:
            return provider, name
    hint = ""
    if "/" in model:
        hint = (
            "; if it is one of the fastembed package's models, install "
            "bm25x-sparse[fastembed] to run it locally; "
            "for Qdrant Cloud inference pass cloud=True (or cloud='fallback')"
        )
    raise UnknownModelError(
        f"no provider serves model {model!r} (registered: {', '.join(list())}){hint}",
        model=model,
    )


def _lookup(model: str) -> tuple[str | None, Provider | None, str]:
    """(the registry key that serves ``model``, its provider, the name to give it), by the
    module's lookup order; the key is None for a catch-all provider, the provider None when
    nothing serves the model. Called with the lock held."""
    if model in _entries and not model.endswith("/"):
        return model, _instantiate_entry(model), model
    lowered = model.lower()
    for key in _entries:
        if not key.endswith("/") and key.lower() == lowered:
            return key, _instantiate_entry(key), key
    prefixes = sorted((k for k in _entries if k.endswith("/")), key=len, reverse=True)
    for key in prefixes:
        if lowered.startswith(key.lower()) and len(model) > len(key):
            return key, _instantiate_entry(key), model[len(key) :]
    for i, entry in enumerate(_catch_all):
        provider = _instantiate(entry)
        _catch_all[i] = provider
        supports = getattr(provider, "supports", None)
        if callable(supports) and supports(model):
            return None, provider, model
    return None, None, model


def _instantiate(entry: ProviderOrFactory) -> Provider:
    # A registered instance is checked once per type: a runtime-checkable protocol's
    # isinstance() inspects every attribute, tens of microseconds on each call's lookup.
    if type(entry) in _provider_types:
        return cast(Provider, entry)
    if isinstance(entry, Provider) and not isinstance(entry, type):
        _provider_types.add(type(entry))
        return entry
    made = entry()
    if isinstance(made, type) or not isinstance(made, Provider):
        raise TypeError(f"provider factory returned {type(made).__name__}, not a Provider")
    return made


def _instantiate_entry(key: str) -> Provider:
    provider = _instantiate(_entries[key])
    _entries[key] = provider
    return provider


def _ensure_builtins() -> None:
    global _builtins_loaded
    if _builtins_loaded:
        return
    with _lock:
        if _builtins_loaded:
            return
        from bm25x.providers.bm25 import Bm25Provider
        from bm25x.providers.cohere import CohereProvider
        from bm25x.providers.jina import JinaProvider
        from bm25x.providers.local_models import LocalModelProvider
        from bm25x.providers.openai import OpenAIProvider
        from bm25x.providers.openrouter import OpenRouterProvider

        _entries.setdefault("qdrant/bm25", lambda: Bm25Provider("qdrant"))
        _entries.setdefault("bm25", lambda: Bm25Provider("qdrant"))
        _entries.setdefault("Qdrant/bm25", lambda: Bm25Provider("fastembed"))
        _entries.setdefault("openai/", OpenAIProvider)
        _entries.setdefault("cohere/", CohereProvider)
        _entries.setdefault("jinaai/", JinaProvider)
        _entries.setdefault("openrouter/", OpenRouterProvider)
        # One instance behind both keys, so that "fastembed/<name>" and "<name>" share the
        # models it has loaded (two instances would load each model twice).
        made: builtins.list[Provider] = []

        def local_models() -> Provider:
            if not made:
                made.append(LocalModelProvider())
            return made[0]

        _entries.setdefault("fastembed/", local_models)
        _catch_all.append(local_models)
        _builtins_loaded = True


def _ensure_all() -> None:
    global _entry_points_loaded
    _ensure_builtins()
    if _entry_points_loaded:
        return
    with _lock:
        if _entry_points_loaded:
            return
        _entry_points_loaded = True
        for ep in _entry_points():
            if ep.name in _entries:
                continue
            try:
                obj: Any = ep.load()
            except Exception as exc:  # a broken plugin must not break bm25x
                import warnings

                warnings.warn(
                    f"bm25x: could not load provider entry point {ep.name!r}: {exc}",
                    RuntimeWarning,
                    stacklevel=3,
                )
                continue
            if ep.name == "*":
                _catch_all.insert(0, obj)
            else:
                _entries[ep.name] = obj


def _entry_points() -> builtins.list[Any]:
    from importlib.metadata import entry_points

    eps: Any = entry_points()
    if hasattr(eps, "select"):
        return builtins.list(eps.select(group=ENTRY_POINT_GROUP))
    return builtins.list(eps.get(ENTRY_POINT_GROUP, []))  # Python < 3.10
