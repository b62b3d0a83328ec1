"""The Qdrant REST server the benchmark's ``--url`` measurement writes to (``bm25x bench``,
:mod:`bm25x.app.bench_ingest`): on 127.0.0.1, it reads each request whole and answers it as a
server that takes every write of an ingest (:func:`ingest_answers`), storing nothing, so that
what is measured is the client's side alone.

``answer(method, path)`` gives the JSON body to send with 200, a ``(status, body)`` pair to
send another status, or None for 404.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = ["Answer", "RestServer", "ingest_answers"]

Answer = Callable[[str, str], "dict[str, Any] | tuple[int, dict[str, Any]] | None"]


class RestServer:
    """A threaded HTTP server answering with ``answer``; ``url`` is its base URL."""

    def __init__(self, answer: Answer) -> None:
        self._answer = answer
        reply = self.reply

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive, as qdrant-client's pool expects
            # The headers and the body go out as two writes: with Nagle's algorithm the body
            # waits for the client's delayed acknowledgement of the headers (40 ms a request
            # on Linux), which a real server does not add.
            disable_nagle_algorithm = True

            def _reply(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                answered = reply(self.command, self.path, self.headers, raw)
                if answered is None:
                    self.close_connection = True
                    return
                status, body = answered
                data = json.dumps(body).encode() if body is not None else b"{}"
                self.send_response(status)
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

    def reply(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, Any] | None:
        """The answer to one request read whole: :meth:`respond`'s. A subclass may look at
        every request here, or return None to close the connection with no answer."""
        return self.respond(method, path, body)

    def respond(self, method: str, path: str, body: bytes) -> tuple[int, Any]:
        """The status and JSON body answering one request: ``answer``'s body with 200, the
        ``(status, body)`` pair it gives, or 404 when it gives None."""
        found = self._answer(method, path)
        if found is None:
            return 404, None
        if isinstance(found, tuple):
            return found
        return 200, found

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def ingest_answers(count: int) -> Callable[[str, str], dict[str, Any] | None]:
    """A Qdrant server's answers to an ingest, as if it held ``count`` points afterwards: no
    collection at first, then every write taken."""
    ok: dict[str, Any] = {"status": "ok", "time": 0}

    def answer(method: str, path: str) -> dict[str, Any] | None:
        if path.endswith("/exists"):
            return {"result": {"exists": False}, **ok}
        if "/points/count" in path:
            return {"result": {"count": count}, **ok}
        if method == "PUT" and "/points" in path:
            return {"result": {"operation_id": 0, "status": "completed"}, **ok}
        if method in ("PUT", "PATCH"):
            return {"result": True, **ok}
        return None

    return answer
