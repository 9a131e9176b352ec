"""``python -m archspace.cli``."""

import sys

from archspace.cli import main

sys.exit(main())
