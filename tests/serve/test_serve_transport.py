"""The request-head deadline of both HTTP protocols the service runs on (httptools when it is
installed, h11 otherwise), each under a real uvicorn server on 127.0.0.1: half a request line
is closed after ``limits.header_timeout``; a head that finishes in time is answered and its
connection kept; the next request's head has the same deadline from its first byte."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from support import require
from support.serve import closed_by_server, free_port

uvicorn = require("uvicorn")

from bm25x.app.serve.transport import head_timeout_protocol


async def _app(scope: Any, receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    headers = [(b"content-length", b"3")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": b"ok."})


@pytest.fixture(params=["h11", "httptools"])
def port(request: pytest.FixtureRequest) -> Iterator[int]:
    if request.param == "httptools":
        require("httptools")
    protocol = head_timeout_protocol(0.5, parser=request.param)
    config = uvicorn.Config(
        _app, host="127.0.0.1", port=free_port(), http=protocol, lifespan="off", log_level="error"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    yield config.port
    server.should_exit = True
    thread.join(timeout=10)


def test_an_unfinished_request_head_is_closed(port: int) -> None:
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /inference HTT")  # half a request line, then nothing
        assert closed_by_server(sock, within=10)
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"GET /healthz HTTP/1.1\r\n")
        time.sleep(0.2)
        sock.sendall(b"Host: bm25x\r\n\r\n")
        sock.settimeout(10)
        answer = b""
        while not answer.endswith(b"ok."):
            chunk = sock.recv(1024)
            assert chunk, f"closed after {answer!r}"
            answer += chunk
        assert answer.startswith(b"HTTP/1.1 200 ")
        time.sleep(1.0)  # idle between requests: the keep-alive's business, not the head's
        sock.sendall(b"GET /healthz HTTP/1.1\r\nHo")
        assert closed_by_server(sock, within=10)
