"""End-to-end ingest benchmark: how fast documents reach an embedded Qdrant Edge store, against
the two things ingest does, each measured alone on the same documents:

- encode: ``Bm25().encode`` over the texts, in ingest's batches, nothing written;
- write: ``EdgeStore.upsert`` of vectors computed beforehand, in the same batches, with the
  payload ingest writes (the text fingerprint, also computed beforehand);
- ingest: ``bm25x.ingest`` (what ``bm25x ingest`` runs) from the corpus file, which also reads,
  parses and checks the file;
- write over HTTP: what ``--url`` adds on the client side, measured without a Qdrant server
  (none can run here): ``QdrantStore.upsert`` of the same precomputed vectors through
  qdrant-client to a stand-in on 127.0.0.1 that reads each request and answers "completed"
  without storing anything. It is the ceiling the client puts on ``bm25x ingest --url``; a real
  server adds its own write time (the same segment storage as the Edge shard) behind it.

The corpus is generated deterministically: ``n`` documents cycling through the given short
texts, each made distinct by its number, with ids ``d0``, ``d1``, ... Each measurement runs in a
fresh process, in rounds (each runs every step once) so that a slow spell of the machine hits
all steps alike; rates are documents per second, and the ingest ratio is taken per round.
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bm25x.app.bench import in_process
from bm25x.app.stand_in import StandInQdrant

__all__ = ["generate", "run_ingest"]

BATCH = 512
URL_DOCS = 200_000
"""Documents sent over HTTP at most (qdrant-client builds and serializes each point in Python)."""


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
    out.put(time.perf_counter() - start)


def _write_all(store: Any, path: str, limit: int | None = None) -> tuple[int, float]:
    """Write the first ``limit`` documents' points (all with None) to ``store``, in ingest's
    batches and with the payload ingest writes (the text fingerprint), vectors and payloads
    made beforehand: ``(documents, seconds of writing)``."""
    import bm25x
    from bm25x.app.store import FINGERPRINT, fingerprint

    ids, texts = _texts(Path(path))
    ids, texts = ids[:limit], texts[:limit]
    enc = bm25x.Bm25()
    batches = [enc.encode(texts[s : s + BATCH]) for s in range(0, len(texts), BATCH)]
    payloads = [{FINGERPRINT: fingerprint(t)} for t in texts]
    start = time.perf_counter()
    for k, batch in enumerate(batches):
        part = slice(k * BATCH, (k + 1) * BATCH)
        store.upsert(ids[part], payloads[part], batch, None)
    return len(texts), time.perf_counter() - start


def _write_worker(path: str, store_dir: str, out: Any) -> None:
    from bm25x.app.store import EdgeStore

    store = EdgeStore(store_dir)
    store.create({"bench": True}, None)
    _, secs = _write_all(store, path)
    store.close()
    out.put(secs)


def _completed(method: str, path: str) -> dict[str, Any] | None:
    """A point upsert's answer, as a Qdrant server gives it once the write is done."""
    if method == "PUT" and "/points" in path:
        return {"result": {"operation_id": 0, "status": "completed"}, "status": "ok", "time": 0}
    return None


def _url_write_worker(path: str, limit: int, out: Any) -> None:
    from bm25x.app.store import QdrantStore

    stand_in = StandInQdrant(_completed)
    try:
        out.put(_write_all(QdrantStore.connect(stand_in.url, "bench"), path, limit))
    finally:
        stand_in.close()


def _ingest_worker(path: str, store_dir: str, out: Any) -> None:
    from bm25x.app.ingest import ingest
    from bm25x.app.store import EdgeStore

    store = EdgeStore(store_dir)
    start = time.perf_counter()
    ingest(store, path, batch_size=BATCH, quiet=True)
    store.close()
    out.put(time.perf_counter() - start)


def run_ingest(texts: Sequence[str], n: int, rounds: int = 3) -> None:
    """Generate the corpus, run the three measurements ``rounds`` times (each round runs every
    step once, in fresh processes, so that a slow spell of the machine hits all of them alike)
    and print their rates and the ingest ratio per round."""
    from bm25x.app.bench import summarize

    work = Path(tempfile.gettempdir()) / "bm25x-bench-ingest"
    work.mkdir(exist_ok=True)
    path = generate(texts, n, work / f"corpus-{n}.jsonl")
    steps: dict[str, list[float]] = {"encode": [], "write": [], "ingest": []}
    for r in range(rounds):
        with tempfile.TemporaryDirectory(dir=work) as stores:
            steps["encode"].append(in_process("ingest: encode", _encode_worker, str(path)))
            steps["write"].append(
                in_process("ingest: write", _write_worker, str(path), f"{stores}/write{r}")
            )
            steps["ingest"].append(
                in_process("ingest: ingest", _ingest_worker, str(path), f"{stores}/ingest{r}")
            )
    url_docs, url_secs = in_process(
        "ingest: write over HTTP", _url_write_worker, str(path), URL_DOCS
    )
    mb = path.stat().st_size / 1e6
    print(
        f"\ningest of {n:,} generated documents ({mb:.0f} MB of JSONL) into a Qdrant Edge shard, "
        f"{rounds} round(s):"
    )
    print("| step | seconds (median) | docs/s (median) | docs/s min-max |")
    print("| --- | ---: | ---: | ---: |")
    for label, key in [
        ("encode alone (all threads)", "encode"),
        ("write precomputed vectors alone", "write"),
        ("bm25x ingest (read, check, encode, write)", "ingest"),
    ]:
        med, lo, hi, _ = summarize(steps[key])
        print(f"| {label} | {med:.1f} | {n / med:,.0f} | {n / hi:,.0f}-{n / lo:,.0f} |")
    ratios = [max(e, w) / i for e, w, i in zip(steps["encode"], steps["write"], steps["ingest"])]
    med, lo, hi, _ = summarize(ratios)
    print(f"ingest rate / slower of the two alone, per round: {med:.2f} ({lo:.2f}-{hi:.2f})")
    encode = statistics.median(steps["encode"])
    print(
        f"--url, client side: {url_docs / url_secs:,.0f} docs/s writing precomputed vectors "
        f"of the first {url_docs:,} documents through qdrant-client to a stand-in server "
        "that stores nothing (no Qdrant server runs here); `bm25x ingest --url` cannot beat "
        "this, and encoding, pipelined behind it, is "
        f"{(url_secs / url_docs) / (encode / n):.0f}x faster"
    )
