"""bm25 requests arriving together are embedded by one ``bm25x.aembed`` call
(``bm25x.app.serve.coalesce``): each answers exactly what it answers alone (vectors, usage,
order), documents and queries apart, different options side by side; a request whose items
fail gets its own error and the others of its call their vectors; other models are not
coalesced."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from support import require
from support.serve import asgi_client, qdrant_body, qdrant_input

import bm25x
from bm25x.app.serve import ServeConfig, create_app
from bm25x.app.serve.coalesce import Coalescer, Embedded
from bm25x.app.serve.config import Limits

require("starlette")

BM25 = "qdrant/bm25"


def body(text: str, *, options: Any = None, inference: str = "update") -> dict[str, Any]:
    return qdrant_body([qdrant_input(text, BM25, options=options)], inference=inference)


REQUESTS = [
    body("Recipe for baking chocolate chip cookies"),
    body("the cookies are baked", inference="search"),
    body("Le chat mange des croquettes", options={"language": "french"}),
    qdrant_body(
        [
            qdrant_input("one two three two", BM25),
            qdrant_input("cookies and cream", "Qdrant/bm25", options={"k": 1.5}),
            qdrant_input("one two three two", BM25),
        ]
    ),
    body("snowball stemmers stem", options={"language": "none"}),
    body("same text", inference="search"),
    body("same text"),
]


def answers(requests: list[dict[str, Any]], *, together: bool) -> tuple[list[Any], int]:
    """The answers (status, JSON) to ``requests`` sent all at once or one by one, and the
    number of coalesced calls made."""

    async def main() -> tuple[list[Any], int]:
        app = create_app(ServeConfig())
        async with asgi_client(app) as client:
            before = app.service.coalescer.calls

            async def send(r: dict[str, Any]) -> Any:
                answer = await client.post("/inference", json=r)
                return answer.status_code, answer.json()

            if together:
                got = await asyncio.gather(*(send(r) for r in requests))
            else:
                got = [await send(r) for r in requests]
            return list(got), app.service.coalescer.calls - before

    return asyncio.run(main())


def test_requests_embedded_together_answer_what_each_answers_alone() -> None:
    together, calls = answers(REQUESTS * 4, together=True)
    alone, _ = answers(REQUESTS * 4, together=False)
    assert together == alone  # vectors, tokens and order, to the last bit
    assert all(status == 200 for status, _ in together)
    # 28 requests: documents and queries apart, and each copy of a text in a call of its
    # own (its tokens are its request's), so four calls per side
    assert calls <= 8
    # and they are bm25x's own vectors
    first = together[0][1]["embeddings"][0]
    assert first == bm25x.Bm25().encode("Recipe for baking chocolate chip cookies").as_qdrant()
    query = together[1][1]["embeddings"][0]
    assert query == bm25x.Bm25().encode_query("the cookies are baked").as_qdrant()


def test_a_request_that_fails_gets_its_error_and_the_others_their_vectors() -> None:
    bad = body("text", options={"language": "klingon"})
    requests = [REQUESTS[0], bad, REQUESTS[2], bad, REQUESTS[4]]
    together, _ = answers(requests, together=True)
    alone, _ = answers(requests, together=False)
    assert together == alone
    assert [status for status, _ in together] == [200, 400, 200, 400, 200]
    assert "klingon" in together[1][1]["error"]


def test_other_models_are_not_coalesced() -> None:
    async def main() -> int:
        app = create_app(ServeConfig(allowed_models=(BM25, "no/such-model")))
        async with asgi_client(app) as client:
            mixed = qdrant_body([qdrant_input("a", BM25), qdrant_input("b", "no/such-model")])
            got = await asyncio.gather(*(client.post("/inference", json=mixed) for _ in range(4)))
            assert all(r.status_code == 400 for r in got), [r.text for r in got]
            return app.service.coalescer.calls

    assert asyncio.run(main()) == 0


# -- the Coalescer alone --------------------------------------------------------------------


def recording(
    fail_on: str | None = None,
) -> tuple[Callable[[list[dict[str, Any]], bool], Awaitable[Embedded]], list[list[str]]]:
    """An embed call that answers each item with its text upper-cased and its length as
    tokens, failing a call that holds ``fail_on``; and the calls it got."""
    calls: list[list[str]] = []

    async def embed(items: list[dict[str, Any]], query: bool) -> Embedded:
        texts = [str(item["text"]) for item in items]
        calls.append(texts)
        await asyncio.sleep(0)
        if fail_on in texts:
            raise ValueError(f"cannot embed {fail_on}")
        return [t.upper() + ("?" if query else "") for t in texts], [len(t) for t in texts]

    return embed, calls


def text_of(item: dict[str, Any]) -> Any:
    return item["text"]


def items(*texts: str) -> list[dict[str, Any]]:
    return [{"text": t, "model": BM25} for t in texts]


def test_one_call_per_loop_turn_and_side_each_caller_its_own_slice() -> None:
    embed, calls = recording()

    async def main() -> list[Any]:
        coalescer = Coalescer(embed, 100, key=text_of)
        return await asyncio.gather(
            coalescer.embed(items("a", "bb"), False),
            coalescer.embed(items("ccc"), True),
            coalescer.embed(items("dddd"), False),
            coalescer.embed(items("e"), True),
        )

    got = asyncio.run(main())
    assert got == [
        (["A", "BB"], [1, 2]),
        (["CCC?"], [3]),
        (["DDDD"], [4]),
        (["E?"], [1]),
    ]
    assert sorted(calls) == [["a", "bb", "dddd"], ["ccc", "e"]]


def test_a_failed_call_runs_each_caller_alone() -> None:
    embed, calls = recording(fail_on="bad")

    async def main() -> list[Any]:
        coalescer = Coalescer(embed, 100, key=text_of)
        return await asyncio.gather(
            coalescer.embed(items("x"), False),
            coalescer.embed(items("bad"), False),
            coalescer.embed(items("y"), False),
            return_exceptions=True,
        )

    x, bad, y = asyncio.run(main())
    assert x == (["X"], [1]) and y == (["Y"], [1])
    assert isinstance(bad, ValueError)
    assert calls == [["x", "bad", "y"], ["x"], ["bad"], ["y"]]


def test_max_items_splits_calls_and_a_caller_that_stopped_waiting_is_left_out() -> None:
    embed, calls = recording()

    async def main() -> list[Any]:
        coalescer = Coalescer(embed, 3, key=text_of)
        gone = asyncio.ensure_future(coalescer.embed(items("gone"), False))
        kept = [coalescer.embed(items(t, t), False) for t in "abc"]
        gone.cancel()
        return await asyncio.gather(*kept)

    got = asyncio.run(main())
    assert got == [([t.upper()] * 2, [1, 1]) for t in "abc"]
    assert calls == [["a", "a"], ["b", "b"], ["c", "c"]]  # 3 items at most; "gone" left out


@pytest.mark.parametrize("together", [True, False])
def test_a_request_over_its_time_budget_times_out(together: bool) -> None:
    """The coalesced call is awaited within the request's own budget."""

    async def main() -> httpx.Response:
        app = create_app(ServeConfig(limits=Limits(request_timeout=0.05)))
        service = app.service

        async def slow(items: list[dict[str, Any]], query: bool) -> Embedded:
            await asyncio.sleep(1)
            raise AssertionError("not reached")

        service.coalescer = Coalescer(slow, 10, key=text_of)
        async with asgi_client(app) as client:
            if together:
                got = await asyncio.gather(
                    *(client.post("/inference", json=REQUESTS[0]) for _ in range(3))
                )
                return got[0]
            return await client.post("/inference", json=REQUESTS[0])

    answer = asyncio.run(main())
    assert answer.status_code == 504, answer.text


