"""Server mode for ``qdrant/bm25`` options: what a Qdrant server does with a ``Document``'s
options, written as options bm25x's strict parser accepts.

bm25x refuses an unknown key or an unknown ``language`` (a typo would otherwise change every
vector). A Qdrant server accepts both silently: it ignores keys it does not know and treats a
language it does not know as ``"none"`` (no stopwords, no stemmer). Where bm25x promises the
vectors a server would store (the qdrant-client wrapper for remote clients), :func:`translate`
rewrites the options the way the server reads them and lists each such difference as a
:class:`Problem`; :func:`report` warns once per distinct problem per process
(:class:`bm25x.errors.ServerOptionWarning`) or raises :class:`bm25x.OptionError` when asked to.

The rules are the server's option parsing at v1.18.x and v1.19.0 (``Bm25Config`` in
``lib/api/src/rest/schema.rs``, the language enums in ``lib/segment/src/data_types/index.rs``,
``src/common/inference/bm25_inference.rs``); ``docs/exactness-server-options.md`` writes them
out. In short:

- unknown top-level keys are ignored (no ``deny_unknown_fields``), and so are unknown keys
  inside ``stopwords`` and ``stemmer`` mappings;
- ``language`` is any string: it is read as the JSON string ``"<value>"`` (escapes decoded),
  then matched case-sensitively against the names and ISO codes of the 30 stopword and 19
  stemmer languages, independently; a string neither knows means neither stopwords nor stemmer;
- an enum value may also be written as a one-key mapping with a null value
  (``{"word": null}``), and a ``stopwords`` or ``stemmer`` mapping as a list of its fields in
  order (``["snowball", "de"]``): serde's generic forms, which the server accepts;
- ``k``, ``b``, ``avg_len`` and ``tokenizer`` may be left out but not ``null`` (400).

bm25x's own keys (``flavor``, ``profile``, ``threads``) and values (``tokenizer: "code"``) pass
through unchanged. Everything else the server refuses is left as it is, so the strict parser
refuses it with its usual message.
"""

from __future__ import annotations

import difflib
import functools
import json
import reprlib
import sys
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bm25x._encoder import Bm25
from bm25x._native import Encoder, OptionError, languages
from bm25x._options import plain
from bm25x.errors import ServerOptionWarning

__all__ = ["Problem", "Translation", "report", "server_options", "translate"]

SERVER_KEYS = (
    "k",
    "b",
    "avg_len",
    "tokenizer",
    "language",
    "lowercase",
    "ascii_folding",
    "stopwords",
    "stemmer",
    "min_token_len",
    "max_token_len",
)
"""The keys of Qdrant's ``Bm25Config`` (with its flattened ``TextPreprocessingConfig``)."""

BM25X_KEYS = ("flavor", "profile", "threads")
"""bm25x's own keys: a server never sees them, so they pass through."""

# Keys whose value may be left out but not null: Qdrant gives them a serde default, and serde
# does not read null as "absent" for a type that is not an Option.
_NOT_NULL = {"k": "1.2", "b": "0.75", "avg_len": "256", "tokenizer": "'word'"}

# Options of the fastembed flavour (fastembed's Python Bm25), which a server ignores, and what
# says the same thing to a server.
_FASTEMBED_HINTS = {
    "token_max_length": "'max_token_len' (Qdrant counts it on the stemmed token)",
    "disable_stemmer": "stemmer {'type': 'none'} and stopwords {}",
}

_MAX_REMEMBERED = 1024  # distinct problems remembered as already warned about


@dataclass(frozen=True)
class Problem:
    """An option a server accepts and bm25x's strict parser would refuse: ``option`` (its
    path, e.g. ``"language"`` or ``"stopwords.English"``), the ``value`` given, what the
    server does with it (``effect``) and what to write instead (``advice``)."""

    option: str
    value: Any
    effect: str
    advice: str

    @property
    def message(self) -> str:
        return f"`{self.option}: {reprlib.repr(self.value)}` is {self.effect}; {self.advice}"


