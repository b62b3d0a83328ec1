"""``bm25x.Bm25``: the encoder users hold."""

from __future__ import annotations

import functools
import itertools
import operator
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, overload

from bm25x._explain import Explanation, ExplanationRow
from bm25x._native import MAX_THREADS, _after_fork_in_child
from bm25x._native import Encoder as _NativeEncoder
from bm25x._sparse import SparseBatch, SparseVector

__all__ = ["Bm25"]

# Thread pools do not survive fork(); a forked worker (multiprocessing, Spark) builds its own.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


@functools.cache
def _default_threads() -> int:
    """The cores of the machine, asked once per process: ``os.cpu_count()`` reads a file under
    ``/sys`` on Linux (about 2 µs), and every batch encoded without ``threads=`` needs it."""
    return max(1, os.cpu_count() or 1)


def _count(name: str, value: object, maximum: int | None = None) -> int:
    """A positive integer setting (``threads``, ``batch_size``): a Python or numpy integer, not
    a bool; raises ``ValueError`` naming it otherwise."""
    if isinstance(value, bool) or (hasattr(value, "dtype") and value.dtype.kind == "b"):
        n = None
    else:
        try:
            n = operator.index(value)  # type: ignore[arg-type]
        except TypeError:
            n = None
    if n is None or n < 1 or (maximum is not None and n > maximum):
        most = f" and at most {maximum:,}" if maximum is not None else ""
        raise ValueError(f"{name} must be a positive integer{most}, got {value!r}")
    return n


def _threads(value: object) -> int | None:
    """``threads`` as the constructor and every call take it: None (all cores) or 1..MAX."""
    return None if value is None else _count("threads", value, MAX_THREADS)


def _not_texts(texts: object, what: str) -> TypeError | None:
    """Why ``texts`` cannot be a batch of texts, if it cannot."""
    if isinstance(texts, (bytes, bytearray, memoryview)):
        return TypeError(
            f"{what} takes an iterable of str, got bytes; decode it first, e.g. "
            "data.decode('utf-8')"
        )
    if isinstance(texts, Mapping):
        return TypeError(
            f"{what} takes an iterable of str, got a mapping ({type(texts).__name__}), which is "
            "not a batch of texts; pass list(m.values()) for its values or list(m) for its keys"
        )
    try:
        iter(texts)  # type: ignore[call-overload]
    except TypeError:
        single = "str or " if what == "encode" else ""
        return TypeError(f"{what} takes {single}an iterable of str, got {type(texts).__name__}")
    return None


def _as_list(items: object) -> list[str] | None:
    """The items of a numpy, pandas or pyarrow array (plain or chunked) as a list, if it is one."""
    for name in ("to_pylist", "tolist"):
        method = getattr(items, name, None)
        if callable(method):
            out = method()
            if isinstance(out, list):
                return out
    return None


def _as_text_list(texts: Iterable[str]) -> list[str] | tuple[str, ...]:
    if isinstance(texts, (list, tuple)):
        return texts
    error = _not_texts(texts, "encode")
    if error is not None:
        raise error
    items = _as_list(texts)
    return items if items is not None else list(texts)


