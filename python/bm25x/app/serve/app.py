"""The ASGI application: ``create_app(config)``.

Handlers are thin: read and check the request, call the same :func:`bm25x.aembed` a script
calls (grouping, deduplication, concurrency, retries, ``mrl``, typed errors), answer in input
order. Failures become answers in one place (:func:`bm25x.app.serve.errors.answer_for`).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
import time
import traceback
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from typing import Any

import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

import bm25x
from bm25x import providers
from bm25x.app.serve import openai_api
from bm25x.app.serve.body import BodyGate, read_body
from bm25x.app.serve.coalesce import Coalescer
from bm25x.app.serve.config import (
    ConfigError,
    ServeConfig,
    remember_operator_keys,
    require_allow_list,
)
from bm25x.app.serve.deadlines import Deadlines
from bm25x.app.serve.errors import (
    BadRequest,
    BodyTimeout,
    Overloaded,
    RequestTimeout,
    TooLarge,
    Unauthorized,
    WarmupError,
    answer_for,
)
from bm25x.app.serve.logs import sole_handler
from bm25x.app.serve.metrics import CONTENT_TYPE_LATEST, Metrics
from bm25x.app.serve.models import MAX_NAME_CHARS, ModelPolicy, shown
from bm25x.app.serve.protocol import (
    DataType,
    Input,
    encode_answer,
    read_request,
    screen,
    tokens_by_model,
)
from bm25x.errors import BadInputError, UnknownModelError
from bm25x.internals import KEY_SUFFIX, MAX_KEY_BYTES, key_size, new_session
from bm25x.providers.bm25 import Bm25Provider

__all__ = ["LOGGER_NAME", "ServeApp", "create_app"]

LOGGER_NAME = "bm25x.serve"
log = logging.getLogger(LOGGER_NAME)

# Items of one coalesced bm25 call at most (.coalesce): the requests of a loop turn beyond it
# take further calls.
_COALESCED_ITEMS = 1024
# Qdrant forwards every client header whose name ends so; header names are bytes in ASGI.
_KEY_SUFFIX = KEY_SUFFIX.encode("ascii")


def traceback_frames(exc: BaseException) -> list[str]:
    """The frames of ``exc`` and of the exceptions it was raised from or during, as text, with
    each exception's type but never its message."""
    out: list[str] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        out.append(type(current).__name__)
        out += [
            f"{frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(current.__traceback__)
        ]
        current = current.__cause__ or current.__context__
    return out


