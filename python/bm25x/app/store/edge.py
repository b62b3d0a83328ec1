"""The store in a local directory: a Qdrant Edge shard beside the bm25x settings, locked
against other processes, built and replaced so that an interrupt never leaves half a store."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bm25x import SparseBatch, SparseVector
from bm25x.app import scratch
from bm25x.app.errors import StoreError
from bm25x.app.lock import LockBusy, StoreLock
from bm25x.app.shard_check import id_tracker_damage
from bm25x.app.shard_snapshot import SHARD, held_elsewhere, snapshot
from bm25x.app.store.base import Dense, Hit, Store
from bm25x.app.store.disk import (
    _BUILD_INFIX,
    _OLD_INFIX,
    _disk_full,
    _first_line,
    _full_error,
    _leftovers,
    _says_full,
    _write_json,
)
from bm25x.app.store.points import (
    DENSE,
    FINGERPRINT,
    RRF_K,
    SPARSE,
    _fingerprints,
    _hit,
    _point_rows,
)
from bm25x.internals import point_ids

__all__ = ["EdgeStore"]

_SETTINGS_FILE = "bm25x.json"
_SHARD_DIR = "shard"


def _is_store_library_error(e: BaseException) -> bool:
    """qdrant-edge raises plain Exceptions, and a Rust panic inside it arrives as pyo3's
    ``PanicException`` (a BaseException, so ``except Exception`` misses it)."""
    return isinstance(e, Exception) or type(e).__name__ == "PanicException"


def _holds_cwd(path: Path) -> bool:
    """Whether the current directory is ``path`` or inside it."""
    try:
        here, there = Path.cwd().resolve(), path.resolve()
    except OSError:  # the current directory is gone
        return False
    return here == there or there in here.parents


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
            # An empty directory someone made stays, and so does a store a shell is in
            # (`--store .`): the build's contents move in, the settings last (they mark a
            # finished store), so that the shell still sees it. Otherwise the build is renamed
            # into place in one step.
            old = self._set_aside(kind, keep_directory=kind == "empty")
            if self.path.is_dir():
                for name in (_SHARD_DIR, _SETTINGS_FILE):
                    os.rename(build / name, self.path / name)
                build.rmdir()
            else:
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

    def _set_aside(self, kind: str, keep_directory: bool = False) -> Path | None:
        """Move our store (or an empty directory) out of the way in one rename, so that an
        interrupt while deleting it never leaves a half-deleted directory under its name;
        returns where it went. A directory that is not ours is never touched.

        The directory itself stays where ``keep_directory`` says so or where the current
        directory is inside it (`--store .`: a shell there would be left in a deleted folder);
        then its contents move out instead, the settings first, so that an interrupted move
        leaves an unfinished store (rebuilt by the next ingest), never a finished one without
        its shard."""
        keep = keep_directory or _holds_cwd(self.path)
        if kind == "empty":
            if not keep:
                self.path.rmdir()
            return None
        if kind not in ("store", "unfinished"):
            return None
        where = self.path.absolute()
        old = where.parent / f".{where.name}{_OLD_INFIX}{os.getpid()}"
        if not keep:
            os.rename(self.path, old)
            return old
        old.mkdir()
        for name in sorted(os.listdir(self.path), key=lambda n: n != _SETTINGS_FILE):
            os.rename(self.path / name, old / name)
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
        *,
        point_ids: Sequence[str] | None = None,
    ) -> None:
        from qdrant_edge import Point, UpdateOperation
        from qdrant_edge import SparseVector as EdgeSparse

        rows = _point_rows(doc_ids, payloads, sparse, dense, EdgeSparse, point_ids)
        points = [Point(pid, vector, body) for pid, vector, body in rows]
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
