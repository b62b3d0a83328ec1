"""Progress bars for long work: rate and ETA on a terminal, silent otherwise."""

from __future__ import annotations

import sys
from types import TracebackType
from typing import Any

__all__ = ["Progress"]


class Progress:
    """A counter shown as a tqdm bar on stderr when stderr is a terminal (and ``quiet`` is
    false); otherwise it does nothing."""

    def __init__(self, total: int | None, desc: str, unit: str = "doc", quiet: bool = False):
        self._bar: Any = None
        if quiet or not sys.stderr.isatty():
            return
        try:
            from tqdm import tqdm
        except ImportError:  # pragma: no cover - tqdm is a dependency
            return
        self._bar = tqdm(
            total=total, desc=desc, unit=unit, unit_scale=True, dynamic_ncols=True, leave=False
        )

    def update(self, n: int) -> None:
        """Count ``n`` more units done."""
        if self._bar is not None:
            self._bar.update(n)

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