@dataclass(frozen=True)
class Translation:
    """Options the strict parser reads as the server reads the original ones, and the
    differences found on the way."""

    options: dict[str, Any]
    problems: tuple[Problem, ...]


# --- languages ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def _language(name: str) -> tuple[str | None, str | None] | None:
    """The (stopword, stemmer) languages ``name`` selects, by canonical name, as bm25x's
    strict parser resolves it (case-sensitively, names and ISO codes, as Qdrant does);
    ``(None, None)`` for ``"none"``; ``None`` when it is no language at all."""
    try:
        resolved = Encoder({"language": name}).resolved()
    except (OptionError, TypeError):
        return None
    stopwords = resolved["stopword_languages"]
    return (stopwords[0] if stopwords else None), resolved["stemmer"]


def _canonical(name: str) -> str | None:
    """The canonical name of the language ``name`` selects (``"none"`` for none)."""
    found = _language(name)
    if found is None:
        return None
    return found[0] or found[1] or "none"


def _json_string(text: str) -> str | None:
    """``text`` read as the body of a JSON string, as Qdrant reads a ``language``."""
    try:
        decoded = json.loads(f'"{text}"')
    except ValueError:
        return None
    return decoded if isinstance(decoded, str) else None


def _language_advice(value: str) -> str:
    """What to write instead of ``value``, a language the server does not know."""
    for candidate in (value.strip().lower(), value.strip().lower().replace("_", "-")):
        canonical = _canonical(candidate)
        if canonical is not None:
            return f"write {canonical!r}"
    stopword_names, stemmer_names = languages()
    close = difflib.get_close_matches(value.lower(), {*stopword_names, *stemmer_names}, n=1)
    if close:
        return f"write {close[0]!r} if that is meant, or 'none' to keep these vectors"
    return (
        "write 'none' to keep these vectors, or a language Qdrant knows by its name or ISO "
        "code (e.g. 'english' or 'en')"
    )


def _translate_language(value: str, problems: list[Problem]) -> str:
    decoded = _json_string(value)
    canonical = _canonical(decoded) if decoded is not None else None
    if canonical is None:
        problems.append(
            Problem(
                "language",
                value,
                "treated by Qdrant as 'none' (no stopwords, no stemmer)",
                _language_advice(value),
            )
        )
        return "none"
    if decoded != value:
        problems.append(
            Problem("language", value, f"read by Qdrant as {canonical!r}", f"write {canonical!r}")
        )
        return canonical
    return value


# --- serde's generic forms ----------------------------------------------------------------


def _unit(value: Any, option: str, problems: list[Problem]) -> Any:
    """An enum value written as ``{"name": null}`` becomes ``"name"`` (the server reads it
    so); any other value is returned as it is."""
    if isinstance(value, dict) and len(value) == 1:
        ((name, inner),) = value.items()
        if inner is None and isinstance(name, str):
            problems.append(
                Problem(option, value, f"read by Qdrant as {name!r}", f"write {name!r}")
            )
            return name
    return value


def _ignored(option: str, value: Any, accepted: Sequence[str], advice: str | None) -> Problem:
    shown = ", ".join(repr(a) for a in accepted)
    return Problem(
        option,
        value,
        f"ignored by Qdrant (it takes {shown})",
        advice or "remove it",
    )


def _stopwords(value: Any, problems: list[Problem]) -> Any:
    if isinstance(value, dict):
        if len(value) == 1:
            ((name, inner),) = value.items()
            if inner is None and isinstance(name, str) and _is_stopword_language(name):
                problems.append(
                    Problem("stopwords", value, f"read by Qdrant as {name!r}", f"write {name!r}")
                )
                return name
        out: dict[str, Any] = {}
        for key, inner in value.items():
            if key in ("languages", "custom"):
                out[key] = inner
                continue
            hint = _stopwords_key_advice(key)
            problems.append(_ignored(f"stopwords.{key}", inner, ("languages", "custom"), hint))
        return _stopword_items(out, problems)
    if isinstance(value, list) and len(value) <= 2:
        fields = dict(zip(("languages", "custom"), value))
        problems.append(
            Problem(
                "stopwords",
                value,
                f"read by Qdrant as {fields!r}",
                "write it as that mapping",
            )
        )
        return _stopword_items(fields, problems)
    return value


