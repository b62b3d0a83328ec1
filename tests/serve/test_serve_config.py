"""``bm25x serve``'s configuration (TOML, YAML, environment), its errors, the CLI hook, and
the layering rule (the library never imports the application layer)."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from support import require

import bm25x
from bm25x.app import cli as _cli
from bm25x.app.serve import ConfigError, ServeConfig, load_config
from bm25x.app.serve.config import Alias, Limits
from bm25x.providers import FetchPolicy

FULL = """
host = "0.0.0.0"
port = 9000
path = "/v1/infer"
token = "file-token-123"
allowed_models = ["openai/*", "BAAI/*"]

[limits]
max_body_bytes = 1000
max_inputs = 10
max_concurrent_requests = 4
retry_after = 2
provider_concurrency = 3
request_timeout = 30

[aliases.Small]
model = "openai/text-embedding-3-small"
options = { dimensions = 512 }

[defaults."openai/*"]
user = "svc"

[keys]
openai-api-key = "sk-file-key-456"

[fastembed]
cache_dir = "/models/cache"
[fastembed.model_dirs]
"BAAI/bge-small-en-v1.5" = "/models/bge"

[images]
allow_private = true
allowed_hosts = ["Images.Example"]
max_bytes = 1024
"""


def test_full_toml_file(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    path.write_text(FULL)
    config = load_config(path, env={})
    assert (config.host, config.port, config.path) == ("0.0.0.0", 9000, "/v1/infer")
    assert config.token == "file-token-123"
    assert config.allowed_models == ("openai/*", "baai/*")
    assert config.limits == Limits(1000, 10, 4, 2, 3, 30.0, 30.0)
    assert config.aliases == {"small": Alias("openai/text-embedding-3-small", {"dimensions": 512})}
    assert config.defaults == {"openai/*": {"user": "svc"}}
    assert config.keys == {"openai-api-key": "sk-file-key-456"}
    assert config.fastembed.model_dirs == {"baai/bge-small-en-v1.5": "/models/bge"}
    assert config.fastembed.allow_downloads is False
    assert config.images.allow_private and config.images.allowed_hosts == {"images.example"}
    assert config.images.max_bytes == 1024 and config.images.max_redirects == 5
    # the [images] section is the library's FetchPolicy itself: its defaults, its checks
    assert config.images == FetchPolicy(
        allow_private=True, allowed_hosts=frozenset({"images.example"}), max_bytes=1024
    )
    assert load_config(None, env={}).images == FetchPolicy()
    # secrets stay out of the repr
    assert "file-token-123" not in repr(config) and "sk-file-key-456" not in repr(config)


def test_yaml_file(tmp_path: Path) -> None:
    require("yaml")
    path = tmp_path / "serve.yaml"
    path.write_text("allowed_models: [bm25]\nlimits:\n  max_inputs: 5\n")
    config = load_config(path, env={})
    assert config.allowed_models == ("bm25",) and config.limits.max_inputs == 5


def test_environment_wins(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    path.write_text(FULL)
    env = {
        "BM25X_SERVE_TOKEN": "env-token-789",
        "BM25X_SERVE_ALLOWED_MODELS": "bm25, openai/text-embedding-3-small",
        "BM25X_SERVE_REQUEST_TIMEOUT": "12.5",
        "BM25X_SERVE_MAX_CONCURRENT_REQUESTS": "7",
        "BM25X_SERVE_MAX_CONCURRENT_BODIES": "9",
        "BM25X_SERVE_MAX_BODY_MEMORY": "5000",
        "BM25X_SERVE_HEADER_TIMEOUT": "2.5",
        "BM25X_SERVE_ALLOW_DOWNLOADS": "1",
    }
    config = load_config(path, env=env)
    assert config.token == "env-token-789"
    assert config.allowed_models == ("bm25", "openai/text-embedding-3-small")
    assert config.limits.request_timeout == 12.5 and config.limits.max_concurrent_requests == 7
    assert config.limits.max_concurrent_bodies == 9 and config.limits.max_body_memory == 5000
    assert config.limits.header_timeout == 2.5
    assert config.limits.max_inputs == 10  # from the file
    assert config.fastembed.allow_downloads is True


def test_defaults_without_a_file() -> None:
    config = load_config(None, env={})
    assert config == ServeConfig()
    assert config.token is None and config.allowed_models is None  # not set: every model
    assert 0 < config.limits.request_timeout < 600  # well inside Qdrant's default wait


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tokn = 'x'", "unknown key tokn (did you mean token?); accepted: aliases, "),
        ("[limits]\nmax_input = 3", "unknown key limits.max_input (did you mean max_inputs?)"),
        ("[limits]\nmax_inputs = 0", "limits.max_inputs must be a positive number"),
        ("[limits]\nmax_inputs = 'many'", "limits.max_inputs must be a whole number, got 'many'"),
        ("[limits]\nmax_inputs = 2.5", "limits.max_inputs must be a whole number"),
        ("[limits]\nmax_concurrent_bodies = 0", "limits.max_concurrent_bodies must be a positive"),
        ("[limits]\nheader_timeout = 0", "limits.header_timeout must be a positive number"),
        ("[limits]\nrequest_timeout = inf", "limits.request_timeout must be a finite number"),
        ("[limits]\nbody_timeout = nan", "limits.body_timeout must be a finite number"),
        ("port = true", "port must be a number, got True"),
        ("[warmup]\nmodels = ['']", "warmup.models[0] must have at least 1 character"),
        ("[defaults]\n'openai/*' = 3", "defaults.openai/* must be a table, got 3"),
        (
            "[limits]\nmax_body_bytes = 2000\nmax_body_memory = 1000",
            "limits.max_body_memory must be at least limits.max_body_bytes (2000), got 1000",
        ),
        ("port = 70000", "port must be less than or equal to 65535, got 70000"),
        ("path = 'infer'", "path must start with '/'"),
        ("allowed_models = 5", "allowed_models must be a list"),
        ("[aliases.x]\noptions = {}", "aliases.x.model is required"),
        ("[keys]\nopenai = 'k'", "ending in '-api-key'"),
        ("[images]\nschemes = 'http'", "images.schemes must be a list of strings"),
        ("[images]\nmax_redirects = -1", "images.max_redirects must be an integer >= 0"),
        ("[images]\nmax_bytes = 0", "images.max_bytes must be an integer >= 1"),
        ("[images]\ntimeout = 0", "images.timeout must be a positive number"),
        ("[images]\ntimeout = inf", "images.timeout must be a positive number"),
        ("[images]\nallowed_hosts = ['']", "images.allowed_hosts: '' is not a host"),
        ("[fastembed]\nallow_downloads = 'yes'", "fastembed.allow_downloads must be true or false"),
        ("this is = = not toml", "is not valid TOML"),
    ],
)
def test_bad_files_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "serve.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert message in str(info.value)


def test_operator_keys_need_an_explicit_allow_list(tmp_path: Path) -> None:
    from bm25x.app.serve import create_app

    path = tmp_path / "serve.toml"
    # (Keys in tests avoid words: any 8 characters of a key are masked in every error text.)
    path.write_text('[keys]\nopenai-api-key = "sk-op-key-771f3"\n')
    with pytest.raises(ConfigError, match="allowed_models is not set") as info:
        load_config(path, env={})
    assert "keys.openai-api-key" in str(info.value) and "sk-op-key-771f3" not in str(info.value)
    # a provider key in the environment the service would use counts too
    with pytest.raises(ConfigError, match=r"allowed_models is not set.*\(CO_API_KEY\)"):
        load_config(None, env={"CO_API_KEY": "co-op-key-5521"})
    # an explicit list, even ["*"], is the operator's decision
    path.write_text('allowed_models = ["*"]\n[keys]\nopenai-api-key = "sk-op-key-771f3"\n')
    assert load_config(path, env={}).allowed_models == ("*",)
    assert load_config(None, env={"BM25X_SERVE_ALLOWED_MODELS": "bm25", "CO_API_KEY": "k1234"})
    # no operator keys (callers bring theirs in headers): nothing to protect, all models allowed
    assert load_config(None, env={"CO_API_KEY": " "}).allowed_models is None
    # the ASGI app refuses the same
    keys = {"openai-api-key": bm25x.errors.Secret("sk-op-key-771f3")}
    with pytest.raises(ConfigError, match="allowed_models is not set"):
        create_app(ServeConfig(keys=keys))
    create_app(ServeConfig(keys=keys, allowed_models=("bm25",)))


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[defaults."openai/*"]\nopenai-api-key = "sk-defaults-key-8812"', 'defaults."openai/*"'),
        (
            '[aliases.small]\nmodel = "openai/text-embedding-3-small"\n'
            'options = { Cohere-API-Key = "sk-defaults-key-8812" }',
            "aliases.small.options.Cohere-API-Key",
        ),
    ],
)
def test_a_key_among_default_or_alias_options_needs_an_allow_list(
    tmp_path: Path, text: str, where: str
) -> None:
    # A *-api-key option the operator sets reaches the provider as the caller's own key would:
    # it is an operator key, and any caller could spend it on any model matching the pattern.
    from bm25x.app.serve import create_app

    path = tmp_path / "serve.toml"
    path.write_text(text + "\n")
    with pytest.raises(ConfigError, match="allowed_models is not set") as info:
        load_config(path, env={})
    assert where in str(info.value) and "sk-defaults-key-8812" not in str(info.value)
    path.write_text('allowed_models = ["openai/*"]\n' + text + "\n")
    config = load_config(path, env={})
    assert "sk-defaults-key-8812" not in repr(config)  # held as a masked Secret
    with pytest.raises(ConfigError, match="allowed_models is not set"):
        create_app(replace(config, allowed_models=None))
    create_app(config)


def test_idle_connections_outlive_the_clients_pool() -> None:
    # uvicorn closes an idle connection after 5 s by default, racing a client that reuses it
    # at that moment (a connection error for that request). Qdrant's client (reqwest) drops
    # idle connections after 90 s: the service must wait longer, so that the client closes.
    import importlib

    serve_run = importlib.import_module("bm25x.app.serve.run")
    seen = serve_run.uvicorn_options(ServeConfig(allowed_models=("bm25",)))
    assert isinstance(seen["timeout_keep_alive"], int) and seen["timeout_keep_alive"] > 90


def test_bad_environment_is_named() -> None:
    with pytest.raises(ConfigError, match="BM25X_SERVE_REQUEST_TIMEOUT must be a number, got 'so"):
        load_config(None, env={"BM25X_SERVE_REQUEST_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="cannot read config file"):
        load_config("/nonexistent/serve.toml", env={})


def test_what_was_accepted_stays_accepted(tmp_path: Path) -> None:
    # Spellings the hand-written checks took, kept by the typed ones.
    path = tmp_path / "serve.toml"
    path.write_text(
        'allowed_models = "bm25, openai/*"\n'
        "[limits]\nretry_after = 0\nmax_body_bytes = 1e6\nrequest_timeout = 30\n"
        '[warmup]\nmodels = "bm25, BM25"\n'
    )
    env = {"BM25X_SERVE_ALLOW_DOWNLOADS": "true", "BM25X_SERVE_WORKERS": " 2 ", "CO_API_KEY": ""}
    config = load_config(path, env=env)
    assert config.allowed_models == ("bm25", "openai/*") and config.warmup == ("bm25", "BM25")
    assert config.limits.retry_after == 0 and config.limits.max_body_bytes == 1_000_000
    assert config.limits.request_timeout == 30.0 and isinstance(
        config.limits.request_timeout, float
    )
    assert config.fastembed.allow_downloads is True and config.workers == 2
    env = {"BM25X_SERVE_ALLOW_DOWNLOADS": "0", "BM25X_SERVE_TOKEN": "", "BM25X_SERVE_WARMUP": ""}
    again = load_config(path, env=env)
    assert again.fastembed.allow_downloads is False and again.token is None
    assert again.warmup == config.warmup


def test_every_problem_is_named_at_once_with_the_file(tmp_path: Path) -> None:
    path = tmp_path / "serve.toml"
    path.write_text("host = 5\nport = 'x'\nworkers = 0\n[limits]\nmax_input = 3\n")
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    assert str(info.value) == (
        f"{path}: host must be a string, got 5; port must be a whole number, got 'x'; "
        "workers must be a positive number, got 0; unknown key limits.max_input (did you mean "
        "max_inputs?); accepted: body_timeout, header_timeout, max_body_bytes, max_body_memory, "
        "max_concurrent_bodies, max_concurrent_requests, max_inputs, max_options_bytes, "
        "provider_concurrency, request_timeout, retry_after"
    )


def test_a_check_across_keys_names_the_variable_that_set_one() -> None:
    env = {"BM25X_SERVE_METRICS_TOKEN_REQUIRED": "1"}
    with pytest.raises(ConfigError, match=r"^BM25X_SERVE_METRICS_TOKEN_REQUIRED is set but there"):
        load_config(None, env=env)
    env = {"BM25X_SERVE_MAX_BODY_MEMORY": "10", "BM25X_SERVE_MAX_BODY_BYTES": "20"}
    with pytest.raises(
        ConfigError, match=r"^BM25X_SERVE_MAX_BODY_MEMORY must be at least .*\(20\)"
    ):
        load_config(None, env=env)
    with pytest.raises(ConfigError, match="BM25X_SERVE_HEADER_TIMEOUT must be a finite number"):
        load_config(None, env={"BM25X_SERVE_HEADER_TIMEOUT": "nan"})


def test_the_python_api_checks_as_the_file_does() -> None:
    # Before, ServeConfig(...) checked a few numbers only: a host of 5 or a string for
    # allowed_models (taken letter by letter as patterns) got through.
    from pydantic import ValidationError

    for make, message in (
        (lambda: ServeConfig(host=5), "host must be a string, got 5"),  # type: ignore[arg-type]
        (lambda: Limits(max_inputs="many"), "limits.max_inputs must be a whole number"),  # type: ignore[arg-type]
        (lambda: ServeConfig(limits={"max_input": 3}), "unknown key limits.max_input"),  # type: ignore[arg-type]
        (lambda: Alias("openai/x", {"openai-api-key": "k" * 5000}), "alias.options: openai-api"),
        (lambda: replace(ServeConfig(), workers=0), "workers must be a positive number, got 0"),
    ):
        with pytest.raises(ConfigError) as info:
            make()
        assert str(info.value).startswith(message) and "k" * 100 not in str(info.value)
        assert not isinstance(info.value, ValidationError) and info.value.__cause__ is None
    assert ServeConfig(allowed_models="bm25, openai/*").allowed_models == ("bm25", "openai/*")  # type: ignore[arg-type]


def test_model_names_and_patterns_compare_ignoring_case() -> None:
    # The service compares a request's model name lower-cased (ModelPolicy); before, only a
    # file's names were lower-cased, so ServeConfig(allowed_models=("BAAI/*",)) refused every
    # BAAI model, and an alias or a [defaults] pattern spelt with capitals never applied.
    from bm25x.app.serve.config import FastembedConfig
    from bm25x.app.serve.models import ModelPolicy
    from bm25x.app.serve.protocol import Input

    config = ServeConfig(
        allowed_models=("BAAI/*", "Qdrant/BM25"),
        aliases={"Small": Alias("openai/text-embedding-3-small")},
        defaults={"Qdrant/*": {"k": 1.5}},
        fastembed=FastembedConfig(model_dirs={"BAAI/bge-small-en-v1.5": "/models/bge"}),
    )
    assert config.allowed_models == ("baai/*", "qdrant/bm25")
    assert list(config.aliases) == ["small"] and list(config.defaults) == ["qdrant/*"]
    assert config.fastembed.model_dirs == {"baai/bge-small-en-v1.5": "/models/bge"}
    policy = ModelPolicy(config)
    assert policy.allowed("BAAI/bge-small-en-v1.5") and policy.allowed("qdrant/bm25")
    assert policy.allowed("SMALL") and policy.target("SMALL") == "openai/text-embedding-3-small"
    assert not policy.allowed("openai/text-embedding-3-large")
    bm25 = policy.item(Input(data="x", model="Qdrant/bm25", options={}, data_type="text"), 0)
    assert bm25["options"] == {"k": 1.5}


def test_cli_flags_are_checked_as_the_file_is(capsys: pytest.CaptureFixture[str]) -> None:
    # Before, a bad flag (checked only when the service started) ended with status 1.
    assert _cli.main(["serve", "--workers", "0"]) == 2
    assert "bm25x serve: error: workers must be a positive number, got 0" in capsys.readouterr().err
    assert _cli.main(["serve", "--port", "70000"]) == 2
    assert "port must be less than or equal to 65535" in capsys.readouterr().err


def test_cli_reports_a_bad_config(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "serve.toml"
    path.write_text("[limits]\nrequest_timeout = -1\n")
    assert _cli.main(["serve", "--config", str(path)]) == 2
    err = capsys.readouterr().err
    assert "bm25x serve: error:" in err and "limits.request_timeout" in err


def test_cli_without_the_extra_says_how_to_install() -> None:
    # A fresh process, where starlette cannot be imported (as without bm25x-sparse[serve]).
    code = (
        "import sys; sys.modules['starlette'] = None\n"
        "from bm25x.app.cli import main\n"
        "sys.exit(main(['serve', '--port', '0']))\n"
    )
    done = _python(code)
    assert done.returncode == 2
    assert 'pip install "bm25x-sparse[serve]"' in done.stderr


def _python(code: str) -> subprocess.CompletedProcess[str]:
    # The same bm25x the tests import (the installed wheel, or a tree on PYTHONPATH), in an
    # environment without the caller's keys or settings.
    return subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_library_never_imports_the_application_layer() -> None:
    code = (
        "import sys, bm25x, bm25x.providers, bm25x.qdrant, bm25x.errors\n"
        "bm25x.embed('x', model='qdrant/bm25')\n"
        "assert not [m for m in sys.modules if m.startswith('bm25x.app')], sorted(sys.modules)\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr


def test_a_bm25_preset_the_encoder_refuses_stops_the_service_at_start_up(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Before, such a preset was accepted and every request naming it got a 400.
    path = tmp_path / "serve.toml"
    path.write_text(
        'allowed_models = ["bm25"]\n'
        '[aliases."bm25x/de"]\nmodel = "qdrant/bm25"\noptions = { language = "german" }\n'
        '[aliases."bm25x/xx"]\nmodel = "qdrant/bm25"\noptions = { language = "klingon" }\n'
    )
    with pytest.raises(ConfigError, match=r'aliases\.bm25x/xx: .*unsupported language "klingon"'):
        load_config(path, env={})
    assert _cli.main(["serve", "--config", str(path)]) == 2
    assert "aliases.bm25x/xx" in capsys.readouterr().err
    # defaults that name a bm25 model, and those an alias inherits, are checked too
    with pytest.raises(ConfigError, match=r'defaults."bm25": .*option "k"'):
        ServeConfig(defaults={"bm25": {"k": -1.0}})
    with pytest.raises(ConfigError, match=r"aliases.strict: .*option \"b\""):
        ServeConfig(
            aliases={"strict": Alias("Qdrant/bm25", {"language": "english"})},
            defaults={"qdrant/*": {"b": 7.0}},
        )
    # what embed takes out before the encoder (keys, mrl) is no encoder option
    ok = {"language": "german", "mrl": 4, "openai-api-key": "sk-unused-1"}
    assert ServeConfig(aliases={"bm25x/de": Alias("qdrant/bm25", ok)}).aliases
