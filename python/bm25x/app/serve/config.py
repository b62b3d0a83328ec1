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

Environment (each variable sets one key: :data:`ENVIRONMENT`): ``BM25X_SERVE_TOKEN``,
``BM25X_SERVE_ALLOWED_MODELS`` (comma-separated), ``BM25X_SERVE_REQUEST_TIMEOUT``,
``BM25X_SERVE_BODY_TIMEOUT``, ``BM25X_SERVE_HEADER_TIMEOUT``,
``BM25X_SERVE_MAX_CONCURRENT_REQUESTS``, ``BM25X_SERVE_MAX_CONCURRENT_BODIES``,
``BM25X_SERVE_MAX_BODY_MEMORY``, ``BM25X_SERVE_MAX_INPUTS``, ``BM25X_SERVE_MAX_BODY_BYTES``,
``BM25X_SERVE_ALLOW_DOWNLOADS`` (``1``/``0``), ``BM25X_SERVE_METRICS_TOKEN_REQUIRED`` (``1``/``0``),
``BM25X_SERVE_WARMUP`` (comma-separated models), ``BM25X_SERVE_WORKERS``.

A mistake stops the service with :class:`ConfigError` naming every problem at once: the file,
each key as the file spells it (``limits.max_inputs``) or the variable that set it, and what it
accepts. Model names and patterns are lower-cased, as the service compares them.

The token and the operator's keys (``[keys]``, and the provider keys in the environment, see
:func:`remember_operator_keys`) are at most ``MAX_KEY_BYTES`` (4,096) bytes each, and are
pinned in bm25x's redaction registry: no flood of callers' keys makes bm25x forget them.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import reprlib
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainValidator,
    StrictBool,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.dataclasses import dataclass
from pydantic_core import PydanticCustomError

from bm25x.errors import KeyTooLongError
from bm25x.internals import (
    KEY_SUFFIX,
    MAX_KEY_BYTES,
    Secret,
    is_key_option,
    key_size,
    remember_secret,
)
from bm25x.providers import FetchPolicy

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python < 3.11 only
    import tomli as tomllib

__all__ = [
    "ENVIRONMENT",
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

#: Each environment variable, and the key of the file it stands for (the environment wins).
ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "BM25X_SERVE_TOKEN": ("token",),
    "BM25X_SERVE_ALLOWED_MODELS": ("allowed_models",),
    "BM25X_SERVE_WORKERS": ("workers",),
    "BM25X_SERVE_METRICS_TOKEN_REQUIRED": ("metrics_token_required",),
    "BM25X_SERVE_WARMUP": ("warmup",),
    "BM25X_SERVE_ALLOW_DOWNLOADS": ("fastembed", "allow_downloads"),
    "BM25X_SERVE_REQUEST_TIMEOUT": ("limits", "request_timeout"),
    "BM25X_SERVE_BODY_TIMEOUT": ("limits", "body_timeout"),
    "BM25X_SERVE_HEADER_TIMEOUT": ("limits", "header_timeout"),
    "BM25X_SERVE_MAX_CONCURRENT_REQUESTS": ("limits", "max_concurrent_requests"),
    "BM25X_SERVE_MAX_CONCURRENT_BODIES": ("limits", "max_concurrent_bodies"),
    "BM25X_SERVE_MAX_BODY_MEMORY": ("limits", "max_body_memory"),
    "BM25X_SERVE_MAX_INPUTS": ("limits", "max_inputs"),
    "BM25X_SERVE_MAX_BODY_BYTES": ("limits", "max_body_bytes"),
}


class ConfigError(ValueError):
    """The configuration file or environment holds a value the service cannot use; the message
    names the file, the key (or environment variable) and says what is accepted."""


# -- the values: pydantic types, and checks whose text follows the key's name ---------------


def _refused(text: str) -> PydanticCustomError:
    return PydanticCustomError("refused", text)


def _no_bool(value: Any) -> Any:
    if isinstance(value, bool):  # a count of true is a mistake, not 1
        raise _refused(f"must be a number, got {value!r}")
    return value


