"""The repository's habits hold: `make help` lists every target with its purpose, and the
pre-commit hooks run exactly the format and lint commands CI runs (`make test-rust`,
`make lint`)."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from support.strategies import REPO

MAKEFILE = (REPO / "Makefile").read_text(encoding="utf-8")
TARGETS = sorted(set(re.findall(r"^([a-zA-Z][\w-]*):", MAKEFILE, flags=re.M)))


def recipe(target: str) -> list[str]:
    """The commands of ``target``'s recipe, with $(PYTHON) as `python`."""
    body = re.search(rf"^{re.escape(target)}:.*\n((?:\t.*\n)+)", MAKEFILE, flags=re.M)
    assert body is not None, target
    return [line.strip().replace("$(PYTHON)", "python") for line in body.group(1).splitlines()]


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_make_help_lists_every_target() -> None:
    out = subprocess.run(
        ["make", "--no-print-directory", "help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    listed = {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines() if line.strip()}
    assert sorted(listed) == TARGETS
    assert all(purpose.strip() for purpose in listed.values())
    assert "test-quick" in listed and 'pytest -m "not slow" -x -q' in " ".join(recipe("test-quick"))


def test_pre_commit_runs_the_ci_lint_commands() -> None:
    config = (REPO / ".pre-commit-config.yaml").read_text(encoding="utf-8")
    hooks = re.findall(r"^\s+entry: (.+)$", config, flags=re.M)
    ci = [c for c in recipe("test-rust") + recipe("lint") if not c.startswith("cargo test")]
    ci = [c for c in ci if "stubtest" not in c]  # needs the built extension: CI only
    assert sorted(hooks) == sorted(ci)
