"""``python -m bm25x``: the ``bm25x`` command."""

from bm25x._cli import main

if __name__ == "__main__":
    raise SystemExit(main())
