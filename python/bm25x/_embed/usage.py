"""Token counts of an embed call: :class:`Usage`, filled by ``embed(..., usage=Usage())``.

Providers report what they count (see :class:`bm25x.providers.Embeddings`): the remote APIs
their billed or used tokens per request (OpenAI's and OpenRouter's ``usage.total_tokens``,
Jina's ``usage.total_tokens``, Cohere's ``meta.billed_units``), the local models their own
count per text (bm25: the terms the encoder kept; the local-models provider: the model's
tokenizer's tokens). A count for a whole batch is shared out over the batch's items in
proportion to their length, so that a model's total is exact and each item gets its part of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["Usage", "share"]


@dataclass
class Usage:
    """The tokens an embed call used, once it has run.

    ``tokens``: one entry per item, in order: the tokens its provider counted for it, ``0``
    for an item repeating an earlier one of the same call (embedded once), ``None`` when the
    provider does not say (or the item failed). ``models``: the known counts summed per model
    name, spelled as the items named it.

    >>> import bm25x
    >>> usage = bm25x.Usage()
    >>> _ = bm25x.embed(["the cookies", "baking cookies"], model="qdrant/bm25", usage=usage)
    >>> usage.tokens, usage.models
    ([1, 2], {'qdrant/bm25': 3})
    """

    tokens: list[int | None] = field(default_factory=list)
    models: dict[str, int] = field(default_factory=dict)

    def fill(self, tokens: Sequence[int | None], names: Sequence[str | None]) -> None:
        """Set the call's counts (``tokens`` and the model ``names`` of its items)."""
        self.tokens = list(tokens)
        self.models = {}
        for count, name in zip(tokens, names):
            if count is not None and name is not None:
                self.models[name] = self.models.get(name, 0) + count


def share(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` shared out in proportion to ``weights`` (largest remainders; the parts add up
    to ``total``).

    >>> share(10, [1, 1, 2]), share(3, [5, 0, 5]), share(0, [1, 2])
    ([3, 2, 5], [2, 0, 1], [0, 0])
    """
    whole = sum(weights)
    if whole <= 0:
        weights, whole = [1] * len(weights), len(weights)
    exact = [total * w / whole for w in weights]
    parts = [int(x) for x in exact]
    order = sorted(range(len(weights)), key=lambda i: parts[i] - exact[i])
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts
