"""``python -m benchmarks.handshake --help``: see benchmarks/handshake/run.py."""

import sys

from .run import main

sys.exit(main())
