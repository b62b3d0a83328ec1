"""Deprecated: the old name of :mod:`bm25x.providers.local_models`, the local-models provider.

Importing it warns (a DeprecationWarning, once: Python imports a module once) and gives the same
objects: ``FastembedProvider`` is :class:`~bm25x.providers.local_models.LocalModelProvider`, and
any other name is looked up in the new module. Not to be confused with the drop-in
:mod:`bm25x.integrations.fastembed`, which keeps its name.
"""

from __future__ import annotations

import warnings
from typing import Any

from bm25x.providers import local_models
from bm25x.providers.local_models import LocalModelProvider

__all__ = ["FastembedProvider", "LocalModelProvider"]

#: The provider class's old name.
FastembedProvider = LocalModelProvider

warnings.warn(
    "bm25x.providers.fastembed is deprecated: import bm25x.providers.local_models instead "
    "(FastembedProvider is now LocalModelProvider, the same class)",
    DeprecationWarning,
    stacklevel=2,
)


def __getattr__(name: str) -> Any:
    """The new module's object of that name (private names too), so old imports get the very
    objects the registry uses."""
    return getattr(local_models, name)
