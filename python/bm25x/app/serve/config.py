"""The service's configuration: one typed object, read from a TOML (or YAML) file and the
environment (the environment wins), with defaults that are safe on a shared machine.

A file looks like this (every key optional)::

    host = "0.0.0.0"                 # `bm25x serve --host/--port/--workers` win over these
    port = 8000
    workers = 1                      # worker processes behind the port (metrics add up)
    path = "/inference"              # where Qdrant's `inference.address` points
    token = "change-me"              # or BM25X_SERVE_TOKEN; absent: no token is required
    metrics_token_required = false   # true: GET /metrics needs "Authorization: Bearer <token>"
    allowed_models = ["openai/text-embedding-3-*", "sentence-transformers/*", "bm25"]
                                     # unset: every model, but then the service refuses to
                                     # start if it holds provider keys ([keys], OPENAI_API_KEY,
                                     # an *-api-key option in [defaults] or an alias)

    [limits]
    max_body_bytes = 16777216        # 413 above
    max_inputs = 4096                # 413 above
    max_concurrent_requests = 64     # requests at work at once; 429 (with Retry-After) above
    max_concurrent_bodies = 256      # bodies being read (before the token is checked); 429 above
    max_body_memory = 134217728      # bytes those bodies hold between them; 429 above
    retry_after = 1                  # seconds, in those 429s
    provider_concurrency = 8         # batches in flight per provider and request
    request_timeout = 120.0          # seconds for one request, retries included (504 after)
    body_timeout = 30.0              # seconds for the request body to arrive (408 after)
    max_options_bytes = 65536        # 400 above: one input's options, as JSON
    header_timeout = 10.0            # seconds for the request line and headers (closed after)

    [aliases.small]                  # model "small" means this model with these options
    model = "openai/text-embedding-3-small"
    options = { dimensions = 512 }

    [aliases."bm25x/de"]             # a named bm25 preset (see the docs): options the
    model = "qdrant/bm25"            # encoder refuses stop the service at start-up
    options = { language = "german" }

    [defaults."openai/*"]            # default options for matching models (the request's win)
    dimensions = 1536

    [keys]                           # the operator's provider keys (forwarded headers win);
    openai-api-key = "sk-..."        # OPENAI_API_KEY, CO_API_KEY, JINA_API_KEY, ... work too

    [fastembed]
    cache_dir = "/models/fastembed"  # or FASTEMBED_CACHE_PATH
    allow_downloads = false          # offline: only models already on disk
    max_batch_tokens = 16384         # concurrent requests for one model share model calls of
                                     # up to this many padded tokens; 0: one call per request
    [fastembed.model_dirs]
    "sentence-transformers/all-MiniLM-L6-v2" = "/models/minilm"

    [warmup]                         # loaded before GET /readyz answers 200 (in the
    models = ["bm25x/de", "sentence-transformers/all-MiniLM-L6-v2"]   # background: /healthz
                                     # answers meanwhile); one that fails stops the service

    [images]                         # fetching image URLs (the SSRF guard): the fields and
                                     # defaults of bm25x.providers.FetchPolicy
    allow_private = false
    allowed_hosts = []
    schemes = ["http", "https"]
    max_bytes = 5242880
    timeout = 30.0
    max_redirects = 5

Environment: ``BM25X_SERVE_TOKEN``, ``BM25X_SERVE_ALLOWED_MODELS`` (comma-separated),
``BM25X_SERVE_REQUEST_TIMEOUT``, ``BM25X_SERVE_BODY_TIMEOUT``, ``BM25X_SERVE_HEADER_TIMEOUT``,
``BM25X_SERVE_MAX_CONCURRENT_REQUESTS``, ``BM25X_SERVE_MAX_CONCURRENT_BODIES``,
``BM25X_SERVE_MAX_BODY_MEMORY``, ``BM25X_SERVE_MAX_INPUTS``, ``BM25X_SERVE_MAX_BODY_BYTES``,
``BM25X_SERVE_ALLOW_DOWNLOADS`` (``1``/``0``), ``BM25X_SERVE_METRICS_TOKEN_REQUIRED`` (``1``/``0``),
``BM25X_SERVE_WARMUP`` (comma-separated models), ``BM25X_SERVE_WORKERS``.

The token and the operator's keys (``[keys]``, and the provider keys in the environment, see
:func:`remember_operator_keys`) are at most ``MAX_KEY_BYTES`` (4,096) bytes each, and are
pinned in bm25x's redaction registry: no flood of callers' keys makes bm25x forget them.
"""