def _stopword_items(fields: dict[str, Any], problems: list[Problem]) -> dict[str, Any]:
    names = fields.get("languages")
    if isinstance(names, list):
        fields["languages"] = [_unit(name, "stopwords.languages[]", problems) for name in names]
    return fields


def _is_stopword_language(name: str) -> bool:
    found = _language(name)
    return found is not None and found[0] is not None


def _stopwords_key_advice(key: Any) -> str | None:
    if isinstance(key, str):
        canonical = _canonical(key.strip().lower())
        if canonical is not None and _is_stopword_language(canonical):
            return f"write stopwords {canonical!r}"
        close = difflib.get_close_matches(key, ("languages", "custom"), n=1)
        if close:
            return f"write {close[0]!r}"
    return None


def _stemmer(value: Any, problems: list[Problem]) -> Any:
    if isinstance(value, list):
        kind = _unit(value[0], "stemmer[0]", problems) if value else None
        if len(value) == 2 and kind == "snowball":
            fields = {"type": kind, "language": value[1]}
        elif len(value) == 1 and kind == "none":
            fields = {"type": kind}
        else:
            return value
        problems.append(
            Problem("stemmer", value, f"read by Qdrant as {fields!r}", "write it as that mapping")
        )
        value = fields
    if not isinstance(value, dict) or "type" not in value:
        return value
    kind = _unit(value["type"], "stemmer.type", problems)
    if kind == "snowball" and "language" in value:
        language = _unit(value["language"], "stemmer.language", problems)
        used: tuple[str, ...] = ("type", "language")
        out: dict[str, Any] = {"type": kind, "language": language}
    elif kind == "none":
        # The server's "none" stemmer has only a type; a language beside it is ignored, and
        # bm25x's strict parser ignores it too.
        used = ("type", "language")
        out = {"type": kind}
    else:
        return value  # refused by the server: the strict parser says why
    for key, inner in value.items():
        if key not in used:
            close = difflib.get_close_matches(str(key), used, n=1)
            hint = f"write {close[0]!r}" if close else None
            problems.append(_ignored(f"stemmer.{key}", inner, used, hint))
    return out


# --- the options as a whole ---------------------------------------------------------------


def _unknown_key(key: Any, value: Any) -> Problem:
    if key in _FASTEMBED_HINTS:
        return Problem(
            str(key),
            value,
            "ignored by Qdrant (an option of fastembed's Python Bm25, the fastembed flavour)",
            f"for the same effect on a server write {_FASTEMBED_HINTS[key]}",
        )
    advice = "remove it"
    if isinstance(key, str):
        close = [key.lower()] if key.lower() in SERVER_KEYS else []
        close = close or difflib.get_close_matches(key, SERVER_KEYS, n=1, cutoff=0.7)
        if close:
            advice = f"write {close[0]!r}"
    return Problem(str(key), value, "ignored by Qdrant (not one of its bm25 options)", advice)


