"""Stand-ins for fastembed model classes whose weights no PyPI package ships small enough
(sparse, late interaction, image), shared by the embed and serve tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


class _FakeSparse:
    def __init__(self, indices: list[int], values: list[float]) -> None:
        self.indices = np.asarray(indices)
        self.values = np.asarray(values)


class _StandIn:
    """Stands in for a fastembed model class whose weights no PyPI package ships small enough
    (sparse, late interaction, image): same constructor and embed/query_embed shape."""

    kind = ""

    def __init__(
        self,
        model_name: str,
        cache_dir: str | None = None,
        threads: int | None = None,
        **kwargs: Any,
    ) -> None:
        self.model_name = model_name
        self.kwargs = {"cache_dir": cache_dir, "threads": threads, **kwargs}

    def embed(self, inputs: Any) -> Iterator[Any]:
        for x in inputs:
            if isinstance(x, Path):  # fastembed opens image paths itself
                from PIL import Image as PILImage

                with PILImage.open(x) as opened:
                    x = opened.copy()
            if self.kind == "sparse":
                yield _FakeSparse([9, 2, 5], [0.5, 0.25, 1.0])
            elif self.kind == "late":
                yield np.arange(6, dtype=np.float64).reshape(3, 2)
            else:
                yield np.asarray([float(getattr(x, "size", (0, 0))[0]), 1.0])

    def query_embed(self, inputs: Any) -> Iterator[Any]:
        for _ in inputs:
            yield _FakeSparse([7], [1.0]) if self.kind == "sparse" else np.ones((1, 2))
