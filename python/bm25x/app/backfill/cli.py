"""``bm25x backfill``'s arguments and what the command does with them (the parser adds them
with :func:`add_arguments`; :func:`run` runs the command)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from bm25x.app.backfill.errors import VerifyError
from bm25x.app.backfill.report import BackfillReport
from bm25x.app.cli.options import CliError, encoder_options, parse_option, positive_int

__all__ = ["add_arguments", "run"]


def _json_object(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(f"not valid JSON ({e})") from None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError("must be a JSON object, e.g. '{\"must\": [...]}'")
    return value


def _header(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError("expected NAME=VALUE, e.g. openai-api-key=...")
    return name, value


def _id(text: str) -> Any:
    return int(text) if text.isdigit() else text


def _id_range(text: str) -> tuple[Any, Any]:
    start, sep, end = text.partition(":")
    if not sep:
        raise argparse.ArgumentTypeError("expected START:END (either may be empty), e.g. 0:1000")
    return (_id(start) if start else None, _id(end) if end else None)


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The arguments of ``bm25x backfill``."""
    g = p.add_argument_group("collection (one of --store or --url)")
    g.add_argument("--store", default=None, metavar="DIR", help="an Edge shard directory")
    g.add_argument("--url", default=None, help="a Qdrant server or cluster")
    g.add_argument(
        "--api-key",
        default=os.environ.get("QDRANT_API_KEY"),
        help="API key for --url (default: $QDRANT_API_KEY)",
    )
    g.add_argument("--collection", default=None, help="the collection's name (with --url)")

    g = p.add_argument_group("what to fill")
    g.add_argument("--vector", required=True, metavar="NAME", help="the named vector to fill")
    g.add_argument(
        "--from-field",
        required=True,
        metavar="FIELD",
        help="payload key holding the text (a dotted path into nested objects: meta.body)",
    )
    g.add_argument(
        "--model",
        default="qdrant/bm25",
        help="a model as bm25x.embed takes it: qdrant/bm25 (Qdrant server's BM25, the "
        "default), Qdrant/bm25 (the fastembed flavour: fastembed's Python Bm25), a model of "
        "the fastembed package (run locally), or a provider's "
        "(openai/..., cohere/..., jinaai/..., openrouter/...; keys from the environment)",
    )
    g.add_argument(
        "-O",
        "--option",
        action="append",
        type=parse_option,
        default=[],
        metavar="KEY=VALUE",
        help="a model option, VALUE in JSON or a bare word (repeatable): -O k=1.5",
    )
    g.add_argument("--options", default=None, metavar="JSON", help="all options as a JSON object")
    g.add_argument(
        "-H",
        "--header",
        action="append",
        type=_header,
        default=[],
        metavar="NAME=VALUE",
        help="a provider header, e.g. openai-api-key=... (prefer the environment for keys)",
    )
    g.add_argument("--threads", type=int, default=None, help="bm25 encoding threads (all)")

    g = p.add_argument_group("which points")
    g.add_argument(
        "--filter",
        type=_json_object,
        default=None,
        metavar="JSON",
        help="only points matching this Qdrant filter, e.g. "
        '\'{"must": [{"key": "lang", "match": {"value": "en"}}]}\'',
    )
    g.add_argument(
        "--id-range",
        type=_id_range,
        default=None,
        metavar="START:END",
        help="only points with START <= id < END in Qdrant's id order (integers, then UUIDs): "
        "one part of a backfill split over several processes",
    )
    g.add_argument(
        "--only-missing", action="store_true", help="skip points that already have the vector"
    )
    g.add_argument(
        "--to",
        default=None,
        metavar="NEW",
        help="fill a copy instead: a new collection NEW on the server with the points, payloads "
        "and vectors, and the vector (for servers before Qdrant 1.18.0, which cannot add one)",
    )

    g = p.add_argument_group("run")
    g.add_argument(
        "--strict",
        action="store_true",
        help="stop at the first point whose field is missing, empty or not a string",
    )
    g.add_argument(
        "--report", default=None, metavar="FILE", help="list points without a vector (JSONL)"
    )
    g.add_argument(
        "--verify",
        type=int,
        default=0,
        metavar="N",
        help="afterwards, check N random points equal a fresh encoding (bit-exact for bm25)",
    )
    g.add_argument(
        "--workers", type=positive_int, default=2, help="pages encoded and written at once (2)"
    )
    g.add_argument("--page-size", type=positive_int, default=512, help="points per page (512)")
    g.add_argument(
        "--restart",
        action="store_true",
        help="start over, even if the same backfill finished or another one is unfinished",
    )
    g.add_argument(
        "--checkpoint-every",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="save the checkpoint (in the collection's metadata) this often (5)",
    )
    g.add_argument("--json", action="store_true", help="print the report as JSON on stdout")


def _say(args: argparse.Namespace, text: str) -> None:
    if not args.quiet:
        print(text, file=sys.stderr)


def _show(args: argparse.Namespace, report: BackfillReport) -> None:
    if args.json:
        print(json.dumps(report.as_dict(), indent=2, default=str))
    _say(args, f"bm25x backfill: {report.summary()}")


def run(args: argparse.Namespace) -> int:
    """Run ``bm25x backfill``."""
    from bm25x.app.backfill.run import backfill

    if bool(args.store) == bool(args.url):
        raise CliError("give the collection with --store DIR or with --url URL --collection NAME")
    if args.url and not args.collection:
        raise CliError("--url needs --collection NAME")
    if args.verify < 0:
        raise CliError(f"--verify takes a number of points, got {args.verify}")
    options = encoder_options(args)  # first: it may set args.threads
    try:
        report = backfill(
            vector=args.vector,
            from_field=args.from_field,
            model=args.model,
            options=options,
            headers=dict(args.header) or None,
            store=args.store,
            url=args.url,
            api_key=args.api_key if args.url else None,
            collection=args.collection,
            to=args.to,
            filter=args.filter,
            id_range=args.id_range,
            only_missing=args.only_missing,
            strict=args.strict,
            report=args.report,
            verify=args.verify,
            workers=args.workers,
            page_size=args.page_size,
            threads=args.threads,
            restart=args.restart,
            checkpoint_seconds=args.checkpoint_every,
            quiet=args.quiet,
        )
    except VerifyError as e:
        _show(args, e.report)
        print(f"bm25x backfill: error: {e}", file=sys.stderr)
        return 1
    _show(args, report)
    return 0
