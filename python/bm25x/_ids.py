"""Point ids: a document id as the UUID Qdrant stores, the same on every run and machine.

Shared by the library (:func:`bm25x.qdrant.point_id`) and the application (the ``bm25x``
command's stores), so it lives below both.
"""

from __future__ import annotations

import uuid

__all__ = ["point_id"]

# Fixed forever: changing it would give every stored document a new id.
_NAMESPACE = uuid.UUID("5d0b3f0e-8a4c-5b8e-9a51-62d8f3c0b25a")


def point_id(doc_id: str) -> str:
    """The point id of a document id: a UUID, the same on every run and every machine."""
    return str(uuid.uuid5(_NAMESPACE, doc_id))
