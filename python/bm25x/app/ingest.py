"""Ingest: a corpus file into a collection, batched, resumable and idempotent.

The whole file is read and checked first (ids, text fields, JSON, duplicates; and the mean
token count for ``avg_len="auto"``), so a bad file never touches the collection; the write
pass then reads the bytes the check read, or stops before writing any it did not
(:class:`~bm25x.app.corpus_file.CorpusFile`). The settings
are recorded with the collection before the first write and marked complete after the last;
an interrupted ingest leaves whole batches, and running the same command again skips the
documents already there with the same text, rewrites those whose text changed, and finishes
the job. The store is locked against other processes for the whole run. A local store's free
disk space is checked before the first write and before each batch
(:class:`~bm25x.app.space.SpaceCheck`): a full disk stops the ingest with a message, not a
crash.
"""

from __future__ import annotations

import json
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from bm25x import Bm25, SparseBatch, __version__
from bm25x.app.corpus import (
    DEFAULT_TEXT_FIELDS,
    Columns,
    CorpusError,
    check_docs,
    read_batches,
    read_docs,
)
from bm25x.app.corpus_file import CorpusFile
from bm25x.app.progress import Progress
from bm25x.app.space import SpaceCheck, text_bytes
from bm25x.app.store import (
    FINGERPRINT,
    Dense,
    Keys,
    Store,
    StoreError,
    fingerprints,
    point_keys_later,
)
from bm25x.internals import Failed, Later, Ready, Worker, encode_later, plain, point_ids

__all__ = [
    "AvgLen",
    "IngestReport",
    "dense_embedder",
    "encoder_from_settings",
    "ingest",
]

AvgLen = float | str | None
"""A number, ``"auto"`` (measure it on the corpus), or None (the flavour's default)."""
SETTINGS_FORMAT = 1
_V = TypeVar("_V")
_NO_DENSE: Ready[Dense | None] = Ready(None)


@dataclass(frozen=True)
class IngestReport:
    """What an ingest did."""

    documents: int
    """Documents in the corpus file."""
    written: int
    """Documents encoded and written by this run."""
    skipped: int
    """Documents already in the collection with the same text (a resumed or repeated ingest)."""
    seconds: float
    settings: dict[str, Any]
    updated: int = 0
    """Documents already in the collection whose text changed: written again (and counted in
    ``written``)."""


@dataclass(frozen=True)
class _Batch:
    """One batch of the corpus and what ingest must do with it: the documents to write (all,
    or on a resumed ingest those absent or changed) as lists."""

    size: int
    """Documents in the batch, written or not."""
    ids: list[str]
    texts: list[str]
    updated: int
    """Documents to write that the store holds with another text."""


def _to_write(store: Store, batches: Iterable[Columns], resuming: bool) -> Iterator[_Batch]:
    """The corpus's batches; a resumed ingest skips a document only when the store holds it
    with the same text (a changed text is written again: same point id, so overwritten)."""
    for ids, texts in batches:
        if not resuming:
            yield _Batch(len(ids), ids, texts, 0)
            continue
        prints = fingerprints(texts)
        present = store.existing(ids)
        keep = [i for i, (d, p) in enumerate(zip(ids, prints)) if present.get(d, "") != p]
        updated = sum(1 for i in keep if ids[i] in present)
        yield _Batch(len(ids), [ids[i] for i in keep], [texts[i] for i in keep], updated)


@dataclass(frozen=True)
class _Work:
    """What a batch needs to be written besides its documents: made at once, or being made
    on other threads while earlier batches are written."""

    sparse: Later[SparseBatch]
    keys: Later[Keys]
    """The documents' point ids and text fingerprints."""
    dense: Later[Dense | None]


AHEAD = 2
"""Batches whose work is started ahead of the one being written: while batch k is written,
k+1 and k+2 are encoded on other threads (when they are), so one batch slower to encode than
a write (long documents) seldom makes the writer wait."""


def _pipelined(
    batches: Iterable[_Batch], start: Callable[[_Batch], _V], ahead: int = AHEAD
) -> Iterator[tuple[_Batch, _V]]:
    """Each batch with what ``start(batch)`` began for it, begun ``ahead`` batches ahead:
    work that ``start`` gives to other threads is done while the caller writes batch k, so
    ingest then costs about max(encode, write) per batch instead of their sum. The batches
    themselves are read, and the store touched, only in the caller's thread."""
    queued: deque[tuple[_Batch, _V]] = deque()
    for batch in batches:
        queued.append((batch, start(batch)))
        if len(queued) > ahead:
            yield queued.popleft()
    while queued:
        yield queued.popleft()


