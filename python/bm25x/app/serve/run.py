"""Running the service under uvicorn, with JSON log lines and a graceful shutdown."""

from __future__ import annotations

import dataclasses
import logging
import os
import signal
import sys
from typing import Any

from bm25x.app.serve.app import LOGGER_NAME, create_app
from bm25x.app.serve.config import ServeConfig, load_config
from bm25x.app.serve.errors import WarmupError
from bm25x.app.serve.logs import BARE, StepHandler

__all__ = ["app_from_environment", "configure_logging", "run"]

# Seconds uvicorn waits, after SIGTERM, for the requests in flight, beyond their own budget.
_DRAIN_MARGIN = 5.0
# Seconds an idle client connection stays open. Longer than the idle timeout of the client's
# own pool (Qdrant's HTTP client, reqwest: 90 s), so that the client, not the service, closes
# an idle connection: when the service closes first (uvicorn's default is 5 s), a request
# sent on the connection just as it closes fails with a connection error.
KEEP_ALIVE = 120


def configure_logging(level: int = logging.INFO) -> None:
    """One JSON line per request on stderr (the line is built by the app; no other text),
    the lines of one event-loop step written together (:class:`.logs.StepHandler`)."""
    logger = logging.getLogger(LOGGER_NAME)
    if not any(getattr(h, "_bm25x_serve", False) for h in logger.handlers):
        handler = StepHandler(sys.stderr)
        handler.setFormatter(BARE)
        handler._bm25x_serve = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.setLevel(level)
    logger.propagate = False


def app_from_environment() -> Any:
    """The app for ``BM25X_SERVE_CONFIG`` (a file; optional) and the environment: a factory
    for ASGI servers (``uvicorn --factory bm25x.app.serve:app_from_environment``), and what
    each worker of ``bm25x serve --workers N`` runs."""
    configure_logging()
    config = load_config(os.environ.get("BM25X_SERVE_CONFIG") or None)
    app = create_app(config)
    # A worker of bm25x serve: its protocol's head deadline is this configuration's, and a
    # [warmup] model that fails stops the service (see _serve_workers).
    failure_file = os.environ.get(_FAILURE_FILE)
    if failure_file:
        from bm25x.app.serve.transport import ServeProtocol

        ServeProtocol.head_timeout = config.limits.header_timeout

        def stop(failure: WarmupError) -> None:
            with open(failure_file, "w", encoding="utf-8") as f:
                f.write(str(failure))
            # uvicorn's supervisor stops every worker, and itself, when one exits with its
            # start-up failure status (3), rather than starting it again.
            os._exit(_STARTUP_FAILURE)

        app.service.on_failure = stop
    return app


def run(
    config: ServeConfig,
    *,
    host: str | None = None,
    port: int | None = None,
    workers: int | None = None,
    config_file: str | os.PathLike[str] | None = None,
) -> None:
    """Serve ``config`` with uvicorn until SIGINT/SIGTERM; on either, stop accepting
    connections, let the requests in flight finish (up to their time budget), then exit.
    Raises :class:`~bm25x.app.serve.errors.WarmupError` when a ``[warmup]`` model could not be
    loaded (the service stops then, after the requests in flight).

    With ``workers`` (or ``config.workers``) over 1, that many processes serve the one port
    (uvicorn's workers); each reads its configuration again, from ``config_file`` and the
    environment, as ``config`` was read."""
    import uvicorn

    changes: dict[str, Any] = {}
    for name, value in (("host", host), ("port", port), ("workers", workers)):
        if value is not None:
            changes[name] = value
    if changes:
        config = dataclasses.replace(config, **changes)
    configure_logging()
    # uvicorn re-raises the signal that stopped it once it has drained; a SIGTERM that led to
    # a clean drain then ends the process with status 0 instead of killing it.
    previous = signal.signal(signal.SIGTERM, _drained)
    try:
        if config.workers > 1:
            _serve_workers(uvicorn, config, config_file)
        else:
            _serve(uvicorn, config)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _drained(signum: int, frame: Any) -> None:
    pass


def uvicorn_options(config: ServeConfig) -> dict[str, Any]:
    """The settings ``bm25x serve`` runs uvicorn with."""
    from bm25x.app.serve.transport import head_timeout_protocol

    return {
        "host": config.host,
        "port": config.port,
        # httptools (or h11) with a deadline for request heads (limits.header_timeout), which
        # uvicorn lacks.
        "http": head_timeout_protocol(config.limits.header_timeout),
        # uvloop's event loop when it is installed (the serve extra installs it, except on
        # Windows): less CPU per request in the loop itself; else asyncio's.
        "loop": "auto",
        # uvicorn's access log would repeat what the request line says, less carefully.
        "access_log": False,
        "log_level": "warning",
        "timeout_graceful_shutdown": int(config.limits.request_timeout + _DRAIN_MARGIN),
        "timeout_keep_alive": KEEP_ALIVE,
        "lifespan": "on",
        # The service reads neither the client's address nor X-Forwarded-* headers: uvicorn's
        # proxy-headers middleware would only cost every request a pass over its headers.
        "proxy_headers": False,
    }


def _serve(uvicorn: Any, config: ServeConfig) -> None:
    app = create_app(config)
    server = uvicorn.Server(uvicorn.Config(app, **uvicorn_options(config)))
    service = app.service

    def stop(failure: WarmupError) -> None:
        server.should_exit = True  # as SIGTERM: drain, then stop

    service.on_failure = stop
    server.run()
    if service.failure is not None:
        raise service.failure


_FAILURE_FILE = "BM25X_SERVE_WARMUP_FAILURE_FILE"
_STARTUP_FAILURE = 3  # uvicorn's status for a worker that failed to start


def _serve_workers(
    uvicorn: Any, config: ServeConfig, config_file: str | os.PathLike[str] | None
) -> None:
    """``config.workers`` processes behind one port: uvicorn's supervisor binds it and starts
    them, each running :func:`app_from_environment`; their metrics go to one directory that
    prometheus-client adds up (see :mod:`.metrics`). SIGTERM drains every worker, as one."""
    import tempfile

    from bm25x.app.serve.transport import SERVE_PROTOCOL

    create_app(config)  # refuse a bad configuration here, before any worker starts
    with tempfile.TemporaryDirectory(prefix="bm25x-serve-") as tmp:
        metrics = os.path.join(tmp, "metrics")
        os.mkdir(metrics)
        failure = os.path.join(tmp, "warmup-failure")
        env = {"PROMETHEUS_MULTIPROC_DIR": metrics, _FAILURE_FILE: failure}
        if config_file is not None:
            env["BM25X_SERVE_CONFIG"] = os.fspath(config_file)
        saved = {name: os.environ.get(name) for name in (*env, "BM25X_SERVE_CONFIG")}
        os.environ.update(env)  # the workers (spawned processes) inherit it
        try:
            options = uvicorn_options(config)
            # By import path: uvicorn hands its settings to the workers pickled.
            options["http"] = SERVE_PROTOCOL
            uvicorn.run(
                "bm25x.app.serve.run:app_from_environment",
                factory=True,
                workers=config.workers,
                **options,
            )
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value
        if os.path.exists(failure):
            with open(failure, encoding="utf-8") as f:
                raise WarmupError(f.read())
