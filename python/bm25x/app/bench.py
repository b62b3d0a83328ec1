"""Side-by-side encoding benchmark: bm25x against the pure-Python baseline, fastembed's Bm25
and qdrant-edge-py's Bm25, on the same corpus, in one run, printing one table.

    bm25x bench [--corpus PATH] [--limit N] [--repeat R] [--skip NAMES]
    python benches/bench_encode.py ...   (the same, defaulting to ../shared/corpora/pydocs)

The corpus is a JSONL file (one {"text": ...} per line, gzip or plain) when given and present,
else a generated English-like corpus. Queries are the first eight words of
each document. Each measurement runs in a fresh process, so "peak MB" is that process's peak
resident memory (including the interpreter and the corpus). Ratios are bm25x (one thread)
divided by each competitor; only ratios measured in the same run are comparable.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import random
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["load_corpus", "main", "measure"]


def load_corpus(path: Path | None, limit: int | None) -> tuple[list[str], str]:
    if path is not None and path.exists():
        from bm25x.app.corpus import read_docs

        docs = [doc.text for doc in read_docs(path, text_fields=("text",))]
        name = path.name
    else:
        rng = random.Random(0)
        words = [
            "return", "array", "value", "the", "of", "shape", "type", "function", "client",
            "request", "default", "parameters", "None", "string", "index", "data", "numpy",
            "is", "a", "to", "and", "in", "for", "with", "given", "new", "object", "raise",
        ]  # fmt: skip
        docs = [
            " ".join(rng.choice(words) for _ in range(rng.randint(20, 200))) + "."
            for _ in range(10_000)
        ]
        name = "generated (10,000 texts)"
    if limit:
        docs = docs[:limit]
    return docs, name


def _fastembed_dir() -> str:
    from bm25x._native import stopwords

    d = tempfile.mkdtemp(prefix="bm25x-bench-fastembed-")
    Path(d, "config.json").write_text("{}", encoding="utf-8")
    Path(d, "english.txt").write_text("\n".join(stopwords("english")), encoding="utf-8")
    return d


def _make(name: str, threads: int) -> tuple[Callable[[list[str]], Any], Callable[[list[str]], Any]]:
    """``(encode documents, encode queries)`` for each contender."""
    if name == "bm25x":
        import bm25x

        enc = bm25x.Bm25(threads=threads)
        return enc.encode, enc.encode_query
    if name == "baseline":
        from bm25x import baseline

        base = baseline.Bm25()
        return base.encode, base.encode_query
    if name == "qdrant-edge":
        from qdrant_edge import Bm25, Bm25Config

        edge = Bm25(Bm25Config())
        return (
            lambda texts: [edge.embed_document(t) for t in texts],
            lambda texts: [edge.embed_query(t) for t in texts],
        )
    if name == "fastembed":
        from fastembed import SparseTextEmbedding

        model = SparseTextEmbedding(
            "Qdrant/bm25", specific_model_path=_fastembed_dir(), local_files_only=True
        )
        return (
            lambda texts: list(model.embed(texts, batch_size=256)),
            lambda texts: [next(iter(model.query_embed(t))) for t in texts],
        )
    raise ValueError(name)


def _worker(name: str, threads: int, kind: str, texts: list[str], repeat: int, out: Any) -> None:
    docs, queries = _make(name, threads)
    fn = docs if kind == "documents" else queries
    fn(texts[:100])  # warm-up (imports, lazy tables)
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn(texts)
        best = min(best, time.perf_counter() - start)
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out.put((best, peak_kb / 1024))


def _stream_worker(texts: list[str], gigabytes: float, out: Any) -> None:
    """encode_iter over `gigabytes` of text (the corpus repeated), reporting time and peak RSS."""
    import bm25x

    enc = bm25x.Bm25()
    corpus_bytes = sum(len(t.encode("utf-8")) for t in texts)
    rounds = max(1, round(gigabytes * 1e9 / corpus_bytes))

    def stream() -> Any:
        for r in range(rounds):
            for t in texts:
                yield t if r == 0 else f"{t} {r}"

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    start = time.perf_counter()
    docs = 0
    for batch in enc.encode_iter(stream(), batch_size=10_000):
        docs += len(batch)
    secs = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out.put((docs, rounds * corpus_bytes / 1e6, secs, before, peak))


def _in_process(label: str, target: Callable[..., None], *args: Any) -> Any:
    """Run ``target(*args, queue)`` in a fresh spawned process and return what it put on the
    queue; a ``ChildProcessError`` (not a hang) when the process dies without an answer."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q))
    p.start()
    try:
        while True:
            try:
                return q.get(timeout=0.5)
            except queue.Empty:
                if not p.is_alive() and q.empty():
                    raise ChildProcessError(
                        f"the benchmark process for {label} exited with code "
                        f"{p.exitcode} without a result (see its error above; leave a "
                        "contender out with --skip)"
                    ) from None
    finally:
        p.join()