def _flag(value: Any) -> Any:
    """A flag as the environment spells it (``1``, ``0``, ``true``, ``false``) as a bool."""
    flags = {"1": True, "0": False, "true": True, "false": False}
    return flags.get(value, value) if isinstance(value, str) else value


def _split(value: Any) -> Any:
    """A list given as one comma-separated string (as the environment gives them)."""
    if isinstance(value, str):
        return tuple(v.strip() for v in value.split(",") if v.strip())
    return value


def _absolute(path: str) -> str:
    if not path.startswith("/"):
        raise _refused(f"must start with '/', got {path!r}")
    return path


def _operator_key(value: Any) -> Secret:
    """The token or an operator's key, pinned in bm25x's redaction registry."""
    if not isinstance(value, str) or not value:
        raise _refused("must be a non-empty string")
    if key_size(value) > MAX_KEY_BYTES:
        raise _refused(
            f"is {key_size(value):,} bytes long, over bm25x's limit of {MAX_KEY_BYTES:,} bytes "
            "for a key; check that the right value was passed"
        )
    return remember_secret(value, pinned=True)


def _key_name(name: str) -> str:
    if not name.endswith(KEY_SUFFIX):
        raise _refused(
            "is not a key name: key names are the provider's header name, ending in '-api-key' "
            "(openai-api-key, cohere-api-key, jina-api-key, openrouter-api-key)"
        )
    return name.lower()


def _secret_keys(options: Mapping[str, Any]) -> dict[str, Any]:
    """``options`` with its provider keys held as :class:`Secret` (masked in reprs, redacted
    from error texts)."""
    return {
        k: remember_secret(v, where=k) if is_key_option(k) and isinstance(v, str) else v
        for k, v in options.items()
    }


# Model names and patterns are lower-cased: the service compares model names ignoring case.
_Lower = Annotated[str, AfterValidator(str.lower)]
_Count = Annotated[int, Field(gt=0), BeforeValidator(_no_bool)]
_Seconds = Annotated[float, Field(gt=0, allow_inf_nan=False), BeforeValidator(_no_bool)]
_Flag = Annotated[StrictBool, BeforeValidator(_flag)]
_Key = Annotated[Secret, PlainValidator(_operator_key)]
_Options = Annotated[Mapping[str, Any], AfterValidator(_secret_keys)]
_T = TypeVar("_T")


def _section(name: str) -> Callable[[type[_T]], type[_T]]:
    """The class's constructor raises :class:`ConfigError` (naming the keys as ``name.key``)
    rather than pydantic's ValidationError."""

    def wrap(cls: type[_T]) -> type[_T]:
        init = cls.__init__
        names = [f.name for f in dataclasses.fields(cls)]  # type: ignore[arg-type]

        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            try:  # by name, so that pydantic's errors name the key, not the position
                init(self, *args[len(names) :], **dict(zip(names, args)), **kwargs)
            except ValidationError as exc:
                raise ConfigError(_problems(exc, section=name)) from None

        setattr(cls, "__init__", __init__)  # noqa: B010 (mypy refuses assigning a method)
        return cls

    return wrap


# -- the sections ---------------------------------------------------------------------------