class _Service:
    """The state one app holds: config, policy, metrics, the body gate and the work slots,
    the shared HTTP client."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.policy = ModelPolicy(config)
        self.metrics = Metrics(in_flight=lambda: self.in_flight)
        self.bodies = BodyGate(config.limits.max_concurrent_bodies, config.limits.max_body_memory)
        self.coalescer = Coalescer(self._aembed, _COALESCED_ITEMS, key=_text)
        # Requests end within a twentieth of their shortest time limit past it (10 ms to 0.5 s).
        shortest = min(config.limits.body_timeout, config.limits.request_timeout)
        self.deadlines = Deadlines(resolution=min(0.5, max(0.01, shortest / 20)))
        self.in_flight = 0
        self.ready = False
        self.session: Any = None  # aiohttp.ClientSession, made in lifespan
        # [warmup] models: "loading", "ready" or "failed: <why>"; the task loading them.
        self.warmup: dict[str, str] = dict.fromkeys(config.warmup, "loading")
        self.warming: asyncio.Task[None] | None = None
        self.failure: WarmupError | None = None
        # Called when a [warmup] model fails (bm25x serve stops uvicorn with it).
        self.on_failure: Callable[[WarmupError], None] | None = None

    @contextlib.asynccontextmanager
    async def lifespan(self, app: Starlette) -> AsyncIterator[None]:
        limit = self.config.limits
        # One pooled session, on the service's own loop, for every request's provider calls:
        # connections to the providers are reused instead of opened per request.
        self.session = new_session(
            connections=max(100, limit.max_concurrent_requests * 2),
            per_origin=max(64, limit.max_concurrent_requests),
        )
        from bm25x.providers.local_models import LocalModelProvider

        LocalModelProvider.max_batch_tokens = self.config.fastembed.max_batch_tokens
        # Warm up before serving: the first call imports the providers' modules and loads the
        # registry's entry points, seconds that would otherwise land on a caller.
        await asyncio.get_running_loop().run_in_executor(None, providers.list)
        await bm25x.aembed("warm up", model="qdrant/bm25")
        # The operator's [warmup] models load while the service already answers /healthz;
        # /readyz says ready once they all have (at once when there are none).
        self.ready = not self.warmup
        self.warming = asyncio.create_task(self._warm_up())
        try:
            yield
        finally:
            self.ready = False
            self.warming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.warming
            await self.session.close()

    async def _warm_up(self) -> None:
        """Load each ``[warmup]`` model by embedding one input with it (a text, or a 1x1 PNG
        for a model that embeds images only), in order; then ready. A model that fails stays
        ``failed`` in /readyz, is logged, and goes to :attr:`on_failure`."""
        for model in self.warmup:
            started = time.perf_counter()
            try:
                await self._warm(model)
            except Exception as exc:
                answer = answer_for(exc, retry_after=self.config.limits.retry_after)
                self.warmup[model] = f"failed: {answer.message}"
                self.failure = WarmupError(f"warm-up of model {model!r} failed: {answer.message}")
                log.error(_json({"event": "warmup", "model": shown(model), "error": answer.kind}))
                if self.on_failure is not None:
                    self.on_failure(self.failure)
                return
            self.warmup[model] = "ready"
            elapsed = round((time.perf_counter() - started) * 1000.0, 3)
            log.info(_json({"event": "warmup", "model": shown(model), "latency_ms": elapsed}))
        self.ready = True

    async def _warm(self, model: str) -> None:
        headers = dict(self.config.keys)
        tries: tuple[tuple[DataType, str], ...] = (("text", "warm up"), ("image", _PNG))
        for data_type, data in tries:
            item = self.policy.item(Input(data, data_type, model, {}), 0)
            try:
                await bm25x.aembed(
                    [item],
                    headers=headers,
                    fetch_policy=self.config.images,
                    http_client=self.session,
                )
                return
            except BadInputError:
                if data_type == "image":
                    raise  # neither a text nor an image: the model's own error

    # -- endpoints --------------------------------------------------------------------------

    async def infer(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST {config.path}``: Qdrant's inference request, answered at the ASGI level (no
        Starlette request, middleware or routing on this path, which every request takes)."""
        ex = _Exchange("qdrant", scope)
        try:
            raw = await self._admit(scope, receive, token_in_body=True)
            with self._work_slot():
                parsed = read_request(raw)
                del raw  # the parsed request holds what is needed
                ex.record["inference"] = "search" if parsed.query else "update"
                vectors, tokens = await self._embed(ex, parsed.inputs, parsed.query, scope)
                names = [inp.model for inp in parsed.inputs]
                payload = encode_answer(vectors, tokens_by_model(names, tokens))
        except Exception as exc:
            await self._fail(send, exc, ex)
            return
        await self._answer(send, ex, payload)

    async def openai_embeddings(self, scope: Scope, receive: Receive, send: Send) -> None:
        """``POST /v1/embeddings``: OpenAI's embeddings API (:mod:`.openai_api`), with the
        service token as ``Authorization: Bearer``, checked before the body is read."""
        ex = _Exchange("openai", scope)
        try:
            raw = await self._admit(scope, receive, token_in_body=False)
            with self._work_slot():
                request = openai_api.parse(raw)
                del raw
                ex.record["inference"] = "update"
                options = {}
                if request.dimensions is not None:
                    target = self.policy.target(request.model)
                    options = openai_api.dimensions_option(target, request.dimensions)
                inputs = [Input(t, "text", request.model, options) for t in request.texts]
                vectors, tokens = await self._embed(ex, inputs, False, scope)
                payload = openai_api.encode_embeddings(
                    vectors, request.model, request.encoding_format, tokens
                )
        except Exception as exc:
            await self._fail(send, exc, ex)
            return
        await self._answer(send, ex, payload)

    async def not_routed(self, request: Request) -> Response:
        """Never reached: :class:`ServeApp` answers POST to these paths itself."""
        raise RuntimeError("inference requests are answered by ServeApp")

    async def health(self, request: Request) -> Response:
        """Liveness: the process answers."""
        return JSONResponse({"status": "ok"})

    async def ready_check(self, request: Request) -> Response:
        """Readiness: started, every ``[warmup]`` model loaded, and not shutting down; each
        ``[warmup]`` model's state ("loading", "ready", "failed: ...") alongside."""
        body: dict[str, Any] = {"status": "ready" if self.ready else "not ready"}
        if self.warmup:
            body["warmup"] = dict(self.warmup)
        return JSONResponse(body, status_code=200 if self.ready else 503)

    async def metrics_page(self, request: Request) -> Response:
        """Prometheus' text format; with ``metrics_token_required``, only for a request with
        ``Authorization: Bearer <token>``."""
        if self.config.metrics_token_required and not self._bearer(request.scope):
            return JSONResponse(
                {"error": "/metrics needs the service token: Authorization: Bearer <token>"},
                status_code=401,
                headers={"WWW-Authenticate": 'Bearer realm="bm25x-metrics"'},
            )
        return Response(self.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    # -- helpers -----------------------------------------------------------------------------

    async def _admit(
        self, scope: Scope, receive: Receive, *, token_in_body: bool
    ) -> bytes | bytearray:
        """The body of a request whose sender has the token: read in a place of the body gate
        (not a work slot), within ``limits.body_timeout``, and screened (nesting, JSON) before
        anything of it is built. The token is the body's (Qdrant's protocol), checked before
        anything else is built, or the ``Authorization: Bearer`` header's, checked before the
        body is read."""
        if not token_in_body and self.config.token is not None and not self._bearer(scope):
            raise Unauthorized(
                "this service needs its token: Authorization: Bearer <token> (the openai SDK's "
                "api_key)"
            )
        limits = self.config.limits
        with self.bodies.reading() as place:
            try:
                with self.deadlines.within(limits.body_timeout):
                    raw = await read_body(
                        receive,
                        _header(scope, b"content-length"),
                        place,
                        limits.max_body_bytes,
                    )
            except TimeoutError:
                raise BodyTimeout(
                    f"the request body did not arrive within {limits.body_timeout:g} s "
                    "(limits.body_timeout)"
                ) from None
            token = screen(raw)
            if token_in_body:
                self._authenticate(token)
        return raw

    async def _embed(
        self, ex: _Exchange, inputs: list[Input], query: bool, scope: Scope
    ) -> tuple[list[Any], list[int | None]]:
        """The vectors of ``inputs``, in order, and each one's tokens: the service's rules
        applied (limits, the allow-list, aliases, defaults), then :func:`bm25x.aembed` within
        the request's time budget."""
        limits = self.config.limits
        ex.record["inputs"] = len(inputs)
        if len(inputs) > limits.max_inputs:
            raise TooLarge(
                f"{len(inputs)} inputs, over this service's limit of "
                f"{limits.max_inputs} per request (limits.max_inputs); split the request"
            )
        items = [self.policy.item(inp, i) for i, inp in enumerate(inputs)]
        ex.names = [str(it["model"]) for it in items]
        ex.models = self._labels(ex.names)
        counts: dict[str, int] = {}
        for name in ex.names:
            shown_name = shown(name)
            counts[shown_name] = counts.get(shown_name, 0) + 1
        ex.record["models"] = counts
        headers = self._headers(scope)
        try:
            with self.deadlines.within(limits.request_timeout):
                if self._coalescible(items, ex.names):
                    # bm25 only: no keys, microseconds of encoding; one call for the requests
                    # of this loop turn (see .coalesce).
                    vectors, tokens = await self.coalescer.embed(items, query)
                else:
                    vectors, tokens = await self._aembed(items, query, headers)
        except TimeoutError:
            raise RequestTimeout(
                f"the request did not finish within {limits.request_timeout:g} s "
                "(limits.request_timeout)"
            ) from None
        ex.tokens = tokens
        return vectors, tokens

    async def _aembed(
        self, items: list[dict[str, Any]], query: bool, headers: Mapping[str, str] | None = None
    ) -> tuple[list[Any], list[int | None]]:
        """:func:`bm25x.aembed` of ``items`` with the service's settings: their vectors, in
        order, and each one's tokens."""
        limits = self.config.limits
        usage = bm25x.Usage()
        vectors = await bm25x.aembed(
            items,
            query=query,
            headers=headers,
            max_concurrency=limits.provider_concurrency,
            fetch_policy=self.config.images,
            http_client=self.session,
            usage=usage,
        )
        return vectors, usage.tokens

    def _coalescible(self, items: list[dict[str, Any]], models: list[str]) -> bool:
        """Whether every item of a request is a text for bm25 (embedded locally, with no
        key)."""
        if not all("text" in item for item in items):
            return False
        for model in dict.fromkeys(models):
            try:
                provider = providers.resolve(model)[0]
            except UnknownModelError:
                return False
            if not isinstance(provider, Bm25Provider):
                return False
        return True

    def _work_slot(self) -> _WorkSlot:
        """``with service._work_slot():`` one of ``limits.max_concurrent_requests`` slots for
        the work of a request; :class:`Overloaded` when every one is taken."""
        return _WorkSlot(self)

    def _authenticate(self, token: str | None) -> None:
        expected = self.config.token
        if expected is None:
            return
        if token is None:
            raise Unauthorized(
                "this service needs a token: set Qdrant's inference.token "
                "(QDRANT__INFERENCE__TOKEN) to the service's token"
            )
        # Constant time, so that the answer's timing does not tell how much of it matched.
        # JSON can carry lone surrogates ("\ud800"), which strict UTF-8 cannot encode: such a
        # token is kept as its surrogate bytes, which no configured token equals.
        given = token.encode("utf-8", "surrogatepass")
        if not hmac.compare_digest(given, str(expected).encode("utf-8")):
            raise Unauthorized("the inference token does not match this service's token")

    def _bearer(self, scope: Scope) -> bool:
        """Whether a request carries ``Authorization: Bearer <the service token>``."""
        scheme, _, given = (_header(scope, b"authorization") or "").partition(" ")
        expected = self.config.token
        if expected is None or scheme.lower() != "bearer":
            return False
        # Constant time; header values are Latin-1 text, the token is UTF-8.
        return hmac.compare_digest(
            given.strip().encode("latin-1"), str(expected).encode("utf-8", "surrogatepass")
        )

    def _headers(self, scope: Scope) -> dict[str, str]:
        """Provider keys: the operator's, then the forwarded ``*-api-key`` headers over them;
        a key over ``MAX_KEY_BYTES`` is refused before bm25x stores anything of it."""
        headers: dict[str, str] = dict(self.config.keys)
        for raw_name, raw_value in scope["headers"]:
            if raw_value and raw_name.lower().endswith(_KEY_SUFFIX):
                # Header values are Latin-1 text (as Starlette reads them).
                name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
                if key_size(value) > MAX_KEY_BYTES:
                    raise BadRequest(
                        f"header {shown(name)!r} is {key_size(value):,} bytes, over "
                        f"the limit of {MAX_KEY_BYTES:,} bytes for an API key"
                    )
                headers[name] = value
        return headers

    def _labels(self, models: list[str], *, worked: bool = False) -> list[tuple[str, str]]:
        """(model label, provider label) per item: a name the service knows is its own label;
        another becomes one once it has ``worked`` (its request succeeded), if it is short
        and the budget allows; every other name is ``"other"`` (see :mod:`.metrics`)."""
        seen: dict[str, tuple[str, str]] = {}
        out = []
        for model in models:
            if model not in seen:
                try:
                    provider = str(getattr(providers.resolve(model)[0], "name", "unknown"))
                except UnknownModelError:
                    provider = "unknown"
                label = self.policy.known(model)
                if label is None and provider != "unknown" and len(model) <= MAX_NAME_CHARS:
                    label = self.metrics.model_label(model, grant=worked)
                seen[model] = (label or "other", provider)
            out.append(seen[model])
        return out

    async def _answer(self, send: Send, ex: _Exchange, payload: bytes) -> None:
        elapsed = time.perf_counter() - ex.started
        labels = ex.models
        # A name labelled "other" may become a label of its own now that it has worked.
        if any(label == "other" and provider != "unknown" for label, provider in labels):
            labels = self._labels(ex.names, worked=True)
        self.metrics.models_done(labels, elapsed, ex.tokens)
        self._done(200, ex.record, elapsed)
        await _respond(send, 200, payload)

    async def _fail(self, send: Send, exc: BaseException, ex: _Exchange) -> None:
        answer = answer_for(exc, retry_after=self.config.limits.retry_after)
        ex.record["error"] = answer.kind
        for model, provider in set(ex.models) or {("none", "none")}:
            self.metrics.errors.labels(answer.kind, model, provider).inc()
        if answer.status == 500:
            # Where it happened goes to the operator's log, never to the caller; not what the
            # exceptions say, which may quote the request (its texts, a key).
            log.error(_json({"event": "internal error", "traceback": traceback_frames(exc)}))
        self._done(answer.status, ex.record, time.perf_counter() - ex.started)
        headers = dict(answer.headers)
        if ex.api == "openai":
            body = openai_api.error_body(answer.status, answer.message)
            if answer.status == 401 and isinstance(exc, Unauthorized):
                headers["WWW-Authenticate"] = 'Bearer realm="bm25x"'
        else:
            body = orjson.dumps({"error": answer.message})
        await _respond(send, answer.status, body, headers)

    def _done(self, status: int, record: dict[str, Any], elapsed: float) -> None:
        record["status"] = status
        record["latency_ms"] = round(elapsed * 1000.0, 3)
        self.metrics.request_done(status, record.get("inference", "unknown"), elapsed)
        _request_line(_json(record))


class _WorkSlot:
    """A work slot of a :class:`_Service` (see ``_work_slot``): a plain object, not a
    generator, as every request takes one."""

    __slots__ = ("service",)

    def __init__(self, service: _Service) -> None:
        self.service = service

    def __enter__(self) -> None:
        service = self.service
        limits = service.config.limits
        if service.in_flight >= limits.max_concurrent_requests:
            raise Overloaded(
                f"the service is answering {service.in_flight} requests, its limit "
                f"(limits.max_concurrent_requests); retry after {limits.retry_after} s"
            )
        service.in_flight += 1
        if service.metrics.counts_in_flight:
            service.metrics.in_flight.inc()

    def __exit__(self, *exc: object) -> None:
        service = self.service
        service.in_flight -= 1
        if service.metrics.counts_in_flight:
            service.metrics.in_flight.dec()


class _Exchange:
    """One request being answered: which API it speaks, when it started, its log record, the
    models of its items (as the service resolved them) and their metrics labels, its tokens."""

    __slots__ = ("api", "models", "names", "record", "started", "tokens")

    def __init__(self, api: str, scope: Scope) -> None:
        self.api = api
        self.started = time.perf_counter()
        self.record: dict[str, Any] = {
            "event": "inference",
            "path": scope["path"],
            "pid": os.getpid(),
        }
        self.names: list[str] = []
        self.models: list[tuple[str, str]] = []
        self.tokens: list[int | None] = []


_JSON_HEADERS = [(b"content-type", b"application/json")]
# A 1x1 PNG, base64: what an image model is warmed up with.
_PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5E"
    "rkJggg=="
)


