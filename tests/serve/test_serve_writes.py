"""An answer's head and body leave in one write (``bm25x.app.serve.writes``): what a
connection writes during one step of the event loop is sent together at the end of the step,
in order; ``close`` sends what is pending first, ``abort`` drops it, a closed transport takes
nothing more. Under a real uvicorn server (both parsers), each answer is one write."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from support import require

from bm25x.app.serve.writes import BatchedWrites


class FakeTransport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = self.closed = True

    def get_write_buffer_size(self) -> int:
        return 0

    def get_extra_info(self, name: str) -> Any:
        return ("127.0.0.1", 1) if name == "peername" else None


def run(steps: Any) -> FakeTransport:
    fake = FakeTransport()

    async def main() -> None:
        batched = BatchedWrites(fake, asyncio.get_running_loop())  # type: ignore[arg-type]
        await steps(batched)
        await asyncio.sleep(0)

    asyncio.run(main())
    return fake


def test_the_writes_of_one_step_leave_together_in_order() -> None:
    async def steps(w: BatchedWrites) -> None:
        w.write(b"HTTP/1.1 200 OK\r\n\r\n")
        w.write(b"")
        w.writelines([b"bo", memoryview(b"dy")])
        assert w.get_write_buffer_size() == 23
        await asyncio.sleep(0)
        w.write(b"next")
        assert w.get_extra_info("peername") == ("127.0.0.1", 1)  # the transport's own

    assert run(steps).writes == [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next"]


def test_close_sends_first_abort_drops_and_a_closed_transport_takes_nothing() -> None:
    async def closing(w: BatchedWrites) -> None:
        w.write(b"last")
        w.close()
        w.write(b"after close")

    fake = run(closing)
    assert fake.writes == [b"last"] and fake.closed

    async def aborting(w: BatchedWrites) -> None:
        w.write(b"dropped")
        w.abort()

    fake = run(aborting)
    assert fake.writes == [] and fake.aborted


@pytest.mark.parametrize("parser", ["h11", "httptools"])
def test_each_answer_is_one_write_under_uvicorn(
    parser: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uvicorn = require("uvicorn")
    if parser == "httptools":
        require("httptools")
    from support.serve import free_port

    from bm25x.app.serve import transport

    written: list[bytes] = []

    class Recording(BatchedWrites):
        def flush(self) -> None:
            if self._pending and not self._transport.is_closing():
                written.append(b"".join(bytes(d) for d in self._pending))  # one write
            super().flush()

    monkeypatch.setattr(transport, "BatchedWrites", Recording)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok.", "more_body": True})
        await send({"type": "http.response.body", "body": b"!"})

    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=free_port(),
        http=transport.head_timeout_protocol(5, parser=parser),
        lifespan="off",
        log_level="error",
    )
    server = uvicorn.Server(config)

    async def main() -> bytes:
        serving = asyncio.ensure_future(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", config.port)
        got = b""
        for _ in range(2):
            writer.write(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            while not got.endswith(b"0\r\n\r\n"):
                got += await reader.read(65536)
            got += b"#"
        writer.close()
        server.should_exit = True
        await serving
        return got

    got = asyncio.run(main())
    assert got.count(b"HTTP/1.1 200 OK") == 2
    # each answer (head, chunked body, end) in one write, and only the answers were written
    assert len(written) == 2, written
    assert all(a.startswith(b"HTTP/1.1 200 OK") and a.endswith(b"0\r\n\r\n") for a in written)