def test_metrics_count_the_requests_in_flight() -> None:
    """The in-flight gauge reads the service's own count when /metrics is rendered (one
    process), rather than being updated on every request."""

    async def main() -> list[str]:
        app = create_app(ServeConfig())
        service = app.service
        release = asyncio.Event()

        async def held(items: list[dict[str, Any]], query: bool) -> Embedded:
            await release.wait()
            return [bm25x.Bm25().encode("x")] * len(items), [None] * len(items)

        service.coalescer = Coalescer(held, 10, key=text_of)
        seen = []
        async with asgi_client(app) as client:

            async def gauge() -> str:
                text = (await client.get("/metrics")).text
                return next(x for x in text.splitlines() if x.startswith("bm25x_serve_in_flight"))

            seen.append(await gauge())
            pending = [asyncio.ensure_future(client.post("/inference", json=r)) for r in REQUESTS]
            while service.in_flight < len(REQUESTS):
                await asyncio.sleep(0.01)
            seen.append(await gauge())
            release.set()
            answers = await asyncio.gather(*pending)
            assert all(a.status_code == 200 for a in answers), [a.text for a in answers]
            seen.append(await gauge())
        return seen

    assert asyncio.run(main()) == [
        "bm25x_serve_in_flight_requests 0.0",
        f"bm25x_serve_in_flight_requests {float(len(REQUESTS))}",
        "bm25x_serve_in_flight_requests 0.0",
    ]