async def _respond(
    send: Send, status: int, body: bytes, headers: Mapping[str, str] | None = None
) -> None:
    """Answer with ``body`` (JSON) and ``headers``."""
    head = [*_JSON_HEADERS, (b"content-length", str(len(body)).encode("ascii"))]
    if headers:
        head += [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": head})
    await send({"type": "http.response.body", "body": body})


def _text(item: dict[str, Any]) -> Any:
    """The text of a coalesced item (the inputs two coalesced requests may not share)."""
    return item["text"]


def _header(scope: Scope, name: bytes) -> str | None:
    """The value of header ``name`` (lower-case) of a request, if it has one."""
    for key, value in scope["headers"]:
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _request_line(line: str) -> None:
    """Log one request's line at INFO, as ``log.info(line)`` would, less the work of finding
    the caller's file and line (which the service's log lines do not show), and with no
    record at all when the service's own handler alone would see it (:func:`.logs.sole_handler`):
    every request pays for this."""
    handler = sole_handler(log)
    if handler is not None:
        handler.info(line)
    elif log.isEnabledFor(logging.INFO):
        log.handle(logging.LogRecord(LOGGER_NAME, logging.INFO, __file__, 0, line, None, None))


def _json(record: dict[str, Any]) -> str:
    """One log line: the record as JSON, keys sorted."""
    return orjson.dumps(record, option=orjson.OPT_SORT_KEYS).decode("utf-8")


class ServeApp:
    """The ASGI app of ``bm25x serve``: ``POST`` to the inference paths is answered by the
    service directly; everything else (lifespan, health, readiness, metrics, other methods and
    paths) by a Starlette app, whose attributes (``router``, ``state``) this app shows."""

    def __init__(self, service: _Service, starlette: Starlette, paths: Iterable[str]) -> None:
        self.service = service
        self.starlette = starlette
        self.posts = dict.fromkeys(paths, service.infer)
        self.posts[openai_api.PATH] = service.openai_embeddings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            handler = self.posts.get(scope["path"])
            if handler is not None:
                await handler(scope, receive, send)
                return
        await self.starlette(scope, receive, send)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.starlette, name)