def _now(f: Callable[..., _V], *args: Any) -> Later[_V]:
    """``f(*args)`` computed now, as a :class:`Later`: its error is raised where its value is
    taken, as a worker's would be."""
    try:
        return Ready(f(*args))
    except Exception as e:
        return Failed(e)


def _point_keys(doc_ids: list[str], texts: list[str]) -> Keys:
    return point_ids(doc_ids), fingerprints(texts)


def plain_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """Encoder options as canonical JSON (:func:`bm25x._options.plain`), so that the settings
    saved with a collection compare equal to the same options on the next run; an error names
    the option that cannot be saved."""
    if not isinstance(options, Mapping):
        raise TypeError(f"options must be a dict of option names to values, got {options!r}")
    return {str(k): plain(v, str(k)) for k, v in options.items()}


def encoder_from_settings(settings: dict[str, Any], threads: int | None = None) -> Bm25:
    """The encoder a collection was built with."""
    return Bm25(threads=threads, flavor=settings["flavor"], **settings["options"])


def dense_embedder(model: str) -> Callable[[list[str], bool], Dense]:
    """``f(texts, query) -> float32 matrix`` for a dense model, through bm25x's provider
    registry (``bm25x.embed``) when this installation has it."""
    import bm25x

    embed = getattr(bm25x, "embed", None)
    if embed is None:
        raise StoreError(
            f"dense model {model!r} is not available: this bm25x has no provider registry "
            "(bm25x.embed); ingest without --dense-model for bm25 only"
        )

    def run(texts: list[str], query: bool) -> Dense:
        vectors = embed(texts, model=model, query=query)
        return np.asarray([np.asarray(v, dtype=np.float32) for v in vectors], dtype=np.float32)

    return run


def _scan(
    source: CorpusFile, read: dict[str, Any], counter: Bm25 | None, quiet: bool
) -> tuple[int, float | None]:
    """Check every document; return the count and, with ``counter``, the mean token count."""
    tokens = 0
    on_text: Callable[[str], None] | None = None
    if counter is not None:
        terms = counter.terms

        def count(text: str) -> None:
            nonlocal tokens
            tokens += len(terms(text))

        on_text = count
    with Progress(None, "checking", quiet=quiet) as bar:
        n = check_docs(source.path, **read, on_text=on_text, progress=bar.update, source=source)
    if not n:
        raise CorpusError(f"{source.path}: no documents")
    return n, (tokens / n if counter is not None else None)


_SAMPLE = 1000
"""Documents read to estimate the size of the texts."""


def _texts_size(source: CorpusFile, read: dict[str, Any], documents: int) -> float:
    """About the UTF-8 size of all the texts, on the low side: the mean of the first
    :data:`_SAMPLE` documents times their number, but no more than the file's size (what
    holds them, for JSONL and CSV; a first part of longer documents would overstate them)."""
    sample = [d.text for d in islice(read_docs(source.path, **read, source=source), _SAMPLE)]
    mean = text_bytes(sample) / max(len(sample), 1)
    return min(mean * documents, source.size)


def _request(
    flavor: str,
    options: dict[str, Any],
    avg_len: AvgLen,
    text_fields: Sequence[str],
    id_field: str | None,
    store_text: bool,
    dense_model: str | None,
) -> dict[str, Any]:
    """What the caller asked for, in JSON form: a resumed ingest must ask for the same."""
    if avg_len is not None and avg_len != "auto":
        options = {**options, "avg_len": avg_len}
    request: dict[str, Any] = json.loads(
        json.dumps(
            {
                "flavor": flavor,
                "options": options,
                "avg_len": "auto" if avg_len == "auto" else None,
                "text_fields": list(text_fields),
                "id_field": id_field,
                "store_text": store_text,
                "dense_model": dense_model,
            },
        )
    )
    return request