def measure(
    name: str, threads: int, kind: str, texts: list[str], repeat: int
) -> tuple[float, float]:
    """Best time and peak memory of one contender, measured in a fresh process."""
    result: tuple[float, float] = _in_process(name, _worker, name, threads, kind, texts, repeat)
    return result


def add_arguments(ap: argparse.ArgumentParser, default_corpus: Path | None = None) -> None:
    """The benchmark's command-line options."""
    ap.add_argument("--corpus", type=Path, default=default_corpus, help="JSONL corpus")
    ap.add_argument("--limit", type=int, default=None, help="use only the first N documents")
    ap.add_argument("--repeat", type=int, default=3, help="best of R timed runs (default 3)")
    ap.add_argument(
        "--stream-gb",
        type=float,
        default=0.0,
        help="also stream this many GB through encode_iter and report peak memory",
    )
    ap.add_argument(
        "--skip", default="", help="comma-separated contenders to leave out (e.g. baseline)"
    )


def main(argv: list[str] | None = None, default_corpus: Path | None = None) -> int:
    """Parse ``argv`` and run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_arguments(ap, default_corpus)
    args = ap.parse_args(argv)
    try:
        return run(args)
    except ValueError as e:
        ap.error(str(e))


def run(args: argparse.Namespace) -> int:
    """Run the benchmark with parsed options and print the table."""
    skip = set(filter(None, args.skip.split(",")))
    known = {"qdrant-edge", "fastembed", "baseline"}
    if "bm25x" in skip:
        raise ValueError("--skip: bm25x is what the others are compared with; it cannot be skipped")
    if skip - known:
        raise ValueError(
            f"--skip: unknown contender(s) {', '.join(sorted(skip - known))}; "
            f"choose among {', '.join(sorted(known))}"
        )
    docs, corpus_name = load_corpus(args.corpus, args.limit)
    queries = [" ".join(d.split()[:8]) for d in docs]
    cores = os.cpu_count() or 1
    version = sys.version.split()[0]
    print(f"corpus: {corpus_name}, {len(docs):,} documents, cores: {cores}, python {version}")

    rows: list[tuple[str, str, float | None, float | None, float | None, float]] = []
    for kind, texts in [("documents", docs), ("queries", queries)]:
        mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
        contenders = [("bm25x", 1), ("bm25x", cores), ("qdrant-edge", 1), ("fastembed", 1)]
        contenders.append(("baseline", 1))
        results = {}
        for name, threads in contenders:
            if name in skip:
                continue
            repeat = 1 if name == "baseline" else args.repeat
            secs, peak = measure(name, threads, kind, texts, repeat)
            results[(name, threads)] = secs
            rows.append((kind, f"{name} ({threads} thr)", len(texts) / secs, mb / secs, peak, secs))
        base = results[("bm25x", 1)]
        for name, threads in contenders:
            if (name, threads) in results and (name, threads) != ("bm25x", 1):
                ratio = results[(name, threads)] / base
                label = "bm25x all threads vs 1 thread" if name == "bm25x" else f"bm25x vs {name}"
                if name == "bm25x":
                    ratio = 1 / ratio
                rows.append((kind, f"  ratio: {label}", None, None, None, ratio))

    print(f"\n| {'kind':9} | {'encoder':38} | {'docs/s':>11} | {'MB/s':>8} | {'peak MB':>8} |")
    print(f"|{'-' * 11}|{'-' * 40}|{'-' * 13}|{'-' * 10}|{'-' * 10}|")
    for kind, label, dps, mbs, peak_mb, x in rows:
        if dps is None:
            print(f"| {kind:9} | {label:38} | {x:>10.1f}x | {'':>8} | {'':>8} |")
        else:
            print(f"| {kind:9} | {label:38} | {dps:>11,.0f} | {mbs:>8.1f} | {peak_mb:>8.0f} |")
    if args.stream_gb > 0:
        n, total_mb, secs, before, peak = _in_process(
            "encode_iter", _stream_worker, docs, args.stream_gb
        )
        print(
            f"\nencode_iter over {total_mb / 1e3:.2f} GB ({n:,} documents, all threads): "
            f"{total_mb / secs:.1f} MB/s; peak RSS {peak:.0f} MB "
            f"({peak - before:+.0f} MB over the {before:.0f} MB held before streaming, "
            f"which includes the corpus)"
        )
    return 0
