"""The ``bm25x`` command: encode, ingest, search, eval, bench, demo, serve and backfill.

Collections live in a Qdrant Edge shard in a local directory by default (``--store DIR``), or
in a Qdrant server or cluster with ``--url`` (and ``--api-key`` or ``QDRANT_API_KEY``).

:mod:`~bm25x.app.cli.parser` defines the arguments, :mod:`~bm25x.app.cli.commands` runs each
subcommand, :mod:`~bm25x.app.cli.output` formats what they write; :func:`main` ties them
together and turns errors into one line and an exit status.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from bm25x import OptionError
from bm25x.app.cli.commands import CliError
from bm25x.app.cli.parser import build_parser
from bm25x.app.errors import CorpusError, StoreError
from bm25x.app.store import public_url
from bm25x.errors import InferenceError

__all__ = ["EXIT_BROKEN_PIPE", "main"]

#: The status when the reader of the command's output goes away (``bm25x search ... | head``):
#: 128 + SIGPIPE, what a Unix tool killed by that signal reports; nothing is printed.
EXIT_BROKEN_PIPE = 141


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``bm25x`` command; returns the exit status (1 and 2 with a one-line message on
    standard error, never a traceback):

    - 0: done;
    - 1: failed on the way: a provider (:class:`~bm25x.errors.InferenceError`), the file system
      or the network (``OSError``), a Qdrant server's error reaching qdrant-client, another
      ``ValueError`` or ``TypeError``; also ``backfill --verify`` finding vectors that differ,
      and ``serve`` failing its warm-up;
    - 2: the command cannot run as asked: bad usage (argparse's own message), a bad option
      (:class:`~bm25x.errors.OptionError`), a corpus file that cannot be read (``CorpusError``),
      or a store that cannot be used (``StoreError``: no collection, not a bm25x store, in use
      by another process, damaged, its disk full, or writes to a Qdrant server that still
      fail after bm25x's retries); the message says what to change;
    - 130: interrupted (Ctrl-C);
    - 141 (:data:`EXIT_BROKEN_PIPE`): the reader of the output went away (``bm25x search ...
      | head -1``); nothing is printed, as a Unix tool killed by SIGPIPE.
    """
    ap = build_parser()
    args = ap.parse_args(argv)
    try:
        status: int = args.func(args)
        sys.stdout.flush()  # a closed pipe is found here, not at the interpreter's exit
        return status
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
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


def _silence_stdout() -> None:
    """Point standard output at the null device, so that the interpreter's own flush at exit
    finds no closed pipe (and prints no "Exception ignored" line)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError):  # no real file descriptor behind sys.stdout
        pass