@_section("limits")
@dataclass(frozen=True, config={"extra": "forbid"})
class Limits:
    """What one request, and the service as a whole, may use."""

    max_body_bytes: _Count = 16 * 1024 * 1024
    max_inputs: _Count = 4096
    # Requests at work (parsed, embedding, answering); only callers with the token get here.
    max_concurrent_requests: _Count = 64
    retry_after: Annotated[int, Field(ge=0), BeforeValidator(_no_bool)] = 1  # 0: at once
    provider_concurrency: _Count = 8
    # Qdrant waits 10 minutes by default (less when a client passes ?timeout=); finish well
    # inside that, so a caller sees this service's 504 rather than a dropped connection.
    request_timeout: _Seconds = 120.0
    # A body that arrives slower than this holds a reading place for nothing (408 after);
    # uvicorn itself puts no limit on it.
    body_timeout: _Seconds = 30.0
    # One input's options (as JSON, UTF-8): bm25 builds an encoder from them (a stopword list
    # costs about 15 to 30 times its size), so a request cannot ask for gigabytes.
    max_options_bytes: _Count = 64 * 1024
    # A connection whose request line and headers are not all in within this many seconds is
    # closed (uvicorn has no such limit): from the connection's start, or from the first byte
    # of the next request on a kept-alive connection.
    header_timeout: _Seconds = 10.0
    # Bodies being read before their token is checked, and the bytes they hold between them:
    # Qdrant sends the token inside the body, so these are what a caller without it can hold.
    max_concurrent_bodies: _Count = 256
    max_body_memory: _Count = 128 * 1024 * 1024

    @field_validator("max_body_memory")
    @classmethod
    def _holds_a_body(cls, value: int, info: ValidationInfo) -> int:
        largest = info.data.get("max_body_bytes", 0)
        if value < largest:
            raise _refused(
                f"must be at least limits.max_body_bytes ({largest}), got {value}: a body of "
                "the largest size allowed could never be read"
            )
        return value


@_section("alias")
@dataclass(frozen=True, config={"extra": "forbid"})
class Alias:
    """A model name the service accepts, standing for another model with default options."""

    model: str
    options: _Options = dataclasses.field(default_factory=dict)


@_section("fastembed")
@dataclass(frozen=True, config={"extra": "forbid"})
class FastembedConfig:
    """The ``[fastembed]`` table: where the local-models provider
    (:mod:`bm25x.providers.local_models`) finds the fastembed package's models. With
    ``allow_downloads`` off (the default), fastembed never contacts the hub: a model must be in
    ``model_dirs`` or the cache."""

    cache_dir: str | None = None
    allow_downloads: _Flag = False
    model_dirs: Mapping[_Lower, str] = dataclasses.field(default_factory=dict)
    # Concurrent requests for one model share model calls of at most this many padded tokens
    # (texts times the longest one's tokens), as text-embeddings-inference's max_batch_tokens;
    # 0: one model call per request. Process-wide (it sets LocalModelProvider's default).
    max_batch_tokens: Annotated[int, Field(ge=0), BeforeValidator(_no_bool)] = 16384


@dataclass(frozen=True, config={"extra": "forbid"})
class _Warmup:
    """The file's ``[warmup]`` table (``ServeConfig.warmup`` is its ``models``)."""

    models: Annotated[tuple[Annotated[str, Field(min_length=1)], ...], BeforeValidator(_split)] = ()


_WARMUP = TypeAdapter(_Warmup)


def _warmup(value: Any) -> Any:
    return _WARMUP.validate_python(value).models if isinstance(value, Mapping) else _split(value)


def _images(value: Any) -> Any:
    """The ``[images]`` table with its host names lower-cased (they are matched so)."""
    if isinstance(value, Mapping) and isinstance(value.get("allowed_hosts"), list):
        hosts = [h.lower() if isinstance(h, str) else h for h in value["allowed_hosts"]]
        return {**value, "allowed_hosts": hosts}
    return value