def create_app(config: ServeConfig | None = None) -> ServeApp:
    """The ASGI app of ``bm25x serve`` for ``config`` (defaults: :class:`ServeConfig`()).

    Routes: ``POST {config.path}`` (and ``POST /``) the inference endpoint, ``POST
    /v1/embeddings`` OpenAI's embeddings API, ``GET /healthz`` liveness, ``GET /readyz``
    readiness, ``GET /metrics`` Prometheus metrics.

    Raises :class:`~bm25x.app.serve.ConfigError` when the service holds provider keys of its
    own (``config.keys``, ``OPENAI_API_KEY``, ...) and ``allowed_models`` is not set.
    """
    config = config or ServeConfig()
    require_allow_list(config, os.environ)
    remember_operator_keys(os.environ)
    service = _Service(config)
    refused = [m for m in config.warmup if not service.policy.allowed(m)]
    if refused:
        raise ConfigError(
            f"warmup.models: {', '.join(map(repr, refused))} not allowed on this service "
            "(allowed_models, aliases)"
        )
    paths = list(dict.fromkeys([service.config.path, "/"]))
    if openai_api.PATH in paths:
        raise ConfigError(f"path cannot be {openai_api.PATH}: OpenAI's embeddings API is there")
    # The POST paths' routes only give other methods their 405: ServeApp answers POST.
    routes = [Route(p, service.not_routed, methods=["POST"]) for p in [*paths, openai_api.PATH]]
    routes += [
        Route("/healthz", service.health, methods=["GET"]),
        Route("/readyz", service.ready_check, methods=["GET"]),
        Route("/metrics", service.metrics_page, methods=["GET"]),
    ]
    starlette = Starlette(routes=routes, lifespan=service.lifespan)
    starlette.state.service = service
    return ServeApp(service, starlette, paths)
