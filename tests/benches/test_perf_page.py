"""The performance figures users read come from the committed benchmark report alone: the
generated section of docs/performance.md is exactly what ``benches/perf_table.py`` prints for
``benches/results.json``, and the front door's one-line claim is that report's ranges."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bm25x.app.bench_table import headline, render

ROOT = Path(__file__).resolve().parents[2]
REPORT = json.loads((ROOT / "benches" / "results.json").read_text(encoding="utf-8"))


def test_performance_page_holds_the_generated_section() -> None:
    section = render(REPORT, "python benches/perf_table.py results.json")
    page = (ROOT / "docs" / "performance.md").read_text(encoding="utf-8")
    assert section in page, "regenerate it: python benches/perf_table.py benches/results.json"


@pytest.mark.parametrize("page", ["README.md", "docs/index.md"])
def test_front_door_claim_is_the_reports(page: str) -> None:
    text = " ".join((ROOT / page).read_text(encoding="utf-8").split())
    claim = headline(REPORT)
    assert f"on one thread, {claim} (medians on three corpora)" in text, claim


def test_headline_takes_the_range_of_the_medians() -> None:
    def run(corpus: str, contender: str, seconds: list[float]) -> dict[str, object]:
        return {
            "corpus": corpus,
            "kind": "documents",
            "contender": contender,
            "threads": 1,
            "texts": 1,
            "mb": 1.0,
            "seconds": seconds,
        }

    report = {
        "measurements": [
            run("a", "bm25x", [1.0, 1.0, 1.0]),
            run("a", "qdrant-edge", [7.0, 8.0, 50.0]),  # median 8.0, not the mean
            run("b", "bm25x", [2.0, 2.0, 2.0]),
            run("b", "qdrant-edge", [15.0, 15.0, 15.0]),  # 7.5
            run("a", "fastembed", [40.0, 40.0, 40.0]),
        ]
    }
    assert headline(report) == "7.5–8.0× as fast as qdrant-edge and 40× as fast as fastembed"
