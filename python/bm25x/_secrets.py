"""API keys kept out of every message, repr, log and traceback bm25x produces.

bm25x notes each key it resolves (:func:`remember_secret`), holds it as a :class:`Secret` whose
``repr()`` is masked, and passes every text that reaches an error through :func:`redact`. The
registry of keys is bounded (:data:`MAX_SECRETS`, least recently used forgotten first).
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict

__all__ = ["MAX_SECRETS", "MIN_FRAGMENT", "Secret", "redact", "remember_secret"]

_MASK = "***"
#: How many distinct keys :func:`redact` knows at most (the least recently used is forgotten
#: first). A process that sees more distinct keys than this is unusual (one per tenant of a
#: service, say); the bound keeps redaction cheap and memory flat however many arrive.
MAX_SECRETS = 1024
#: The shortest piece of a key that :func:`redact` masks where a key was cut (a provider or a
#: log line shortening an echoed key): shorter pieces say too little to be worth hiding and
#: would mask ordinary words.
MIN_FRAGMENT = 8
# The characters a cut-off key can sit between; a token is a maximal run of anything else.
_TOKEN = re.compile(r"[^\s\"'`,;()\[\]{}<>|]+")


class Secret(str):
    """An API key (or a header holding one) that hides itself from ``repr()``, so it does not
    show in traceback locals (``capture_locals``, error trackers), debuggers or reprs of the
    containers holding it; ``str()``, formatting and encoding give the real value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(_MASK)


class _Registry:
    """The keys to redact: a bounded LRU, with the lookup structures :func:`redact` needs kept
    up to date on each change (never rebuilt or sorted per redaction)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.lock = threading.Lock()
        self.keys: OrderedDict[str, None] = OrderedDict()
        # Pieces of keys of at least MIN_FRAGMENT characters, counted so eviction can undo.
        self.heads: dict[str, int] = {}  # prefixes: a key cut at its end
        self.tails: dict[str, int] = {}  # suffixes: a key cut at its start
        self.longest = 0
        self._by_length: list[str] | None = []

    def add(self, key: str) -> None:
        with self.lock:
            if key in self.keys:
                self.keys.move_to_end(key)
                return
            self.keys[key] = None
            self._count(key, +1)
            while len(self.keys) > self.limit:
                old, _ = self.keys.popitem(last=False)
                self._count(old, -1)
            self._by_length = None

    def _count(self, key: str, step: int) -> None:
        for n in range(MIN_FRAGMENT, len(key)):
            for table, piece in ((self.heads, key[:n]), (self.tails, key[-n:])):
                left = table.get(piece, 0) + step
                if left:
                    table[piece] = left
                else:
                    table.pop(piece, None)

    def snapshot(self) -> tuple[list[str], int]:
        """The keys, longest first (sorted once per change), and the longest key's length."""
        with self.lock:
            if self._by_length is None:
                self._by_length = sorted(self.keys, key=len, reverse=True)
                self.longest = len(self._by_length[0]) if self._by_length else 0
            return self._by_length, self.longest

    def clear(self) -> None:
        with self.lock:
            self.keys.clear()
            self.heads.clear()
            self.tails.clear()
            self._by_length = []
            self.longest = 0


_REGISTRY = _Registry(MAX_SECRETS)


def remember_secret(secret: str) -> Secret:
    """Note a key so that :func:`redact` removes it from every later error text; returns it as
    a :class:`Secret`."""
    if len(secret) >= 4:
        _REGISTRY.add(str(secret))
    return Secret(secret)


def redact(text: str, limit: int | None = None) -> str:
    """``text`` with every remembered key replaced by ``***``, cut to ``limit`` characters
    (when given) after the keys are masked, so that a cut never leaves part of a key; pieces
    of keys (at least :data:`MIN_FRAGMENT` characters) left where something else cut a key
    are masked too."""
    keys, longest = _REGISTRY.snapshot()
    if not keys:
        return text if limit is None or len(text) <= limit else text[:limit] + "..."
    for key in keys:
        if key in text:
            text = text.replace(key, _MASK)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return _TOKEN.sub(lambda m: _mask_pieces(m.group(0), longest), text)


def _mask_pieces(token: str, longest: int) -> str:
    """``token`` with a key's head masked at its end and a key's tail masked at its start."""
    if len(token) < MIN_FRAGMENT:
        return token
    heads, tails = _REGISTRY.heads, _REGISTRY.tails
    stripped = token.rstrip(".!?")
    end = ""
    if len(stripped) != len(token):
        end = token[len(stripped) :]
    # The longest head of a key that the token ends with, and the longest tail it starts with.
    for n in range(min(len(stripped), longest), MIN_FRAGMENT - 1, -1):
        if stripped[-n:] in heads:
            stripped = stripped[:-n] + _MASK
            break
    for n in range(min(len(stripped), longest), MIN_FRAGMENT - 1, -1):
        if stripped[:n] in tails:
            stripped = _MASK + stripped[n:]
            break
    return stripped + end
