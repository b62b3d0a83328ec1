"""Scratch directories (bm25x.app.scratch) go away however a process ends, and the process's
signal handling is what it was once they are gone. Each case runs in its own process."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

PRELUDE = """
import os, signal, sys
from pathlib import Path
from bm25x.app import scratch
where = Path(sys.argv[1])
"""


def run(tmp_path: Path, body: str) -> subprocess.CompletedProcess[str]:
    script = PRELUDE + textwrap.dedent(body)
    return subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP])
def test_a_terminating_signal_removes_the_directories_and_still_ends_the_process(
    tmp_path: Path, signum: int
) -> None:
    done = run(
        tmp_path,
        f"""
        for i in range(2):
            (scratch.make(where, "x-") / "file").write_bytes(b"data")
        print(len(list(where.iterdir())), flush=True)
        os.kill(os.getpid(), {int(signum)})
        print("survived", flush=True)
        """,
    )
    assert done.returncode == -signum, done.stderr
    assert done.stdout.split() == ["2"]
    assert list(tmp_path.iterdir()) == []


def test_the_programs_own_handler_still_runs(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        """
        signal.signal(signal.SIGTERM, lambda s, f: print("mine", flush=True))
        scratch.make(where, "x-")
        os.kill(os.getpid(), signal.SIGTERM)
        print("went on", flush=True)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["mine", "went", "on"]
    assert list(tmp_path.iterdir()) == []


def test_an_ignored_signal_stays_ignored(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        """
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        made = scratch.make(where, "x-")
        os.kill(os.getpid(), signal.SIGHUP)
        print(made.exists(), flush=True)
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True"]
    assert list(tmp_path.iterdir()) == []  # removed at exit


def test_handlers_are_given_back_when_the_last_directory_goes(tmp_path: Path) -> None:
    done = run(
        tmp_path,
        """
        a, b = scratch.make(where, "x-"), scratch.make(where, "x-")
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        scratch.remove(a)
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        scratch.remove(b)
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        print(sorted(p.name for p in where.iterdir()))
        """,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False", "True", "[]"]


@pytest.mark.parametrize("ending", ["sys.exit(3)", "raise KeyboardInterrupt"])
def test_what_the_code_did_not_remove_goes_at_exit(tmp_path: Path, ending: str) -> None:
    done = run(
        tmp_path,
        f"""
        (scratch.make(where, "x-") / "file").write_bytes(b"data")
        {ending}
        """,
    )
    assert done.returncode != 0
    assert list(tmp_path.iterdir()) == []


def test_a_directory_that_cannot_be_made_is_an_oserror_and_leaves_no_handler(
    tmp_path: Path,
) -> None:
    done = run(
        tmp_path,
        """
        try:
            scratch.make(where / "missing", "x-")
        except OSError as e:
            print(type(e).__name__)
        print(signal.getsignal(signal.SIGTERM) is signal.SIG_DFL)
        """,
    )
    assert done.stdout.split() == ["FileNotFoundError", "True"], done.stderr
