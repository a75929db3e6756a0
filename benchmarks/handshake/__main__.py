"""``python -m benchmarks.handshake --help``: see benchmarks/handshake/run.py."""

import sys

from .run import main

if __name__ == "__main__":  # not when pytest's --doctest-modules imports it
    sys.exit(main())
