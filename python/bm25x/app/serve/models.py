"""The operator's rules for models: aliases, the allow-list, default options, and where the
local-models provider's models come from. Turns each protocol input into the item
``bm25x.aembed`` takes, refusing options over ``limits.max_options_bytes`` and keys over
``MAX_KEY_BYTES`` first; says which model names the service knows (its metrics' labels)."""

from __future__ import annotations

import fnmatch
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bm25x import providers
from bm25x.app.serve.config import ServeConfig
from bm25x.app.serve.errors import BadRequest
from bm25x.app.serve.protocol import Input
from bm25x.errors import UnknownModelError
from bm25x.internals import MAX_KEY_BYTES, is_key_option, key_size
from bm25x.providers.bm25 import BM25_MODELS

__all__ = ["MAX_NAME_CHARS", "OPERATOR_OPTIONS", "ModelPolicy", "shown"]

#: The longest model name shown whole in a log line, a message or a metrics label: a name is
#: the caller's text (up to the body's size) and these are kept or repeated.
MAX_NAME_CHARS = 128
_GLOB = frozenset("*?[")


def shown(model: str) -> str:
    """``model`` cut to :data:`MAX_NAME_CHARS` characters (``...`` marks a cut)."""
    return model if len(model) <= MAX_NAME_CHARS else model[:MAX_NAME_CHARS] + "..."


#: Options that reach the service's disk or hardware: only the operator sets them (in
#: ``[fastembed]``, ``[defaults]`` or an alias), so that a caller can neither make the service
#: load files of its choosing, pick its devices or the way it loads a model, nor start threads
#: (``threads``: bm25 and local models start that many OS threads per distinct value).
#: Every fastembed constructor option that is not about the vectors themselves is here
#: (``tests/serve`` checks the list against fastembed's classes).
OPERATOR_OPTIONS = frozenset(
    {
        "threads",
        "specific_model_path",
        "model_path",
        "cache_dir",
        "local_files_only",
        "providers",
        "cuda",
        "device_id",
        "device_ids",
        "lazy_load",
        "mmap",
    }
)


#: Model names whose rules a policy keeps (beyond, it starts again).
_RULES_KEPT = 1024


@dataclass(frozen=True)
class _Rules:
    """What the operator's rules make of one model name: the model, the options under the
    request's own (``[defaults]``, the alias's) and over them (``[fastembed]``'s)."""

    model: str
    before: dict[str, Any]
    after: dict[str, Any]


