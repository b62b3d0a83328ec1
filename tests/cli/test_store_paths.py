"""Where a local store's files go: the store's own name is matched exactly (glob characters in
it are plain characters), and ``--store .`` or ``..`` names the directory they stand for."""

from __future__ import annotations

from pathlib import Path

import pytest

from bm25x.app.store import EdgeStore


@pytest.mark.parametrize("name", ["st[1X]", "st*", "st?", "st[!a]"])
def test_cleaning_leftovers_never_touches_other_stores_folders(tmp_path: Path, name: str) -> None:
    others = [
        tmp_path / ".st1.bm25x-build-123",
        tmp_path / ".stX.bm25x-old-456",
        tmp_path / ".stb.bm25x-build-7",
        tmp_path / f".{name}.bm25x-build-12x",  # not a pid: not ours
    ]
    mine = [tmp_path / f".{name}.bm25x-build-789", tmp_path / f".{name}.bm25x-old-790"]
    for folder in others + mine:
        (folder / "shard").mkdir(parents=True)
    store = EdgeStore(tmp_path / name)
    store.lock(shared=False)  # a writer cleans what an interrupted writer left
    store.close()
    assert [p.exists() for p in others] == [True] * len(others)
    assert [p.exists() for p in mine] == [False] * len(mine)
