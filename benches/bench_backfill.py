"""Backfill benchmark: points per second of `bm25x backfill` (bm25 in the server flavour from
a payload field, into a new sparse vector) on a Qdrant Edge shard, against `bm25x ingest` of
the same texts from scratch into a new shard. Goal: backfill at 0.8x ingest's rate or more.

The corpus is generated as for the ingest benchmark (``bm25x.app.bench_ingest.generate``): N
documents cycling through the texts of a corpus file (by default bm25x's sample corpus), each
made distinct by its number. The collection to backfill holds every document as a point with
a 4-dimension dense vector and the payload ``{"doc_id", "text"}`` (a dense-only collection
that gains bm25); it is built once, untimed, and copied before each backfill. Each
measurement runs in a fresh process; rounds run both steps once, so that a slow spell of the
machine hits both alike, and the ratio is taken per round.

    python benches/bench_backfill.py [--points 200000] [--rounds 3] [--corpus FILE]
    python benches/bench_backfill.py --smoke      # seconds: 2,000 points, one round
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bm25x.app.bench import in_process
from bm25x.app.bench_ingest import generate
from bm25x.app.cli.commands import sample_corpus


def _texts(corpus: Path) -> list[str]:
    from bm25x.app.corpus import read_docs

    return [d.text for d in read_docs(corpus)]


def _build_source(corpus: Path, where: Path) -> None:
    """The collection to backfill: each document a point (id from its doc id, as ingest
    makes them), a small dense vector, and its text in the payload."""
    import qdrant_edge as qe

    from bm25x._ids import point_id
    from bm25x.app.corpus import read_docs

    config = qe.EdgeConfig(vectors={"dense": qe.EdgeVectorParams(size=4, distance=qe.Distance.Dot)})
    shard = qe.EdgeShard.create(str(where), config)
    batch: list[Any] = []
    for i, doc in enumerate(read_docs(corpus)):
        vector = [1.0, float(i % 7), float(i % 11), float(i % 13)]
        batch.append(
            qe.Point(point_id(doc.id), {"dense": vector}, {"doc_id": doc.id, "text": doc.text})
        )
        if len(batch) == 2048:
            shard.update(qe.UpdateOperation.upsert_points(batch))
            batch = []
    if batch:
        shard.update(qe.UpdateOperation.upsert_points(batch))
    shard.flush()
    shard.close()


def _ingest_worker(corpus: str, store_dir: str, out: Any) -> None:
    from bm25x.app.ingest import ingest
    from bm25x.app.store import EdgeStore

    store = EdgeStore(store_dir)
    start = time.perf_counter()
    ingest(store, corpus, quiet=True)
    store.close()
    out.put(time.perf_counter() - start)


def _backfill_worker(store_dir: str, workers: int, page_size: int, out: Any) -> None:
    from bm25x.app.backfill import backfill

    start = time.perf_counter()
    report = backfill(
        store=store_dir,
        vector="bm25",
        from_field="text",
        workers=workers,
        page_size=page_size,
        quiet=True,
    )
    seconds = time.perf_counter() - start
    assert report.complete and report.written == report.read
    out.put((seconds, report.written))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--points", type=int, default=200_000, help="points (200,000)")
    ap.add_argument("--rounds", type=int, default=3, help="rounds (3)")
    ap.add_argument("--corpus", type=Path, default=None, help="texts to cycle (sample corpus)")
    ap.add_argument("--workers", type=int, default=2, help="backfill --workers (2)")
    ap.add_argument("--page-size", type=int, default=512, help="backfill --page-size (512)")
    ap.add_argument("--smoke", action="store_true", help="2,000 points, one round (seconds)")
    args = ap.parse_args(argv)
    n, rounds = (2_000, 1) if args.smoke else (args.points, args.rounds)

    work = Path(tempfile.gettempdir()) / "bm25x-bench-backfill"
    work.mkdir(exist_ok=True)
    texts = _texts(args.corpus or sample_corpus())
    digest = hashlib.blake2b("\n".join(texts).encode(), digest_size=6).hexdigest()
    corpus = generate(texts, n, work / f"corpus-{n}-{digest}.jsonl")
    source = work / f"source-{corpus.stem}"
    if not source.exists():
        tmp = work / f".{source.name}.build"
        shutil.rmtree(tmp, ignore_errors=True)
        _build_source(corpus, tmp)
        tmp.rename(source)

    ingest_s: list[float] = []
    backfill_s: list[float] = []
    for r in range(rounds):
        with tempfile.TemporaryDirectory(dir=work) as stores:
            ingest_s.append(
                in_process("ingest", _ingest_worker, str(corpus), f"{stores}/ingest{r}")
            )
            copy = Path(stores) / f"backfill{r}"
            shutil.copytree(source, copy)
            seconds, written = in_process(
                "backfill", _backfill_worker, str(copy), args.workers, args.page_size
            )
            assert written == n, (written, n)
            backfill_s.append(seconds)

    ratios = [i / b for i, b in zip(ingest_s, backfill_s)]  # backfill rate / ingest rate
    print(
        f"\nbm25 into an Edge shard, {n:,} points, {rounds} round(s) "
        f"(backfill: --workers {args.workers} --page-size {args.page_size}):"
    )
    print("| step | seconds (median) | points/s (median) | points/s min-max |")
    print("| --- | ---: | ---: | ---: |")
    for label, secs in (
        ("bm25x ingest from scratch (read, check, encode, write)", ingest_s),
        ("bm25x backfill (scroll, encode, update_vectors)", backfill_s),
    ):
        med = statistics.median(secs)
        print(
            f"| {label} | {med:.2f} | {n / med:,.0f} | {n / max(secs):,.0f}-{n / min(secs):,.0f} |"
        )
    print(
        f"backfill rate / ingest rate, per round: {statistics.median(ratios):.2f} "
        f"({min(ratios):.2f}-{max(ratios):.2f}); goal >= 0.80"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
