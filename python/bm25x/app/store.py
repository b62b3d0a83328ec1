"""Where collections live: a Qdrant Edge shard in a local directory (the default), or a
Qdrant server or cluster through qdrant-client. Both give the same results for the same data.

A store holds one collection with a sparse vector ``bm25`` (IDF modifier), optionally a dense
vector ``dense``, and the bm25x settings it was built with (options, flavour, models), so that
search encodes queries the same way. Point ids are UUIDs derived from document ids, so writing
a document twice overwrites it instead of duplicating it.
"""

from __future__ import annotations

import errno
import hashlib
import json
import os
import re
import shutil
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from bm25x import SparseBatch, SparseVector
from bm25x.app import scratch
from bm25x.app.lock import LockBusy, StoreLock
from bm25x.app.rest_points import PointWriter, rest_base, upsert_body
from bm25x.app.shard_check import id_tracker_damage
from bm25x.app.shard_snapshot import READ_INFIX, SHARD, held_elsewhere, snapshot
from bm25x.errors import StoreError
from bm25x.internals import native_fingerprints, point_id, point_ids

__all__ = [
    "DENSE",
    "FINGERPRINT",
    "SPARSE",
    "EdgeStore",
    "Hit",
    "MissingCollection",
    "QdrantStore",
    "Store",
    "StoreError",
    "f32",
    "fingerprint",
    "fingerprints",
    "point_id",
    "public_url",
    "version_gap",
]

SPARSE = "bm25"
"""Name of the sparse vector in every collection bm25x creates."""
DENSE = "dense"
"""Name of the dense vector, when a dense model is configured."""
RRF_K = 2
"""Reciprocal rank fusion constant (Qdrant's default), set explicitly so both backends agree."""
_SETTINGS_FILE = "bm25x.json"
_SHARD_DIR = "shard"
_METADATA_KEY = "bm25x"
FINGERPRINT = "bm25x_text"
"""Payload key of a document's text fingerprint (:func:`fingerprint`): a resumed ingest skips
a document only when its id and its text are both unchanged."""


class MissingCollection(StoreError):
    """There is no collection to search; ``where`` is :meth:`Store.describe` of the store."""

    def __init__(self, where: str) -> None:
        super().__init__(f"no {where}; create it with `bm25x ingest` first")
        self.where = where


def f32(score: float) -> float:
    """``score`` as float32, as the Python float whose ``repr`` is float32's shortest
    round-tripping text (``12.038683``, not ``12.03868293762207``).

    Qdrant scores are float32 whichever way they arrive: qdrant-edge widens them to float64
    (printing every binary digit), a server sends them as JSON text already shortened. Passing
    both through here makes the same score the same number, so both stores print alike.
    """
    return float(str(np.float32(score)))


def public_url(url: str) -> str:
    """``url`` without user, password, query or fragment: what a message may show of it."""
    from urllib.parse import urlsplit, urlunsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<the given URL>"
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address
    netloc = f"{host}:{port}" if port is not None else host
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def _major_minor(version: str) -> tuple[int, int] | None:
    head = version.strip().lstrip("v").split(".")
    try:
        return int(head[0]), int(head[1])
    except (IndexError, ValueError):
        return None


def version_gap(client: str, server: str) -> bool:
    """Whether qdrant-client ``client`` and a Qdrant server ``server`` are further apart than
    qdrant-client supports: another major version, or minor versions more than one apart
    (qdrant-client's own rule). Versions that cannot be read are not reported."""
    a, b = _major_minor(client), _major_minor(server)
    if a is None or b is None:
        return False
    return a[0] != b[0] or abs(a[1] - b[1]) > 1