def translate(options: Any) -> Translation:
    """The strict options that encode as a Qdrant server would for ``options`` (a Document's
    options: a mapping or qdrant-client's ``Bm25Config``), and the problems found.

    The options are read as plain JSON first (:func:`bm25x._options.plain`: models, enums,
    numpy scalars, sets), which refuses what has no JSON form (``TypeError``) and a
    non-finite number (:class:`bm25x.OptionError`). Raises :class:`bm25x.OptionError` for a
    ``null`` the server refuses; leaves every other value the server refuses as it is, for
    the strict parser to refuse with its message.

    >>> t = translate({"language": "German", "avglen": 5})
    >>> t.options
    {'language': 'none'}
    >>> for p in t.problems:
    ...     print(p.message)
    `avglen: 5` is ignored by Qdrant (not one of its bm25 options); write 'avg_len'
    `language: 'German'` is treated by Qdrant as 'none' (no stopwords, no stemmer); write 'german'
    """
    data = plain({} if options is None else options)
    if not isinstance(data, dict):
        raise TypeError(
            f"options must be a mapping or qdrant-client's Bm25Config, got {type(options).__name__}"
        )
    problems: list[Problem] = []
    out: dict[str, Any] = {}
    for key, value in data.items():
        if key in SERVER_KEYS or key in BM25X_KEYS:
            out[key] = value
        else:
            problems.append(_unknown_key(key, value))
    for key, default in _NOT_NULL.items():
        if key in out and out[key] is None:
            raise OptionError(
                f'"{key}": null is refused by Qdrant (400 Invalid BM25 config); leave "{key}" '
                f"out for its default ({default})"
            )
    if "tokenizer" in out:
        out["tokenizer"] = _unit(out["tokenizer"], "tokenizer", problems)
    if isinstance(out.get("language"), str):
        out["language"] = _translate_language(out["language"], problems)
    if out.get("stopwords") is not None:
        out["stopwords"] = _stopwords(out["stopwords"], problems)
    if out.get("stemmer") is not None:
        out["stemmer"] = _stemmer(out["stemmer"], problems)
    return Translation(out, tuple(problems))


# --- reporting ----------------------------------------------------------------------------

_warned: dict[str, None] = {}
_warned_lock = threading.Lock()


def _in_bm25x(module: str) -> bool:
    return module == "bm25x" or module.startswith("bm25x.")


def _caller_stacklevel() -> int:
    """The ``stacklevel`` of the first frame outside bm25x, seen from the caller's caller."""
    frame = sys._getframe(2)
    level = 2
    while frame is not None and _in_bm25x(frame.f_globals.get("__name__", "")):
        frame = frame.f_back  # type: ignore[assignment]
        level += 1
    return level


def report(problems: Sequence[Problem], *, strict: bool = False) -> None:
    """Warn once per distinct problem per process (:class:`bm25x.errors.ServerOptionWarning`),
    or, with ``strict``, raise :class:`bm25x.OptionError` naming every problem.

    A warning the warnings filter turns into an error (``warnings.simplefilter("error",
    ServerOptionWarning)``) is raised each time, not only the first."""
    if not problems:
        return
    if strict:
        raise OptionError(
            "; ".join(p.message for p in problems)
            + " (refused because strict_options=True; without it bm25x warns and encodes as "
            "Qdrant does)"
        )
    for p in problems:
        message = p.message
        with _warned_lock:
            if message in _warned:
                continue
            _warned[message] = None
            while len(_warned) > _MAX_REMEMBERED:
                del _warned[next(iter(_warned))]
        try:
            warnings.warn(
                ServerOptionWarning(
                    message, option=p.option, value=p.value, effect=p.effect, advice=p.advice
                ),
                stacklevel=_caller_stacklevel(),
            )
        except BaseException:
            with _warned_lock:  # raised by the warnings filter: raise it next time too
                _warned.pop(message, None)
            raise


def _forget_warnings() -> None:
    """Forget which problems were warned about (for tests)."""
    with _warned_lock:
        _warned.clear()


def server_options(options: Any, *, strict: bool = False) -> dict[str, Any]:
    """Options for :class:`bm25x.Bm25` (or ``bm25x.embed``) that give the vectors a Qdrant
    server computes for a ``qdrant/bm25`` Document with ``options``: :func:`translate`, then
    :func:`report` its problems (a warning once per distinct problem, or with ``strict`` an
    :class:`bm25x.OptionError`).

    >>> import warnings, bm25x
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     opts = server_options({"language": "klingon"})
    >>> bm25x.Bm25(**opts) == bm25x.Bm25(language="none")
    True
    """
    translation = translate(options)
    Bm25(**translation.options)  # refuse what the server refuses before warning of anything
    report(translation.problems, strict=strict)
    return translation.options
