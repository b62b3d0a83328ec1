"""API keys kept out of every message, repr, log and traceback bm25x produces.

bm25x notes each key it resolves (:func:`remember_secret`), holds it as a :class:`Secret` whose
``repr()`` is masked, and passes every text that reaches an error through :func:`redact`.

Redaction masks every run of :data:`MIN_FRAGMENT` or more characters of a remembered key,
wherever it stands in a text: the whole key, and the pieces left where something cut it
(``sk-abc…xyz0123456789``, ``...0123456789``, ``head****tail``). The registry holds each key's
windows of :data:`MIN_FRAGMENT` characters (one set entry per character of the key, so memory
and time are linear in the key), and :func:`redact` looks up each window of the text once.

Bounds: a key longer than :data:`MAX_KEY_BYTES` is refused (:class:`bm25x.KeyTooLongError`)
before anything of it is stored; the registry holds at most :data:`MAX_SECRETS` keys and
:data:`MAX_SECRET_BYTES` bytes of them (the least recently used forgotten first), apart from
the keys pinned by their owner (a service's own keys), which are never forgotten.
"""

from __future__ import annotations

from bm25x import _redact
from bm25x._redact import (
    MAX_KEY_BYTES,
    MAX_SECRET_BYTES,
    MAX_SECRETS,
    MIN_FRAGMENT,
    Secret,
    key_size,
    redact,
)
from bm25x.errors import KeyTooLongError

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_SECRETS",
    "MAX_SECRET_BYTES",
    "MIN_FRAGMENT",
    "Secret",
    "key_size",
    "redact",
    "remember_secret",
]


def remember_secret(secret: str, *, where: str = "an API key", pinned: bool = False) -> Secret:
    """Note a key so that :func:`redact` removes it from every later error text; returns it as
    a :class:`Secret`. ``pinned``: never forget it (for the few keys a process owns, such as
    a service's configured keys, so that a flood of callers' keys cannot push them out).

    Raises :class:`bm25x.KeyTooLongError` (naming ``where`` the key came from, never the key)
    for a key over :data:`MAX_KEY_BYTES`, before anything of it is stored."""
    size = key_size(secret)
    if size > MAX_KEY_BYTES:
        raise KeyTooLongError(
            f"{where} is {size:,} bytes long, over bm25x's limit of {MAX_KEY_BYTES:,} bytes "
            "for an API key; check that the right value was passed"
        )
    if len(secret) >= 4:
        _redact._REGISTRY.add(str(secret), size, pinned=pinned)
    return Secret(secret)