def fingerprint(text: str) -> str:
    """A short, stable digest of a document's text."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).hexdigest()


def fingerprints(texts: Sequence[str]) -> list[str]:
    """:func:`fingerprint` of each text, computed natively a batch at a time; a batch with a
    text that is not UTF-8 (a lone surrogate) goes through :func:`fingerprint`."""
    try:
        return native_fingerprints(texts)
    except ValueError:
        return [fingerprint(t) for t in texts]


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    """The document id."""
    score: float
    payload: dict[str, Any] = field(default_factory=dict)


Dense = npt.NDArray[np.float32]


class Store(ABC):
    """One collection in some Qdrant: ``settings`` opens an existing one, ``create`` makes a
    fresh one (replacing any), ``save_settings`` records settings (e.g. that an ingest
    finished)."""

    @abstractmethod
    def describe(self) -> str:
        """Where the collection is, for messages."""

    @abstractmethod
    def settings(self) -> dict[str, Any] | None:
        """The recorded bm25x settings, or None when there is no collection yet. Opens it."""

    @abstractmethod
    def create(
        self, settings: dict[str, Any], dense_size: int | None, replace: bool = False
    ) -> None:
        """Make a fresh, empty collection recording ``settings``; an existing one is replaced
        only with ``replace`` (else an error: another process created it meanwhile)."""

    @abstractmethod
    def lock(self, shared: bool) -> None:
        """Hold the store against other processes until :meth:`close`: exclusively for
        writing, shared for reading. A no-op where the backend has no local lock (a server
        collection: Qdrant orders the writes; creation re-checks instead)."""

    @abstractmethod
    def save_settings(self, settings: dict[str, Any]) -> None:
        """Record new settings atomically, after flushing the writes made so far."""

    @abstractmethod
    def drop(self) -> None:
        """Delete the collection."""

    @abstractmethod
    def existing(self, doc_ids: Sequence[str]) -> dict[str, str | None]:
        """Which of these documents the collection holds, with the text fingerprint each was
        written with (None when unknown)."""

    @abstractmethod
    def upsert(
        self,
        doc_ids: Sequence[str],
        payloads: Sequence[dict[str, Any]],
        sparse: SparseBatch,
        dense: Dense | None,
    ) -> None:
        """Write documents (overwriting any with the same id)."""

    @abstractmethod
    def query(
        self, sparse: Sequence[SparseVector], dense: Dense | None, limit: int
    ) -> list[list[Hit]]:
        """Top ``limit`` documents per query; with dense query vectors, both rankings fused by
        reciprocal rank fusion."""

    @abstractmethod
    def count(self) -> int:
        """How many documents the collection holds."""

    @abstractmethod
    def close(self) -> None:
        """Release the collection (flushes writes)."""

    def free_space(self) -> int | None:
        """Bytes free on the disk that holds the collection, or None where it is not on a
        local disk (a server's)."""
        return None

    def disk_used(self) -> int:
        """Bytes the collection's files take on a local disk (0 for none, or a server's)."""
        return 0


def _write_json(file: Path, settings: dict[str, Any]) -> None:
    """Write settings atomically (a reader sees the old file or the new one, never half)."""
    tmp = file.with_name(file.name + ".tmp")
    tmp.write_text(
        json.dumps(settings, indent=2, sort_keys=True, allow_nan=False) + "\n", encoding="utf-8"
    )
    os.replace(tmp, file)


def _fingerprints(records: Any) -> dict[str, str | None]:
    """``{doc_id: text fingerprint}`` of retrieved points (None for points written before
    fingerprints were recorded)."""
    out: dict[str, str | None] = {}
    for r in records:
        payload = r.payload or {}
        fp = payload.get(FINGERPRINT)
        out[str(payload["doc_id"])] = fp if isinstance(fp, str) else None
    return out


def _point_rows(
    doc_ids: Sequence[str],
    payloads: Sequence[dict[str, Any]],
    sparse: SparseBatch,
    dense: Dense | None,
    make_sparse: Callable[[list[int], list[float]], Any],
) -> Iterator[tuple[str, dict[str, Any], dict[str, Any]]]:
    """``(point id, named vectors, payload)`` for each document, shared by both backends;
    ``make_sparse(indices, values)`` builds the backend's own sparse-vector type. The batch's
    arrays become lists once and each vector is a slice of them (no per-vector numpy view)."""
    if not len(doc_ids) == len(payloads) == len(sparse):
        raise ValueError(
            f"{len(doc_ids)} ids, {len(payloads)} payloads and {len(sparse)} vectors: "
            "one of each per document"
        )
    ptr, ind, val = sparse.indptr.tolist(), sparse.indices.tolist(), sparse.values.tolist()
    ids = point_ids(doc_ids)
    for i, (doc_id, payload) in enumerate(zip(doc_ids, payloads)):
        a, b = ptr[i], ptr[i + 1]
        vector: dict[str, Any] = {SPARSE: make_sparse(ind[a:b], val[a:b])}
        if dense is not None:
            vector[DENSE] = dense[i].tolist()
        yield ids[i], vector, {"doc_id": doc_id, **payload}


def _hit(point: Any) -> Hit:
    payload = dict(point.payload or {})
    payload.pop(FINGERPRINT, None)
    return Hit(str(payload.pop("doc_id", point.id)), f32(point.score), payload)


_BUILD_INFIX = ".bm25x-build-"
"""A store is built in ``.NAME.bm25x-build-PID`` beside its directory and renamed into place,
so an interrupt never leaves a half-made store under the store's own name."""
_OLD_INFIX = ".bm25x-old-"
"""A store being replaced or dropped is renamed to ``.NAME.bm25x-old-PID`` and deleted there."""


def _leftovers(store: Path) -> list[Path]:
    """The builds and old stores that processes writing ``store`` (an absolute path) left
    beside it: ``.NAME.bm25x-build-PID``, ``.NAME.bm25x-old-PID`` and the snapshots of killed
    searches, ``.NAME.bm25x-read-PID-HEX``, NAME compared exactly (a glob would read ``[``,
    ``*`` or ``?`` in a store's name as a pattern that matches other stores' folders)."""
    infixes = "|".join(map(re.escape, (_BUILD_INFIX, _OLD_INFIX)))
    ours = re.compile(
        rf"\.{re.escape(store.name)}(?:(?:{infixes})[0-9]+|{re.escape(READ_INFIX)}[0-9]+-[0-9a-f]+)"
    )
    try:
        names = os.listdir(store.parent)
    except OSError:
        return []
    return [store.parent / name for name in names if ours.fullmatch(name)]


_FULL_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT})
_FULL_TEXTS = ("No space left on device", "os error 28", "Disk quota exceeded", "os error 122")
"""How the operating system says a disk (or the user's quota) is full, to Python and to the
store library (Rust's io::Error)."""


