"""Side-by-side encoding benchmark: bm25x against qdrant-edge-py's Bm25, fastembed's Bm25 and
the pure-Python baseline, on the same corpora, in one run, printing one table.

    bm25x bench [--corpus PATH ...] [--short] [--processes P] [--repeat R] [--threads 1,2]
                [--skip NAMES] [--limit N] [--ingest-docs N] [--ingest-rounds R]
                [--stream-gb G]
    python benches/bench_encode.py ...   (the same, with the project's corpora by default)

Method. Every measurement runs in a fresh process (so "peak MB" is that process's peak resident
memory, interpreter and corpus included, and no process inherits another's warm caches or
memory layout). A process warms up on 100 texts and one full pass, then takes ``--repeat`` - 1
more samples, each of whole passes over the corpus lasting at least 0.25 s, and reports the
best time per pass. This is done ``--processes`` times per contender, in rounds: each
round runs every contender once, one after the other, so that a slow spell of the machine hits
all of them alike. The table gives the median over the processes and the min-max; ratios are
computed per round (both sides measured minutes apart at most) and given as the median and
min-max over rounds. ``spread`` is half the min-max range relative to the median (±%).

Corpora: JSONL files (one {"text": ...} per line, gzip or plain); ``--short`` adds a corpus of
short documents cut from the first one (its paragraphs, see :func:`short_documents`). Without a
corpus, a generated English-like corpus is used. Queries are the first eight words of each
document. ``control`` rows are not an encoder: SHA-256 over the same documents, split over 1 and
2 threads, measured in the same rounds; their spread is the machine's noise and their speed-up
with two threads the machine's own ceiling, the yardsticks for bm25x's. ``latency`` rows time
one short query per call (``encode_query(str)`` against
qdrant-edge's ``embed_query``), in microseconds per call.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bm25x.app.bench_common import in_process, summarize

__all__ = ["Corpus", "load_corpus", "main", "measure", "short_documents", "summarize"]

KNOWN = ("qdrant-edge", "fastembed", "baseline", "control")
CONTROL = "control"
"""Not an encoder: SHA-256 of the corpus, split over the threads, in the same rounds. Its spread
is the machine's own noise and its 2-thread speed-up the machine's ceiling for two threads, both
measured in the same run as the encoders."""
FLOOR = "floor"
"""Not an encoder: the native call ``encode_query(str)`` makes, without the encoding (the same
argument checks, and a ``SparseVector`` of two empty arrays). What one short query cannot cost
less than through this API; measured beside bm25x and qdrant-edge in the latency rounds."""
THREADED = ("bm25x", CONTROL)
"""Contenders measured on every ``--threads`` count and compared with their own one thread."""
LATENCY_QUERIES = 20_000
MIN_SAMPLE_SECONDS = 0.25


@dataclass(frozen=True)
class Corpus:
    name: str
    docs: list[str]


def load_corpus(path: Path | None, limit: int | None) -> tuple[list[str], str]:
    """The texts of a JSONL corpus file (``title`` and ``text`` joined), or a generated corpus
    when ``path`` is None or missing."""
    if path is not None and path.exists():
        from bm25x.app.corpus import read_docs

        docs = [doc.text for doc in read_docs(path)]
        name = path.parent.name if path.name.startswith("corpus.") else path.name
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


def short_documents(docs: Sequence[str]) -> list[str]:
    """Short documents cut deterministically from long ones: every paragraph (text between
    blank lines) that holds a word, in order. From pydocs this gives 31,881 documents of about
    150 bytes, the kind of corpus (short technical snippets) where per-document costs show."""
    out = []
    for doc in docs:
        for para in doc.split("\n\n"):
            if any(c.isalnum() for c in para):
                out.append(para.strip())
    return out


def _fastembed_dir() -> str:
    from bm25x.internals import stopwords

    d = tempfile.mkdtemp(prefix="bm25x-bench-fastembed-")
    Path(d, "config.json").write_text("{}", encoding="utf-8")
    Path(d, "english.txt").write_text("\n".join(stopwords("english")), encoding="utf-8")
    return d


Fn = Callable[[list[str]], Any]


def _make(name: str, threads: int) -> tuple[Fn, Fn, Callable[[str], Any] | None]:
    """``(encode documents, encode queries, encode one query)`` for each contender."""
    if name == "bm25x":
        import bm25x

        enc = bm25x.Bm25(threads=threads)
        return enc.encode, enc.encode_query, enc.encode_query
    if name == FLOOR:
        import bm25x

        native = bm25x.Bm25()._native

        def floor(text: str) -> Any:
            # Shaped as Bm25.encode_query is: a Python function making one positional call.
            return native.floor_one(text, True)

        def each(texts: list[str]) -> Any:
            return [floor(t) for t in texts]

        return each, each, floor
    if name == CONTROL:
        digest = _control(threads)
        return digest, digest, None
    if name == "baseline":
        from bm25x import baseline

        base = baseline.Bm25()
        return base.encode, base.encode_query, None
    if name == "qdrant-edge":
        from qdrant_edge import Bm25, Bm25Config

        edge = Bm25(Bm25Config())
        return (
            lambda texts: [edge.embed_document(t) for t in texts],
            lambda texts: [edge.embed_query(t) for t in texts],
            edge.embed_query,
        )
    if name == "fastembed":
        from fastembed import SparseTextEmbedding

        model = SparseTextEmbedding(
            "Qdrant/bm25", specific_model_path=_fastembed_dir(), local_files_only=True
        )
        return (
            lambda texts: list(model.embed(texts, batch_size=256)),
            lambda texts: [next(iter(model.query_embed(t))) for t in texts],
            None,
        )
    raise ValueError(name)


def _control(threads: int) -> Fn:
    """SHA-256 over the texts' bytes, one slice per thread (hashlib releases the GIL)."""
    import hashlib
    from concurrent.futures import ThreadPoolExecutor

    pool = ThreadPoolExecutor(threads) if threads > 1 else None
    # The bytes, made once per corpus (held with it, so its id stays its own): only hashing is
    # timed, so that the control measures the machine and not str.join.
    joined: dict[int, tuple[list[str], memoryview]] = {}

    def digest(texts: list[str]) -> Any:
        if id(texts) not in joined:
            joined[id(texts)] = (texts, memoryview("\n".join(texts).encode()))
        data = joined[id(texts)][1]
        if pool is None:
            return hashlib.sha256(data).digest()
        step = -(-len(data) // threads)
        slices = [data[i : i + step] for i in range(0, len(data), step)]
        return list(pool.map(lambda part: hashlib.sha256(part).digest(), slices))

    return digest


def _worker(name: str, threads: int, kind: str, texts: list[str], repeat: int, out: Any) -> None:
    docs, queries, one = _make(name, threads)
    fn: Fn = docs if kind == "documents" else queries
    if kind == "latency":
        if one is None:
            raise ValueError(f"{name} has no single-query call")
        single = one

        def each(batch: list[str]) -> None:
            for t in batch:
                single(t)

        fn = each
    fn(texts[:100])  # warm-up (imports, lazy tables)
    start = time.perf_counter()
    fn(texts)  # first full pass: fills memos, sizes buffers; calibrates the samples
    first = time.perf_counter() - start
    # A sample lasts at least MIN_SAMPLE_SECONDS (whole passes), so that one scheduler tick or
    # interrupt weighs little against it: fast encoders finish a pass in a few milliseconds.
    passes = max(1, math.ceil(MIN_SAMPLE_SECONDS / first)) if repeat > 1 else 1
    best = first
    for _ in range(repeat - 1):
        start = time.perf_counter()
        for _ in range(passes):
            fn(texts)
        best = min(best, (time.perf_counter() - start) / passes)
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


def measure(
    name: str, threads: int, kind: str, texts: list[str], repeat: int
) -> tuple[float, float]:
    """Best time and peak memory of one contender, measured in a fresh process."""
    result: tuple[float, float] = in_process(name, _worker, name, threads, kind, texts, repeat)
    return result


@dataclass
class Series:
    """One contender's measurements on one corpus and kind, one entry per process."""

    seconds: list[float] = field(default_factory=list)
    peak_mb: list[float] = field(default_factory=list)


def add_arguments(ap: argparse.ArgumentParser, default_corpora: Sequence[Path] = ()) -> None:
    """The benchmark's command-line options."""
    ap.add_argument(
        "--corpus",
        type=Path,
        action="append",
        default=None,
        help="JSONL corpus (repeat for several; default: the project's corpora when present)",
    )
    ap.set_defaults(default_corpora=list(default_corpora))
    ap.add_argument(
        "--short",
        action="store_true",
        help="also benchmark short documents cut from the first corpus (its paragraphs)",
    )
    ap.add_argument("--limit", type=int, default=None, help="use only the first N documents")
    ap.add_argument("--repeat", type=int, default=3, help="best of R timed passes per process")
    ap.add_argument(
        "--processes", type=int, default=5, help="fresh processes per contender (default 5)"
    )
    ap.add_argument(
        "--threads", default="1,2", help="bm25x thread counts, comma-separated (default 1,2)"
    )
    ap.add_argument(
        "--ingest-docs",
        type=int,
        default=0,
        help="also measure ingest into an Edge store on a generated corpus of N documents",
    )
    ap.add_argument(
        "--ingest-rounds",
        type=int,
        default=5,
        help="rounds of the ingest measurement (each runs every step once, in fresh processes)",
    )
    ap.add_argument(
        "--stream-gb",
        type=float,
        default=0.0,
        help="also stream this many GB through encode_iter and report peak memory",
    )
    ap.add_argument(
        "--skip", default="", help="comma-separated contenders to leave out (e.g. baseline)"
    )
    ap.add_argument(
        "--json",
        type=Path,
        default=None,
        help="also write every measurement to this JSON file (benches/perf_table.py makes the "
        "README's performance table from it)",
    )


def main(argv: list[str] | None = None, default_corpora: Sequence[Path] = ()) -> int:
    """Parse ``argv`` and run the benchmark."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    add_arguments(ap, default_corpora)
    args = ap.parse_args(argv)
    try:
        return run(args)
    except ValueError as e:
        ap.error(str(e))


REPORT_FORMAT = 1
"""Version of the ``--json`` report's layout (``bm25x.app.bench_table`` reads it)."""


def machine_info() -> dict[str, Any]:
    """What the numbers were measured on, and when: the date, the CPU, the load before."""
    import datetime
    import platform

    from bm25x import __version__

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            models = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        cpu = models[0] if models else cpu
    except OSError:
        pass
    return {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count() or 1,
        "system": f"{platform.system()} {platform.release()}",
        "python": sys.version.split()[0],
        "bm25x": __version__,
        "load_before": list(os.getloadavg()),
    }


def _positive(name: str, value: int) -> int:
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return value


def _options(args: argparse.Namespace) -> tuple[set[str], list[int]]:
    """Checked ``--skip`` and ``--threads``."""
    skip = set(filter(None, args.skip.split(",")))
    if "bm25x" in skip:
        raise ValueError("--skip: bm25x is what the others are compared with; it cannot be skipped")
    if skip - set(KNOWN):
        raise ValueError(
            f"--skip: unknown contender(s) {', '.join(sorted(skip - set(KNOWN)))}; "
            f"choose among {', '.join(sorted(KNOWN))}"
        )
    try:
        threads = sorted({int(t) for t in args.threads.split(",") if t.strip()})
    except ValueError:
        raise ValueError(f"--threads: expected integers like 1,2, got {args.threads!r}") from None
    if not threads or threads[0] < 1:
        raise ValueError(f"--threads: expected positive integers like 1,2, got {args.threads!r}")
    _positive("--processes", args.processes)
    _positive("--repeat", args.repeat)
    _positive("--ingest-rounds", args.ingest_rounds)
    return skip, threads


def _corpora(args: argparse.Namespace) -> list[Corpus]:
    paths: list[Path | None] = list(args.corpus or [])
    if not paths:
        paths = [p for p in args.default_corpora if p.exists()] or [None]
    corpora = []
    for path in paths:
        docs, name = load_corpus(path, args.limit)
        corpora.append(Corpus(name, docs))
    if args.short:
        first = corpora[0]
        short = short_documents(first.docs)
        corpora.append(Corpus(f"{first.name} paragraphs", short[: args.limit or None]))
    return corpora


def _mb(texts: Sequence[str]) -> float:
    return sum(len(t.encode("utf-8")) for t in texts) / 1e6


def _threads(n: int) -> str:
    return f"{n} thread{'s' if n > 1 else ''}"


def _label(name: str, threads: int) -> str:
    if name in THREADED:
        return f"{name}, {_threads(threads)}"
    return name


def run(args: argparse.Namespace) -> int:
    """Run the benchmark with parsed options and print the tables."""
    skip, thread_counts = _options(args)
    corpora = _corpora(args)
    machine = machine_info()
    cores = os.cpu_count() or 1
    print(
        f"cores: {cores}, python {sys.version.split()[0]}, {args.processes} fresh processes "
        f"per contender, best of {args.repeat} passes in each"
    )
    for c in corpora:
        print(f"corpus {c.name}: {len(c.docs):,} documents, {_mb(c.docs):.1f} MB")

    contenders = [("bm25x", t) for t in thread_counts]
    contenders += [(name, 1) for name in KNOWN if name not in skip and name != CONTROL]
    if CONTROL not in skip:
        contenders += [(CONTROL, t) for t in thread_counts]
    results: dict[tuple[str, str, str, int], Series] = {}
    jobs: list[tuple[Corpus, str, list[str], list[tuple[str, int]]]] = []
    for c in corpora:
        queries = [" ".join(d.split()[:8]) for d in c.docs]
        jobs.append((c, "documents", c.docs, contenders))
        jobs.append((c, "queries", queries, [w for w in contenders if w[0] != CONTROL]))
    latency = [("bm25x", 1)] + [("qdrant-edge", 1)] * ("qdrant-edge" not in skip) + [(FLOOR, 1)]
    short_queries = [" ".join(d.split()[:8]) for d in corpora[0].docs][:LATENCY_QUERIES]
    jobs.append((corpora[0], "latency", short_queries, latency))

    for _round in range(args.processes):
        for corpus, kind, texts, who in jobs:
            for name, threads in who:
                repeat = 1 if name == "baseline" else args.repeat
                secs, peak = measure(name, threads, kind, texts, repeat)
                s = results.setdefault((corpus.name, kind, name, threads), Series())
                s.seconds.append(secs)
                s.peak_mb.append(peak)

    _print_rates(jobs, results)
    _print_ratios(jobs, results)
    ingested = None
    if args.ingest_docs:
        from bm25x.app.bench_ingest import run_ingest

        ingested = run_ingest(
            short_documents(corpora[0].docs), args.ingest_docs, args.ingest_rounds
        ).as_json()
    if args.json is not None:
        machine["load_after"] = list(os.getloadavg())
        report = {
            "format": REPORT_FORMAT,
            "machine": machine,
            "options": {"processes": args.processes, "repeat": args.repeat},
            "measurements": [
                {
                    "corpus": corpus.name,
                    "kind": kind,
                    "contender": name,
                    "threads": threads,
                    "texts": len(texts),
                    "mb": _mb(texts),
                    "seconds": results[(corpus.name, kind, name, threads)].seconds,
                    "peak_mb": results[(corpus.name, kind, name, threads)].peak_mb,
                }
                for corpus, kind, texts, who in jobs
                for name, threads in who
            ],
            "ingest": ingested,
        }
        args.json.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
        print(f"\nwrote {args.json} (the README's table: python benches/perf_table.py {args.json})")
    if args.stream_gb > 0:
        n, total_mb, secs, before, peak = in_process(
            "encode_iter", _stream_worker, corpora[0].docs, args.stream_gb
        )
        print(
            f"\nencode_iter over {total_mb / 1e3:.2f} GB ({n:,} documents, all threads): "
            f"{total_mb / secs:.1f} MB/s; peak RSS {peak:.0f} MB "
            f"({peak - before:+.0f} MB over the {before:.0f} MB held before streaming, "
            f"which includes the corpus)"
        )
    return 0


Jobs = list[tuple[Corpus, str, list[str], list[tuple[str, int]]]]
Results = dict[tuple[str, str, str, int], Series]


def _print_rates(jobs: Jobs, results: Results) -> None:
    print(
        "\n| corpus | kind | encoder | docs/s (median) | MB/s (median) | MB/s min-max "
        "| spread | peak MB |"
    )
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    for corpus, kind, texts, who in jobs:
        mb = _mb(texts)
        for name, threads in who:
            s = results[(corpus.name, kind, name, threads)]
            if kind == "latency":
                per_call = [t / len(texts) * 1e6 for t in s.seconds]
                med, lo, hi, spread = summarize(per_call)
                print(
                    f"| {corpus.name} | one short query | {_label(name, threads)} "
                    f"| {med:.2f} µs/call | | {lo:.2f}-{hi:.2f} µs | ±{spread:.1%} "
                    f"| {max(s.peak_mb):.0f} |"
                )
                continue
            rates = [mb / t for t in s.seconds]
            med, lo, hi, spread = summarize(rates)
            dps = statistics.median(len(texts) / t for t in s.seconds)
            print(
                f"| {corpus.name} | {kind} | {_label(name, threads)} | {dps:,.0f} "
                f"| {med:.1f} | {lo:.1f}-{hi:.1f} | ±{spread:.1%} | {max(s.peak_mb):.0f} |"
            )


def _print_ratios(jobs: Jobs, results: Results) -> None:
    """Each contender against bm25x, and each threaded one against itself, on the fewest
    threads measured in that job (one, unless ``--threads`` leaves it out)."""
    print("\n| corpus | kind | ratio (per round) | median | min-max |")
    print("| --- | --- | --- | ---: | ---: |")
    for corpus, kind, _texts, who in jobs:
        fewest = {name: min(t for n, t in who if n == name) for name, _ in who}
        base = results[(corpus.name, kind, "bm25x", fewest["bm25x"])].seconds
        for name, threads in who:
            if threads == fewest[name] and name in THREADED:
                continue
            other = results[(corpus.name, kind, name, threads)].seconds
            if name in THREADED:
                low = fewest[name]
                label = f"{name} {threads} threads vs {_threads(low)}"
                one = results[(corpus.name, kind, name, low)].seconds
                ratios = [b / o for b, o in zip(one, other)]
            elif name == FLOOR:
                label = "bm25x time / floor time"
                ratios = [b / o for b, o in zip(base, other)]
            else:
                label = f"bm25x {_threads(fewest['bm25x'])} vs {name} (speed-up)"
                ratios = [o / b for b, o in zip(base, other)]
            med, lo, hi, _ = summarize(ratios)
            what = "one short query" if kind == "latency" else kind
            print(f"| {corpus.name} | {what} | {label} | {med:.2f}x | {lo:.2f}-{hi:.2f}x |")
        gains = thread_gain_vs_control(results, corpus.name, kind, who)
        if gains:
            med, lo, hi, _ = summarize(gains[1])
            print(
                f"| {corpus.name} | {kind} | bm25x {gains[0]}-thread gain / control's "
                f"| {med:.2f}x | {lo:.2f}-{hi:.2f}x |"
            )


def thread_gain_vs_control(
    results: Results, corpus: str, kind: str, who: Sequence[tuple[str, int]]
) -> tuple[int, list[float]] | None:
    """``(threads, per round: bm25x's gain from its fewest to its most threads over the
    control's)``, when both were measured on two thread counts: 1.0 is all the machine gave."""
    counts = {name: sorted(t for n, t in who if n == name) for name in THREADED}
    if any(len(counts[name]) < 2 for name in THREADED) or counts["bm25x"] != counts[CONTROL]:
        return None
    low, high = counts["bm25x"][0], counts["bm25x"][-1]

    def gain(name: str) -> list[float]:
        one = results[(corpus, kind, name, low)].seconds
        many = results[(corpus, kind, name, high)].seconds
        return [a / b for a, b in zip(one, many)]

    return high, [b / c for b, c in zip(gain("bm25x"), gain(CONTROL))]
