"""A stand-in for a Qdrant server's REST answers on 127.0.0.1: for the benchmark's ``--url``
client-side measurement and for tests of ``--url`` where no Qdrant server can run.

``answer(method, path)`` gives the JSON body to send with 200, or None for 404; every request's
path is recorded, and a request body is read (and dropped) before answering.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["StandInQdrant"]

Answer = Callable[[str, str], "dict[str, Any] | None"]


class StandInQdrant:
    """A threaded HTTP server answering with ``answer``; ``url`` is its base URL."""

    def __init__(self, answer: Answer) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as qdrant-client's pool expects

            def _reply(self) -> None:
                requests.append(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                if length:
                    self.rfile.read(length)
                body = answer(self.command, self.path)
                data = json.dumps(body).encode() if body is not None else b"{}"
                self.send_response(200 if body is not None else 404)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = _reply

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
