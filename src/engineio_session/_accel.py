"""The optional C accelerator of the handshake's hot path, or None.

``_speedups.c`` answers what the pure-Python functions answer for the spellings Node
writes, and hands every other input back to them (tests/test_speedups.py holds the two to
the same answers). It is built where a C compiler is found at install time; without it,
or with ``ENGINEIO_SESSION_PURE=1`` in the environment, everything runs in Python::

    >>> speedups is None or callable(speedups.signed_id)
    True
"""

from __future__ import annotations

import os
from types import ModuleType

__all__ = ["speedups"]


def _load() -> ModuleType | None:
    if os.environ.get("ENGINEIO_SESSION_PURE", "") not in ("", "0"):
        return None
    try:
        from . import _speedups
    except ImportError:
        return None
    return _speedups


speedups = _load()
