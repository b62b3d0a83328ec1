"""The ``bm25x`` command: encode, ingest, search, eval, bench and demo.

Collections live in a Qdrant Edge shard in a local directory by default (``--store DIR``), or
in a Qdrant server or cluster with ``--url`` (and ``--api-key`` or ``QDRANT_API_KEY``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any

from bm25x._corpus import DEFAULT_TEXT_FIELDS, CorpusError, read_docs
from bm25x._native import OptionError, __version__
from bm25x._store import (
    EdgeStore,
    Hit,
    MissingCollection,
    QdrantStore,
    Store,
    StoreError,
    f32,
    public_url,
)
from bm25x.errors import InferenceError

__all__ = ["main"]

DEFAULT_STORE = "bm25x-index"
DEMO_STORE = "bm25x-demo"
DEMO_QUERIES = (
    "freedom of speech and of the press",
    "right to a trial by jury",
    "taxes without consent",
)


class CliError(Exception):
    """A problem to report in one line, without a traceback."""


# --- shared options ----------------------------------------------------------------------------


def _parse_option(text: str) -> tuple[str, Any]:
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise argparse.ArgumentTypeError(f"expected KEY=VALUE, got {text!r}")
    try:
        return key, json.loads(value)
    except ValueError:
        return key, value  # a bare word: tokenizer=word
    except RecursionError:
        raise argparse.ArgumentTypeError(
            f"option {key!r}: the JSON value is nested too deeply to read; flatten it"
        ) from None


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def _parse_avg_len(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None
    return value


def _encoder_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("encoder")
    g.add_argument(
        "--flavor",
        choices=("qdrant", "fastembed"),
        default="qdrant",
        help="qdrant: Qdrant's server-side qdrant/bm25 (default); fastembed: Qdrant/bm25",
    )
    g.add_argument(
        "-O",
        "--option",
        dest="option",
        action="append",
        type=_parse_option,
        default=[],
        metavar="KEY=VALUE",
        help="a Bm25 option, VALUE in JSON or a bare word (repeatable): -O k=1.5 "
        '-O tokenizer=word -O \'stemmer={"type": "none"}\'',
    )
    g.add_argument("--options", default=None, metavar="JSON", help="all options as a JSON object")
    g.add_argument("--threads", type=int, default=None, help="encoding threads (default: all)")


def _options(args: argparse.Namespace) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if args.options:
        try:
            loaded = json.loads(args.options)
        except ValueError as e:
            raise CliError(f"--options is not valid JSON ({e})") from None
        except RecursionError:
            raise CliError("--options: the JSON is nested too deeply to read; flatten it") from None
        if not isinstance(loaded, dict):
            raise CliError("--options must be a JSON object, e.g. '{\"k\": 1.5}'")
        options.update(loaded)
    options.update(dict(args.option))
    # threads is how an encoder runs, not part of the vectors (nor of a store's settings):
    # `-O threads=N` means `--threads N`.
    if "threads" in options:
        threads = options.pop("threads")
        if getattr(args, "threads", None) not in (None, threads):
            raise CliError(f"threads given twice: --threads {args.threads} and threads={threads}")
        args.threads = threads
    return options


def _corpus_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("input")
    g.add_argument(
        "--text-field",
        action="append",
        default=None,
        metavar="FIELD",
        help="field(s) holding the text, joined with a space (repeatable; default: title "
        "if present, then text)",
    )
    g.add_argument(
        "--id-field",
        default=None,
        help="field holding the document id (default: _id or id, else the line number)",
    )


def _read_args(args: argparse.Namespace) -> dict[str, Any]:
    fields = tuple(args.text_field) if args.text_field else DEFAULT_TEXT_FIELDS
    return {"text_fields": fields, "id_field": args.id_field}


def _store_args(p: argparse.ArgumentParser, default: str = DEFAULT_STORE) -> None:
    g = p.add_argument_group("collection")
    g.add_argument(
        "--store",
        default=default,
        metavar="DIR",
        help=f"directory of the embedded Qdrant Edge shard (default: ./{default})",
    )
    g.add_argument("--url", default=None, help="use a Qdrant server or cluster at this URL")
    g.add_argument(
        "--api-key",
        default=os.environ.get("QDRANT_API_KEY"),
        help="API key for --url (default: $QDRANT_API_KEY)",
    )
    g.add_argument(
        "--collection", default="bm25x", help="collection name with --url (default: bm25x)"
    )


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


def _write_npz(path: Path, ids: list[str], batch: Any) -> None:
    import numpy as np

    with open(path, "wb") as f:
        np.savez(
            f,
            ids=np.asarray(ids, dtype=str),
            indptr=batch.indptr,
            indices=batch.indices,
            values=batch.values,
        )


def _write_parquet(path: Path, ids: list[str], batch: Any) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    offsets = pa.array(batch.indptr.astype("int32") if len(batch.indices) < 2**31 else batch.indptr)
    list_type = pa.ListArray if offsets.type == pa.int32() else pa.LargeListArray
    table = pa.table(
        {
            "id": pa.array(ids, pa.string()),
            "indices": list_type.from_arrays(offsets, pa.array(batch.indices)),
            "values": list_type.from_arrays(offsets, pa.array(batch.values)),
        }
    )
    pq.write_table(table, path)


def cmd_encode(args: argparse.Namespace) -> int:
    """Encode a corpus file into sparse vectors (.npz or .parquet)."""
    from bm25x._encoder import Bm25
    from bm25x._progress import Progress
    from bm25x._sparse import SparseBatch

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
    options = _options(args)  # first: it may set args.threads
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
        (_write_npz if suffix == ".npz" else _write_parquet)(tmp, ids, batch)
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
    from bm25x._ingest import ingest

    report = ingest(
        store,
        corpus,
        flavor=args.flavor,
        options=_options(args),
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


def score_text(score: float) -> str:
    """A score as the table and JSON print it: float32's shortest round-tripping text, the
    same whichever store it came from (``12.038683``)."""
    return repr(f32(score))


def _print_hits(queries: Sequence[str], results: list[list[Hit]], as_json: bool) -> None:
    if as_json:
        # Always a list, one entry per query, so a script reads one shape however many
        # queries it passed.
        rows = [
            {
                "query": q,
                "hits": [
                    {"rank": r, "id": h.id, "score": f32(h.score), **h.payload}
                    for r, h in enumerate(hits, 1)
                ],
            }
            for q, hits in zip(queries, results)
        ]
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return
    for q, hits in zip(queries, results):
        print(f"query: {q}")
        if not hits:
            print("  (no matches)")
        width = max([len(h.id) for h in hits] + [2])
        scores = [score_text(h.score) for h in hits]
        score_width = max([len(s) for s in scores] + [5])
        print(f"  {'#':>2}  {'score':>{score_width}}  {'id':<{width}}  text")
        for r, (h, score) in enumerate(zip(hits, scores), 1):
            text = str(h.payload.get("text", "")).replace("\n", " ")
            if len(text) > 70:
                text = text[:69] + "…"
            print(f"  {r:>2}  {score:>{score_width}}  {h.id:<{width}}  {text}")
        print()


def cmd_search(args: argparse.Namespace) -> int:
    """Query a collection."""
    from bm25x._search import search

    store = _store(args)
    try:
        results = search(store, args.query, limit=args.limit, threads=args.threads)
    except MissingCollection as e:
        raise CliError(
            f"no {e.where}; create it with `bm25x ingest CORPUS {_where(args)}`"
        ) from None
    finally:
        store.close()
    _print_hits(args.query, results, args.json)
    return 0


# --- eval, bench, demo -------------------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    """nDCG@10 and recall@100 on a BEIR folder."""
    from bm25x._eval import evaluate

    store = _store(args) if (args.url or args.store) else None
    try:
        report = evaluate(
            args.folder,
            flavor=args.flavor,
            options=_options(args),
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
    from bm25x._bench import run

    return run(args)


def sample_corpus() -> Path:
    """The sample corpus shipped with bm25x (JSONL: _id, title, text)."""
    return Path(str(resources.files("bm25x") / "data" / "sample.jsonl"))


def cmd_demo(args: argparse.Namespace) -> int:
    """Ingest the bundled sample corpus into a local Edge shard and search it."""
    from bm25x._search import search

    corpus = sample_corpus()
    store = _store(args)
    try:
        _ingest(args, store, corpus)
        queries = list(args.query or DEMO_QUERIES)
        results = search(store, queries, limit=args.limit, threads=args.threads)
    finally:
        store.close()
    _print_hits(queries, results, args.json)
    _say(args, f'try: bm25x search {_where(args)} "your question"')
    return 0


# --- parser ------------------------------------------------------------------------------------


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
    except serve.ConfigError as e:
        raise CliError(str(e)) from None
    serve.run(config, host=args.host, port=args.port)
    return 0


def _ingest_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("ingest")
    g.add_argument(
        "--avg-len",
        type=_parse_avg_len,
        default=None,
        metavar="N|auto",
        help="BM25 avg_len: a number, or 'auto' to measure the corpus's mean token count "
        "(recorded with the collection; queries use the same settings)",
    )
    g.add_argument(
        "--dense-model", default=None, help="also store dense vectors of this model (hybrid)"
    )
    g.add_argument(
        "--store-text", action="store_true", help="copy each document's text into the payload"
    )
    g.add_argument(
        "--batch-size", type=_positive_int, default=512, help="documents per write (512)"
    )
    g.add_argument(
        "--recreate",
        action="store_true",
        help="replace a collection built with other settings (default: refuse)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bm25x`` command."""
    from bm25x._bench import add_arguments as bench_arguments

    ap = argparse.ArgumentParser(
        prog="bm25x",
        description="BM25 sparse vectors bit-identical to Qdrant's, and the collections to "
        "search them: encode, ingest, search, eval, bench, demo.",
    )
    ap.add_argument("--version", action="version", version=f"bm25x {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
        return p

    p = command("encode", "encode a corpus (JSONL, CSV or Parquet) into .npz or .parquet")
    p.add_argument("input", help="corpus file: .jsonl[.gz], .csv, .tsv or .parquet")
    p.add_argument("-o", "--output", required=True, help="output file: .npz or .parquet")
    p.add_argument("--query", action="store_true", help="encode the texts as queries")
    p.add_argument("--batch-size", type=_positive_int, default=10_000, help="texts per encode call")
    _corpus_args(p)
    _encoder_args(p)
    p.set_defaults(func=cmd_encode)

    p = command("ingest", "encode a corpus and write it into a collection (resumable)")
    p.add_argument("corpus", help="corpus file: .jsonl[.gz], .csv, .tsv or .parquet")
    _corpus_args(p)
    _encoder_args(p)
    _ingest_args(p)
    _store_args(p)
    p.set_defaults(func=cmd_ingest)

    p = command("search", "query a collection")
    p.add_argument("query", nargs="+", help="one or more queries")
    p.add_argument("-k", "--limit", type=int, default=10, help="results per query (10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    _store_args(p)
    p.set_defaults(func=cmd_search)

    p = command("eval", "nDCG@10 and recall@100 on a BEIR folder (corpus, queries, qrels)")
    p.add_argument("folder", help="folder with corpus.jsonl[.gz], queries*.jsonl, qrels*.tsv")
    p.add_argument("--split", default="test", help="qrels/queries split to prefer (test)")
    p.add_argument("--json", action="store_true", help="print JSON")
    _encoder_args(p)
    p.add_argument(
        "--avg-len", type=_parse_avg_len, default=None, metavar="N|auto", help="as for ingest"
    )
    _store_args(p, default="")
    p.set_defaults(func=cmd_eval)

    p = command("bench", "side-by-side encoding benchmark against the reference encoders")
    bench_arguments(p)
    p.set_defaults(func=cmd_bench)

    p = command("demo", "ingest the bundled sample corpus into a local shard and search it")
    p.add_argument("query", nargs="*", help=f"queries (default: {'; '.join(DEMO_QUERIES)})")
    p.add_argument("-k", "--limit", type=int, default=5, help="results per query (5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    _encoder_args(p)
    _store_args(p, default=DEMO_STORE)
    p.set_defaults(
        func=cmd_demo,
        avg_len="auto",
        dense_model=None,
        store_text=True,
        batch_size=512,
        recreate=True,
        text_field=None,
        id_field=None,
    )

    p = command("serve", "the inference service for a self-hosted Qdrant (bm25x-sparse[serve])")
    p.add_argument("--host", default=None, help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port to listen on (8000)")
    p.add_argument("--config", default=None, help="TOML (or YAML) configuration file")
    p.set_defaults(func=cmd_serve)
    return ap


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bm25x`` command; returns the exit status (0 ok, 1 failed, 2 bad usage)."""
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        status: int = args.func(args)
        return status
    except (CliError, CorpusError, OptionError, StoreError) as e:
        print(f"bm25x {args.command}: error: {e}", file=sys.stderr)
        return 2
    except (ValueError, TypeError, OSError, InferenceError) as e:
        print(f"bm25x {args.command}: error: {e}", file=sys.stderr)
        return 1
    except Exception as e:
        if not type(e).__module__.startswith("qdrant_client"):
            raise
        # qdrant-client's errors (server unreachable, unexpected answer): one line, no trace.
        where = f" at {public_url(args.url)}" if getattr(args, "url", None) else ""
        print(f"bm25x {args.command}: error: Qdrant{where}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        hint = "; run the same command again to resume" if args.command == "ingest" else ""
        print(f"bm25x {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