from __future__ import annotations

import fnmatch
import os
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from bm25x.errors import KeyTooLongError
from bm25x.internals import KEY_SUFFIX, Secret, is_key_option, remember_secret
from bm25x.providers import FetchPolicy

__all__ = [
    "Alias",
    "ConfigError",
    "FastembedConfig",
    "Limits",
    "ServeConfig",
    "check_bm25_presets",
    "load_config",
    "operator_keys",
    "remember_operator_keys",
    "require_allow_list",
]


class ConfigError(ValueError):
    """The configuration file or environment holds a value the service cannot use; the message
    names the key and says what is accepted."""


@dataclass(frozen=True)
class Limits:
    """What one request, and the service as a whole, may use."""

    max_body_bytes: int = 16 * 1024 * 1024
    max_inputs: int = 4096
    # Requests at work (parsed, embedding, answering); only callers with the token get here.
    max_concurrent_requests: int = 64
    retry_after: int = 1
    provider_concurrency: int = 8
    # Qdrant waits 10 minutes by default (less when a client passes ?timeout=); finish well
    # inside that, so a caller sees this service's 504 rather than a dropped connection.
    request_timeout: float = 120.0
    # A body that arrives slower than this holds a reading place for nothing (408 after);
    # uvicorn itself puts no limit on it.
    body_timeout: float = 30.0
    # One input's options (as JSON, UTF-8): bm25 builds an encoder from them (a stopword list
    # costs about 15 to 30 times its size), so a request cannot ask for gigabytes.
    max_options_bytes: int = 64 * 1024
    # A connection whose request line and headers are not all in within this many seconds is
    # closed (uvicorn has no such limit): from the connection's start, or from the first byte
    # of the next request on a kept-alive connection.
    header_timeout: float = 10.0
    # Bodies being read before their token is checked, and the bytes they hold between them:
    # Qdrant sends the token inside the body, so these are what a caller without it can hold.
    max_concurrent_bodies: int = 256
    max_body_memory: int = 128 * 1024 * 1024


@dataclass(frozen=True)
class Alias:
    """A model name the service accepts, standing for another model with default options."""

    model: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FastembedConfig:
    """The ``[fastembed]`` table: where the local-models provider
    (:mod:`bm25x.providers.local_models`) finds the fastembed package's models. With
    ``allow_downloads`` off (the default), fastembed never contacts the hub: a model must be in
    ``model_dirs`` or the cache."""

    cache_dir: str | None = None
    allow_downloads: bool = False
    model_dirs: Mapping[str, str] = field(default_factory=dict)
    # Concurrent requests for one model share model calls of at most this many padded tokens
    # (texts times the longest one's tokens), as text-embeddings-inference's max_batch_tokens;
    # 0: one model call per request. Process-wide (it sets LocalModelProvider's default).
    max_batch_tokens: int = 16384