def ingest(
    store: Store,
    path: str | Path,
    *,
    flavor: str = "qdrant",
    options: dict[str, Any] | None = None,
    avg_len: AvgLen = None,
    text_fields: Sequence[str] = DEFAULT_TEXT_FIELDS,
    id_field: str | None = None,
    store_text: bool = False,
    dense_model: str | None = None,
    batch_size: int = 512,
    recreate: bool = False,
    threads: int | None = None,
    quiet: bool = False,
) -> IngestReport:
    """Encode every document of ``path`` and write it to ``store``.

    ``options`` are :class:`bm25x.Bm25` options; ``avg_len="auto"`` measures the mean token
    count of the corpus under them. ``store_text`` copies the text into the payload
    (``"text"``); by default only the document id is stored. A collection built with other
    settings is an error unless ``recreate``."""
    started = time.perf_counter()
    path = Path(path)
    options = plain_options(options or {})
    if "avg_len" in options:
        if avg_len is not None:
            raise ValueError("give avg_len either as an option or as avg_len=, not both")
        avg_len = options.pop("avg_len")
    if avg_len != "auto":
        avg_len = plain(avg_len, "avg_len")
    if isinstance(avg_len, str) and avg_len != "auto":
        raise ValueError(f"avg_len must be a number or 'auto', got {avg_len!r}")
    if batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size}")
    probe = Bm25(flavor=flavor, **options)  # bad options fail here, before any reading
    if avg_len is not None and avg_len != "auto":
        Bm25(flavor=flavor, avg_len=avg_len, **options)
    source = CorpusFile(path)  # a pipe, which cannot be read twice, is refused here
    read: dict[str, Any] = {"text_fields": tuple(text_fields), "id_field": id_field}
    request = _request(flavor, options, avg_len, text_fields, id_field, store_text, dense_model)

    # Everything from here runs under the store's lock, so what is read below is still true
    # when it is acted on: no other process creates, recreates or writes the store meanwhile.
    store.lock(shared=False)
    existing = None if recreate else store.settings()
    if existing is not None and existing.get("request") != request:
        raise StoreError(
            f"{store.describe()} was built with other settings "
            f"({json.dumps(existing.get('request'), sort_keys=True)}); "
            "pass --recreate (recreate=True) to rebuild it with these"
        )
    measure = avg_len == "auto" and existing is None
    n_docs, measured = _scan(source, read, probe if measure else None, quiet)
    source.confirm()  # an edit since the check is refused before the store is touched
    space = SpaceCheck(store, store_text)
    space.before_writing(n_docs, lambda: _texts_size(source, read, n_docs))
    embed = dense_embedder(dense_model) if dense_model else None

    if existing is None:
        final = dict(options)
        if avg_len == "auto":
            final["avg_len"] = measured
        elif avg_len is not None:
            final["avg_len"] = avg_len
        settings: dict[str, Any] = {
            "format": SETTINGS_FORMAT,
            "bm25x_version": __version__,
            "request": request,
            "flavor": flavor,
            "options": final,
            "dense_model": dense_model,
            "dense_size": None,
            "complete": False,
            "documents": 0,
        }
        if embed is not None:
            first = next(read_docs(path, **read, source=source))
            settings["dense_size"] = int(embed([first.text], False).shape[1])
        store.create(settings, settings["dense_size"], replace=recreate)
    else:
        settings = {**existing, "complete": False}
        store.save_settings(settings)
    encoder = encoder_from_settings(settings, threads)

    # Where the sparse vectors, point ids and fingerprints are made (benches/README.md, issue
    # 24): for a store that writes on threads of its own (the REST writer), on a thread of
    # bm25x's own that never takes the GIL, which those threads and this one need; for one
    # that writes on this thread (an Edge shard, whose writes hold the GIL), here, between the
    # writes: measured, the writes and the reading then ran faster by about what the encoding
    # costs, so that a worker thread gained nothing and lost its own overhead. A dense model,
    # which is Python, runs on a Python thread.
    worker = Worker() if store.writes_in_background else None
    embedding = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bm25x-embed")

    def start(batch: _Batch) -> _Work:
        texts = batch.texts
        dense = embedding.submit(embed, texts, False) if embed and texts else _NO_DENSE
        if worker is None:
            return _Work(_now(encoder.encode, texts), _now(_point_keys, batch.ids, texts), dense)
        return _Work(
            encode_later(worker, encoder, texts),
            point_keys_later(worker, batch.ids, texts),
            dense,
        )

    written = skipped = updated = 0
    reading = read_batches(path, batch_size, **read, source=source)
    try:
        with embedding, Progress(n_docs, "ingesting", quiet=quiet) as bar:
            for batch, work in _pipelined(_to_write(store, reading, existing is not None), start):
                skipped += batch.size - len(batch.ids)
                updated += batch.updated
                sparse, (pids, prints), dense = (
                    work.sparse.result(),
                    work.keys.result(),
                    work.dense.result(),
                )
                if batch.ids:
                    space.before_batch(batch.texts, written)
                    payloads: list[dict[str, Any]] = (
                        [{FINGERPRINT: p, "text": t} for p, t in zip(prints, batch.texts)]
                        if store_text
                        else [{FINGERPRINT: p} for p in prints]
                    )
                    store.upsert(batch.ids, payloads, sparse, dense, point_ids=pids)
                    written += len(batch.ids)
                bar.update(batch.size)
    finally:
        reading.close()  # closes the corpus file at once if the loop ended early
    settings = {**settings, "complete": True, "documents": store.count()}
    store.save_settings(settings)
    return IngestReport(n_docs, written, skipped, time.perf_counter() - started, settings, updated)
