"""The README's performance section, made from one benchmark run's ``--json`` report, so that
no number in it is copied by hand: ``python benches/perf_table.py RESULTS.json``.

Ratios are taken per round (contenders measured in the same round, minutes apart at most) and
shown as the median with the min-max over rounds in brackets. The two-thread model for more
cores uses Karp-Flatt serial fractions: from a speed-up ``S`` on ``p`` threads,
``e = (1/S - 1/p) / (1 - 1/p)``; the control (SHA-256, which shares nothing between threads)
measures what the machine itself takes from a second thread, so bm25x's own serial fraction is
taken as its ``e`` less the control's, and ``1 / (e + (1 - e) / n)`` predicts ``n`` cores.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

__all__ = ["headline", "karp_flatt", "predicted", "render"]

EDGE = "qdrant-edge"
NAMES = {
    EDGE: "qdrant-edge `Bm25`",
    "fastembed": "fastembed `Bm25`",
    "baseline": "pure-Python baseline",
}
MODEL_CORES = 16


def _fmt(values: Sequence[float], unit: str = "×", digits: int = 2) -> str:
    med = statistics.median(values)
    return f"{med:.{digits}f}{unit} ({min(values):.{digits}f}–{max(values):.{digits}f})"


def karp_flatt(speedup: float, threads: int) -> float:
    """The serial fraction that a speed-up of ``speedup`` on ``threads`` threads implies."""
    return (1 / speedup - 1 / threads) / (1 - 1 / threads)


def predicted(serial: float, cores: int) -> float:
    """Amdahl's speed-up on ``cores`` for a serial fraction ``serial``."""
    return 1 / (serial + (1 - serial) / cores)


class _Runs:
    """The report's measurements, looked up by corpus, kind, contender and threads."""

    def __init__(self, report: dict[str, Any]) -> None:
        self.by_key = {
            (m["corpus"], m["kind"], m["contender"], m["threads"]): m
            for m in report["measurements"]
        }
        self.corpora: list[str] = []
        for m in report["measurements"]:
            if m["kind"] == "documents" and m["corpus"] not in self.corpora:
                self.corpora.append(m["corpus"])

    def seconds(self, corpus: str, kind: str, name: str, threads: int) -> list[float] | None:
        m = self.by_key.get((corpus, kind, name, threads))
        return None if m is None else list(m["seconds"])

    def get(self, corpus: str, kind: str, name: str, threads: int) -> dict[str, Any] | None:
        return self.by_key.get((corpus, kind, name, threads))

    def speedups(self, corpus: str, kind: str, name: str) -> list[float] | None:
        """Per round, how many times faster bm25x on one thread is than ``name``."""
        mine, theirs = (self.seconds(corpus, kind, n, 1) for n in ("bm25x", name))
        if mine is None or theirs is None:
            return None
        return [t / m for m, t in zip(mine, theirs)]

    def gains(self, corpus: str, name: str, threads: int = 2) -> list[float] | None:
        """Per round, ``name`` on ``threads`` threads against itself on one, on documents."""
        one, many = (self.seconds(corpus, "documents", name, t) for t in (1, threads))
        if one is None or many is None:
            return None
        return [a / b for a, b in zip(one, many)]


def _documents_label(runs: _Runs, corpus: str) -> str:
    m = runs.get(corpus, "documents", "bm25x", 1)
    count = f" ({m['texts']:,})" if m else ""
    return f"{corpus} documents{count}"


