"""Disk space for an ingest into a local store.

qdrant-edge writes a shard through memory-mapped files, and when the disk has no room for a
page it writes, the process dies of SIGBUS: no error to catch, no message. So an ingest
estimates what it will write and compares that with the free space before it writes anything,
and compares what the next batch may need with the free space before each batch; it stops
with a message while the store is whole, keeping what it wrote, and running the same command
again once there is room resumes it.

The estimate is a floor: :data:`PER_DOCUMENT` per document plus :data:`PER_TEXT_BYTE` per
byte of text (and :data:`PER_STORED_TEXT_BYTE` more with ``--store-text``), the texts' size
taken low (see ``bm25x.app.ingest``). Measured on five corpora (BEIR SciFact and Python docs,
gzipped; the bundled sample; 100,000 8-word and 20,000 300-word documents), with and without
``--store-text``, the stores took 1.2 to 3.4 times it, so an ingest is refused up front only
when it clearly cannot fit. Before each batch, :data:`BATCH_PER_DOCUMENT` per document and
:data:`BATCH_PER_TEXT_BYTE` per byte of its texts (twice that with the text stored) must be
free besides :data:`RESERVE`: at least 1.5 times what any batch of those runs took.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from bm25x.app.errors import StoreError
from bm25x.app.store import Store

__all__ = ["RESERVE", "SpaceCheck", "text_bytes"]

PER_DOCUMENT = 400
"""Bytes a document costs besides its text's vector: its id and fingerprint, its entry in the
id tracker, its record in the write-ahead log."""
PER_TEXT_BYTE = 0.8
"""Bytes per byte of text: the sparse vector, in the shard and in the write-ahead log."""
PER_STORED_TEXT_BYTE = 1.0
"""Bytes per byte of text in addition, with ``--store-text``: the text in the payload."""
BATCH_PER_DOCUMENT = 2048
BATCH_PER_TEXT_BYTE = 4
RESERVE = 8 << 20
"""Bytes always kept free: room for what a batch writes besides its points (a new page of a
log or of a storage file, the settings)."""


def text_bytes(texts: Iterable[str]) -> int:
    """The UTF-8 size of the texts (joined and encoded at once: no Python work per text)."""
    return len("".join(texts).encode("utf-8", "surrogatepass"))


def _size(n: float) -> str:
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if n < 1024 or unit == "GiB":
            return f"{n:,.0f} {unit}" if unit == "bytes" else f"{n:,.1f} {unit}"
        n /= 1024
    raise AssertionError("unreachable")


class SpaceCheck:
    """The disk space checks of one ingest into ``store`` (none for a store that is not on a
    local disk)."""

    def __init__(self, store: Store, store_text: bool) -> None:
        self._store = store
        self._text_factor = PER_TEXT_BYTE + (PER_STORED_TEXT_BYTE if store_text else 0.0)
        self._batch_text_factor = BATCH_PER_TEXT_BYTE * (2 if store_text else 1)

    def before_writing(self, documents: int, texts_size: Callable[[], float]) -> None:
        """Refuse an ingest of ``documents`` whose texts take ``texts_size()`` bytes (called
        only for a local store) when it cannot fit: the estimate, less what the store already
        takes (a resumed ingest), plus :data:`RESERVE`."""
        free = self._store.free_space()
        if free is None:
            return
        estimate = documents * PER_DOCUMENT + self._text_factor * texts_size()
        need = estimate - self._store.disk_used()
        if need > 0 and free < need + RESERVE:
            raise StoreError(
                f"not enough free disk space for {self._store.describe()}: these "
                f"{documents:,} documents need about {_size(need + RESERVE)} or more (an "
                f"estimate from the corpus, with {_size(RESERVE)} kept free) and "
                f"{_size(free)} is free there; free some space or choose a --store on "
                "another disk, then run this again (nothing was written)"
            )

    def before_batch(self, texts: Sequence[str], written: int) -> None:
        """Stop before writing the documents of ``texts`` when the disk may not hold them;
        ``written`` documents were written by this ingest so far."""
        free = self._store.free_space()
        if free is None or not texts:
            return
        need = (
            RESERVE + BATCH_PER_DOCUMENT * len(texts) + self._batch_text_factor * text_bytes(texts)
        )
        if free < need:
            raise StoreError(
                f"stopped before the disk holding {self._store.describe()} filled up: "
                f"{_size(free)} is free and the next {len(texts):,} documents need about "
                f"{_size(need)}; the {written:,} documents this ingest wrote are kept. Free "
                "some space and run the same command again: it resumes where it stopped"
            )
