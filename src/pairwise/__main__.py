"""``python -m pairwise``: the command line (as ``pairwise``)."""

import sys

from pairwise.cli import main

if __name__ == "__main__":  # pragma: no cover - run as a module
    sys.exit(main())
