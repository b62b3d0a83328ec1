"""The operator's rules for models: aliases, the allow-list, default options, and where local
fastembed models come from. Turns each protocol input into the item ``bm25x.aembed`` takes."""

from __future__ import annotations

import fnmatch
from typing import Any

from bm25x import providers
from bm25x.app.serve.config import ServeConfig
from bm25x.app.serve.errors import BadRequest
from bm25x.app.serve.protocol import Input
from bm25x.errors import UnknownModelError

__all__ = ["OPERATOR_OPTIONS", "ModelPolicy"]

#: Options that reach the service's disk or hardware: only the operator sets them (in
#: ``[fastembed]``, ``[defaults]`` or an alias), so that a caller can neither make the service
#: load files of its choosing, pick its devices or the way it loads a model, nor start threads
#: (``threads``: bm25 and fastembed models start that many OS threads per distinct value).
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


class ModelPolicy:
    """Applies a :class:`ServeConfig`'s model rules; one instance per app."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        # Not set: every model (the service refused to start if that would expose its keys).
        self.patterns = ("*",) if config.allowed_models is None else config.allowed_models

    def allowed(self, model: str) -> bool:
        """Whether a model name (as the client sent it) may be used: an alias, or a name
        matching one of ``allowed_models`` (glob patterns, case-insensitive)."""
        name = model.lower()
        if name in self.config.aliases:
            return True
        return any(fnmatch.fnmatchcase(name, p) for p in self.patterns)

    def item(self, inp: Input, i: int) -> dict[str, Any]:
        """The ``bm25x.aembed`` item for input ``i``: the alias resolved, the allow-list
        checked, default options under the request's, fastembed's model source set."""
        if not self.allowed(inp.model):
            raise BadRequest(
                f"inputs[{i}]: model {inp.model!r} is not allowed on this service "
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
        model = inp.model
        options: dict[str, Any] = {}
        alias = self.config.aliases.get(model.lower())
        if alias is not None:
            model = alias.model
        lowered = model.lower()
        for pattern, defaults in self.config.defaults.items():
            if fnmatch.fnmatchcase(lowered, pattern):
                options.update(defaults)
        if alias is not None:
            options.update(alias.options)
        options.update(inp.options)
        options.update(self._fastembed_options(model, options))
        return {_FIELD[inp.data_type]: inp.data, "model": model, "options": options}

    def _fastembed_options(self, model: str, options: dict[str, Any]) -> dict[str, Any]:
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
