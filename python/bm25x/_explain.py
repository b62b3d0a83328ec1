"""``Bm25.explain``: why a text became the vector it did, token by token."""

from __future__ import annotations

import html
from dataclasses import dataclass

import numpy as np

__all__ = ["Explanation", "ExplanationRow"]


@dataclass(frozen=True)
class ExplanationRow:
    """One raw token and what became of it."""

    raw: str
    """The text as the tokenizer cut it."""
    normalized: str
    """After ASCII folding and lowercasing."""
    dropped: str | None
    """Why the token was dropped (``"stopword"``, a length limit, ...), or ``None``."""
    terms: tuple[str, ...]
    """The terms it contributes (its stem; several for the prefix tokenizer)."""
    ids: tuple[int, ...]
    """The sparse index of each term."""
    weights: tuple[float, ...]
    """The final value of each term in the vector (the same for every occurrence)."""


class Explanation:
    """A token-by-token account of one encoded text. ``str()`` gives a table for a terminal;
    notebooks render it as HTML. ``rows`` holds the data."""

    def __init__(self, text: str, query: bool, rows: list[ExplanationRow]) -> None:
        self.text = text
        self.query = query
        self.rows = rows

    def __len__(self) -> int:
        return len(self.rows)

    def _table(self) -> tuple[list[str], list[list[str]]]:
        header = ["#", "raw", "normalized", "dropped", "term", "id", "weight"]
        body = []
        for i, r in enumerate(self.rows):
            body.append(
                [
                    str(i),
                    r.raw,
                    r.normalized,
                    r.dropped or "",
                    " ".join(r.terms),
                    " ".join(str(x) for x in r.ids),
                    " ".join(str(np.float32(w)) for w in r.weights),
                ]
            )
        return header, body

    def __str__(self) -> str:
        header, body = self._table()
        widths = [max(len(h), *(len(row[c]) for row in body)) for c, h in enumerate(header)]
        lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)).rstrip()]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() for row in body]
        return "\n".join(lines)

    def __repr__(self) -> str:
        kind = "query" if self.query else "document"
        return f"<Explanation of a {kind}: {len(self.rows)} tokens>\n{self}"

    def _repr_html_(self) -> str:
        header, body = self._table()
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        rows = "".join(
            "<tr>" + "".join(f"<td>{html.escape(v)}</td>" for v in row) + "</tr>" for row in body
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"