@dataclass(frozen=True)
class ServeConfig:
    """Everything ``bm25x serve`` is told. ``token`` and ``keys`` are secrets: their reprs are
    masked and bm25x redacts them from every error text."""

    host: str = "127.0.0.1"
    port: int = 8000
    # Worker processes behind the one port (uvicorn's workers); metrics add up across them.
    workers: int = 1
    path: str = "/inference"
    token: Secret | None = field(default=None, repr=False)
    # GET /metrics answers only with "Authorization: Bearer <token>" (it shows which models
    # are used and how much); needs token.
    metrics_token_required: bool = False
    # None: not set, which allows every model, unless the service holds operator keys (then
    # it refuses to start: see require_allow_list).
    allowed_models: tuple[str, ...] | None = None
    aliases: Mapping[str, Alias] = field(default_factory=dict)
    defaults: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    keys: Mapping[str, Secret] = field(default_factory=dict, repr=False)
    limits: Limits = field(default_factory=Limits)
    fastembed: FastembedConfig = field(default_factory=FastembedConfig)
    # The [images] section is the library's own policy type: one set of fields and defaults.
    images: FetchPolicy = field(default_factory=FetchPolicy)
    # [warmup] models: loaded (one text embedded) before /readyz answers 200.
    warmup: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.path.startswith("/"):
            raise ConfigError(f"path must start with '/', got {self.path!r}")
        for name in (
            "max_body_bytes",
            "max_inputs",
            "max_concurrent_requests",
            "max_concurrent_bodies",
            "max_body_memory",
            "provider_concurrency",
            "request_timeout",
            "body_timeout",
            "header_timeout",
        ):
            _positive(f"limits.{name}", getattr(self.limits, name))
        _positive("limits.max_options_bytes", self.limits.max_options_bytes)
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < 1:
            raise ConfigError(f"workers must be a whole number >= 1, got {self.workers!r}")
        if self.metrics_token_required and self.token is None:
            raise ConfigError(
                "metrics_token_required is set but there is no token to require: set token "
                "(or BM25X_SERVE_TOKEN)"
            )
        if self.token is not None:
            operator_secret("token", self.token)
        if (
            isinstance(self.fastembed.max_batch_tokens, bool)
            or not isinstance(self.fastembed.max_batch_tokens, int)
            or self.fastembed.max_batch_tokens < 0
        ):
            raise ConfigError(
                "fastembed.max_batch_tokens must be a whole number >= 0, got "
                f"{self.fastembed.max_batch_tokens!r}"
            )
        if self.limits.max_body_memory < self.limits.max_body_bytes:
            raise ConfigError(
                f"limits.max_body_memory ({self.limits.max_body_memory}) must be at least "
                f"limits.max_body_bytes ({self.limits.max_body_bytes}): a body of the largest "
                "size allowed could never be read"
            )
        check_bm25_presets(self)
        for name, key in self.keys.items():
            if not name.endswith(KEY_SUFFIX):
                raise ConfigError(
                    f"keys.{name}: key names are the provider's header name, ending in "
                    "'-api-key' (openai-api-key, cohere-api-key, jina-api-key, "
                    "openrouter-api-key)"
                )
            if not isinstance(key, str) or not key:
                raise ConfigError(f"keys.{name} must be a non-empty string")
            operator_secret(f"keys.{name}", key)


def check_bm25_presets(config: ServeConfig) -> None:
    """Refuse, when the service starts, the bm25 options its encoder would refuse at the first
    request: those of every alias of a bm25 model (its options over the ``[defaults]`` that
    match its model, as requests get them) and of every ``[defaults]`` entry that names a bm25
    model. The encoders are built (and kept) on the way, so the first request finds them."""
    from bm25x import OptionError
    from bm25x.providers.bm25 import bm25_flavor, shared_encoder

    checks: list[tuple[str, str, dict[str, Any]]] = []
    for name, alias in config.aliases.items():
        flavor = bm25_flavor(alias.model)
        if flavor is not None:
            options: dict[str, Any] = {}
            for pattern, defaults in config.defaults.items():
                if fnmatch.fnmatchcase(alias.model.lower(), pattern):
                    options.update(defaults)
            options.update(alias.options)
            checks.append((f"aliases.{name}", flavor, options))
    for pattern, defaults in config.defaults.items():
        flavor = bm25_flavor(pattern)
        if flavor is not None:
            checks.append((f'defaults."{pattern}"', flavor, dict(defaults)))
    for where, flavor, options in checks:
        # As embed does: keys travel beside the options, mrl is taken out before the encoder.
        options = {k: v for k, v in options.items() if k != "mrl" and not is_key_option(k)}
        try:
            shared_encoder(flavor, options)
        except (OptionError, TypeError, ValueError) as exc:
            raise ConfigError(f"{where}: the bm25 encoder refuses these options: {exc}") from None


def operator_secret(name: str, value: str) -> Secret:
    """``value`` (the token or an operator's key, named ``name``) remembered for redaction and
    pinned there; :class:`ConfigError` when it is over ``MAX_KEY_BYTES``."""
    try:
        return remember_secret(value, where=name, pinned=True)
    except KeyTooLongError as exc:
        raise ConfigError(exc.message) from None


