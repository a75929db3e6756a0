"""The exceptions of engineio-session: one base, ``SessionError``.

A rejected cookie is never an exception (it is ``None``); these are for stores and data.
"""

from __future__ import annotations

__all__ = ["SessionError"]


class SessionError(Exception):
    """Base class of every error this library raises on purpose."""
