"""Where a local store's files go: the store's own name is matched exactly (glob characters in
it are plain characters), and ``--store .`` or ``..`` names the directory they stand for."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bm25x.app.cli import main
from bm25x.app.cli.commands import sample_corpus
from bm25x.app.ingest import ingest
from bm25x.app.store import EdgeStore, StoreError


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


def test_store_dot_in_an_empty_folder_builds_the_store_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    here = tmp_path / "idx"
    here.mkdir()
    inode = here.stat().st_ino
    monkeypatch.chdir(here)
    assert main(["ingest", str(sample_corpus()), "--store", ".", "-q"]) == 0, capsys.readouterr()
    # the folder the shell is in is the store (the same folder, not a new one in its place)
    assert Path.cwd().stat().st_ino == inode and here.stat().st_ino == inode
    assert sorted(p.name for p in here.iterdir()) == ["bm25x.json", "shard"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".idx.lock", "idx"]  # no build left
    assert main(["search", "--store", ".", "--json", "congress"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["hits"]
    # a second ingest resumes it, under the same lock as `--store ../idx`
    monkeypatch.chdir(tmp_path)
    assert main(["ingest", str(sample_corpus()), "--store", "idx/shard/..", "-q"]) == 0


def test_recreating_or_dropping_the_store_a_shell_is_in_keeps_its_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    here = tmp_path / "idx"
    monkeypatch.chdir(tmp_path)
    assert main(["ingest", str(sample_corpus()), "--store", "idx", "-q"]) == 0
    inode = here.stat().st_ino
    monkeypatch.chdir(here)
    argv = ["ingest", str(sample_corpus()), "--store", ".", "--recreate", "-O", "k=1.5", "-q"]
    assert main(argv) == 0, capsys.readouterr()
    # the shell's folder is still the store, rebuilt with the new options, nothing left over
    assert Path.cwd().stat().st_ino == inode and here.stat().st_ino == inode
    assert sorted(p.name for p in here.iterdir()) == ["bm25x.json", "shard"]
    assert json.loads((here / "bm25x.json").read_text())["options"]["k"] == 1.5
    assert sorted(p.name for p in tmp_path.iterdir()) == [".idx.lock", "idx"]
    assert main(["search", "--store", ".", "--json", "congress"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["hits"]
    store = EdgeStore(Path("."))
    store.lock(shared=False)
    store.drop()
    store.close()
    assert Path.cwd().stat().st_ino == inode and list(here.iterdir()) == []


def test_a_link_to_a_store_is_the_store_under_one_lock(tmp_path: Path) -> None:
    real = tmp_path / "real"
    link = tmp_path / "link"
    link.symlink_to(real, target_is_directory=True)
    holder = EdgeStore(link)
    holder.lock(shared=False)
    try:
        with pytest.raises(StoreError, match="in use by another process"):
            EdgeStore(real).lock(shared=False)
    finally:
        holder.close()
    store = EdgeStore(link)
    ingest(store, sample_corpus(), quiet=True)
    store.close()
    store = EdgeStore(link)
    ingest(store, sample_corpus(), options={"k": 1.5}, recreate=True, quiet=True)
    store.close()
    assert link.is_symlink() and (link / "bm25x.json").exists()  # the target was rebuilt
    assert sorted(p.name for p in tmp_path.iterdir()) == [".real.lock", "link", "real"]


def test_a_create_that_fails_leaves_no_build_beside_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bm25x.app.store.edge as st

    def fail(*args: object) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(st, "_write_json", fail)
    store = EdgeStore(tmp_path / "s")
    with pytest.raises(OSError, match="Input/output error"):
        ingest(store, sample_corpus(), quiet=True)
    store.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".s.lock"]