class Bm25:
    """A BM25 encoder bit-identical to Qdrant's ``qdrant/bm25`` model (``flavor="qdrant"``,
    the default) or to fastembed's ``Qdrant/bm25``, the Python ``Bm25`` class of the fastembed
    package (``flavor="fastembed"``, the fastembed flavour).

    Options are the keys and JSON value forms of a Qdrant ``Document``'s ``options`` for
    ``qdrant/bm25``: ``k`` (1.2), ``b`` (0.75), ``avg_len`` (256), ``tokenizer`` (``"word"``,
    ``"whitespace"``, ``"prefix"``, ``"multilingual"``, ``"code"``), ``language``
    (``"english"``; a name or ISO code, or ``"none"``), ``lowercase`` (True), ``ascii_folding``
    (False), ``stopwords`` (a language, or ``{"languages": [...], "custom": [...]}``),
    ``stemmer`` (``{"type": "snowball", "language": ...}`` or ``{"type": "none"}``),
    ``min_token_len``, ``max_token_len``; and bm25x's ``profile`` (``"server"``, the default:
    what a Qdrant server computes; ``"edge-0.9"``: qdrant-edge 0.9.0, which differs on Japanese
    text under ``"multilingual"``). Which Qdrant accepts what: ``tokenizer="code"`` only
    qdrant-edge 0.9.0 (servers up to v1.19.0 answer 400); ``stemmer={"type": "none"}``
    qdrant-edge 0.9.0 and servers from v1.19.0 (v1.18.x answers 400). The fastembed flavour
    takes fastembed's options instead: ``k``, ``b``, ``avg_len``, ``language``,
    ``token_max_length`` (40), ``disable_stemmer``, ``stopwords`` (a list of words).

    ``threads`` is the number of threads used for batches (default: all cores; at most
    ``MAX_THREADS``, 1,024); it is how the encoder runs, not part of the vectors.

    >>> enc = Bm25(language="en", k=1.5)
    >>> enc.encode(["one text", "another text"]).indptr.tolist()
    [0, 2, 4]
    """

    __slots__ = ("_native", "_options", "_threads")

    def __init__(self, *, threads: int | None = None, **options: Any) -> None:
        self._threads = _threads(threads)
        self._native = _NativeEncoder(options)
        self._options = dict(options)

    @property
    def options(self) -> dict[str, Any]:
        """The options as given (a copy); ``Bm25(**enc.options)`` builds an equal encoder."""
        return dict(self._options)

    @property
    def config(self) -> dict[str, Any]:
        """The resolved configuration: every default filled in, languages resolved."""
        return self._native.resolved()

    @property
    def flavor(self) -> str:
        """``"qdrant"`` (Qdrant's server) or ``"fastembed"`` (the fastembed flavour:
        fastembed's Python ``Bm25``)."""
        return str(self.config["flavor"])

    @property
    def threads(self) -> int:
        """Threads used for batches."""
        return self._threads if self._threads is not None else _default_threads()

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self._options.items())
        return f"Bm25({shown})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Bm25):
            return NotImplemented
        return self.config == other.config

    __hash__ = None  # type: ignore[assignment]

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self._options, self._threads))

    def __copy__(self) -> Bm25:
        return self  # immutable

    def __deepcopy__(self, memo: dict[int, Any]) -> Bm25:
        return self

    # A str is also an Iterable[str]; the first matching overload (str) wins, as intended.
    @overload
    def encode(  # type: ignore[overload-overlap]
        self, texts: str, *, threads: int | None = None
    ) -> SparseVector: ...
    @overload
    def encode(self, texts: Iterable[str], *, threads: int | None = None) -> SparseBatch: ...
    def encode(
        self, texts: str | Iterable[str], *, threads: int | None = None
    ) -> SparseVector | SparseBatch:
        """Encode documents: one ``str`` gives a :class:`SparseVector`, any iterable of ``str``
        a :class:`SparseBatch` (in input order)."""
        if isinstance(texts, str):  # the one-text path stays one call deep: its cost is fixed
            return self._native.encode_one(texts, False)
        return self._encode(texts, False, threads)

    @overload
    def encode_query(  # type: ignore[overload-overlap]
        self, texts: str, *, threads: int | None = None
    ) -> SparseVector: ...
    @overload
    def encode_query(self, texts: Iterable[str], *, threads: int | None = None) -> SparseBatch: ...
    def encode_query(
        self, texts: str | Iterable[str], *, threads: int | None = None
    ) -> SparseVector | SparseBatch:
        """Encode queries: each distinct term id with weight 1.0. Same ``str``/iterable rule
        as :meth:`encode`."""
        if isinstance(texts, str):  # search-time path: one call, its cost is fixed
            return self._native.encode_one(texts, True)
        return self._encode(texts, True, threads)

    def _encode(
        self, texts: str | Iterable[str], query: bool, threads: int | None
    ) -> SparseVector | SparseBatch:
        if isinstance(texts, str):
            return self._native.encode_one(texts, query)
        n = _threads(threads) or self.threads
        items = _as_text_list(texts)
        indptr, indices, values = self._native.encode_many(items, query, n)
        b = SparseBatch.__new__(SparseBatch)
        b.indptr, b.indices, b.values = indptr, indices, values
        return b

    def encode_iter(
        self, texts: Iterable[str], *, batch_size: int = 10_000, threads: int | None = None
    ) -> Iterator[SparseBatch]:
        """Encode a stream of documents batch by batch: yields one :class:`SparseBatch` per
        ``batch_size`` texts, in order, holding only one batch in memory. ``texts`` may be any
        iterable (a generator over a file, a list, a numpy or pyarrow string array).

        >>> enc = Bm25()
        >>> [len(b) for b in enc.encode_iter((f"text {i}" for i in range(5)), batch_size=2)]
        [2, 2, 1]
        """
        return self._encode_iter(texts, False, batch_size, threads)

    def encode_query_iter(
        self, texts: Iterable[str], *, batch_size: int = 10_000, threads: int | None = None
    ) -> Iterator[SparseBatch]:
        """:meth:`encode_iter` for queries."""
        return self._encode_iter(texts, True, batch_size, threads)

    def _encode_iter(
        self, texts: Iterable[str], query: bool, batch_size: int, threads: int | None
    ) -> Iterator[SparseBatch]:
        size = _count("batch_size", batch_size)
        n = _threads(threads) or self.threads
        what = "encode_query_iter" if query else "encode_iter"
        if isinstance(texts, str):
            raise TypeError(
                f"{what} takes an iterable of str, got a single str; use encode() for one text"
            )
        # Checked here, at the call, not when the first batch is pulled.
        error = _not_texts(texts, what)
        if error is not None:
            raise error
        return self._batches(_chunks(texts, size), query, n)

    def _batches(
        self, chunks: Iterator[list[str]], query: bool, threads: int
    ) -> Iterator[SparseBatch]:
        offset = 0
        for chunk in chunks:
            indptr, indices, values = self._native.encode_many(chunk, query, threads, offset)
            offset += len(chunk)
            b = SparseBatch.__new__(SparseBatch)
            b.indptr, b.indices, b.values = indptr, indices, values
            yield b

    def terms(self, text: str, *, query: bool = False) -> list[str]:
        """The final terms of ``text`` (after every stage, before hashing), in order."""
        if not isinstance(text, str):
            raise TypeError(f"terms takes one text, which must be str, got {type(text).__name__}")
        return self._native.terms(text, query)

    def explain(self, text: str, *, query: bool = False) -> Explanation:
        """Show, token by token, the raw token, the normalised token, whether and why it was
        dropped, its stem, its id and its final weight.

        >>> print(Bm25().explain("The cookies"))  # doctest: +NORMALIZE_WHITESPACE
        #  raw      normalized  dropped   term   id         weight
        -  -------  ----------  --------  -----  ---------  ---------
        0  The      the         stopword
        1  cookies  cookies               cooki  112174620  1.6877434
        """
        if not isinstance(text, str):
            raise TypeError(f"explain takes one text, which must be str, got {type(text).__name__}")
        vector = self._native.encode_one(text, query)
        weight = dict(zip(vector.indices.tolist(), vector.values.tolist()))
        rows = [
            ExplanationRow(
                raw=raw,
                normalized=normalized,
                dropped=dropped,
                terms=tuple(t for t, _ in terms),
                ids=tuple(i for _, i in terms),
                weights=tuple(weight.get(i, 0.0) for _, i in terms),
            )
            for raw, normalized, dropped, terms in self._native.explain(text, query)
        ]
        return Explanation(text, query, rows)


def _chunks(texts: Iterable[str], size: int) -> Iterator[list[str]]:
    """Lists of at most ``size`` items; array-likes are sliced rather than iterated."""
    sliceable = hasattr(texts, "__getitem__") and hasattr(texts, "__len__")
    if sliceable and not isinstance(texts, (list, tuple)):
        seq: Any = texts
        for start in range(0, len(seq), size):
            part = seq[start : start + size]
            items = _as_list(part)
            yield items if items is not None else list(part)
        return
    it = iter(texts)
    while chunk := list(itertools.islice(it, size)):
        yield chunk


def _rebuild(options: dict[str, Any], threads: int | None) -> Bm25:
    return Bm25(threads=threads, **options)
