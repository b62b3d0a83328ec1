"""End-to-end ingest benchmark: how fast documents reach a store, against the steps ingest
does, each measured alone on the same documents, side by side in rounds.

Into an embedded Qdrant Edge shard:

- encode: ``Bm25().encode`` over the texts, in ingest's batches, nothing written;
- write: ``EdgeStore.upsert`` of vectors computed beforehand, in the same batches, with the
  payload ingest writes (the text fingerprint) and the point ids, also computed beforehand
  (ingest makes all three as it goes), and the closing flush;
- ingest: ``bm25x.ingest`` (what ``bm25x ingest`` runs) from the corpus file, which also reads,
  parses and checks the file, and the closing flush.

Over HTTP (``--url``), client side, against stand-ins on 127.0.0.1 that read each request and
store nothing (no Qdrant server can run here), each in its own process:

- url write: ``QdrantStore.upsert`` of the same precomputed vectors, as ``bm25x ingest --url``
  writes them (:mod:`bm25x.app.rest_points`), until the last answer;
- qdrant-client REST / gRPC: the same points through qdrant-client's ``upsert`` (a
  ``PointStruct`` per point; ``prefer_grpc`` to a gRPC stand-in for the second), as bm25x
  wrote them before;
- url ingest: ``bm25x.ingest`` into ``QdrantStore.connect(url)``, end to end.

The corpus is generated deterministically: ``n`` documents cycling through the given short
texts, each made distinct by its number, with ids ``d0``, ``d1``, ... Each measurement runs in a
fresh process, in rounds (each runs every step once) so that a slow spell of the machine hits
all steps alike; rates are documents per second, and ratios are taken per round.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bm25x.app.bench_common import in_process, summarize
from bm25x.app.bench_rest_server import RestServer, ingest_answers

__all__ = ["IngestResult", "generate", "run_ingest"]

BATCH = 512
URL_DOCS = 200_000
"""Documents sent over HTTP at most per measurement (qdrant-client's own path builds a
pydantic object per point: 50 µs each)."""
COLLECTION = "bench"


def generate(texts: Sequence[str], n: int, path: Path) -> Path:
    """Write ``n`` JSONL documents cycling through ``texts`` to ``path`` (once)."""
    if path.exists():
        return path
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for i in range(n):
            f.write(json.dumps({"id": f"d{i}", "text": f"{texts[i % len(texts)]} {i}"}) + "\n")
    tmp.replace(path)
    return path


def _texts(path: Path) -> tuple[list[str], list[str]]:
    from bm25x.app.corpus import read_docs

    docs = list(read_docs(path))
    return [d.id for d in docs], [d.text for d in docs]


def _encode_worker(path: str, out: Any) -> None:
    import bm25x

    _, texts = _texts(Path(path))
    enc = bm25x.Bm25()
    start = time.perf_counter()
    for s in range(0, len(texts), BATCH):
        enc.encode(texts[s : s + BATCH])
    out.put((len(texts), time.perf_counter() - start))


def _write_all(
    store: Any, path: str, limit: int | None = None, with_point_ids: bool = False
) -> tuple[int, float]:
    """Write the first ``limit`` documents' points (all with None) to ``store``, in ingest's
    batches and with the payload ingest writes (the text fingerprint), vectors and payloads
    made beforehand (and the point ids, ``with_point_ids``, which ingest also hands to the
    store), and close it: ``(documents, seconds of writing and closing)``."""
    import bm25x
    from bm25x.app.store import FINGERPRINT, fingerprint
    from bm25x.internals import point_ids

    ids, texts = _texts(Path(path))
    ids, texts = ids[:limit], texts[:limit]
    enc = bm25x.Bm25()
    batches = [enc.encode(texts[s : s + BATCH]) for s in range(0, len(texts), BATCH)]
    payloads = [{FINGERPRINT: fingerprint(t)} for t in texts]
    pids = point_ids(ids) if with_point_ids else None
    start = time.perf_counter()
    for k, batch in enumerate(batches):
        part = slice(k * BATCH, (k + 1) * BATCH)
        given = None if pids is None else pids[part]
        store.upsert(ids[part], payloads[part], batch, None, point_ids=given)
    store.close()  # the last writes answered (a server), or flushed (a shard)
    return len(texts), time.perf_counter() - start


def _write_worker(path: str, store_dir: str, out: Any) -> None:
    from bm25x.app.store import EdgeStore

    store = EdgeStore(store_dir)
    store.create({"bench": True}, None)
    out.put(_write_all(store, path, with_point_ids=True))


def _ingest_worker(path: str, store_dir: str, out: Any) -> None:
    from bm25x.app.ingest import ingest
    from bm25x.app.store import EdgeStore

    store = EdgeStore(store_dir)
    start = time.perf_counter()
    report = ingest(store, path, batch_size=BATCH, quiet=True)
    store.close()
    out.put((report.documents, time.perf_counter() - start))


def _url_write_worker(url: str, path: str, limit: int, out: Any) -> None:
    from bm25x.app.store import QdrantStore

    out.put(_write_all(QdrantStore.connect(url, COLLECTION), path, limit))


def _client_write_worker(url: str, grpc_port: int | None, path: str, limit: int, out: Any) -> None:
    from qdrant_client import QdrantClient

    from bm25x.app.store import QdrantStore

    if grpc_port is None:
        client = QdrantClient(url=url, check_compatibility=False)
    else:
        client = QdrantClient(
            url=url, grpc_port=grpc_port, prefer_grpc=True, check_compatibility=False
        )
    out.put(_write_all(QdrantStore(client, COLLECTION, url), path, limit))


def _url_ingest_worker(url: str, path: str, out: Any) -> None:
    from bm25x.app.ingest import ingest
    from bm25x.app.store import QdrantStore

    store = QdrantStore.connect(url, COLLECTION)
    start = time.perf_counter()
    report = ingest(store, path, batch_size=BATCH, quiet=True)
    store.close()
    out.put((report.documents, time.perf_counter() - start))


# --- the stand-ins, each in a process of its own -------------------------------------------------


def _serve_rest(count: int, out: Any) -> None:
    server = RestServer(ingest_answers(count))
    out.put(server.url)
    while True:
        time.sleep(3600)


def _serve_grpc(out: Any) -> None:
    """qdrant's Points service answering every upsert "completed" (qdrant-client's messages)."""
    from concurrent import futures

    import grpc
    from qdrant_client import grpc as qgrpc
    from qdrant_client.grpc import points_service_pb2_grpc as service

    class Points(service.PointsServicer):
        def Upsert(self, request: Any, context: Any) -> Any:
            result = qgrpc.UpdateResult(operation_id=0, status=qgrpc.UpdateStatus.Completed)
            return qgrpc.PointsOperationResponse(result=result, time=0.0)

    server = grpc.server(
        futures.ThreadPoolExecutor(4), options=[("grpc.max_receive_message_length", 1 << 30)]
    )
    service.add_PointsServicer_to_server(Points(), server)  # type: ignore[no-untyped-call]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    out.put(port)
    server.wait_for_termination()


@contextmanager
def _serving(target: Callable[..., None], *args: Any) -> Iterator[Any]:
    """Run a stand-in in a fresh process; yields what it reports (its address)."""
    ctx = mp.get_context("spawn")
    q = ctx.Queue()
    p = ctx.Process(target=target, args=(*args, q), daemon=True)
    p.start()
    try:
        yield q.get(timeout=60)
    finally:
        p.terminate()
        p.join()


def _has_grpc() -> bool:
    try:
        import grpc  # noqa: F401
        import qdrant_client  # noqa: F401
    except ImportError:
        return False
    return True


# --- the measurement -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    key: str
    label: str
    docs: int
    seconds: list[float]

    def rates(self) -> list[float]:
        return [self.docs / s for s in self.seconds]


@dataclass(frozen=True)
class IngestResult:
    """Every step's seconds per round, and the ratios taken per round."""

    documents: int
    rounds: int
    steps: dict[str, Step]
    ratios: dict[str, list[float]]

    def as_json(self) -> dict[str, Any]:
        return {
            "documents": self.documents,
            "rounds": self.rounds,
            "steps": {
                k: {"label": s.label, "docs": s.docs, "seconds": s.seconds}
                for k, s in self.steps.items()
            },
            "ratios": self.ratios,
        }


