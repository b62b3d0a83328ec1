"""The backfill run: pages of points read in id order, encoded and written by a bounded pool
of workers while the next page is read, committed in order.

A page is committed (counted, its problems listed in the report file, the checkpoint's offset
moved past it) only once it and every page before it are written, so the checkpoint's offset
always has every point before it done. The checkpoint is saved every ``checkpoint_seconds``,
at the end, and when the run stops on an error or Ctrl-C; after ``SIGKILL`` the next run starts
from the last saved one. Pages written after that save are read, encoded and written again:
the same text with the same model gives the same vector (bit for bit for bm25 and local
models), so writing it again leaves the point as it was.
"""

from __future__ import annotations

import json
import os
import time
from collections import deque
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from bm25x.app.backfill.errors import BackfillError, CannotAddVector, FieldError, VerifyError
from bm25x.app.backfill.fields import EMPTY, MISSING, FieldPath
from bm25x.app.backfill.model import VectorModel, VectorSpec
from bm25x.app.backfill.pages import Page, encode_and_write, pages
from bm25x.app.backfill.report import SHOWN_PROBLEMS, BackfillReport, ReportFile
from bm25x.app.backfill.state import Checkpoint, part_key, vector_key
from bm25x.app.backfill.target import Existing, PointId, Target, id_order, normal_id
from bm25x.app.backfill.verify import verify as verify_points
from bm25x.app.progress import Progress

__all__ = ["BackfillReport", "IdRange", "backfill", "open_target"]

IdRange = tuple["PointId | None", "PointId | None"]
"""``(start, end)``: points from ``start`` (included) to ``end`` (excluded) in Qdrant's id
order (integers, then UUIDs); None for an open end."""


def open_target(
    *,
    store: str | os.PathLike[str] | None = None,
    url: str | None = None,
    api_key: str | None = None,
    collection: str | None = None,
    client: Any = None,
) -> Target:
    """The collection to backfill: an Edge shard directory (``store``), or ``collection`` on
    the Qdrant at ``url`` or behind a ``QdrantClient`` (``client``)."""
    given = [name for name, v in (("store", store), ("url", url), ("client", client)) if v]
    if len(given) != 1:
        raise ValueError("give exactly one of store (an Edge shard), url or client")
    if store is not None:
        from bm25x.app.backfill.edge import EdgeTarget

        return EdgeTarget(store)
    from bm25x.app.backfill.server import ServerTarget

    if not collection:
        raise ValueError("a server needs the collection's name (collection=, --collection)")
    if client is not None:
        return ServerTarget(client, collection)
    assert url is not None
    return ServerTarget.connect(url, collection, api_key)


def _check_fits(existing: Existing, spec: VectorSpec, name: str, where: str, model: str) -> None:
    """A vector that exists must be the kind the model fills."""
    hint = "; choose another --vector name (it is created to fit) or --to NEW"
    if existing.kind != spec.kind or existing.multivector:
        raise BackfillError(
            f"vector {name!r} of {where} is {existing.describe()}, but model {model!r} gives "
            f"{spec.describe()}{hint}"
        )
    if spec.kind == "sparse" and spec.idf and not existing.idf:
        raise BackfillError(
            f"vector {name!r} of {where} has no IDF modifier, which {model!r} needs (without "
            f"it Qdrant ranks by term weights alone){hint}"
        )
    if spec.kind == "dense" and existing.size != spec.size:
        raise BackfillError(
            f"vector {name!r} of {where} has size {existing.size}, but model {model!r} gives "
            f"vectors of size {spec.size}{hint}"
        )


def _plain_filter(flt: Mapping[str, Any] | None) -> dict[str, Any] | None:
    if flt is None:
        return None
    if not isinstance(flt, Mapping):
        raise ValueError(f"the filter must be a Qdrant filter object (JSON), got {flt!r}")
    plain: dict[str, Any] = json.loads(json.dumps(flt))
    return plain or None


def _id_range(id_range: Any) -> tuple[PointId | None, PointId | None] | None:
    if id_range is None:
        return None
    start, end = id_range
    start = normal_id(start) if start is not None else None
    end = normal_id(end) if end is not None else None
    if start is not None and end is not None and id_order(start) >= id_order(end):
        raise ValueError(f"the id range is empty: {start!r} is not before {end!r}")
    return start, end