def remember_operator_keys(env: Mapping[str, str]) -> None:
    """Pin, for redaction, the provider keys in ``env`` that the service would use (the
    variables of :func:`operator_keys`): they are the operator's, not a caller's, so a flood
    of callers' keys must not push them out of bm25x's registry."""
    from bm25x import providers

    for entry in providers.list():
        try:
            variable = getattr(providers.get(entry), "key_env", "")
        except Exception:  # a broken plugin is reported when it is used, not here
            continue
        if isinstance(variable, str) and variable and env.get(variable, "").strip():
            operator_secret(variable, env[variable].strip())


def operator_keys(config: ServeConfig, env: Mapping[str, str]) -> list[str]:
    """Where the service holds provider keys of its own: ``keys.<name>`` entries of the config,
    ``*-api-key`` options in ``[defaults]`` and in aliases (they reach the provider as a
    request's own key would), and the set environment variables the registered providers read
    (``OPENAI_API_KEY``, ...). Names only, never the keys."""
    from bm25x import providers

    found = [f"keys.{name}" for name in config.keys]
    for pattern, options in config.defaults.items():
        found += [f'defaults."{pattern}".{name}' for name in _key_options(options)]
    for alias, spec in config.aliases.items():
        found += [f"aliases.{alias}.options.{name}" for name in _key_options(spec.options)]
    for entry in providers.list():
        try:
            variable = getattr(providers.get(entry), "key_env", "")
        except Exception:  # a broken plugin is reported when it is used, not here
            continue
        if isinstance(variable, str) and variable and env.get(variable, "").strip():
            if variable not in found:
                found.append(variable)
    return found


def _key_options(options: Mapping[str, Any]) -> list[str]:
    """The provider keys set among ``options`` (``openai-api-key``, ...): their names."""
    return [name for name, value in options.items() if is_key_option(name) and value]


