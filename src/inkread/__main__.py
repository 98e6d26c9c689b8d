"""``python -m inkread``: the same as the ``inkread`` command."""

from .cli import main

if __name__ == "__main__":
    raise SystemExit(main())
