"""What each subcommand of the ``bm25x`` command does, given its parsed arguments."""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from importlib import resources
from pathlib import Path
from typing import Any

from bm25x.app.cli.options import CliError, encoder_options
from bm25x.app.cli.output import print_hits, write_npz, write_parquet
from bm25x.app.corpus import DEFAULT_TEXT_FIELDS, read_docs
from bm25x.app.store import (
    EdgeStore,
    MissingCollection,
    QdrantStore,
    Store,
    public_url,
)

__all__ = ["DEMO_QUERIES", "CliError", "sample_corpus"]

DEFAULT_STORE = "bm25x-index"
DEMO_STORE = "bm25x-demo"
DEMO_QUERIES = (
    "freedom of speech and of the press",
    "right to a trial by jury",
    "taxes without consent",
)


def _read_args(args: argparse.Namespace) -> dict[str, Any]:
    fields = tuple(args.text_field) if args.text_field else DEFAULT_TEXT_FIELDS
    return {"text_fields": fields, "id_field": args.id_field}


def _store(args: argparse.Namespace) -> Store:
    if args.url:
        store = QdrantStore.connect(args.url, args.collection, args.api_key)
        note = store.version_note()
        if note:
            print(f"bm25x {args.command}: warning: {note}", file=sys.stderr)
        return store
    return EdgeStore(args.store)


def _where(args: argparse.Namespace) -> str:
    """The options that name the collection ``args`` points at, for hints (never the key)."""
    if args.url:
        return f"--url {public_url(args.url)} --collection {args.collection}"
    return f"--store {args.store}"


# --- encode ------------------------------------------------------------------------------------


def cmd_encode(args: argparse.Namespace) -> int:
    """Encode a corpus file into sparse vectors (.npz or .parquet)."""
    from bm25x import Bm25, SparseBatch
    from bm25x.app.progress import Progress

    out = Path(args.output)
    suffix = out.suffix.lower()
    if suffix not in (".npz", ".parquet"):
        raise CliError(f"{out}: the output must end in .npz or .parquet")
    if suffix == ".parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise CliError(
                f"{out}: writing Parquet needs pyarrow (pip install pyarrow); or write .npz"
            ) from None
    options = encoder_options(args)  # first: it may set args.threads
    enc = Bm25(threads=args.threads, flavor=args.flavor, **options)
    ids: list[str] = []
    texts: list[str] = []
    batches: list[SparseBatch] = []
    with Progress(None, "encoding", quiet=args.quiet) as bar:
        for doc in read_docs(Path(args.input), **_read_args(args)):
            ids.append(doc.id)
            texts.append(doc.text)
            if len(texts) == args.batch_size:
                batches.append(enc.encode_query(texts) if args.query else enc.encode(texts))
                bar.update(len(texts))
                texts = []
        if texts:
            batches.append(enc.encode_query(texts) if args.query else enc.encode(texts))
            bar.update(len(texts))
    if not ids:
        raise CliError(f"{args.input}: no documents")
    batch = SparseBatch.concat(batches)
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        (write_npz if suffix == ".npz" else write_parquet)(tmp, ids, batch)
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)
    _say(args, f"encoded {len(ids):,} texts into {out} ({len(batch.indices):,} non-zeros)")
    return 0


# --- ingest, search ----------------------------------------------------------------------------


def _say(args: argparse.Namespace, message: str) -> None:
    if not getattr(args, "quiet", False):
        print(message, file=sys.stderr)


