"""`bm25x search --vector NAME` on a backfilled vector gives the ranking (and the scores) of a
collection ingested from scratch with the same model and options: queries are encoded as the
vector's record says."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from support import require
from support.backfill import Where, docs, points_of, where

from bm25x.app.cli import main
from bm25x.app.cli.commands import sample_corpus

require("qdrant_client")
require("qdrant_edge")

from support.local_qdrant import LocalQdrant

QUERIES = ["freedom of speech", "trial by jury", "taxes on incomes", "the right of the people"]
OPTIONS = ["-O", "k=1.5", "-O", "b=0.6"]


@pytest.fixture
def server() -> Iterator[LocalQdrant]:
    stand_in = LocalQdrant()
    yield stand_in
    stand_in.close()


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    status = main(list(argv))
    out, err = capsys.readouterr()
    return status, out, err


def same_ranking(
    a: list[list[tuple[int, str, float]]], b: list[list[tuple[int, str, float]]]
) -> None:
    """The same scores, rank by rank, and the same documents at each score; documents tied
    at the last score may differ (ties are ordered by point id, which differ)."""
    assert [[score for _, _, score in hits] for hits in a] == [
        [score for _, _, score in hits] for hits in b
    ]
    for x, y in zip(a, b):
        last = x[-1][2] if x else None
        for score in {s for _, _, s in x if s != last}:
            assert {i for _, i, s in x if s == score} == {i for _, i, s in y if s == score}


def ranking(capsys: Any, *argv: str) -> list[list[tuple[int, str, float]]]:
    status, out, err = run(capsys, "search", "--json", "-k", "10", *argv, *QUERIES)
    assert status == 0, err
    return [[(h["rank"], h["id"], h["score"]) for h in r["hits"]] for r in json.loads(out)]


@pytest.mark.parametrize("kind", ["edge", "server"])
def test_search_on_a_backfilled_vector_ranks_as_an_ingested_collection(
    kind: str, tmp_path: Path, server: LocalQdrant, capsys: Any
) -> None:
    ingested = (
        ["--store", str(tmp_path / "ingested")]
        if kind == "edge"
        else ["--url", server.url, "--collection", "ingested"]
    )
    corpus = str(sample_corpus())
    status, _, err = run(capsys, "ingest", corpus, *ingested, *OPTIONS, "--avg-len", "40", "-q")
    assert status == 0, err

    coll = where(kind, tmp_path, server)
    coll.create(points_of(docs()))  # dense only; payload: doc_id and text
    argv = [*coll.argv, "--vector", "bm25", "--from-field", "text", *OPTIONS, "-O", "avg_len=40"]
    status, _, err = run(capsys, "backfill", *argv, "-q")
    assert status == 0, err

    expected = ranking(capsys, *ingested)
    assert all(expected) and sum(len(hits) for hits in expected) > 20
    same_ranking(ranking(capsys, *coll.argv, "--vector", "bm25"), expected)


def test_a_bm25x_store_gains_a_second_vector_that_ranks_as_the_first(
    tmp_path: Path, capsys: Any
) -> None:
    store = ["--store", str(tmp_path / "s")]
    status, _, err = run(capsys, "ingest", str(sample_corpus()), *store, "--store-text", "-q")
    assert status == 0, err
    status, _, err = run(capsys, "backfill", *store, "--vector", "again", "--from-field", "text")
    assert status == 0, err
    assert ranking(capsys, *store, "--vector", "again") == ranking(capsys, *store)  # same ids
    # The store is still the ingest's: searching and ingesting it again work as before.
    status, _, err = run(capsys, "ingest", str(sample_corpus()), *store, "--store-text", "-q")
    assert status == 0, err


def test_search_refuses_a_vector_without_a_record_or_unfinished(
    tmp_path: Path, capsys: Any, monkeypatch: Any
) -> None:
    from bm25x.app.backfill import backfill
    from bm25x.app.backfill.edge import EdgeTarget

    coll: Where = where("edge", tmp_path)
    coll.create(points_of(docs()))
    status, _, err = run(capsys, "search", *coll.argv, "--vector", "dense", "cats")
    assert status == 2 and "no record of how vector 'dense' was filled" in err

    real = EdgeTarget.write

    def failing(self: Any, *args: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(EdgeTarget, "write", failing)
    with pytest.raises(KeyboardInterrupt):
        backfill(store=coll.path, vector="bm25", from_field="text", quiet=True)
    monkeypatch.setattr(EdgeTarget, "write", real)
    status, _, err = run(capsys, "search", *coll.argv, "--vector", "bm25", "cats")
    assert status == 2 and "the backfill of vector 'bm25'" in err and "did not finish" in err


def test_the_qdrant_client_wrapper_encodes_for_a_recorded_vector_as_recorded(
    tmp_path: Path, server: LocalQdrant, capsys: Any
) -> None:
    """A remote client would encode ``Qdrant/bm25`` Documents in the server's flavour; for a
    vector filled with fastembed's flavour (k=1.5), the record wins: queries and new points
    get what the stored points got."""
    from qdrant_client import models

    import bm25x
    import bm25x.qdrant
    from bm25x.qdrant import resolve_bm25

    coll = where("server", tmp_path, server)
    coll.create(points_of(docs()))
    argv = [*coll.argv, "--vector", "fe", "--from-field", "text", "--model", "Qdrant/bm25"]
    status, _, err = run(capsys, "backfill", *argv, "-O", "k=1.5", "-q")
    assert status == 0, err

    resolved: list[Any] = []

    def spy(items: Any, query: bool) -> Any:
        out = resolve_bm25(items, query)
        resolved.extend(out)
        return out

    client = bm25x.qdrant.Client(url=server.url, check_compatibility=False, resolver=spy)
    text = "read_settings_file of the people"
    fastembed = bm25x.Bm25(flavor="fastembed", k=1.5)
    assert fastembed.encode_query(text) != bm25x.Bm25().encode_query(text)  # flavours differ

    for model in ("Qdrant/bm25", "qdrant/bm25"):
        resolved.clear()
        doc = models.Document(text=text, model=model)
        client.query_points(coll.name, query=doc, using="fe", limit=3)
        assert resolved == [fastembed.encode_query(text)]
    # A sparse vector without a record: the remote client's own routing (server flavour).
    idf = models.SparseVectorConfig(modifier=models.Modifier.IDF)
    client.create_vector_name(coll.name, "plain", models.SparseVectorNameConfig(sparse=idf))
    resolved.clear()
    doc = models.Document(text=text, model="Qdrant/bm25")
    client.query_points(coll.name, query=doc, using="plain", limit=3)
    assert resolved == [bm25x.Bm25().encode_query(text)]
    # A new point written through the wrapper gets the recorded encoding too.
    resolved.clear()
    point = models.PointVectors(
        id=0, vector={"fe": models.Document(text=text, model="qdrant/bm25")}
    )
    client.update_vectors(coll.name, [point])
    assert resolved == [fastembed.encode(text)]
    client.close()


def test_the_async_wrapper_reads_the_record_too(
    tmp_path: Path, server: LocalQdrant, capsys: Any
) -> None:
    import asyncio

    from qdrant_client import models

    import bm25x
    from bm25x.qdrant import AsyncClient, resolve_bm25

    coll = where("server", tmp_path, server)
    coll.create(points_of(docs()[:20]))
    argv = [*coll.argv, "--vector", "fe", "--from-field", "text", "--model", "Qdrant/bm25"]
    assert run(capsys, "backfill", *argv, "-q")[0] == 0
    resolved: list[Any] = []

    def spy(items: Any, query: bool) -> Any:
        out = resolve_bm25(items, query)
        resolved.extend(out)
        return out

    async def query() -> None:
        client = AsyncClient(url=server.url, check_compatibility=False, resolver=spy)
        doc = models.Document(text="read_settings_file", model="qdrant/bm25")
        await client.query_points(coll.name, query=doc, using="fe", limit=3)
        await client.close()

    asyncio.run(query())
    assert resolved == [bm25x.Bm25(flavor="fastembed").encode_query("read_settings_file")]