def backfill(
    target: Target | None = None,
    *,
    vector: str,
    from_field: str,
    model: str = "qdrant/bm25",
    options: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
    store: str | os.PathLike[str] | None = None,
    url: str | None = None,
    api_key: str | None = None,
    collection: str | None = None,
    client: Any = None,
    to: str | None = None,
    filter: Mapping[str, Any] | None = None,
    id_range: IdRange | None = None,
    only_missing: bool = False,
    create: bool = True,
    strict: bool = False,
    report: str | os.PathLike[str] | None = None,
    verify: int = 0,
    workers: int = 2,
    page_size: int = 512,
    threads: int | None = None,
    restart: bool = False,
    checkpoint_seconds: float = 5.0,
    quiet: bool = False,
) -> BackfillReport:
    """Fill the named vector ``vector`` of every point (matching ``filter``, within
    ``id_range``) with ``model``'s encoding of the text at ``from_field`` in its payload.

    The collection: ``target``, or an Edge shard directory (``store``), or ``collection`` on
    the Qdrant at ``url`` (``api_key``) or behind a ``QdrantClient`` (``client``). ``model``
    and ``options`` are as :func:`bm25x.embed` takes them (``headers``: provider keys). A
    missing vector is added (unless ``create`` is false); one that exists must fit the model.

    Only the named vector of each point is written; other vectors and payloads are never
    touched. Points whose field is missing, empty or not a string get no vector: they are
    counted, listed in ``report`` (JSON lines) and, with ``strict``, stop the run. With
    ``only_missing``, points that have the vector are skipped.

    The run is resumable: interrupted anyhow, the same call continues where it stopped; once
    finished, the same call does nothing (``restart`` does it all again). ``verify`` re-reads
    that many random points afterwards and checks their vectors equal a fresh encoding
    (:class:`VerifyError` if not). Pages of ``page_size`` points are encoded and written by
    ``workers`` threads while the next page is read.

    ``to``: fill a copy instead, the new collection ``to`` on the same server, with the
    source's configuration, points, payloads and vectors, and the vector (for servers that
    cannot add one to an existing collection, before Qdrant 1.18.0); resumable likewise."""
    field = FieldPath(from_field)
    if not isinstance(vector, str) or not vector:
        raise ValueError("the vector must be a name, e.g. 'bm25'")
    for name, value in (("workers", workers), ("page_size", page_size)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if not isinstance(verify, int) or verify < 0:
        raise ValueError(f"verify must be a number of points, got {verify!r}")
    vm = VectorModel(model, dict(options or {}), headers, threads)
    flt = _plain_filter(filter)
    rng = _id_range(id_range)
    owned = target is None
    if target is None:
        target = open_target(
            store=store, url=url, api_key=api_key, collection=collection, client=client
        )
    try:
        if to is not None:
            from bm25x.app.backfill.copy import copy_target

            if only_missing:
                raise ValueError("only_missing has no meaning with to= (the copy is new)")
            target = copy_target(target, to, vector, vm.spec)
        return _Run(target, vm, vector, field, flt, rng, only_missing).go(
            create=create,
            strict=strict,
            report=report,
            verify=verify,
            workers=workers,
            page_size=page_size,
            restart=restart,
            checkpoint_seconds=checkpoint_seconds,
            quiet=quiet,
        )
    finally:
        if owned:
            target.close()


class _Run:
    def __init__(
        self,
        target: Target,
        model: VectorModel,
        vector: str,
        field: FieldPath,
        flt: dict[str, Any] | None,
        rng: tuple[PointId | None, PointId | None] | None,
        only_missing: bool,
    ) -> None:
        self.target = target
        self.model = model
        self.vector = vector
        self.field = field
        self.flt = flt
        self.rng = rng
        self.only_missing = only_missing
        self.request: dict[str, Any] = {
            "vector": vector,
            "from_field": field.path,
            "model": model.model,
            "flavor": model.flavor,
            "options": model.options,
            "filter": flt,
            "id_range": list(rng) if rng is not None else None,
            "only_missing": only_missing,
        }
        self.key = part_key(vector, self.request)

    def _prepare_vector(self, create: bool) -> bool:
        """Check the vector fits the model, or add it; whether it was added."""
        where = self.target.describe()
        existing = self.target.vectors().get(self.vector)
        if existing is not None:
            _check_fits(existing, self.model.spec, self.vector, where, self.model.model)
            return False
        if not create:
            raise BackfillError(f"{where} has no vector {self.vector!r}")
        try:
            self.target.add_vector(self.vector, self.model.spec)
        except CannotAddVector:
            raise
        except Exception:
            # Another part of a split backfill may have added it just now.
            existing = self.target.vectors().get(self.vector)
            if existing is None:
                raise
            _check_fits(existing, self.model.spec, self.vector, where, self.model.model)
            return False
        return True

    def _checkpoint(self, restart: bool) -> tuple[Checkpoint, bool]:
        """The checkpoint to run from, and whether it resumes an unfinished run."""
        found = Checkpoint.from_json(self.target.metadata().get(self.key))
        start = self.rng[0] if self.rng else None
        if found is None or restart:
            return Checkpoint(self.request, offset=start), False
        if found.request == self.request:
            if not found.complete:
                return found, True
            return found, False
        if not found.complete:
            asked = found.request
            raise BackfillError(
                f"an unfinished backfill of vector {self.vector!r} of {self.target.describe()} "
                f"with other arguments is recorded (model {asked.get('model')!r}, options "
                f"{json.dumps(asked.get('options'), sort_keys=True)}, field "
                f"{asked.get('from_field')!r}, only_missing {asked.get('only_missing')}); run "
                "it again with its arguments to finish it, or pass --restart (restart=True) "
                "to run this one instead"
            )
        return Checkpoint(self.request, offset=start), False

    def go(
        self,
        *,
        create: bool,
        strict: bool,
        report: str | os.PathLike[str] | None,
        verify: int,
        workers: int,
        page_size: int,
        restart: bool,
        checkpoint_seconds: float,
        quiet: bool,
    ) -> BackfillReport:
        started = time.perf_counter()
        target = self.target
        created = self._prepare_vector(create)
        cp, resumed = self._checkpoint(restart)
        out = BackfillReport(
            target.describe(), self.vector, self.model.model, created=created, resumed=resumed
        )
        if cp.complete and not restart and not self.only_missing:
            out.already_done = out.complete = True
            out.totals = dict(cp.counts)
            out.seconds = time.perf_counter() - started
            return self._verify(out, verify)
        if not resumed:
            cp = Checkpoint(self.request, offset=self.rng[0] if self.rng else None)
        missing = self.vector if self.only_missing else None
        total: int | None = None
        if self.rng is None:
            total = target.count(self.flt, missing)
            if self.only_missing:
                out.skipped = target.count(self.flt, None) - total
        report_path = os.fspath(report) if report is not None else None
        keep = cp.report_bytes if resumed and cp.report_path == report_path else 0
        listing = ReportFile(report_path, keep)
        out.report_file = report_path
        cp.report_path = report_path
        before = cp.seconds
        target.save_metadata(
            {vector_key(self.vector): self.model.record(self.field.path), self.key: cp.as_json()}
        )

        def save(complete: bool = False) -> None:
            cp.report_bytes = listing.tell()
            cp.seconds = before + time.perf_counter() - started
            cp.complete = complete
            target.save_metadata({self.key: cp.as_json()})

        inflight: deque[tuple[Page, Future[tuple[int, int]]]] = deque()
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="bm25x-backfill")
        bar = Progress(total, "backfilling", unit="point", quiet=quiet)
        if resumed and not self.only_missing and total is not None:
            bar.update(cp.counts["read"])

        def commit() -> None:
            # The page leaves the queue only once written: a page that failed stays at its
            # head, so nothing after it is committed.
            page, fut = inflight[0]
            written, no_terms = fut.result()
            inflight.popleft()
            kinds = {MISSING: "missing", EMPTY: "empty"}
            this = {"read": page.read, "written": written, "no_terms": no_terms}
            for p in page.problems:
                k = kinds.get(p.problem, "not_text")
                this[k] = this.get(k, 0) + 1
            for k, n in this.items():
                cp.counts[k] += n
                setattr(out, k, getattr(out, k) + n)
            listing.add(page.problems)
            room = SHOWN_PROBLEMS - len(out.problems)
            if room > 0:
                out.problems.extend(page.problems[:room])
            cp.offset = page.following
            bar.update(page.read)

        last_save = time.monotonic()
        try:
            reading = pages(
                target,
                cp.offset,
                self.rng[1] if self.rng else None,
                page_size,
                self.field,
                self.flt,
                missing,
            )
            for page in reading:
                if strict and page.problems:
                    while inflight:  # every page before this one, written and committed
                        commit()
                    first = page.problems[0]
                    detail = f" ({first.found})" if first.found else ""
                    raise FieldError(
                        f"point {first.id!r}: field {self.field.path!r} is {first.problem}"
                        f"{detail} (--strict); the points before its page are written: fix "
                        "its payload and run this again to continue",
                        first,
                    )
                fut: Future[tuple[int, int]]
                if page.ids:
                    fut = pool.submit(
                        encode_and_write, target, self.model, self.vector, page.ids, page.texts
                    )
                else:
                    fut = Future()
                    fut.set_result((0, 0))
                inflight.append((page, fut))
                while inflight and (len(inflight) > workers or inflight[0][1].done()):
                    commit()
                if time.monotonic() - last_save >= checkpoint_seconds:
                    save()
                    last_save = time.monotonic()
            while inflight:
                commit()
            save(complete=True)
            out.complete = True
        except BaseException:
            # Stop: drop what has not started, let running pages end, keep those done in order.
            pool.shutdown(wait=True, cancel_futures=True)
            while inflight and inflight[0][1].done() and not inflight[0][1].cancelled():
                if inflight[0][1].exception() is not None:
                    break
                commit()
            try:
                save()
            except Exception:  # the store itself may be what failed; the last save stands
                pass
            raise
        finally:
            pool.shutdown(wait=True)
            bar.close()
            listing.close()
        out.totals = dict(cp.counts)
        out.seconds = time.perf_counter() - started
        return self._verify(out, verify)

    def _verify(self, out: BackfillReport, n: int) -> BackfillReport:
        """``out`` with ``n`` random points checked (none for 0); VerifyError if any differs."""
        if not n:
            return out
        out.verify = verify_points(self.target, self.model, self.vector, self.field, self.flt, n)
        if out.verify.mismatched:
            shown = ", ".join(repr(p) for p in out.verify.mismatched[:5])
            raise VerifyError(
                f"{len(out.verify.mismatched):,} of {out.verify.checked:,} verified points "
                f"of vector {self.vector!r} differ from a fresh encoding of their text: "
                f"{shown}",
                out,
            )
        return out