@_section("")
@dataclass(frozen=True, config={"extra": "forbid"})
class ServeConfig:
    """Everything ``bm25x serve`` is told. ``token`` and ``keys`` are secrets: their reprs are
    masked and bm25x redacts them from every error text. Model names and patterns
    (``allowed_models``, ``aliases``, ``defaults``, ``fastembed.model_dirs``) are lower-cased,
    as the service compares model names."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=0, le=65535), BeforeValidator(_no_bool)] = 8000
    # Worker processes behind the one port (uvicorn's workers); metrics add up across them.
    workers: _Count = 1
    path: Annotated[str, AfterValidator(_absolute)] = "/inference"
    token: _Key | None = dataclasses.field(default=None, repr=False)
    # GET /metrics answers only with "Authorization: Bearer <token>" (it shows which models
    # are used and how much); needs token.
    metrics_token_required: _Flag = False
    # None: not set, which allows every model, unless the service holds operator keys (then
    # it refuses to start: see require_allow_list).
    allowed_models: Annotated[tuple[_Lower, ...] | None, BeforeValidator(_split)] = None
    aliases: Mapping[_Lower, Alias] = dataclasses.field(default_factory=dict)
    defaults: Mapping[_Lower, _Options] = dataclasses.field(default_factory=dict)
    keys: Mapping[Annotated[str, AfterValidator(_key_name)], _Key] = dataclasses.field(
        default_factory=dict, repr=False
    )
    limits: Limits = dataclasses.field(default_factory=Limits)
    fastembed: FastembedConfig = dataclasses.field(default_factory=FastembedConfig)
    # The [images] section is the library's own policy type: one set of fields and defaults.
    images: Annotated[FetchPolicy, BeforeValidator(_images)] = dataclasses.field(
        default_factory=FetchPolicy
    )
    # [warmup] models: loaded (one text embedded) before /readyz answers 200.
    warmup: Annotated[tuple[str, ...], BeforeValidator(_warmup)] = ()

    @field_validator("metrics_token_required")
    @classmethod
    def _has_a_token(cls, required: bool, info: ValidationInfo) -> bool:
        if required and "token" in info.data and info.data["token"] is None:
            raise _refused(
                "is set but there is no token to require: set token (or BM25X_SERVE_TOKEN)"
            )
        return required

    @model_validator(mode="after")
    def _bm25_presets(self) -> ServeConfig:
        check_bm25_presets(self)
        return self


_SERVE = TypeAdapter(ServeConfig)
_TABLES: dict[tuple[str, ...], Any] = {
    (): ServeConfig,
    ("limits",): Limits,
    ("fastembed",): FastembedConfig,
    ("images",): FetchPolicy,
    ("warmup",): _Warmup,
}


# -- service logic ----------------------------------------------------------------------------


def check_bm25_presets(config: ServeConfig) -> None:
    """Refuse, when the service starts, the bm25 options its encoder would refuse at the first
    request: those of every alias of a bm25 model (its options over the ``[defaults]`` that
    match its model, as requests get them) and of every ``[defaults]`` entry that names a bm25
    model. The encoders are built (and kept) on the way, so the first request finds them."""
    import fnmatch

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


def _provider_key_variables(env: Mapping[str, str]) -> list[str]:
    """The variables of ``env`` that registered providers read their keys from, when set."""
    from bm25x import providers

    found: list[str] = []
    for entry in providers.list():
        try:
            variable = getattr(providers.get(entry), "key_env", "")
        except Exception:  # a broken plugin is reported when it is used, not here
            continue
        if isinstance(variable, str) and variable and env.get(variable, "").strip():
            found.append(variable)
    return found


def remember_operator_keys(env: Mapping[str, str]) -> None:
    """Pin, for redaction, the provider keys in ``env`` that the service would use (the
    variables of :func:`operator_keys`): they are the operator's, not a caller's, so a flood
    of callers' keys must not push them out of bm25x's registry."""
    for variable in _provider_key_variables(env):
        try:
            remember_secret(env[variable].strip(), where=variable, pinned=True)
        except KeyTooLongError as exc:
            raise ConfigError(exc.message) from None


def operator_keys(config: ServeConfig, env: Mapping[str, str]) -> list[str]:
    """Where the service holds provider keys of its own: ``keys.<name>`` entries of the config,
    ``*-api-key`` options in ``[defaults]`` and in aliases (they reach the provider as a
    request's own key would), and the set environment variables the registered providers read
    (``OPENAI_API_KEY``, ...). Names only, never the keys."""
    found = [f"keys.{name}" for name in config.keys]
    for pattern, options in config.defaults.items():
        found += [f'defaults."{pattern}".{name}' for name in _key_options(options)]
    for alias, spec in config.aliases.items():
        found += [f"aliases.{alias}.options.{name}" for name in _key_options(spec.options)]
    return found + [v for v in _provider_key_variables(env) if v not in found]


def _key_options(options: Mapping[str, Any]) -> list[str]:
    """The provider keys set among ``options`` (``openai-api-key``, ...): their names."""
    return [name for name, value in options.items() if is_key_option(name) and value]


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


# -- reading the file and the environment -----------------------------------------------------


def load_config(
    path: str | os.PathLike[str] | None = None, env: Mapping[str, str] | None = None
) -> ServeConfig:
    """The configuration from the file at ``path`` (TOML, or YAML by its suffix; none: the
    defaults) with the variables of :data:`ENVIRONMENT` (in ``os.environ`` unless ``env`` is
    given; set and not empty) over it."""
    data = _read_file(Path(path)) if path is not None else {}
    env = os.environ if env is None else env
    origin: dict[tuple[str, ...], str] = {}  # the keys set by the environment: the variable
    for variable, where in ENVIRONMENT.items():
        table = data
        for name in where[:-1]:
            table = table.setdefault(name, {})
        if env.get(variable) and isinstance(table, dict):  # else: the file's table is refused
            table[where[-1]] = env[variable]
            origin[where] = variable
    try:
        config = _SERVE.validate_python(data)
    except ValidationError as exc:
        problems = _problems(exc, origin=origin)
        raise ConfigError(f"{path}: {problems}" if path is not None else problems) from None
    require_allow_list(config, env)
    return config


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
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{str(path)!r} is not valid TOML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{str(path)!r} must hold a table of settings at the top level")
    return data


# -- pydantic's errors in the words of the file -----------------------------------------------

_PHRASES = {
    **dict.fromkeys(("int_type", "int_parsing", "int_from_float"), "must be a whole number"),
    **dict.fromkeys(("float_type", "float_parsing"), "must be a number"),
    **dict.fromkeys(("dict_type", "dataclass_type"), "must be a table"),
    **dict.fromkeys(("tuple_type", "frozen_set_type"), "must be a list of strings"),
    "bool_type": "must be true or false",
    "string_type": "must be a string",
    "missing": "is required",
}


def _problems(
    exc: ValidationError, *, origin: Mapping[tuple[str, ...], str] = {}, section: str = ""
) -> str:
    """Each of pydantic's errors as a sentence naming the key as the file does (``limits.
    max_inputs``, ``warmup.models[0]``) or the variable that set it, and never a secret."""
    out: list[str] = []
    for error in exc.errors(include_url=False):
        loc = tuple(str(p) for p in error["loc"] if p != "[key]")
        dotted = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error["loc"])
        where = next(
            (origin[loc[:n]] for n in range(len(loc), 0, -1) if loc[:n] in origin),
            f"{section}{dotted.replace('.[key]', '')}".lstrip("."),
        )
        kind, ctx = error["type"], error.get("ctx", {})
        if kind in ("unexpected_keyword_argument", "extra_forbidden"):
            out.append(_unknown(loc, where))
        elif kind == "value_error":  # a ValueError's own sentence (FetchPolicy's, the presets')
            text = str(ctx["error"]).replace("FetchPolicy.", "images.")
            out.append(text if text.startswith(where) else f"{where}: {text}")
        else:
            if kind == "greater_than" and ctx.get("gt") == 0:
                phrase = "must be a positive number"
            else:
                rest = error["msg"].partition(" should")[2]  # "Input should be ...": "must be ..."
                phrase = _PHRASES.get(kind, f"must{rest}" if rest else error["msg"])
            secret = loc[:1] in (("token",), ("keys",))
            if kind not in ("refused", "missing") and not secret:
                phrase += f", got {reprlib.repr(error['input'])}"
            out.append(f"{where} {phrase}".lstrip())
    return "; ".join(out)


def _unknown(loc: tuple[str, ...], where: str) -> str:
    """An unknown key: the keys its table accepts, and the one it may be a misspelling of."""
    table = Alias if loc[:1] == ("aliases",) else _TABLES.get(loc[:-1])
    accepted = sorted(f.name for f in dataclasses.fields(table) if f.init) if table else []
    close = difflib.get_close_matches(loc[-1], accepted, n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return f"unknown key {where}{hint}; accepted: {', '.join(accepted)}"
