"""Prometheus metrics of the service (prometheus-client), in a registry of the app's own so
that several apps in one process (tests) do not collide.

With several worker processes (``bm25x serve --workers N``), prometheus-client's multiprocess
mode is on (``PROMETHEUS_MULTIPROC_DIR``, set by ``bm25x serve`` for its workers): each worker
writes its values to files there, and ``/metrics``, whichever worker answers it, adds up every
worker's (counters and histograms summed; requests in flight summed over the live workers).

Model labels are bounded in number and in length: the names the service knows (its
configuration's, bm25's) are labels; any other name becomes one only once a request for it has
worked, if it is at most ``MAX_NAME_CHARS`` characters, and while fewer than
``MAX_MODEL_LABELS`` such names have; every other is counted under ``"other"``. So a caller
sending random, long or failing model names cannot grow the metrics (``app._labels``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["CONTENT_TYPE_LATEST", "MAX_MODEL_LABELS", "Metrics", "multiprocess_dir"]

MAX_MODEL_LABELS = 100
_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0)


class Metrics:
    """The counters, gauges and histograms of one app."""

    def __init__(self, in_flight: Callable[[], float] | None = None) -> None:
        """``in_flight``: the requests in flight, read when the metrics are rendered; the
        gauge is then never updated per request (with one process: in multiprocess mode each
        worker adds and takes away its own, see :attr:`counts_in_flight`)."""
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "bm25x_serve_requests", "Inference requests answered, by status", ["status"], registry=r
        )
        self.latency = Histogram(
            "bm25x_serve_request_seconds",
            "Time to answer an inference request",
            ["inference"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.model_latency = Histogram(
            "bm25x_serve_model_request_seconds",
            "Time to answer inference requests that included this model",
            ["model", "provider"],
            buckets=_BUCKETS,
            registry=r,
        )
        self.inputs = Counter(
            "bm25x_serve_inputs",
            "Inputs embedded, by model and provider",
            ["model", "provider"],
            registry=r,
        )
        self.errors = Counter(
            "bm25x_serve_errors",
            "Failed requests, by error, model and provider",
            ["error", "model", "provider"],
            registry=r,
        )
        self.tokens = Counter(
            "bm25x_serve_tokens",
            "Tokens the providers counted for the inputs embedded, by model and provider",
            ["model", "provider"],
            registry=r,
        )
        self.in_flight = Gauge(
            "bm25x_serve_in_flight_requests",
            "Inference requests being answered",
            registry=r,
            multiprocess_mode="livesum",
        )
        #: Whether the service must inc() and dec() :attr:`in_flight` itself.
        self.counts_in_flight = in_flight is None or multiprocess_dir() is not None
        if not self.counts_in_flight:
            self.in_flight.set_function(in_flight)  # type: ignore[arg-type]
        self._models: set[str] = set()
        self._lock = threading.Lock()
        # Children of the labelled metrics, by label values: prometheus-client's labels()
        # builds and checks its key on every call, which every request would pay.
        self._children: dict[tuple[Any, ...], Any] = {}

    def _child(self, metric: Any, *values: str) -> Any:
        key = (id(metric), *values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def request_done(self, status: int, inference: str, elapsed: float) -> None:
        """Count an answered request and its latency."""
        self._child(self.requests, str(status)).inc()
        self._child(self.latency, inference).observe(elapsed)

    def models_done(
        self, models: list[tuple[str, str]], elapsed: float, tokens: Sequence[int | None] = ()
    ) -> None:
        """Count the inputs of a request that worked, per (model, provider) label, their
        tokens where the provider counted them, and its latency once per model."""
        for k, (model, provider) in enumerate(models):
            self._child(self.inputs, model, provider).inc()
            count = tokens[k] if k < len(tokens) else None
            if count:
                self._child(self.tokens, model, provider).inc(count)
        for model, provider in set(models):
            self._child(self.model_latency, model, provider).observe(elapsed)

    def model_label(self, model: str, *, grant: bool) -> str:
        """``model`` if it is a label already, or ``grant`` allows making it one and the
        budget is not spent; else ``"other"``."""
        with self._lock:
            if model in self._models:
                return model
            if grant and len(self._models) < MAX_MODEL_LABELS:
                self._models.add(model)
                return model
        return "other"

    def render(self) -> bytes:
        """The text exposition format: this process's metrics, or every worker's added up in
        multiprocess mode."""
        if not multiprocess_dir():
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry)


def multiprocess_dir() -> str | None:
    """The directory of prometheus-client's multiprocess mode, when it is on."""
    return os.environ.get("PROMETHEUS_MULTIPROC_DIR") or None
