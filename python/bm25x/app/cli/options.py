"""What the ``bm25x`` command and ``bm25x backfill`` share: :class:`CliError`, the parsing of
``-O KEY=VALUE`` and of positive integers, and the encoder options a command was given."""

from __future__ import annotations

import argparse
import json
from typing import Any

__all__ = ["CliError", "encoder_options", "parse_option", "positive_int"]


class CliError(Exception):
    """A problem to report in one line, without a traceback."""


def encoder_options(args: argparse.Namespace) -> dict[str, Any]:
    """The encoder options of ``--options JSON`` and ``-O KEY=VALUE`` together (``threads``
    moved to ``args.threads``)."""
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


def parse_option(text: str) -> tuple[str, Any]:
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


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value
