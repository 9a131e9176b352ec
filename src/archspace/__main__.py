"""``python -m archspace`` = the ``archspace`` command (process workers need the ``__main__`` guard)."""

import sys

from archspace.cli import main

if __name__ == "__main__":
    sys.exit(main())
