"""bm25x.qdrant.wrap around AsyncQdrantClient (the same methods, awaited), and the warning
when bm25 vectors go into a sparse vector without the IDF modifier (once per collection)."""

from __future__ import annotations

import asyncio
import warnings
from typing import Any

import pytest
from support import require

require("qdrant_client")
from qdrant_client import AsyncQdrantClient, QdrantClient, models

import bm25x
import bm25x.qdrant as bq
from bm25x.errors import MissingIdfWarning

TEXTS = ["cats purr softly", "dogs bark loudly", "volcanoes erupt lava", "cats and dogs play"]


def doc(text: str, model: str = "qdrant/bm25") -> models.Document:
    return models.Document(text=text, model=model)


def points() -> list[models.PointStruct]:
    return [models.PointStruct(id=i, vector={"bm25": doc(t)}) for i, t in enumerate(TEXTS)]


def test_async_wrapper_equals_sync_wrapper() -> None:
    sync = bq.wrap(QdrantClient(":memory:"))
    sync.create_collection_for("docs", {"bm25": "qdrant/bm25"})
    sync.upsert("docs", points())
    want = sync.query_points("docs", query=doc("cats"), using="bm25").points

    async def run() -> tuple[Any, Any, Any]:
        client = bq.wrap(AsyncQdrantClient(":memory:"))
        assert isinstance(client, bq.AsyncClient)
        await client.create_collection_for("docs", {"bm25": "qdrant/bm25"})
        await client.upsert("docs", points())
        await client.update_vectors(
            "docs", [models.PointVectors(id=3, vector={"bm25": doc(TEXTS[3])})]
        )
        got = await client.query_points("docs", query=doc("cats"), using="bm25")
        batch = await client.query_batch_points(
            "docs", [models.QueryRequest(query=doc("dogs"), using="bm25")]
        )
        (record,) = await client.retrieve("docs", [2], with_vectors=True)  # passed through
        await client.close()
        return got.points, batch[0].points, record

    got, batch, record = asyncio.run(run())
    assert [(p.id, p.score) for p in got] == [(p.id, p.score) for p in want]
    assert sorted(p.id for p in batch) == [1, 3]
    vec = bm25x.Bm25().encode(TEXTS[2])
    assert record.vector["bm25"].indices == vec.indices.tolist()


def no_idf_client() -> bq.Client:
    client = bq.wrap(QdrantClient(":memory:"))
    client.create_collection(
        "plain",
        vectors_config={},
        sparse_vectors_config={"bm25": models.SparseVectorParams()},
    )
    return client


def test_upsert_into_a_sparse_vector_without_idf_warns_once() -> None:
    client = no_idf_client()
    with pytest.warns(MissingIdfWarning, match="'bm25' of collection 'plain'"):
        client.upsert("plain", points()[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.upsert("plain", points()[2:])  # checked once per collection, cached
    assert client.count("plain").count == 4
    # a collection with the modifier is silent
    client.create_collection_for("idf", {"bm25": "qdrant/bm25"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        client.upsert("idf", points())
    # recreating the collection checks again
    client.delete_collection("plain")
    client.create_collection(
        "plain", vectors_config={}, sparse_vectors_config={"bm25": models.SparseVectorParams()}
    )
    with pytest.warns(MissingIdfWarning):
        client.upsert("plain", points())


def test_async_upsert_without_idf_warns() -> None:
    async def run() -> None:
        client = bq.wrap(AsyncQdrantClient(":memory:"))
        await client.create_collection(
            "plain", vectors_config={}, sparse_vectors_config={"bm25": models.SparseVectorParams()}
        )
        with pytest.warns(MissingIdfWarning):
            await client.upsert("plain", points())
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            await client.upsert("plain", points())
        await client.close()

    asyncio.run(run())


def test_async_client_refuses_mixed_arguments() -> None:
    with pytest.raises(TypeError, match="either client="):
        bq.AsyncClient(":memory:", client=AsyncQdrantClient(":memory:"))


def test_async_wrapper_takes_strict_options() -> None:
    # Not connected: nothing is sent, the resolver refuses first.
    remote = AsyncQdrantClient(url="http://127.0.0.1:9", check_compatibility=False)
    client = bq.wrap(remote, strict_options=True)
    assert isinstance(client, bq.AsyncClient)
    german = models.Document(text="Kekse", model="qdrant/bm25", options={"language": "German"})
    with pytest.raises(bm25x.OptionError, match="strict_options=True"):
        client.resolver([german], False)


def test_async_uploads_resolve_documents_as_the_sync_client_does() -> None:
    # upload_points and upload_collection are plain methods in AsyncQdrantClient too; the
    # async wrapper defines both (before, upload_collection came from the sync Client).
    async def run() -> list[Any]:
        client = bq.wrap(AsyncQdrantClient(":memory:"))
        await client.create_collection_for("docs", {"bm25": "qdrant/bm25"})
        client.upload_points("docs", points()[:2])
        client.upload_collection("docs", [{"bm25": doc(t)} for t in TEXTS[2:]], ids=[2, 3])
        records = await client.retrieve("docs", [0, 1, 2, 3], with_vectors=True)
        await client.close()
        return sorted(records, key=lambda r: r.id)

    records = asyncio.run(run())
    assert [r.id for r in records] == [0, 1, 2, 3]
    for record, text in zip(records, TEXTS):
        assert record.vector["bm25"].indices == bm25x.Bm25().encode(text).indices.tolist()
    assert {"upload_points", "upload_collection"} <= set(vars(bq.AsyncClient))
    assert not asyncio.iscoroutinefunction(bq.AsyncClient.upload_collection)
