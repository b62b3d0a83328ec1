"""A local HTTP server that speaks the embedding APIs of OpenAI, OpenRouter, Jina AI and Cohere
(v2), for the provider tests. It listens on 127.0.0.1 on an ephemeral port, in daemon threads.

It checks each request as the providers document it (method, path, bearer key, JSON content
type, body fields and their types and limits) and answers as they do: an OpenAI-style
``{"object": "list", "data": [...], "model", "usage"}`` for OpenAI, OpenRouter and Jina,
Cohere's ``{"id", "embeddings": {"float": [...]}, "texts", "meta", "response_type"}``, and each
provider's error body shape. Requests it finds wrong get a 400 and are listed in
``violations``, which the tests require to stay empty. Tests queue canned answers (429 with
Retry-After, 5xx, slow or malformed replies) with :meth:`FakeProviders.script`.

Vectors are deterministic: a unit vector derived from sha256 of the input.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import re
import struct
import sys
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import numpy as np

KEYS = {
    "openai": "sk-test-openai-0123456789abcdef",
    "openrouter": "sk-or-v1-test-fedcba9876543210",
    "jina": "jina_test_key_13579abcdef",
    "cohere": "co-test-key-2468acegik",
}
# Each stand-in's key as the header a caller (or Qdrant) sends it in.
KEY_HEADERS = {f"{provider}-api-key": key for provider, key in KEYS.items()}
DEFAULT_DIMS = {"openai": 64, "openrouter": 48, "jina": 32, "cohere": 40}

# A 1x1 PNG.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def fake_vector(data: str | bytes, dim: int) -> list[float]:
    """A deterministic unit vector for ``data``."""
    raw = data.encode() if isinstance(data, str) else data
    seed = int.from_bytes(hashlib.sha256(raw).digest()[:8], "little")
    v = np.random.default_rng(seed).standard_normal(dim).astype(np.float32)
    v /= np.linalg.norm(v)
    return [float(x) for x in v]


@dataclass
class Canned:
    """A scripted answer: status, headers, raw body, and a delay before sending it."""

    status: int = 200
    headers: dict[str, str] | None = None
    body: bytes = b""
    delay: float = 0.0
    passthrough: bool = False  # answer normally, after the delay
    drip: float = 0.0  # seconds between body bytes (a server trickling its answer)
    size: int = 0  # when set: a body of this many bytes of JSON-ish filler, sent in chunks


class _QuietServer(ThreadingHTTPServer):
    """Quiet about clients that hang up mid-answer (the tests of size caps and deadlines make
    the client do that on purpose); any other handler error is printed as usual."""

    request_queue_size = 1024

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionResetError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


class _Bad(Exception):
    def __init__(self, provider: str, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.provider = provider
        self.status = status


def _error_body(provider: str, message: str, status: int) -> dict[str, Any]:
    if provider in ("openai", "openrouter"):
        return {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": None,
                "code": status,
            }
        }
    if provider == "jina":
        return {"detail": message}
    return {"message": message}


class FakeProviders:
    """The server. ``url(provider)`` gives the base URL to configure for a provider."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self.requests: list[dict[str, Any]] = []
        self.violations: list[str] = []
        self._scripts: dict[str, deque[Canned]] = {}
        self._lock = threading.Lock()
        self.in_flight = 0
        self.max_in_flight = 0
        self.server = _QuietServer((host, 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def url(self, provider: str) -> str:
        return provider_url(self.host, self.port, provider)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.violations.clear()
            self._scripts.clear()
            self.max_in_flight = 0

    def script(self, provider: str, *answers: Canned) -> None:
        """Queue answers for the next requests to ``provider``'s endpoint."""
        with self._lock:
            self._scripts.setdefault(provider, deque()).extend(answers)

    def calls(self, provider: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r["provider"] == provider]

    # -- the handler -------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None):
                self.send_response(status)
                hdrs = {"Content-Type": "application/json", **(headers or {})}
                for k, v in hdrs.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def _drip(self, canned: Canned) -> None:
                """Headers at once, then the body one byte at a time, until the client
                leaves (a declared length it will never reach)."""
                self.send_response(canned.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", "1000000")
                self.end_headers()
                try:
                    for _ in range(10_000):
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(canned.drip)
                except OSError:
                    pass  # the client gave up: what the tests want
                self.close_connection = True

            def _huge(self, canned: Canned) -> None:
                """A chunked body of ``canned.size`` bytes, with no length declared."""
                self.send_response(canned.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                chunk = b"[" + b"0.0," * 16383 + b"0]"
                sent = 0
                try:
                    while sent < canned.size:
                        self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        sent += len(chunk)
                    self.wfile.write(b"0\r\n\r\n")
                except OSError:
                    pass
                self.close_connection = True

            def do_GET(self) -> None:
                path, _, query = self.path.partition("?")
                if path == "/_state":  # for a test that runs this server in its own process
                    with fake._lock:
                        state = {"requests": fake.requests, "violations": fake.violations}
                        body = json.dumps(state).encode()
                    self._send(200, body)
                    return
                with fake._lock:
                    fake.requests.append(
                        {"provider": "images", "path": self.path, "headers": {}, "body": None}
                    )
                if path == "/images/redirect":
                    # /images/redirect?<status>&<location>: a redirect to anywhere.
                    status, _, location = query.partition("&")
                    self._send(int(status), b"", {"Location": location})
                    return
                if path == "/images/drip.png":
                    self._drip(Canned(drip=0.05))
                    return
                if path.startswith("/images/"):
                    name = path.rsplit("/", 1)[1]
                    if name == "secret.png":  # claims to be a PNG, is not one
                        self._send(200, b"internal secret data", {"Content-Type": "image/png"})
                        return
                    if name == "big.png":
                        body = PNG + b"\x00" * (6 * 1024 * 1024)
                    elif name == "tiny.png":
                        body = PNG
                    else:
                        self._send(404, b'{"message": "no such image"}')
                        return
                    self._send(200, body, {"Content-Type": "image/png"})
                    return
                self._send(404, b"{}")

            def do_POST(self) -> None:
                routes = {
                    "/openai/v1/embeddings": "openai",
                    "/openrouter/api/v1/embeddings": "openrouter",
                    "/jina/v1/embeddings": "jina",
                    "/cohere/v2/embed": "cohere",
                }
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                provider = routes.get(self.path.partition("?")[0])
                if provider is None:
                    fake.violations.append(f"POST to unknown path {self.path}")
                    self._send(404, b'{"message": "not found"}')
                    return
                with fake._lock:
                    fake.in_flight += 1
                    fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
                    queue = fake._scripts.get(provider)
                    canned = queue.popleft() if queue else None
                try:
                    self._post(provider, raw, canned)
                finally:
                    with fake._lock:
                        fake.in_flight -= 1

            def _post(self, provider: str, raw: bytes, canned: Canned | None) -> None:
                headers = {k.lower(): v for k, v in self.headers.items()}
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = None
                with fake._lock:
                    fake.requests.append(
                        {
                            "provider": provider,
                            "path": self.path,
                            "headers": headers,
                            "body": body,
                            "client_port": self.client_address[1],
                        }
                    )
                if canned is not None:
                    time.sleep(min(canned.delay, 3.0))
                    if canned.drip:
                        self._drip(canned)
                        return
                    if canned.size:
                        self._huge(canned)
                        return
                    if not canned.passthrough:
                        self._send(canned.status, canned.body, canned.headers)
                        return
                try:
                    self._check_auth(provider, headers)
                    if body is None:
                        raise _Bad(provider, "body is not JSON")
                    answer = {
                        "openai": self._openai,
                        "openrouter": self._openrouter,
                        "jina": self._jina,
                        "cohere": self._cohere,
                    }[provider](body)
                except _Bad as bad:
                    if bad.status == 400:
                        fake.violations.append(f"{provider}: {bad}")
                    payload = json.dumps(_error_body(provider, str(bad), bad.status)).encode()
                    self._send(bad.status, payload)
                    return
                self._send(200, json.dumps(answer).encode())

            def _check_auth(self, provider: str, headers: dict[str, str]) -> None:
                if not headers.get("content-type", "").startswith("application/json"):
                    raise _Bad(provider, "Content-Type must be application/json")
                auth = headers.get("authorization", "")
                if not auth.startswith("Bearer "):
                    raise _Bad(provider, "missing bearer token", 401)
                key = auth[len("Bearer ") :]
                if key != KEYS[provider]:
                    # Like some providers, echo the key back: bm25x must scrub it.
                    raise _Bad(provider, f"Incorrect API key provided: {key}", 401)

            # OpenAI: POST /v1/embeddings {model, input, encoding_format?, dimensions?, user?}
            def _openai(self, body: Any, provider: str = "openai", extra=()) -> dict[str, Any]:
                allowed = {"model", "input", "encoding_format", "dimensions", "user", *extra}
                if not isinstance(body, dict):
                    raise _Bad(provider, "body must be an object")
                unknown = set(body) - allowed
                if unknown:
                    raise _Bad(provider, f"Unrecognized request argument supplied: {unknown}")
                model = body.get("model")
                inputs = body.get("input")
                if not isinstance(model, str) or not model:
                    raise _Bad(provider, "'model' is required")
                if isinstance(inputs, str):
                    inputs = [inputs]
                if (
                    not isinstance(inputs, list)
                    or not inputs
                    or len(inputs) > 2048
                    or not all(isinstance(t, str) and t for t in inputs)
                ):
                    raise _Bad(provider, "'input' must be a non-empty list of non-empty strings")
                fmt = body.get("encoding_format", "float")
                if fmt not in ("float", "base64"):
                    raise _Bad(provider, "encoding_format must be 'float' or 'base64'")
                dim = body.get("dimensions", DEFAULT_DIMS[provider])
                if isinstance(dim, bool) or not isinstance(dim, int) or dim < 1:
                    raise _Bad(provider, "dimensions must be a positive integer")
                data = []
                for i, text in enumerate(inputs):
                    vec = fake_vector(f"{model}|{text}", dim)
                    emb: Any = vec
                    if fmt == "base64":
                        emb = base64.b64encode(struct.pack(f"<{dim}f", *vec)).decode()
                    data.append({"object": "embedding", "index": i, "embedding": emb})
                tokens = sum(len(t.split()) for t in inputs)
                return {
                    "object": "list",
                    "data": data,
                    "model": model,
                    "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
                }

            def _openrouter(self, body: Any) -> dict[str, Any]:
                if not isinstance(body, dict) or not re.fullmatch(
                    r"[\w.-]+/[\w.:-]+", str(body.get("model"))
                ):
                    raise _Bad("openrouter", "model must be '<vendor>/<model>'")
                answer = self._openai(body, "openrouter", extra=("provider", "input_type"))
                answer["id"] = f"gen-emb-{uuid.uuid4().hex[:12]}"
                return answer

            # Jina: POST /v1/embeddings {model, input: [str | {text} | {image}], task?, ...}
            def _jina(self, body: Any) -> dict[str, Any]:
                allowed = {
                    "model",
                    "input",
                    "task",
                    "dimensions",
                    "normalized",
                    "embedding_type",
                    "late_chunking",
                    "truncate",
                }
                if not isinstance(body, dict) or set(body) - allowed:
                    raise _Bad("jina", f"unexpected fields {set(body) - allowed}")
                model = body.get("model")
                inputs = body.get("input")
                if not isinstance(model, str) or not isinstance(inputs, list) or not inputs:
                    raise _Bad("jina", "model and a non-empty input list are required")
                task = body.get("task")
                if task is not None and task not in (
                    "retrieval.query",
                    "retrieval.passage",
                    "text-matching",
                    "classification",
                    "separation",
                    "code.query",
                    "code.passage",
                ):
                    raise _Bad("jina", f"unknown task {task!r}")
                dim = body.get("dimensions", DEFAULT_DIMS["jina"])
                data = []
                for i, entry in enumerate(inputs):
                    if isinstance(entry, str):
                        key = entry
                    elif isinstance(entry, dict) and set(entry) == {"text"}:
                        key = entry["text"]
                    elif isinstance(entry, dict) and set(entry) == {"image"}:
                        img = entry["image"]
                        if not isinstance(img, str) or not (
                            img.startswith(("http://", "https://"))
                            or re.fullmatch(r"[A-Za-z0-9+/=\s]+", img)
                        ):
                            raise _Bad("jina", "image must be a URL or base64")
                        key = "image:" + img
                    else:
                        raise _Bad("jina", f"bad input entry {entry!r}")
                    vec = fake_vector(f"{model}|{task}|{key}", dim)
                    data.append({"object": "embedding", "index": i, "embedding": vec})
                return {
                    "model": model,
                    "object": "list",
                    "usage": {"total_tokens": len(inputs), "prompt_tokens": len(inputs)},
                    "data": data,
                }

            # Cohere v2: POST /v2/embed {model, input_type, embedding_types, texts | images}
            def _cohere(self, body: Any) -> dict[str, Any]:
                allowed = {
                    "model",
                    "input_type",
                    "embedding_types",
                    "texts",
                    "images",
                    "inputs",
                    "output_dimension",
                    "truncate",
                    "max_tokens",
                }
                if not isinstance(body, dict) or set(body) - allowed:
                    raise _Bad("cohere", f"invalid request: unknown fields {set(body) - allowed}")
                model = body.get("model")
                if not isinstance(model, str):
                    raise _Bad("cohere", "invalid request: model is required")
                input_type = body.get("input_type")
                if input_type not in (
                    "search_document",
                    "search_query",
                    "classification",
                    "clustering",
                    "image",
                ):
                    raise _Bad("cohere", "invalid request: input_type is required for v3+ models")
                types = body.get("embedding_types")
                if not isinstance(types, list) or not set(types) <= {
                    "float",
                    "int8",
                    "uint8",
                    "binary",
                    "ubinary",
                    "base64",
                }:
                    raise _Bad("cohere", "invalid request: embedding_types")
                given = [k for k in ("texts", "images", "inputs") if k in body]
                if len(given) != 1:
                    raise _Bad("cohere", "invalid request: give exactly one of texts, images")
                dim = body.get("output_dimension", DEFAULT_DIMS["cohere"])
                if dim not in (DEFAULT_DIMS["cohere"], 256, 512, 1024, 1536):
                    raise _Bad("cohere", "invalid request: output_dimension")
                if body.get("truncate", "END") not in ("NONE", "START", "END"):
                    raise _Bad("cohere", "invalid request: truncate")
                keys: list[str] = []
                answer: dict[str, Any] = {}
                if "texts" in body:
                    texts = body["texts"]
                    if (
                        not isinstance(texts, list)
                        or not 1 <= len(texts) <= 96
                        or not all(isinstance(t, str) for t in texts)
                    ):
                        raise _Bad("cohere", "invalid request: texts must be 1 to 96 strings")
                    keys = [f"{input_type}|{t}" for t in texts]
                    answer["texts"] = texts
                else:
                    images = body["images"]
                    if not isinstance(images, list) or len(images) != 1:
                        raise _Bad("cohere", "invalid request: one image per call")
                    m = re.fullmatch(
                        r"data:image/(png|jpeg|gif|webp);base64,([A-Za-z0-9+/=]+)", images[0]
                    )
                    if not m:
                        raise _Bad("cohere", "invalid request: images must be data URLs")
                    payload = base64.b64decode(m.group(2))
                    if len(payload) > 5 * 1024 * 1024:
                        raise _Bad("cohere", "invalid request: image over 5MB")
                    keys = [f"image|{hashlib.sha256(payload).hexdigest()}"]
                    answer["images"] = [
                        {"width": 1, "height": 1, "format": m.group(1), "bit_depth": 8}
                    ]
                embeddings = {t: [fake_vector(f"{model}|{k}", dim) for k in keys] for t in types}
                return {
                    "id": str(uuid.uuid4()),
                    "embeddings": embeddings,
                    **answer,
                    "meta": {
                        "api_version": {"version": "2"},
                        "billed_units": {"input_tokens": len(keys)},
                    },
                    "response_type": "embeddings_by_type",
                }

        return Handler


def main() -> None:
    """Serve on 127.0.0.1 in this process (``python provider_server.py``): print the port,
    then run until stdin closes. ``GET /_state`` gives the requests and violations seen."""
    import sys

    fake = FakeProviders()
    print(fake.port, flush=True)
    sys.stdin.read()
    fake.close()


if __name__ == "__main__":
    main()


def provider_url(host: str, port: int, provider: str) -> str:
    """The base URL of one provider's stand-in on a server at ``host:port``."""
    base = f"http://{host}:{port}"
    return {
        "openai": f"{base}/openai/v1",
        "openrouter": f"{base}/openrouter/api/v1",
        "jina": f"{base}/jina/v1",
        "cohere": f"{base}/cohere",
        "images": f"{base}/images",
    }[provider]


#: The environment variables holding the providers' keys, cleared while tests run.
ENV_KEYS = ("OPENAI_API_KEY", "CO_API_KEY", "JINA_API_KEY", "OPENROUTER_API_KEY")


@contextlib.contextmanager
def providers_pointed_at(
    server: Any, monkeypatch: Any, registered: dict[str, Any]
) -> Iterator[Any]:
    """Every provider's base URL pointed at ``server`` (anything with ``url(provider)``), no
    keys in the environment, the providers in ``registered`` (prefix -> instance) registered;
    the registry restored afterwards, and the server asserted to have seen no protocol
    violation."""
    from bm25x import providers

    for name in ENV_KEYS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OPENAI_BASE_URL", server.url("openai"))
    monkeypatch.setenv("OPENROUTER_BASE_URL", server.url("openrouter"))
    monkeypatch.setenv("JINA_BASE_URL", server.url("jina"))
    monkeypatch.setenv("CO_API_URL", server.url("cohere"))
    providers.list()
    saved = dict(providers._entries), list(providers._catch_all)
    for prefix, provider in registered.items():
        providers.register(prefix, provider)
    try:
        yield server
    finally:
        providers._entries.clear()
        providers._entries.update(saved[0])
        providers._catch_all[:] = saved[1]
    assert server.violations == []