LABELS = {
    "encode": "encode alone (all threads)",
    "write": "Edge: write precomputed vectors alone",
    "ingest": "Edge: bm25x ingest (read, check, encode, write)",
    "url_write": "--url: write precomputed vectors (bm25x REST writer)",
    "client_rest": "--url: qdrant-client REST upsert (before)",
    "client_grpc": "--url: qdrant-client gRPC upsert",
    "url_ingest": "--url: bm25x ingest (read, check, encode, write)",
}
RATIOS: dict[str, tuple[str, str, str | None]] = {
    "ingest_vs_write": ("Edge ingest / write alone", "ingest", "write"),
    "ingest_vs_slower": ("Edge ingest / slower of encode and write alone", "ingest", None),
    "url_write_vs_client_rest": ("--url write: bm25x / qdrant-client REST", "url_write",
                                 "client_rest"),
    "url_write_vs_client_grpc": ("--url write: bm25x / qdrant-client gRPC", "url_write",
                                 "client_grpc"),
    "url_ingest_vs_url_write": ("--url ingest / bm25x write alone", "url_ingest", "url_write"),
}  # fmt: skip


def _measure(
    path: Path, n: int, rounds: int, url_docs: int, work: Path, with_url: bool
) -> dict[str, tuple[int, list[float]]]:
    """``{step: (documents, seconds per round)}``."""
    runs: dict[str, tuple[int, list[float]]] = {}

    def record(key: str, result: tuple[int, float]) -> None:
        docs, secs = result
        runs.setdefault(key, (docs, []))[1].append(secs)

    corpus = str(path)
    with _maybe_servers(with_url, n) as (url, grpc_port):
        for r in range(rounds):
            with tempfile.TemporaryDirectory(dir=work) as stores:
                record("encode", in_process("ingest: encode", _encode_worker, corpus))
                record(
                    "write",
                    in_process("ingest: write", _write_worker, corpus, f"{stores}/w{r}"),
                )
                record(
                    "ingest",
                    in_process("ingest: ingest", _ingest_worker, corpus, f"{stores}/i{r}"),
                )
            if url is None:
                continue
            record(
                "url_write",
                in_process("--url write", _url_write_worker, url, corpus, url_docs),
            )
            record(
                "client_rest",
                in_process("qdrant-client REST", _client_write_worker, url, None, corpus, url_docs),
            )
            if grpc_port is not None:
                record(
                    "client_grpc",
                    in_process(
                        "qdrant-client gRPC", _client_write_worker, url, grpc_port, corpus, url_docs
                    ),
                )
            record("url_ingest", in_process("--url ingest", _url_ingest_worker, url, corpus))
    return runs