def _ingest(args: argparse.Namespace, store: Store, corpus: Path) -> None:
    from bm25x.app.ingest import ingest

    report = ingest(
        store,
        corpus,
        flavor=args.flavor,
        options=encoder_options(args),
        avg_len=args.avg_len,
        dense_model=args.dense_model,
        store_text=args.store_text,
        batch_size=args.batch_size,
        recreate=args.recreate,
        threads=args.threads,
        quiet=args.quiet,
        **_read_args(args),
    )
    avg = report.settings["options"].get("avg_len", "default")
    avg_shown = f"{avg:.2f}" if isinstance(avg, float) else str(avg)
    changed = f" ({report.updated:,} with changed text)" if report.updated else ""
    _say(
        args,
        f"ingested {corpus}: {report.written:,} documents written{changed}, "
        f"{report.skipped:,} already there, {report.settings['documents']:,} in "
        f"{store.describe()} "
        f"(avg_len {avg_shown}, {report.seconds:.2f} s)",
    )


def cmd_ingest(args: argparse.Namespace) -> int:
    """Encode a corpus and write it into a collection."""
    store = _store(args)
    try:
        _ingest(args, store, Path(args.corpus))
    finally:
        store.close()
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    """Query a collection."""
    from bm25x.app.search import search

    if getattr(args, "vector", None):
        from bm25x.app.backfill.search import cmd_search_vector

        print_hits(args.query, cmd_search_vector(args), args.json)
        return 0
    store = _store(args)
    try:
        results = search(store, args.query, limit=args.limit, threads=args.threads)
    except MissingCollection as e:
        raise CliError(
            f"no {e.where}; create it with `bm25x ingest CORPUS {_where(args)}`"
        ) from None
    finally:
        store.close()
    print_hits(args.query, results, args.json)
    return 0


def cmd_backfill(args: argparse.Namespace) -> int:
    """Fill a named vector of an existing collection (:mod:`bm25x.app.backfill`)."""
    from bm25x.app.backfill.cli import run

    return run(args)


# --- eval, bench, demo -------------------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    """nDCG@10 and recall@100 on a BEIR folder."""
    from bm25x.app.eval import evaluate

    store = _store(args) if (args.url or args.store) else None
    try:
        report = evaluate(
            args.folder,
            flavor=args.flavor,
            options=encoder_options(args),
            avg_len=args.avg_len,
            store=store,
            split=args.split,
            threads=args.threads,
            quiet=args.quiet,
        )
    finally:
        if store is not None:
            store.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(
            f"{args.folder}: {report.documents:,} documents, {report.queries:,} queries\n"
            f"nDCG@10     {report.ndcg_at_10:.3f}\n"
            f"recall@100  {report.recall_at_100:.3f}\n"
            f"ingest {report.ingest_seconds:.2f} s, search {report.search_seconds:.3f} s"
        )
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    """The side-by-side encoding benchmark."""
    from bm25x.app.bench import run

    return run(args)


def sample_corpus() -> Path:
    """The sample corpus shipped with bm25x (JSONL: _id, title, text)."""
    return Path(str(resources.files("bm25x.app") / "data" / "sample.jsonl"))


def cmd_demo(args: argparse.Namespace) -> int:
    """Ingest the bundled sample corpus into a local Edge shard and search it."""
    from bm25x.app.search import search

    corpus = sample_corpus()
    store = _store(args)
    try:
        _ingest(args, store, corpus)
        queries = list(args.query or DEMO_QUERIES)
        results = search(store, queries, limit=args.limit, threads=args.threads)
    finally:
        store.close()
    print_hits(queries, results, args.json)
    _say(args, f'try: bm25x search {_where(args)} "your question"')
    return 0


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the inference service (the application layer, imported only here)."""
    try:
        from bm25x.app import serve
    except ImportError as e:
        raise CliError(
            f'the service needs its extra: pip install "bm25x-sparse[serve]" ({e})'
        ) from None
    try:
        config = serve.load_config(args.config)
        # The flags win over the file and the environment, checked as they are.
        serve.run(
            config, host=args.host, port=args.port, workers=args.workers, config_file=args.config
        )
    except serve.ConfigError as e:
        raise CliError(str(e)) from None
    except serve.WarmupError as e:
        print(f"bm25x serve: error: {e}", file=sys.stderr)
        return 1
    return 0
