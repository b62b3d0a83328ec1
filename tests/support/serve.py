"""Helpers for the ``bm25x serve`` tests and benchmark: requests shaped as Qdrant sends them, an
in-process client (httpx over ASGI, lifespan included), a real uvicorn subprocess, and a
bounded load generator."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from support.provider_server import provider_url

ROOT = Path(__file__).resolve().parents[2]
_SERVE = (sys.executable, "-m", "bm25x", "serve")


def qdrant_input(data: Any, model: str, data_type: str = "text", options: Any = None) -> dict:
    """One input, with the fields and order of Qdrant's ``InferenceInput``."""
    return {"data": data, "data_type": data_type, "model": model, "options": options}


def qdrant_body(inputs: Sequence[dict], inference: str = "update", token: str | None = None):
    """A request body as Qdrant serialises ``InferenceRequest``."""
    return {"inputs": list(inputs), "inference": inference, "token": token}


# Qdrant's reqwest client sends these with every inference request (its user agent and JSON).
QDRANT_HEADERS = {"user-agent": "qdrant/1.19.0", "content-type": "application/json"}


@contextlib.asynccontextmanager
async def asgi_client(app: Any) -> AsyncIterator[httpx.AsyncClient]:
    """An httpx client talking to ``app`` in process, with the app's lifespan run around it."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bm25x-serve", headers=QDRANT_HEADERS
        ) as client:
            yield client


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class FakeProvidersProcess:
    """The provider stand-ins (``provider_server.FakeProviders``) in a process of their own,
    so that their work does not compete with the test's load generator for one GIL: the
    same ``url()``, ``calls()`` and ``violations``, read over HTTP."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(Path(__file__).with_name("provider_server.py"))],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
        )
        assert self.proc.stdout is not None
        self.port = int(self.proc.stdout.readline())

    def url(self, provider: str) -> str:
        return provider_url("127.0.0.1", self.port, provider)

    def _state(self) -> dict[str, Any]:
        state: dict[str, Any] = httpx.get(self.url("images")[:-7] + "/_state", timeout=60).json()
        return state

    def calls(self, provider: str | None = None) -> list[dict[str, Any]]:
        """The requests ``provider`` got (every provider's: None), in arrival order."""
        return [r for r in self._state()["requests"] if provider in (None, r["provider"])]

    @property
    def violations(self) -> list[str]:
        found: list[str] = self._state()["violations"]
        return found

    def close(self) -> None:
        stop_stand_in(self.proc)


def stop_stand_in(proc: subprocess.Popen[bytes]) -> None:
    """Stop a stand-in process that serves until its standard input closes: close it, wait,
    kill after 10 s, and close its pipes."""
    assert proc.stdin is not None
    proc.stdin.close()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
    if proc.stdout is not None:
        proc.stdout.close()


