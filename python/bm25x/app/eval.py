"""Retrieval quality on a BEIR-format dataset: nDCG@10 and recall@100."""

from __future__ import annotations

import math
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bm25x.app.corpus import load_beir
from bm25x.app.ingest import AvgLen, ingest
from bm25x.app.search import search
from bm25x.app.store import EdgeStore, Store

__all__ = ["EvalReport", "evaluate", "ndcg_at", "recall_at"]


def ndcg_at(ranking: Sequence[str], judged: Mapping[str, int], k: int = 10) -> float:
    """Normalised discounted cumulative gain of the first ``k`` results, with graded gains
    (the relevance scores themselves) and a log2 discount, as trec_eval computes it.

    >>> ndcg_at(["a", "x", "b"], {"a": 1, "b": 1}, k=10)
    0.9197207891481876
    """
    dcg = sum(judged.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:k]))
    ideal = sorted((g for g in judged.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at(ranking: Sequence[str], judged: Mapping[str, int], k: int = 100) -> float:
    """Share of the relevant documents (score > 0) found in the first ``k`` results.

    >>> recall_at(["a", "x"], {"a": 1, "b": 2, "c": 0})
    0.5
    """
    relevant = {d for d, g in judged.items() if g > 0}
    return len(relevant.intersection(ranking[:k])) / len(relevant) if relevant else 0.0


@dataclass(frozen=True)
class EvalReport:
    """Mean scores over the judged queries."""

    ndcg_at_10: float
    recall_at_100: float
    queries: int
    documents: int
    ingest_seconds: float
    search_seconds: float

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return dict(self.__dict__)


def evaluate(
    folder: str | Path,
    *,
    flavor: str = "qdrant",
    options: dict[str, Any] | None = None,
    avg_len: AvgLen = None,
    store: Store | None = None,
    split: str = "test",
    threads: int | None = None,
    quiet: bool = False,
) -> EvalReport:
    """Ingest a BEIR folder's corpus (title and text) into ``store`` (by default a temporary
    Qdrant Edge shard), run its judged queries and score the rankings."""
    beir = load_beir(Path(folder), split)
    with tempfile.TemporaryDirectory(prefix="bm25x-eval-") as tmp:
        target = store if store is not None else EdgeStore(Path(tmp) / "shard")
        try:
            report = ingest(
                target,
                beir.corpus,
                flavor=flavor,
                options=options,
                avg_len=avg_len,
                recreate=store is None,
                threads=threads,
                quiet=quiet,
            )
            ids = list(beir.queries)
            started = time.perf_counter()
            results = search(target, [beir.queries[q] for q in ids], limit=100, threads=threads)
            seconds = time.perf_counter() - started
        finally:
            if store is None:
                target.close()
    rankings = {q: [h.id for h in hits] for q, hits in zip(ids, results)}
    n = len(ids)
    return EvalReport(
        ndcg_at_10=sum(ndcg_at(rankings[q], beir.qrels[q], 10) for q in ids) / n,
        recall_at_100=sum(recall_at(rankings[q], beir.qrels[q], 100) for q in ids) / n,
        queries=n,
        documents=report.documents,
        ingest_seconds=report.seconds,
        search_seconds=seconds,
    )
