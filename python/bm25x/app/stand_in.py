"""A stand-in for a Qdrant server's REST answers on 127.0.0.1: for the benchmark's ``--url``
client-side measurement and for tests of ``--url`` where no Qdrant server can run.

``answer(method, path)`` gives the JSON body to send with 200, a ``(status, body)`` pair to
send another status, or None for 404; raising :class:`Drop` closes the connection without an
answer. Every request's path is recorded, and a request body is read before answering (and
kept, with the method, path and headers, in ``received`` when ``keep`` is set).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Drop", "Received", "StandInQdrant"]

Answer = Callable[[str, str], "dict[str, Any] | tuple[int, dict[str, Any]] | None"]


class Drop(Exception):
    """Raised by an answer: the connection is closed with no answer (a server gone away)."""


@dataclass(frozen=True)
class Received:
    """One request as the stand-in read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class StandInQdrant:
    """A threaded HTTP server answering with ``answer``; ``url`` is its base URL."""

    def __init__(self, answer: Answer, keep: bool = False) -> None:
        self.requests: list[str] = []
        self.received: list[Received] = []
        requests, received = self.requests, self.received

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as qdrant-client's pool expects
            # The headers and the body go out as two writes: with Nagle's algorithm the body
            # waits for the client's delayed acknowledgement of the headers (40 ms a request
            # on Linux), which a real server does not add.
            disable_nagle_algorithm = True

            def _reply(self) -> None:
                requests.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                if keep:
                    headers = {k.lower(): v for k, v in self.headers.items()}
                    received.append(Received(self.command, self.path, headers, body))
                try:
                    reply = answer(self.command, self.path)
                except Drop:
                    self.close_connection = True
                    return
                status, content = reply if isinstance(reply, tuple) else (200, reply)
                data = json.dumps(content).encode() if content is not None else b"{}"
                self.send_response(status if content is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_PATCH = do_DELETE = _reply

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