def _secret_keys(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with its provider keys held as :class:`Secret` (masked in reprs, redacted
    from error texts)."""
    return {
        name: remember_secret(value) if is_key_option(name) and isinstance(value, str) else value
        for name, value in options.items()
    }


def require_allow_list(config: ServeConfig, env: Mapping[str, str]) -> None:
    """Refuse a service that would let any caller spend the operator's provider keys on any
    model: with operator keys, ``allowed_models`` must be set (``["*"]`` says so knowingly)."""
    if config.allowed_models is not None:
        return
    keys = operator_keys(config, env)
    if keys:
        raise ConfigError(
            f"allowed_models is not set, but the service holds provider keys of its own "
            f"({', '.join(keys)}): any caller could spend them on any model. Set "
            "allowed_models (or BM25X_SERVE_ALLOWED_MODELS) to the models callers may use, "
            'e.g. ["bm25", "openai/text-embedding-3-small"], or ["*"] to allow every model'
        )


def _positive(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise ConfigError(f"{name} must be a positive number, got {value!r}")


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read config file {str(path)!r}: {exc.strerror}") from None
    if path.suffix.lower() in (".yaml", ".yml"):
        try:
            import yaml
        except ImportError:
            raise ConfigError(
                f"{str(path)!r} is YAML, which needs PyYAML (pip install pyyaml); "
                "or write the same keys as TOML"
            ) from None
        try:
            data = yaml.safe_load(raw) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{str(path)!r} is not valid YAML: {exc}") from None
    else:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover - exercised on Python < 3.11 only
            import tomli as tomllib
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{str(path)!r} is not valid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{str(path)!r} must hold a table of settings at the top level")
    return data


def _table(data: Mapping[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, Mapping):
        raise ConfigError(f"{name} must be a table, got {type(value).__name__}")
    return dict(value)


def _dataclass_from(cls: Any, data: Mapping[str, Any], section: str) -> Any:
    known = {f.name: f for f in fields(cls) if f.init}
    unknown = sorted(set(data) - set(known))
    if unknown:
        raise ConfigError(
            f"unknown key(s) in [{section}]: {', '.join(unknown)}; "
            f"accepted: {', '.join(sorted(known))}"
        )
    out: dict[str, Any] = {}
    for name, value in data.items():
        default = getattr(cls(), name)
        if isinstance(default, frozenset):
            if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{section}.{name} must be a list of strings")
            value = frozenset(v.lower() for v in value)
        elif isinstance(default, bool):
            if not isinstance(value, bool):
                raise ConfigError(f"{section}.{name} must be true or false, got {value!r}")
        elif isinstance(default, (int, float)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ConfigError(f"{section}.{name} must be a number, got {value!r}")
            if isinstance(default, int) and not isinstance(default, bool):
                if value != int(value):
                    raise ConfigError(f"{section}.{name} must be a whole number, got {value!r}")
                value = int(value)
        out[name] = value
    try:
        return cls(**out)
    except (TypeError, ValueError) as exc:  # the type's own check (FetchPolicy has one)
        raise ConfigError(_refusal(cls, out, section, exc)) from None


def _refusal(cls: Any, values: Mapping[str, Any], section: str, exc: Exception) -> str:
    """The type's refusal of ``values``, naming the key: each key is tried alone."""
    for name, value in values.items():
        try:
            cls(**{name: value})
        except (TypeError, ValueError) as alone:
            text = str(alone).replace(f"{cls.__name__}.{name}", f"{section}.{name}")
            return text if f"{section}.{name}" in text else f"{section}.{name}: {text}"
    return f"[{section}]: {exc}"


_TOP = {
    "host",
    "port",
    "workers",
    "path",
    "token",
    "metrics_token_required",
    "allowed_models",
    "aliases",
    "defaults",
    "keys",
    "limits",
    "fastembed",
    "images",
    "warmup",
}


def config_from_mapping(data: Mapping[str, Any]) -> ServeConfig:
    """A :class:`ServeConfig` from the file's decoded tables (without the environment)."""
    unknown = sorted(set(data) - _TOP)
    if unknown:
        raise ConfigError(
            f"unknown key(s): {', '.join(unknown)}; accepted: {', '.join(sorted(_TOP))}"
        )
    kwargs: dict[str, Any] = {}
    for name in ("host", "path"):
        if name in data:
            if not isinstance(data[name], str):
                raise ConfigError(f"{name} must be a string")
            kwargs[name] = data[name]
    if "workers" in data:
        kwargs["workers"] = data["workers"]
    if "port" in data:
        port = data["port"]
        if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
            raise ConfigError(f"port must be an integer in 0..65535, got {port!r}")
        kwargs["port"] = port
    if data.get("token") is not None:
        if not isinstance(data["token"], str) or not data["token"]:
            raise ConfigError("token must be a non-empty string")
        kwargs["token"] = operator_secret("token", data["token"])
    if "metrics_token_required" in data:
        if not isinstance(data["metrics_token_required"], bool):
            raise ConfigError("metrics_token_required must be true or false")
        kwargs["metrics_token_required"] = data["metrics_token_required"]
    if "allowed_models" in data:
        kwargs["allowed_models"] = _patterns(data["allowed_models"], "allowed_models")
    aliases: dict[str, Alias] = {}
    for name, spec in _table(data, "aliases").items():
        if not isinstance(spec, Mapping) or not isinstance(spec.get("model"), str):
            raise ConfigError(f"aliases.{name} needs a 'model' (string) and optional 'options'")
        extra = set(spec) - {"model", "options"}
        if extra:
            raise ConfigError(f"aliases.{name}: unknown key(s) {', '.join(sorted(extra))}")
        options = spec.get("options", {})
        if not isinstance(options, Mapping):
            raise ConfigError(f"aliases.{name}.options must be a table")
        aliases[name.lower()] = Alias(spec["model"], _secret_keys(options))
    kwargs["aliases"] = aliases
    defaults: dict[str, dict[str, Any]] = {}
    for pattern, options in _table(data, "defaults").items():
        if not isinstance(options, Mapping):
            raise ConfigError(f"defaults.{pattern!r} must be a table of options")
        defaults[pattern.lower()] = _secret_keys(options)
    kwargs["defaults"] = defaults
    keys: dict[str, Secret] = {}
    for name, key in _table(data, "keys").items():
        if not isinstance(key, str) or not key:
            raise ConfigError(f"keys.{name} must be a non-empty string")
        keys[name.lower()] = operator_secret(f"keys.{name}", key)
    kwargs["keys"] = keys
    kwargs["limits"] = _dataclass_from(Limits, _table(data, "limits"), "limits")
    fe = _table(data, "fastembed")
    dirs = fe.pop("model_dirs", {})
    if not isinstance(dirs, Mapping) or not all(isinstance(v, str) for v in dirs.values()):
        raise ConfigError("fastembed.model_dirs must map model names to directories")
    fast = _dataclass_from(FastembedConfig, fe, "fastembed")
    kwargs["fastembed"] = replace(fast, model_dirs={k.lower(): v for k, v in dirs.items()})
    kwargs["images"] = _dataclass_from(FetchPolicy, _table(data, "images"), "images")
    warmup = _table(data, "warmup")
    unknown = sorted(set(warmup) - {"models"})
    if unknown:
        raise ConfigError(f"unknown key(s) in [warmup]: {', '.join(unknown)}; accepted: models")
    if "models" in warmup:
        kwargs["warmup"] = _names(warmup["models"], "warmup.models")
    return ServeConfig(**kwargs)


def _names(value: Any, name: str) -> tuple[str, ...]:
    """Model names as given (a list, or a comma-separated string), spelling kept."""
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{name} must be a list of model names")
    return tuple(value)


def _patterns(value: Any, name: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{name} must be a list of model names or glob patterns")
    return tuple(v.lower() for v in value)


def _env_number(env: Mapping[str, str], name: str, kind: type) -> Any:
    raw = env.get(name)
    if raw is None or raw == "":
        return None
    try:
        return kind(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a {kind.__name__}, got {raw!r}") from None


def _env_flag(env: Mapping[str, str], name: str) -> bool | None:
    raw = env.get(name)
    if not raw:
        return None
    if raw not in ("0", "1", "true", "false"):
        raise ConfigError(f"{name} must be 1 or 0, got {raw!r}")
    return raw in ("1", "true")


def apply_environment(config: ServeConfig, env: Mapping[str, str]) -> ServeConfig:
    """``config`` with the ``BM25X_SERVE_*`` variables of ``env`` applied over it."""
    changes: dict[str, Any] = {}
    token = env.get("BM25X_SERVE_TOKEN")
    if token:
        changes["token"] = operator_secret("BM25X_SERVE_TOKEN", token)
    models = env.get("BM25X_SERVE_ALLOWED_MODELS")
    if models:
        changes["allowed_models"] = _patterns(models, "BM25X_SERVE_ALLOWED_MODELS")
    limits: dict[str, Any] = {}
    for var, name, kind in (
        ("BM25X_SERVE_REQUEST_TIMEOUT", "request_timeout", float),
        ("BM25X_SERVE_BODY_TIMEOUT", "body_timeout", float),
        ("BM25X_SERVE_HEADER_TIMEOUT", "header_timeout", float),
        ("BM25X_SERVE_MAX_CONCURRENT_REQUESTS", "max_concurrent_requests", int),
        ("BM25X_SERVE_MAX_CONCURRENT_BODIES", "max_concurrent_bodies", int),
        ("BM25X_SERVE_MAX_BODY_MEMORY", "max_body_memory", int),
        ("BM25X_SERVE_MAX_INPUTS", "max_inputs", int),
        ("BM25X_SERVE_MAX_BODY_BYTES", "max_body_bytes", int),
    ):
        value = _env_number(env, var, kind)
        if value is not None:
            limits[name] = value
    if limits:
        changes["limits"] = replace(config.limits, **limits)
    downloads = _env_flag(env, "BM25X_SERVE_ALLOW_DOWNLOADS")
    if downloads is not None:
        changes["fastembed"] = replace(config.fastembed, allow_downloads=downloads)
    metrics = _env_flag(env, "BM25X_SERVE_METRICS_TOKEN_REQUIRED")
    if metrics is not None:
        changes["metrics_token_required"] = metrics
    workers = _env_number(env, "BM25X_SERVE_WORKERS", int)
    if workers is not None:
        changes["workers"] = workers
    warmup = env.get("BM25X_SERVE_WARMUP")
    if warmup:
        changes["warmup"] = _names(warmup, "BM25X_SERVE_WARMUP")
    return replace(config, **changes) if changes else config


def load_config(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> ServeConfig:
    """The configuration from the file at ``path`` (TOML, or YAML by its suffix; none: the
    defaults) with the environment (``os.environ`` unless given) applied over it."""
    data = _read_file(Path(path)) if path is not None else {}
    env = os.environ if env is None else env
    config = apply_environment(config_from_mapping(data), env)
    require_allow_list(config, env)
    return config
