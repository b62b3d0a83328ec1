"""Smoke test of an installed bm25x wheel, run by `make smoke` in a fresh virtual environment
that has only the wheel and its dependencies, on a PATH without cargo or rustc, from a working
directory outside the source tree. It fails for a wheel that works only beside a source tree.

    python smoke.py --reference ../shared/reference

Checks: the package imports from the environment's site-packages (not a source tree), its native
module loads and its version is the distribution's; encoding equals the reference vectors recorded
from Qdrant (qdrant-edge-py 0.9.0) and fastembed 0.9.1; Japanese is split with the compiled-in
model; the `bm25x` command's `demo` runs end to end. The reference folder is skipped, with a
message, only when it is absent outside CI (CI set): in CI its absence is an error.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

import numpy as np

DISTRIBUTION = "bm25x-sparse"
RESULTS: list[tuple[str, str]] = []  # (name, "passed" | "failed: ..." | "skipped: ...")


def check(name: str) -> Callable[[Callable[[], str | None]], None]:
    """Run the check now; it returns None (passed) or "skip: why"; an exception fails it."""

    def run(fn: Callable[[], str | None]) -> None:
        try:
            outcome = fn()
        except Exception as exc:  # every failure is reported, then the next check runs
            RESULTS.append((name, f"failed: {type(exc).__name__}: {exc}"))
        else:
            RESULTS.append((name, "passed" if outcome is None else f"skipped: {outcome}"))
        print(
            f"{RESULTS[-1][1].split(':')[0]:>7}  {name}"
            + ("" if RESULTS[-1][1] == "passed" else f"  ({RESULTS[-1][1].split(': ', 1)[1]})")
        )

    return run


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    where = ap.add_mutually_exclusive_group(required=True)
    where.add_argument("--reference", type=Path, help="folder of the reference vectors")
    where.add_argument(
        "--skip-reference",
        action="store_true",
        help="leave out the reference comparisons (where the vectors are not at hand, as in "
        "the release workflow; CI on the project's machine always has them)",
    )
    args = ap.parse_args()
    in_ci = bool(os.environ.get("CI"))

    @check("no Rust toolchain on PATH")
    def _() -> None:
        found = [tool for tool in ("cargo", "rustc") if shutil.which(tool)]
        assert not found, f"{found} on PATH: the smoke test must run without Rust"

    @check("imports from the environment, not a source tree")
    def _() -> None:
        import bm25x
        import bm25x._native

        site = Path(sysconfig.get_paths()["purelib"]).resolve()
        for module in (bm25x, bm25x._native):
            where = Path(str(module.__file__)).resolve()
            assert site in where.parents, f"{module.__name__} loaded from {where}, not {site}"
        assert bm25x.__version__ == metadata.version(DISTRIBUTION)
        files = [str(f) for f in metadata.files(DISTRIBUTION) or []]
        assert any(f.endswith("licenses/LICENSE") for f in files), "LICENSE not in the wheel"
        assert any(f.endswith("bm25x/app/data/README.md") for f in files), "sample notes missing"

    reference = args.reference

    def references(name: str) -> list[dict[str, object]] | str:
        if reference is None:
            return "--skip-reference"
        path = reference / name
        if path.is_file():
            cases: list[dict[str, object]] = json.loads(path.read_text("utf-8"))["cases"]
            return cases
        if in_ci:
            raise FileNotFoundError(f"{path} (CI is set: the reference vectors must be there)")
        return f"{path} is absent outside CI"

    @check("encode equals Qdrant's vectors (qdrant_edge_py_0.9.0.json)")
    def _() -> str | None:
        import bm25x

        cases = references("qdrant_edge_py_0.9.0.json")
        if isinstance(cases, str):
            return cases
        for case in cases:
            enc = bm25x.Bm25(language=str(case["language"]))
            doc = enc.encode(str(case["text"]))
            assert doc.indices.tolist() == case["doc_indices"], case["text"]
            want = np.asarray(case["doc_values_f32"], dtype=np.float32)
            assert np.array_equal(doc.values, want), case["text"]
            query = enc.encode_query(str(case["text"]))
            assert query.indices.tolist() == case["query_indices"], case["text"]
        assert len(cases) >= 60
        return None

    @check("encode equals fastembed's vectors (fastembed_0.9.1.json)")
    def _() -> str | None:
        import bm25x

        cases = references("fastembed_0.9.1.json")
        if isinstance(cases, str):
            return cases
        for case in cases:
            enc = bm25x.Bm25(flavor="fastembed", language=str(case["language"]))
            doc = enc.encode(str(case["text"]))
            got = dict(zip(doc.indices.tolist(), doc.values.tolist(), strict=True))
            values = np.asarray(case["doc_values_f64"], dtype=np.float64).astype(np.float32)
            indices = list(case["doc_indices"])  # type: ignore[call-overload]
            want = dict(zip(indices, values.tolist(), strict=True))
            assert got == want, case["text"]
            query = enc.encode_query(str(case["text"]))
            assert sorted(query.indices.tolist()) == case["query_indices_sorted"], case["text"]
        assert len(cases) >= 60
        return None

    @check("Japanese is split by the compiled-in vaporetto model")
    def _() -> None:
        import bm25x

        enc = bm25x.Bm25(tokenizer="multilingual", language="none")
        terms = enc.terms("東京都に住んでいます")
        assert "東京" in terms and "住ん" in terms, terms

    @check("`bm25x demo` runs end to end")
    def _() -> None:
        command = shutil.which("bm25x")
        assert command and Path(command).parent == Path(sys.executable).parent, command
        with tempfile.TemporaryDirectory() as tmp:
            done = subprocess.run(
                [command, "demo", "--store", str(Path(tmp) / "demo"), "--json"],
                capture_output=True,
                text=True,
                timeout=600,
                cwd=tmp,
            )
        assert done.returncode == 0, done.stderr[-2000:]
        results = json.loads(done.stdout)
        assert results[0]["hits"][0]["id"] == "amendment-1", results[0]

    passed = sum(outcome == "passed" for _, outcome in RESULTS)
    failed = sum(outcome.startswith("failed") for _, outcome in RESULTS)
    skipped = sum(outcome.startswith("skipped") for _, outcome in RESULTS)
    print(f"smoke: {passed} passed, {failed} failed" + (f", {skipped} skipped" if skipped else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