def _ratio_table(runs: _Runs) -> list[str]:
    corpora = runs.corpora
    lines = [
        "| bm25x, 1 thread, vs | " + " | ".join(_documents_label(runs, c) for c in corpora) + " |",
        "| --- |" + " --- |" * len(corpora),
    ]
    rows: list[tuple[str, list[list[float] | None]]] = []
    for name, label in NAMES.items():
        rows.append((label, [runs.speedups(c, "documents", name) for c in corpora]))
    rows.append(("bm25x 2 threads vs 1", [runs.gains(c, "bm25x") for c in corpora]))
    rows.append(("control (SHA-256), 2 threads vs 1", [runs.gains(c, "control") for c in corpora]))
    relative = []
    for c in corpora:
        mine, machine = runs.gains(c, "bm25x"), runs.gains(c, "control")
        relative.append(None if not mine or not machine else [a / b for a, b in zip(mine, machine)])
    rows.append(("bm25x two-thread gain / the control's", relative))
    for label, cells in rows:
        if all(cell is None for cell in cells):
            continue
        shown = [_fmt(cell) if cell else "—" for cell in cells]
        lines.append(f"| {label} | " + " | ".join(shown) + " |")
    return lines


def _rates(runs: _Runs) -> str:
    parts = []
    for threads in (1, 2):
        cells = []
        for c in runs.corpora:
            m = runs.get(c, "documents", "bm25x", threads)
            if m is None:
                continue
            mbs = statistics.median(m["mb"] / s for s in m["seconds"])
            docs = statistics.median(m["texts"] / s for s in m["seconds"])
            cells.append(f"{mbs:.0f} MB/s on {c} ({docs:,.0f} docs/s)")
        if cells:
            parts.append(f"{threads} thread{'s' if threads > 1 else ''}: " + ", ".join(cells))
    queries = [(c, runs.speedups(c, "queries", EDGE)) for c in runs.corpora]
    text = "bm25x (median over processes) " + "; ".join(parts) + "."
    shown = ", ".join(f"{_fmt(v)} on {c}" for c, v in queries if v)
    if shown:
        text += (
            " Queries (the first eight words of each text, one batch) against qdrant-edge: "
            f"{shown}."
        )
    return text


def _latency(runs: _Runs) -> str | None:
    found = [key for key in runs.by_key if key[1] == "latency" and key[2] == "bm25x"]
    if not found:
        return None
    corpus = found[0][0]

    def per_call(name: str) -> list[float] | None:
        m = runs.get(corpus, "latency", name, 1)
        if m is None:
            return None
        return [s / m["texts"] * 1e6 for s in m["seconds"]]

    mine, edge, floor = per_call("bm25x"), per_call(EDGE), per_call("floor")
    assert mine is not None
    n = runs.get(corpus, "latency", "bm25x", 1)
    assert n is not None
    text = (
        f"One short query ({n['texts']:,} queries, the first eight words of each {corpus} "
        f"document, one `encode_query(str)` call each): bm25x {_fmt(mine, ' µs')}"
    )
    if edge:
        text += f", qdrant-edge's `embed_query` {_fmt(edge, ' µs')}"
    if floor:
        text += (
            f", the floor (the same native call returning a `SparseVector` of two empty arrays, "
            f"no encoding) {_fmt(floor, ' µs')}"
        )
    text += "."
    if edge:
        versus = [e / m for m, e in zip(mine, edge)]
        text += f" bm25x against qdrant-edge, per round: {_fmt(versus)}."
    if floor:
        over = [m / f for m, f in zip(mine, floor)]
        text += f" bm25x's time over the floor's, per round: {_fmt(over)}."
    return text


MIN_CONTROL_GAIN = 1.5
"""Below this two-thread gain of the control, the run's second core was busy elsewhere, and
no serial fraction can be read from it."""


