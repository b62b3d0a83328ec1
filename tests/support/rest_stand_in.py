"""A stand-in for a Qdrant server's REST answers on 127.0.0.1, for tests of ``--url`` where no
Qdrant server can run: the benchmark's server (:class:`bm25x.app.bench_rest_server.RestServer`)
that also records every request's path, keeps each request whole when asked (``keep``), and
closes the connection unanswered when an answer raises :class:`Drop`."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from typing import Any

from bm25x.app.bench_rest_server import Answer, RestServer

__all__ = ["Drop", "Received", "StandInQdrant"]


class Drop(Exception):
    """Raised by an answer: the connection is closed with no answer (a server gone away)."""


@dataclass(frozen=True)
class Received:
    """One request as the stand-in read it."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class StandInQdrant(RestServer):
    """A threaded HTTP server answering with ``answer``; ``url`` is its base URL, ``requests``
    the path of every request, ``received`` every request whole (with ``keep``)."""

    def __init__(self, answer: Answer, keep: bool = False) -> None:
        self.requests: list[str] = []
        self.received: list[Received] = []
        self._keep = keep
        super().__init__(answer)

    def reply(
        self, method: str, path: str, headers: Message, body: bytes
    ) -> tuple[int, Any] | None:
        self.requests.append(path)
        if self._keep:
            kept = {k.lower(): v for k, v in headers.items()}
            self.received.append(Received(method, path, kept, body))
        try:
            return self.respond(method, path, body)
        except Drop:
            return None
