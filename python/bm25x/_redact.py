"""Redaction of remembered API keys: :class:`Secret`, the bounded registry of keys and
:func:`redact`. Imports nothing of bm25x, so :mod:`bm25x.errors` can redact with it;
:func:`bm25x._secrets.remember_secret` (which raises errors' :class:`KeyTooLongError`) adds keys
to the registry. See :mod:`bm25x._secrets` for what is masked and the bounds."""

from __future__ import annotations

import threading
from collections import OrderedDict

__all__ = [
    "MAX_KEY_BYTES",
    "MAX_SECRETS",
    "MAX_SECRET_BYTES",
    "MIN_FRAGMENT",
    "Secret",
    "key_size",
    "redact",
]

_MASK = "***"
#: The longest API key bm25x accepts, in UTF-8 bytes. Real keys are under 200 bytes (an
#: OpenAI project key is about 164); the bound keeps what one key costs small and fixed.
MAX_KEY_BYTES = 4096
#: How many distinct keys :func:`redact` knows at most (the least recently used is forgotten
#: first). A process that sees more distinct keys than this is unusual (one per tenant of a
#: service, say); the bound keeps redaction cheap and memory flat however many arrive.
MAX_SECRETS = 1024
#: The total size of the keys :func:`redact` knows at most, in UTF-8 bytes (the least
#: recently used is forgotten first). Each byte of key costs about 85 bytes of memory (one
#: window entry), so the registry stays near 21 MiB at most.
MAX_SECRET_BYTES = 256 * 1024
#: The shortest piece of a key that :func:`redact` masks where a key was cut (a provider or a
#: log line shortening an echoed key): shorter pieces say too little to be worth hiding and
#: would mask ordinary words. Keys shorter than this are masked whole only.
MIN_FRAGMENT = 8


class Secret(str):
    """An API key (or a header holding one) that hides itself from ``repr()``, so it does not
    show in traceback locals (``capture_locals``, error trackers), debuggers or reprs of the
    containers holding it; ``str()``, formatting and encoding give the real value."""

    __slots__ = ()

    def __repr__(self) -> str:
        return repr(_MASK)


def key_size(key: str) -> int:
    """The size of ``key`` in UTF-8 bytes (a lone surrogate counted as its 3 bytes)."""
    if key.isascii():
        return len(key)
    return len(key.encode("utf-8", "surrogatepass"))


def _windows(key: str) -> set[str]:
    """The distinct runs of :data:`MIN_FRAGMENT` characters of ``key``."""
    return {key[i : i + MIN_FRAGMENT] for i in range(len(key) - MIN_FRAGMENT + 1)}


class _Registry:
    """The keys to redact: pinned keys, and a bounded LRU of the others; with the windows of
    them all (each counted by the number of keys holding it, so forgetting a key undoes
    exactly what remembering it did) and the keys too short to have windows."""

    def __init__(self, limit: int, limit_bytes: int) -> None:
        self.limit = limit
        self.limit_bytes = limit_bytes
        self.lock = threading.Lock()
        self.keys: OrderedDict[str, int] = OrderedDict()  # key -> its size in bytes
        self.size = 0  # bytes of self.keys
        self.pinned: set[str] = set()
        self.windows: dict[str, int] = {}
        self.short: tuple[str, ...] = ()  # keys under MIN_FRAGMENT characters, longest first

    def add(self, key: str, size: int, *, pinned: bool) -> None:
        with self.lock:
            if key in self.pinned:
                return
            if key in self.keys:
                if pinned:
                    self.size -= self.keys.pop(key)
                    self.pinned.add(key)
                else:
                    self.keys.move_to_end(key)
                return
            self._count(key, +1)
            if pinned:
                self.pinned.add(key)
                return
            self.keys[key] = size
            self.size += size
            while len(self.keys) > self.limit or self.size > self.limit_bytes:
                old, old_size = self.keys.popitem(last=False)
                self.size -= old_size
                self._count(old, -1)

    def _count(self, key: str, step: int) -> None:
        if len(key) < MIN_FRAGMENT:
            short = set(self.short)
            if step > 0:
                short.add(key)
            else:
                short.discard(key)
            self.short = tuple(sorted(short, key=len, reverse=True))
            return
        windows = self.windows
        for window in _windows(key):
            left = windows.get(window, 0) + step
            if left:
                windows[window] = left
            else:
                del windows[window]

    def clear(self) -> None:
        with self.lock:
            self.keys.clear()
            self.pinned.clear()
            self.windows.clear()
            self.short = ()
            self.size = 0


_REGISTRY = _Registry(MAX_SECRETS, MAX_SECRET_BYTES)


def redact(text: str, limit: int | None = None) -> str:
    """``text`` with every run of :data:`MIN_FRAGMENT` or more characters of a remembered key
    (and every whole key shorter than that) replaced by ``***``, then cut to ``limit``
    characters (when given), so that a cut never leaves part of a key."""
    registry = _REGISTRY
    for key in registry.short:
        if key in text:
            text = text.replace(key, _MASK)
    text = _mask_runs(text, registry.windows)
    if limit is not None and len(text) > limit:
        text = text[:limit] + "..."
    return text


def _mask_runs(text: str, windows: dict[str, int]) -> str:
    """``text`` with each maximal run of overlapping or touching windows found in ``windows``
    replaced by one mask: one lookup per character."""
    width = MIN_FRAGMENT
    if not windows or len(text) < width:
        return text
    hits = [i for i in range(len(text) - width + 1) if text[i : i + width] in windows]
    if not hits:
        return text
    out: list[str] = []
    done = 0  # text[:done] is handled
    start, end = hits[0], hits[0] + width
    for i in hits[1:]:
        if i > end:
            out += (text[done:start], _MASK)
            done, start = end, i
        end = i + width
    out += (text[done:start], _MASK, text[end:])
    return "".join(out)