def _scaling(runs: _Runs) -> str | None:
    lines = []
    for c in runs.corpora:
        mine, machine = runs.gains(c, "bm25x"), runs.gains(c, "control")
        if not mine or not machine:
            continue
        if statistics.median(machine) < MIN_CONTROL_GAIN:
            lines.append(
                f"{c}: not measurable in this run (the control got "
                f"{statistics.median(machine):.2f}× from a second thread: the machine was busy)"
            )
            continue
        e_mine = karp_flatt(statistics.median(mine), 2)
        e_machine = karp_flatt(statistics.median(machine), 2)
        own = max(e_mine - e_machine, 0.0)
        lines.append(
            f"{c}: serial fraction {e_mine:.3f} (the control's {e_machine:.3f}), bm25x's own "
            f"{own:.3f} -> {predicted(own, MODEL_CORES):.1f}× on {MODEL_CORES} cores"
        )
    if not lines:
        return None
    return (
        "Scaling model (Karp–Flatt serial fraction e = (1/S − 1/2)/(1 − 1/2) from the median "
        "two-thread speed-up S; the control's e is what this machine takes from a second "
        "thread, so bm25x's own is the difference; Amdahl 1/(e + (1 − e)/16)): "
        + "; ".join(lines)
        + "."
    )


def _ingest(ingest: dict[str, Any]) -> list[str]:
    lines = [
        f"Ingest of {ingest['documents']:,} generated short documents, {ingest['rounds']} rounds, "
        "one fresh process per step and round (`--url` steps against stand-ins on 127.0.0.1 "
        "that store nothing):",
        "",
        "| step | documents | docs/s (median) | min–max |",
        "| --- | ---: | ---: | ---: |",
    ]
    for step in ingest["steps"].values():
        rates = [step["docs"] / s for s in step["seconds"]]
        lines.append(
            f"| {step['label']} | {step['docs']:,} | {statistics.median(rates):,.0f} "
            f"| {min(rates):,.0f}–{max(rates):,.0f} |"
        )
    from bm25x.app.bench_ingest import RATIOS

    lines += ["", "| ratio, per round | median (min–max) |", "| --- | --- |"]
    for key, values in ingest["ratios"].items():
        label = RATIOS[key][0] if key in RATIOS else key
        lines.append(f"| {label} | {_fmt(values)} |")
    return lines


def headline(report: dict[str, Any]) -> str:
    """The README's one-line claim, from the same report: the range of bm25x's one-thread
    median speed-ups on documents over the corpora, against qdrant-edge and fastembed
    ("7.3–8.4× as fast as qdrant-edge and 34–41× as fast as fastembed")."""
    runs = _Runs(report)
    parts = []
    for name, digits in ((EDGE, 1), ("fastembed", 0)):
        medians = [
            statistics.median(s)
            for s in (runs.speedups(c, "documents", name) for c in runs.corpora)
            if s
        ]
        if medians:
            low, high = f"{min(medians):.{digits}f}", f"{max(medians):.{digits}f}"
            span = low if low == high else f"{low}–{high}"
            parts.append(f"{span}× as fast as {name}")
    return " and ".join(parts)


def render(
    report: dict[str, Any], command: str = "python benches/perf_table.py RESULTS.json"
) -> str:
    """The performance section's tables and figures, as Markdown."""
    machine = report["machine"]
    runs = _Runs(report)
    load = machine.get("load_before", [0.0])[0], machine.get("load_after", [0.0])[0]
    claim = headline(report)
    # The README's line; none in a run that skipped both qdrant-edge and fastembed.
    in_short = (
        [f"In short, bm25x on one thread (median per corpus, the range over corpora): {claim}.", ""]
        if claim
        else []
    )
    out = [
        f"Measured {machine['date']} on {machine['cpu']} ({machine['cores']} cores, "
        f"{machine['system']}), CPython {machine['python']}, bm25x {machine['bm25x']}; load "
        f"average {load[0]:.1f} before and {load[1]:.1f} after the run; "
        f"{report['options']['processes']} fresh processes per contender, ratios per round as "
        f"median (min–max). Generated by `{command}`.",
        "",
        *in_short,
        *_ratio_table(runs),
        "",
        _rates(runs),
    ]
    for part in (_latency(runs), _scaling(runs)):
        if part:
            out += ["", part]
    if report.get("ingest"):
        out += ["", *_ingest(report["ingest"])]
    return "\n".join(out) + "\n"
