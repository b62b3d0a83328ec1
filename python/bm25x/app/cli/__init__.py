"""The ``bm25x`` command: encode, ingest, search, eval, bench, demo, serve and backfill.

Collections live in a Qdrant Edge shard in a local directory by default (``--store DIR``), or
in a Qdrant server or cluster with ``--url`` (and ``--api-key`` or ``QDRANT_API_KEY``).

:mod:`~bm25x.app.cli.parser` defines the arguments, :mod:`~bm25x.app.cli.commands` runs each
subcommand, :mod:`~bm25x.app.cli.output` formats what they write; :func:`main` ties them
together and turns errors into one line and an exit status.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from bm25x._native import OptionError
from bm25x.app.cli.commands import CliError
from bm25x.app.cli.parser import build_parser
from bm25x.app.store import public_url
from bm25x.errors import CorpusError, InferenceError, StoreError

__all__ = ["main"]


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
        resumable = args.command in ("ingest", "backfill")
        hint = "; run the same command again to resume" if resumable else ""
        print(f"bm25x {args.command}: interrupted{hint}", file=sys.stderr)
        return 130