def _disk_full(e: BaseException) -> bool:
    """Whether ``e`` says the disk is full."""
    if isinstance(e, OSError) and e.errno in _FULL_ERRNOS:
        return True
    return _says_full(str(e))


def _says_full(text: str) -> bool:
    return any(t in text for t in _FULL_TEXTS)


def _full_error(where: Path, detail: str) -> StoreError:
    """The error for a write that found the disk holding ``where`` full: what was written
    stays, and the command resumes once there is room (never advise rebuilding for it)."""
    return StoreError(
        f"the disk holding {where} is full ({detail}); free some space and run the same "
        "command again: an ingest resumes where it stopped, and what it wrote is kept"
    )


def _first_line(e: BaseException, limit: int = 300) -> str:
    text = (str(e).strip().splitlines() or [type(e).__name__])[0]
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _is_store_library_error(e: BaseException) -> bool:
    """qdrant-edge raises plain Exceptions, and a Rust panic inside it arrives as pyo3's
    ``PanicException`` (a BaseException, so ``except Exception`` misses it)."""
    return isinstance(e, Exception) or type(e).__name__ == "PanicException"


class EdgeStore(Store):
    """A Qdrant Edge shard persisted in ``path`` (the shard in ``path/shard``, the settings in
    ``path/bm25x.json``). Writers hold an exclusive lock on ``.NAME.lock`` beside it, readers
    a shared one (:mod:`bm25x.app.lock`); a reader that cannot open the shard in place (a
    read-only location, or another process has it open) searches a private snapshot
    (:mod:`bm25x.app.shard_snapshot`)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path).resolve()
        """The store's directory, absolute and free of ``.``, ``..`` and symbolic links: its
        name names what is built and locked beside it (``--store .`` in an empty folder, or a
        link and its target, are one store under one lock)."""
        self._shard: Any = None
        self._lock = StoreLock(self.path)
        self._copy: Path | None = None

    def describe(self) -> str:
        return f"Qdrant Edge shard in {self.path}"

    def lock(self, shared: bool) -> None:
        try:
            self._lock.acquire(shared)
        except LockBusy as e:
            holder = f" (process {e.pid})" if e.pid is not None else ""
            if shared:
                raise StoreError(
                    f"{self.path} is being written by another process{holder}, a `bm25x "
                    "ingest`; search it when that finishes (the store is not damaged)"
                ) from None
            raise StoreError(
                f"{self.path} is in use by another process{holder} that is writing or "
                "searching it; wait for it to finish and run this again (the store is not "
                "damaged)"
            ) from None
        except OSError as e:
            raise StoreError(
                f"cannot lock {self.path} for writing: cannot create {self._lock.path} ({e})"
            ) from None
        if not shared:
            self._clean_leftovers()

    def _clean_leftovers(self) -> None:
        """Delete what an interrupted create or drop left beside the store (a build, or an old
        store set aside); only ever called with the exclusive lock, so none is in use."""
        where = self.path.absolute()
        for stale in _leftovers(where):
            shutil.rmtree(stale, ignore_errors=True)

    def _kind(self) -> str:
        """``missing``, ``empty``, ``store``, or ``unfinished`` (only a shard: an older bm25x
        was interrupted while creating it); an error for a file or a foreign directory."""
        if not self.path.exists():
            return "missing"
        if not self.path.is_dir():
            raise StoreError(f"{self.path} is a file, not a store directory")
        if (self.path / _SETTINGS_FILE).exists():
            return "store"
        entries = {p.name for p in self.path.iterdir()}
        if not entries:
            return "empty"
        if entries == {_SHARD_DIR} and (self.path / _SHARD_DIR / "edge_config.json").exists():
            return "unfinished"
        raise StoreError(
            f"{self.path} exists but is not a bm25x store (no {_SETTINGS_FILE}); "
            "choose another directory"
        )

    def _guard(self, what: str, call: Any, *args: Any) -> Any:
        """``call(*args)`` with the store library's errors (and panics) as one StoreError."""
        try:
            return call(*args)
        except BaseException as e:
            if not _is_store_library_error(e) or isinstance(e, StoreError):
                raise
            if _disk_full(e):
                raise _full_error(self.path, _first_line(e)) from None
            raise StoreError(
                f"cannot {what} the shard in {self.path} ({_first_line(e)}); if its files were "
                "damaged, rebuild it with `bm25x ingest --recreate`"
            ) from None

    def settings(self) -> dict[str, Any] | None:
        if self._kind() != "store":
            return None
        file = self.path / _SETTINGS_FILE
        try:
            settings: Any = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as e:
            raise StoreError(
                f"{file}: unreadable settings ({_first_line(e)}); rebuild with "
                "`bm25x ingest --recreate`"
            ) from None
        if not isinstance(settings, dict):
            raise StoreError(
                f"{file}: not a bm25x settings object; rebuild with `bm25x ingest --recreate`"
            )
        if self._shard is None:
            self._shard = self._load()
            self._check(settings)
        return settings

    def _load(self) -> Any:
        from qdrant_edge import EdgeShard

        where = self.path / _SHARD_DIR
        damage = id_tracker_damage(where)
        if damage is not None:  # qdrant-edge would abort the process on some of it
            raise StoreError(
                f"{self.path} is damaged: {damage}; rebuild it with `bm25x ingest --recreate`"
            )
        if self._lock.shared and held_elsewhere(where):
            return self._load_copy(where)
        try:
            return EdgeShard.load(str(where))
        except BaseException as e:
            if not _is_store_library_error(e):
                raise
            full, message = str(e), _first_line(e)
        busy = "WouldBlock" in full or "Resource temporarily unavailable" in full
        readonly = "Read-only file system" in full or "ermission denied" in full
        if self._lock.shared and (busy or readonly):
            return self._load_copy(where)
        if readonly:
            raise StoreError(
                f"cannot write to the shard in {self.path} ({message}); writing needs a "
                "writable location (search works read-only)"
            )
        if busy:
            raise StoreError(
                f"the shard in {self.path} is open in another process (a search or a program "
                "using it); wait for it to finish and run this again (the store is not "
                "damaged)"
            )
        if _says_full(full):
            raise _full_error(self.path, message)
        raise StoreError(
            f"cannot open the shard in {self.path} ({message}); rebuild it with "
            "`bm25x ingest --recreate`"
        )

    def _load_copy(self, shard: Path) -> Any:
        """Open a private snapshot of the shard: qdrant-edge writes to a shard it opens (and
        locks it), so a reader that cannot do that in place reads a snapshot it can."""
        from qdrant_edge import EdgeShard

        try:
            self._copy = snapshot(shard, self.path)
        except OSError as e:
            raise StoreError(f"cannot read the shard in {self.path} ({e})") from None
        return self._guard("open a copy of", EdgeShard.load, str(self._copy / SHARD))

    def _drop_copy(self) -> None:
        if self._copy is not None:
            copy, self._copy = self._copy, None
            scratch.remove(copy)

    def _check(self, settings: dict[str, Any]) -> None:
        """A finished store must hold the documents its settings record: damaged shard files
        can make qdrant-edge open a fraction of them without any error."""
        recorded = settings.get("documents")
        if not settings.get("complete") or not isinstance(recorded, int):
            return
        held = self.count()
        if held != recorded:
            raise StoreError(
                f"{self.path} is damaged: its settings record {recorded:,} documents but the "
                f"shard holds {held:,}; rebuild it with `bm25x ingest --recreate`"
            )

    def create(
        self, settings: dict[str, Any], dense_size: int | None, replace: bool = False
    ) -> None:
        from qdrant_edge import (
            Distance,
            EdgeConfig,
            EdgeShard,
            EdgeSparseVectorParams,
            EdgeVectorParams,
            Modifier,
        )

        kind = self._kind()  # refuses a directory that is not a bm25x store
        if kind == "store" and not replace:
            raise StoreError(
                f"{self.path} was created by another process meanwhile; run this again"
            )
        self._close_shard()
        parent = self.path.parent
        vectors = (
            {DENSE: EdgeVectorParams(size=dense_size, distance=Distance.Cosine)}
            if dense_size
            else None
        )
        config = EdgeConfig(
            vectors=vectors,
            sparse_vectors={SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
        )
        build = parent / f".{self.path.name}{_BUILD_INFIX}{os.getpid()}"
        parent.mkdir(parents=True, exist_ok=True)
        build.mkdir()
        try:
            shard = self._guard("create", EdgeShard.create, str(build / _SHARD_DIR), config)
            shard.flush()
            shard.close()
            _write_json(build / _SETTINGS_FILE, settings)
            old = None
            if kind == "empty":
                # An empty directory someone made (or is in: `--store .`) stays, so a shell
                # inside it still sees it: the build's contents move in, the settings last
                # (they mark a finished store).
                for name in (_SHARD_DIR, _SETTINGS_FILE):
                    os.rename(build / name, self.path / name)
                build.rmdir()
            else:
                old = self._set_aside(kind)
                os.rename(build, self.path)
        except BaseException as e:
            shutil.rmtree(build, ignore_errors=True)
            if isinstance(e, OSError) and _disk_full(e):
                raise _full_error(self.path, _first_line(e)) from None
            raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
        self._shard = self._guard("open", EdgeShard.load, str(self.path / _SHARD_DIR))

    def save_settings(self, settings: dict[str, Any]) -> None:
        self._guard("flush", self._open().flush)
        try:
            _write_json(self.path / _SETTINGS_FILE, settings)
        except OSError as e:
            if _disk_full(e):
                raise _full_error(self.path, _first_line(e)) from None
            raise

    def free_space(self) -> int | None:
        where = self.path
        while not where.exists() and where != where.parent:  # not made yet: its parent's disk
            where = where.parent
        return shutil.disk_usage(where).free

    def disk_used(self) -> int:
        total = 0
        for root, _, files in os.walk(self.path):
            for name in files:
                try:
                    st = os.stat(os.path.join(root, name))
                except OSError:
                    continue  # gone meanwhile
                # allocated blocks where the system counts them: shard files are sparse
                blocks = getattr(st, "st_blocks", None)
                total += st.st_size if blocks is None else blocks * 512
        return total

    def drop(self) -> None:
        self._close_shard()
        old = self._set_aside(self._kind())
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)

    def _set_aside(self, kind: str) -> Path | None:
        """Move our store (or an empty directory) out of the way in one rename, so that an
        interrupt while deleting it never leaves a half-deleted directory under its name;
        returns where it went. A directory that is not ours is never touched."""
        if kind == "empty":
            self.path.rmdir()
        if kind not in ("store", "unfinished"):
            return None
        where = self.path.absolute()
        old = where.parent / f".{where.name}{_OLD_INFIX}{os.getpid()}"
        os.rename(self.path, old)
        return old

    def _close_shard(self) -> None:
        if self._shard is not None:
            shard, self._shard = self._shard, None
            self._guard("close", shard.close)
        self._drop_copy()

    def _open(self) -> Any:
        if self._shard is None:
            raise StoreError(f"no collection in {self.path}; run `bm25x ingest` first")
        return self._shard

    def existing(self, doc_ids: Sequence[str]) -> dict[str, str | None]:
        records = self._guard(
            "read",
            self._open().retrieve,
            point_ids(doc_ids),
            ["doc_id", FINGERPRINT],
            False,
        )
        return _fingerprints(records)

    def upsert(
        self,
        doc_ids: Sequence[str],
        payloads: Sequence[dict[str, Any]],
        sparse: SparseBatch,
        dense: Dense | None,
    ) -> None:
        from qdrant_edge import Point, UpdateOperation
        from qdrant_edge import SparseVector as EdgeSparse

        points = [
            Point(pid, vector, body)
            for pid, vector, body in _point_rows(doc_ids, payloads, sparse, dense, EdgeSparse)
        ]
        self._guard("write to", self._open().update, UpdateOperation.upsert_points(points))

    def query(
        self, sparse: Sequence[SparseVector], dense: Dense | None, limit: int
    ) -> list[list[Hit]]:
        from qdrant_edge import Fusion, Prefetch, Query, QueryBatchRequest, QueryRequest
        from qdrant_edge import SparseVector as EdgeSparse

        requests = []
        for i, vec in enumerate(sparse):
            nearest = Query.Nearest(EdgeSparse(vec.indices.tolist(), vec.values.tolist()), SPARSE)
            if dense is None:
                requests.append(QueryRequest(limit=limit, query=nearest, with_payload=True))
            else:
                prefetches = [
                    Prefetch(limit=limit, query=nearest),
                    Prefetch(limit=limit, query=Query.Nearest(dense[i].tolist(), DENSE)),
                ]
                requests.append(
                    QueryRequest(
                        limit=limit,
                        query=Fusion.Rrf(k=RRF_K),  # type: ignore[arg-type]  # stub: Fusion
                        prefetches=prefetches,
                        with_payload=True,
                    )
                )
        if not requests:
            return []
        results = self._guard("search", self._open().query_batch, QueryBatchRequest(requests))
        hits = [[_hit(p) for p in points] for points in results]
        if dense is None and any(h.score < 0 for found in hits for h in found):
            # BM25 with Qdrant's IDF is never negative: the shard's statistics are damaged
            # (seen when an id-tracker file is lost and the write-ahead log is replayed).
            raise StoreError(
                f"{self.path} is damaged: its index gives negative BM25 scores; rebuild it "
                "with `bm25x ingest --recreate`"
            )
        return hits

    def count(self) -> int:
        from qdrant_edge import CountRequest

        return int(self._guard("count", self._open().count, CountRequest(exact=True)))

    def close(self) -> None:
        try:
            if self._shard is not None and self._copy is None:
                self._guard("flush", self._shard.flush)
        finally:
            try:
                self._close_shard()
            finally:
                self._lock.release()