@dataclass
class ServeProcess:
    """``python -m bm25x serve`` in a subprocess on 127.0.0.1; its stderr (the JSON request
    log) goes to a file (not a pipe a thread of the test must drain), read by ``log``."""

    config: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    args: Sequence[str] = ()  # more command-line arguments (--workers 2)
    proc: subprocess.Popen[bytes] | None = None
    _stderr: Any = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log(self) -> list[str]:
        """The lines the process wrote to stderr so far."""
        if self._stderr is None:
            return []
        with open(self._stderr.name, encoding="utf-8", errors="replace") as f:
            return f.read().splitlines()

    def start(self, timeout: float = 30.0) -> ServeProcess:
        # The same bm25x the tests import (the installed wheel, or a tree on PYTHONPATH).
        path = os.pathsep.join(p for p in sys.path if p)
        env = {**os.environ, **self.env, "PYTHONPATH": path}
        # Next to the config file (a test's temporary directory); closed in _close.
        self._stderr = open(self.config.with_name(f"serve-{self.port}.log"), "wb")
        self.proc = subprocess.Popen(
            [*_SERVE, "--port", str(self.port), "--config", str(self.config), *self.args],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
            # A group of its own: stop() kills uvicorn's worker processes with it
            # (killing the supervisor alone left `--workers 2`'s workers running).
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("bm25x serve exited: " + "\n".join(self.log))
            try:
                if httpx.get(self.url + "/readyz", timeout=1.0).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("bm25x serve did not become ready: " + "\n".join(self.log))

    def rss(self) -> int:
        """Resident memory of the server process, in bytes."""
        import psutil

        assert self.proc is not None
        return int(psutil.Process(self.proc.pid).memory_info().rss)

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    def wait(self, timeout: float) -> int:
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        self._close()
        return code

    def _close(self) -> None:
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.close()

    def stop(self) -> None:
        if self.proc is not None:
            with contextlib.suppress(ProcessLookupError):  # the whole group is gone already
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
        self._close()


def terminate_during_request(proc: ServeProcess, fake: Any, body: dict) -> httpx.Response:
    """Send ``body`` (a request the provider stand-in ``fake`` holds for a while), SIGTERM the
    service once the stand-in has it, check that the service exits 0, and return the answer
    the request got meanwhile (the drain under test)."""
    import threading

    result: dict[str, Any] = {}

    def send() -> None:
        try:
            result["response"] = httpx.post(proc.url + "/inference", json=body, timeout=30)
        except httpx.HTTPError as exc:  # reported by the assertion below
            result["error"] = repr(exc)

    sender = threading.Thread(target=send)
    sender.start()
    for _ in range(200):  # until the provider stand-in holds the request
        if fake.calls("openai"):
            break
        time.sleep(0.02)
    assert fake.calls("openai"), "the request never reached the provider"
    proc.terminate()
    assert proc.wait(timeout=30) == 0
    sender.join(timeout=10)
    response = result.get("response")
    assert isinstance(response, httpx.Response), result
    return response


def closed_by_server(sock: socket.socket, within: float) -> bool:
    """Whether the server closes ``sock`` (a read gives end of file) within ``within`` s."""
    sock.settimeout(within)
    try:
        return sock.recv(1024) == b""
    except TimeoutError:
        return False


@dataclass
class LoadResult:
    """What a load run saw: latencies (s) of the requests, failures by reason, wall time."""

    latencies: list[float]
    failures: list[str]
    seconds: float

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else 0.0


async def run_load(
    url: str,
    n_requests: int,
    connections: int,
    make_request: Callable[[int], tuple[dict, dict[str, str], Callable[[Any], str | None]]],
) -> LoadResult:
    """Send ``n_requests`` over ``connections`` concurrent connections (one worker each, so at
    most that many requests in flight). ``make_request(i)`` gives the body, the headers and a
    check of the decoded answer (None when right, else what is wrong)."""
    latencies: list[float] = []
    failures: list[str] = []
    counter = iter(range(n_requests))
    # One client of one connection per worker: a shared pool of N connections scans all N on
    # every request (httpcore), CPU that would be the generator's, not the service's.
    one = httpx.Limits(max_connections=1, max_keepalive_connections=1)
    tls = httpx.create_ssl_context()  # built once: each costs tens of ms of CPU
    async with contextlib.AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(limits=one, timeout=60.0, verify=tls))
            for _ in range(connections)
        ]

        async def worker(client: httpx.AsyncClient) -> None:
            for i in counter:
                body, headers, check = make_request(i)
                t0 = time.perf_counter()
                try:
                    response = await client.post(url, json=body, headers=headers)
                except httpx.HTTPError as exc:
                    failures.append(f"request {i}: {type(exc).__name__}")
                    continue
                latencies.append(time.perf_counter() - t0)
                if response.status_code != 200:
                    failures.append(f"request {i}: HTTP {response.status_code} {response.text}")
                    continue
                problem = check(response.json())
                if problem is not None:
                    failures.append(f"request {i}: {problem}")

        start = time.perf_counter()
        await asyncio.gather(*(worker(c) for c in clients))
        return LoadResult(latencies, failures, time.perf_counter() - start)
