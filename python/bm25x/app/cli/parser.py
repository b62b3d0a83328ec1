"""The ``bm25x`` command's argument parser: every subcommand, its options and their checks."""

from __future__ import annotations

import argparse
import os

from bm25x import __version__
from bm25x.app.cli.commands import (
    DEFAULT_STORE,
    DEMO_QUERIES,
    DEMO_STORE,
    cmd_backfill,
    cmd_bench,
    cmd_demo,
    cmd_encode,
    cmd_eval,
    cmd_ingest,
    cmd_search,
    cmd_serve,
)
from bm25x.app.cli.options import parse_option, positive_int

__all__ = ["build_parser", "parse_avg_len", "parse_option", "positive_int"]


def parse_avg_len(text: str) -> float | str:
    if text == "auto":
        return text
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number or 'auto', got {text!r}") from None
    return value


def encoder_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("encoder")
    g.add_argument(
        "--flavor",
        choices=("qdrant", "fastembed"),
        default="qdrant",
        help="qdrant: Qdrant's server-side qdrant/bm25 (default); fastembed: fastembed's "
        "Python Bm25 (its Qdrant/bm25)",
    )
    g.add_argument(
        "-O",
        "--option",
        dest="option",
        action="append",
        type=parse_option,
        default=[],
        metavar="KEY=VALUE",
        help="a Bm25 option, VALUE in JSON or a bare word (repeatable): -O k=1.5 "
        '-O tokenizer=word -O \'stemmer={"type": "none"}\'',
    )
    g.add_argument("--options", default=None, metavar="JSON", help="all options as a JSON object")
    g.add_argument("--threads", type=int, default=None, help="encoding threads (default: all)")


def corpus_args(p: argparse.ArgumentParser) -> None:
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


def store_args(p: argparse.ArgumentParser, default: str = DEFAULT_STORE) -> None:
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


def ingest_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("ingest")
    g.add_argument(
        "--avg-len",
        type=parse_avg_len,
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
    g.add_argument("--batch-size", type=positive_int, default=512, help="documents per write (512)")
    g.add_argument(
        "--recreate",
        action="store_true",
        help="replace a collection built with other settings (default: refuse)",
    )


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``bm25x`` command."""
    from bm25x.app.backfill.cli import add_arguments as backfill_arguments
    from bm25x.app.bench import add_arguments as bench_arguments

    ap = argparse.ArgumentParser(
        prog="bm25x",
        description="BM25 sparse vectors bit-identical to Qdrant's, and the collections to "
        "search them: encode, ingest, search, eval, bench, demo, backfill.",
    )
    ap.add_argument("--version", action="version", version=f"bm25x {__version__}")
    sub = ap.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def command(name: str, help: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help, description=help)
        p.add_argument("-q", "--quiet", action="store_true", help="no progress or summary")
        return p

    p = command("encode", "encode a corpus (JSONL, CSV or Parquet) into .npz or .parquet")
    p.add_argument("input", help="corpus file: .jsonl[.gz], .csv, .tsv or .parquet")
    p.add_argument(
        "-o",
        "--output",
        required=True,
        help="output file: .npz (arrays id_utf8 and id_offsets: the ids; indptr, indices, "
        "values: the vectors) or .parquet (columns id, indices, values)",
    )
    p.add_argument("--query", action="store_true", help="encode the texts as queries")
    p.add_argument("--batch-size", type=positive_int, default=10_000, help="texts per encode call")
    corpus_args(p)
    encoder_args(p)
    p.set_defaults(func=cmd_encode)

    p = command("ingest", "encode a corpus and write it into a collection (resumable)")
    p.add_argument("corpus", help="corpus file: .jsonl[.gz], .csv, .tsv or .parquet")
    corpus_args(p)
    encoder_args(p)
    ingest_args(p)
    store_args(p)
    p.set_defaults(func=cmd_ingest)

    p = command(
        "backfill",
        "fill a named vector of an existing collection from a payload field (resumable)",
    )
    backfill_arguments(p)
    p.set_defaults(func=cmd_backfill)

    p = command("search", "query a collection")
    p.add_argument("query", nargs="+", help="one or more queries")
    p.add_argument("-k", "--limit", type=int, default=10, help="results per query (10)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    p.add_argument("--threads", type=int, default=None, help=argparse.SUPPRESS)
    p.add_argument(
        "--vector",
        default=None,
        metavar="NAME",
        help="search this named vector, filled by `bm25x backfill` (queries encoded as it "
        "records); --store may be any Edge shard directory",
    )
    store_args(p)
    p.set_defaults(func=cmd_search)

    p = command("eval", "nDCG@10 and recall@100 on a BEIR folder (corpus, queries, qrels)")
    p.add_argument("folder", help="folder with corpus.jsonl[.gz], queries*.jsonl, qrels*.tsv")
    p.add_argument("--split", default="test", help="qrels/queries split to prefer (test)")
    p.add_argument("--json", action="store_true", help="print JSON")
    encoder_args(p)
    p.add_argument(
        "--avg-len", type=parse_avg_len, default=None, metavar="N|auto", help="as for ingest"
    )
    store_args(p, default="")
    p.set_defaults(func=cmd_eval)

    p = command("bench", "side-by-side encoding benchmark against the reference encoders")
    bench_arguments(p)
    p.set_defaults(func=cmd_bench)

    p = command("demo", "ingest the bundled sample corpus into a local shard and search it")
    p.add_argument("query", nargs="*", help=f"queries (default: {'; '.join(DEMO_QUERIES)})")
    p.add_argument("-k", "--limit", type=int, default=5, help="results per query (5)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")
    encoder_args(p)
    store_args(p, default=DEMO_STORE)
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
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        help="worker processes behind the port (1); their metrics add up",
    )
    p.add_argument("--config", default=None, help="TOML (or YAML) configuration file")
    p.set_defaults(func=cmd_serve)
    return ap