@contextmanager
def _maybe_servers(with_url: bool, n: int) -> Iterator[tuple[str | None, int | None]]:
    if not with_url:
        yield None, None
        return
    with _serving(_serve_rest, n) as url:
        if not _has_grpc():
            yield url, None
            return
        with _serving(_serve_grpc) as port:
            yield url, port


def _ratios(steps: dict[str, Step]) -> dict[str, list[float]]:
    """Per round: how many times the first step's rate the second's is."""
    out = {}
    for key, (_, top, bottom) in RATIOS.items():
        if top not in steps or (bottom is not None and bottom not in steps):
            continue
        a = steps[top]
        if bottom is None:
            slower = [max(e, w) for e, w in zip(steps["encode"].seconds, steps["write"].seconds)]
            out[key] = [s / t for s, t in zip(slower, a.seconds)]
            continue
        b = steps[bottom]
        out[key] = [ra / rb for ra, rb in zip(a.rates(), b.rates())]
    return out


def run_ingest(
    texts: Sequence[str], n: int, rounds: int = 5, url_docs: int = URL_DOCS, with_url: bool = True
) -> IngestResult:
    """Generate the corpus, run every step ``rounds`` times (each round runs every step once,
    in fresh processes, so that a slow spell of the machine hits all of them alike), print
    their rates and the ratios per round, and return them."""
    work = Path(tempfile.gettempdir()) / "bm25x-bench-ingest"
    work.mkdir(exist_ok=True)
    path = generate(texts, n, work / f"corpus-{n}.jsonl")
    runs = _measure(path, n, rounds, min(url_docs, n), work, with_url)
    steps = {k: Step(k, LABELS[k], docs, secs) for k, (docs, secs) in runs.items()}
    result = IngestResult(n, rounds, steps, _ratios(steps))
    _print(result, path)
    return result


def _print(result: IngestResult, path: Path) -> None:
    mb = path.stat().st_size / 1e6
    print(
        f"\ningest of {result.documents:,} generated documents ({mb:.0f} MB of JSONL), "
        f"{result.rounds} round(s), one fresh process per step and round; --url steps against "
        "stand-ins that store nothing (no Qdrant server runs here):"
    )
    print("| step | documents | seconds (median) | docs/s (median) | docs/s min-max |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for step in result.steps.values():
        med, lo, hi, _ = summarize(step.seconds)
        rate, rlo, rhi, _ = summarize(step.rates())
        print(f"| {step.label} | {step.docs:,} | {med:.2f} | {rate:,.0f} | {rlo:,.0f}-{rhi:,.0f} |")
    print("\n| ratio (per round) | median | min-max |")
    print("| --- | ---: | ---: |")
    for key, values in result.ratios.items():
        med, lo, hi, _ = summarize(values)
        print(f"| {RATIOS[key][0]} | {med:.2f}x | {lo:.2f}-{hi:.2f}x |")
