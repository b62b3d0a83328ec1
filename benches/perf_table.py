"""Print the README's performance section from a benchmark run's JSON report:

    python benches/bench_encode.py --ingest-docs 1000000 --json results.json
    python benches/perf_table.py results.json

Every number comes from the report (``bm25x.app.bench_table``); none is copied by hand. Its
"In short" line is the README's claim (``tests/benches/test_perf_page.py`` checks the README,
docs/index.md and docs/performance.md against the committed report).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from bm25x.app.bench_table import render

if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit(f"usage: python {sys.argv[0]} RESULTS.json")
    path = Path(sys.argv[1])
    report = json.loads(path.read_text(encoding="utf-8"))
    sys.stdout.write(render(report, f"python benches/perf_table.py {path.name}"))