class ModelPolicy:
    """Applies a :class:`ServeConfig`'s model rules; one instance per app."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        # Not set: every model (the service refused to start if that would expose its keys).
        self.patterns = ("*",) if config.allowed_models is None else config.allowed_models
        # The names the service knows (the operator's and bm25x's own), lower-cased -> the
        # spelling shown; the exact spellings first, so "Qdrant/bm25" stays itself.
        names = [*BM25_MODELS, "bm25"]
        names += [a.model for a in config.aliases.values()] + list(config.aliases)
        names += [p for p in self.patterns if not _GLOB & set(p)]
        names += [p for p in config.defaults if not _GLOB & set(p)]
        names += list(config.fastembed.model_dirs)
        names = [n for n in names if len(n) <= MAX_NAME_CHARS]
        self._exact = frozenset(names)
        self._known: dict[str, str] = {}
        for name in names:
            self._known.setdefault(name.lower(), name)
        # What item() makes of a model name, by the name: every request names its models, and
        # working it out (the allow-list's and [defaults]' patterns, the alias, the provider)
        # costs more than the rest of an item. Names are the callers' text: bounded.
        self._rules: dict[str, _Rules] = {}
        self._allowed: dict[str, bool] = {}  # allowed(), by name (bounded as _rules)

    def known(self, model: str) -> str | None:
        """The name the service knows ``model`` by (an alias or its model, a literal entry of
        ``allowed_models``, ``[defaults]`` or ``[fastembed.model_dirs]``, a bm25 model), as
        the operator spelled it; None for any other name."""
        if model in self._exact:
            return model
        return self._known.get(model.lower())

    def allowed(self, model: str) -> bool:
        """Whether a model name (as the client sent it) may be used: an alias, or a name
        matching one of ``allowed_models`` (glob patterns, case-insensitive)."""
        found = self._allowed.get(model)
        if found is None:
            name = model.lower()
            found = name in self.config.aliases or any(
                fnmatch.fnmatchcase(name, p) for p in self.patterns
            )
            if len(self._allowed) >= _RULES_KEPT:
                self._allowed.clear()
            self._allowed[model] = found
        return found

    def target(self, model: str) -> str:
        """The model a request's model name stands for: an alias's model, else the name."""
        alias = self.config.aliases.get(model.lower())
        return alias.model if alias is not None else model

    def item(self, inp: Input, i: int) -> dict[str, Any]:
        """The ``bm25x.aembed`` item for input ``i``: the alias resolved, the allow-list
        checked, default options under the request's, a local model's source set."""
        if not self.allowed(inp.model):
            raise BadRequest(
                f"inputs[{i}]: model {shown(inp.model)!r} is not allowed on this service "
                f"(allowed: {', '.join(self.patterns) or 'none'}"
                + (
                    f"; aliases: {', '.join(sorted(self.config.aliases))})"
                    if self.config.aliases
                    else ")"
                )
            )
        refused = sorted(k for k in inp.options if k in OPERATOR_OPTIONS)
        if refused:
            raise BadRequest(
                f"inputs[{i}]: option(s) {', '.join(refused)} are set by the service's operator "
                "(its [defaults], [aliases] or [fastembed] configuration), not by requests"
            )
        self._check_sizes(inp.options, i)
        rules = self._rules_of(inp.model)
        options = {**rules.before, **inp.options, **rules.after}
        return {_FIELD[inp.data_type]: inp.data, "model": rules.model, "options": options}

    def _rules_of(self, name: str) -> _Rules:
        """The model, the options under a request's and those over them, for an allowed
        model name as a request gives it."""
        found = self._rules.get(name)
        if found is not None:
            return found
        model = name
        before: dict[str, Any] = {}
        alias = self.config.aliases.get(model.lower())
        if alias is not None:
            model = alias.model
        lowered = model.lower()
        for pattern, defaults in self.config.defaults.items():
            if fnmatch.fnmatchcase(lowered, pattern):
                before.update(defaults)
        if alias is not None:
            before.update(alias.options)
        found = _Rules(model, before, self._local_model_options(model))
        if len(self._rules) >= _RULES_KEPT:
            self._rules.clear()
        self._rules[name] = found
        return found

    def _check_sizes(self, options: Mapping[str, Any], i: int) -> None:
        """Refuse options over ``limits.max_options_bytes`` as JSON, and keys (``*-api-key``
        options) over ``MAX_KEY_BYTES``, before anything is built from them or stored."""
        if not options:
            return
        limit = self.config.limits.max_options_bytes
        text = json.dumps(options, ensure_ascii=False, separators=(",", ":"))
        size = len(text) if text.isascii() else len(text.encode("utf-8", "surrogatepass"))
        if size > limit:
            biggest = max(options, key=lambda k: len(json.dumps(options[k], ensure_ascii=False)))
            raise BadRequest(
                f"inputs[{i}].options is {size:,} bytes as JSON (the largest option: "
                f"{shown(biggest)!r}), over this service's limit of {limit:,} bytes "
                "(limits.max_options_bytes)"
            )
        for name, value in options.items():
            if is_key_option(name) and value is not None:
                length = key_size(value if isinstance(value, str) else str(value))
                if length > MAX_KEY_BYTES:
                    raise BadRequest(
                        f"inputs[{i}].options[{shown(name)!r}] is {length:,} bytes, over the "
                        f"limit of {MAX_KEY_BYTES:,} bytes for an API key"
                    )

    def _local_model_options(self, model: str) -> dict[str, Any]:
        """Where a model of the local-models provider (whose name is ``"fastembed"``) comes
        from, by the ``[fastembed]`` table; nothing for other models."""
        try:
            provider, name = providers.resolve(model)
        except UnknownModelError:
            return {}  # bm25x.aembed reports it, naming the input
        if getattr(provider, "name", None) != "fastembed":
            return {}
        fe = self.config.fastembed
        extra: dict[str, Any] = {}
        directory = fe.model_dirs.get(name.lower())
        if directory is not None:
            extra["specific_model_path"] = directory
        if fe.cache_dir is not None:
            extra["cache_dir"] = fe.cache_dir
        if not fe.allow_downloads:
            extra["local_files_only"] = True
        return extra


_FIELD = {"text": "text", "image": "image", "object": "object"}
