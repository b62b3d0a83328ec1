"""``python -m bm25x``: the ``bm25x`` command."""

from bm25x.app.cli import main

if __name__ == "__main__":
    raise SystemExit(main())