class QdrantStore(Store):
    """A collection in any Qdrant that qdrant-client reaches: a server or cluster by URL and
    API key, or qdrant-client's local mode. Settings live in the collection's metadata."""

    def __init__(
        self,
        client: Any,
        collection: str,
        url: str | None = None,
        writer: PointWriter | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.url = url
        """The server's URL (None for local mode); messages show only :func:`public_url`."""
        self._writer = writer
        """Writes points over REST itself (:mod:`bm25x.app.rest_points`), a few requests in
        flight; None writes through qdrant-client (its local mode). Every other call waits
        for the writes in flight first, so it sees them, and reports their failure."""

    @classmethod
    def connect(cls, url: str, collection: str, api_key: str | None = None) -> QdrantStore:
        """A store for ``collection`` on the Qdrant at ``url``."""
        try:
            from qdrant_client import QdrantClient
        except ImportError:
            raise StoreError(
                "--url needs qdrant-client: pip install 'bm25x-sparse[qdrant]'"
            ) from None
        # qdrant-client's own check warns from a background thread, as a multi-line
        # UserWarning that can land in the middle of the output; the CLI asks once instead
        # (version_note) and says it in one line.
        client = QdrantClient(url=url, api_key=api_key, check_compatibility=False)
        writer = PointWriter(
            rest_base(url, api_key),
            collection,
            api_key,
            f"collection {collection!r} at {public_url(url)}",
        )
        return cls(client, collection, url, writer)

    def _settle(self) -> None:
        """Wait for the writes in flight (raising the first that failed)."""
        if self._writer is not None:
            self._writer.wait()

    def _at(self) -> str:
        return f" at {public_url(self.url)}" if self.url else ""

    def describe(self) -> str:
        return f"collection {self.collection!r}{self._at()}"

    def version_note(self) -> str | None:
        """One line when qdrant-client and the server are further apart than qdrant-client
        supports (:func:`version_gap`), else None. Asks the server once; a server that does not
        say its version (a proxy in front of it) is not reported, and one that cannot be
        reached raises qdrant-client's error, as the first real request would."""
        from importlib.metadata import PackageNotFoundError, version

        from qdrant_client.http.exceptions import UnexpectedResponse

        try:
            client_version = version("qdrant-client")
        except PackageNotFoundError:
            return None
        try:
            server_version = str(self.client.info().version)
        except UnexpectedResponse:
            return None
        if not version_gap(client_version, server_version):
            return None
        parsed = _major_minor(server_version)
        assert parsed is not None  # version_gap read it
        series = f"{parsed[0]}.{parsed[1]}"
        return (
            f"qdrant-client {client_version} is more than one minor version from the Qdrant "
            f"server{self._at()} "
            f"({server_version}); if a request fails, install a matching client: "
            f"pip install 'qdrant-client~={series}.0'"
        )

    def lock(self, shared: bool) -> None:
        pass  # no local lock for a server collection; create() re-checks instead

    def settings(self) -> dict[str, Any] | None:
        self._settle()
        if not self.client.collection_exists(self.collection):
            return None
        metadata = self.client.get_collection(self.collection).config.metadata or {}
        if _METADATA_KEY not in metadata:
            raise StoreError(
                f"collection {self.collection!r} was not created by bm25x (no {_METADATA_KEY!r} "
                "in its metadata); choose another collection name"
            )
        settings: Any = metadata[_METADATA_KEY]
        if not isinstance(settings, dict):
            raise StoreError(
                f"collection {self.collection!r} has malformed bm25x settings; rebuild it "
                "with `bm25x ingest --recreate`"
            )
        return settings

    def create(
        self, settings: dict[str, Any], dense_size: int | None, replace: bool = False
    ) -> None:
        from qdrant_client import models

        self._settle()
        if self.client.collection_exists(self.collection):
            if not replace:
                raise StoreError(
                    f"collection {self.collection!r} was created by another process meanwhile; "
                    "run this again"
                )
            self.client.delete_collection(self.collection)
        vectors = (
            {DENSE: models.VectorParams(size=dense_size, distance=models.Distance.COSINE)}
            if dense_size
            else {}
        )
        self.client.create_collection(
            self.collection,
            vectors_config=vectors,
            sparse_vectors_config={SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)},
            metadata={_METADATA_KEY: settings},
        )

    def save_settings(self, settings: dict[str, Any]) -> None:
        self._settle()
        self.client.update_collection(self.collection, metadata={_METADATA_KEY: settings})

    def drop(self) -> None:
        self._settle()
        if self.client.collection_exists(self.collection):
            self.client.delete_collection(self.collection)

    def existing(self, doc_ids: Sequence[str]) -> dict[str, str | None]:
        if self._writer is not None:
            self._writer.wait_for(doc_ids)  # only the writes of these documents
        records = self.client.retrieve(
            self.collection,
            point_ids(doc_ids),
            with_payload=["doc_id", FINGERPRINT],
            with_vectors=False,
        )
        return _fingerprints(records)

    def upsert(
        self,
        doc_ids: Sequence[str],
        payloads: Sequence[dict[str, Any]],
        sparse: SparseBatch,
        dense: Dense | None,
    ) -> None:
        if self._writer is not None:
            self._writer.put(upsert_body(doc_ids, payloads, sparse, dense, SPARSE, DENSE), doc_ids)
            return
        from qdrant_client import models

        def make_sparse(indices: list[int], values: list[float]) -> Any:
            return models.SparseVector(indices=indices, values=values)

        points = [
            models.PointStruct(id=pid, vector=vector, payload=body)
            for pid, vector, body in _point_rows(doc_ids, payloads, sparse, dense, make_sparse)
        ]
        self.client.upsert(self.collection, points, wait=True)

    def query(
        self, sparse: Sequence[SparseVector], dense: Dense | None, limit: int
    ) -> list[list[Hit]]:
        from qdrant_client import models

        self._settle()
        requests = []
        for i, vec in enumerate(sparse):
            nearest = models.SparseVector(indices=vec.indices.tolist(), values=vec.values.tolist())
            if dense is None:
                requests.append(
                    models.QueryRequest(query=nearest, using=SPARSE, limit=limit, with_payload=True)
                )
            else:
                requests.append(
                    models.QueryRequest(
                        prefetch=[
                            models.Prefetch(query=nearest, using=SPARSE, limit=limit),
                            models.Prefetch(query=dense[i].tolist(), using=DENSE, limit=limit),
                        ],
                        query=models.RrfQuery(rrf=models.Rrf(k=RRF_K)),
                        limit=limit,
                        with_payload=True,
                    )
                )
        if not requests:
            return []
        responses = self.client.query_batch_points(self.collection, requests)
        return [[_hit(p) for p in r.points] for r in responses]

    def count(self) -> int:
        self._settle()
        return int(self.client.count(self.collection, exact=True).count)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
