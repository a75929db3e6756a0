"""Session ids: reading the signed one from a Cookie header, and making new ones.

``get_session_id`` is express-session's ``getcookie`` for the ``Cookie`` header::

    >>> from engineio_session import sign
    >>> header = "theme=dark; connect.sid=s%3A" + sign("abc", "kitty").replace("/", "%2F")
    >>> get_session_id(header, secrets=["new", "kitty"])
    'abc'
    >>> get_session_id("connect.sid=abc", secrets="kitty") is None   # unsigned: rejected
    True
"""

from __future__ import annotations

import secrets as _random

from .cookies import find_cookie
from .signature import Secrets, Signer, as_signer

__all__ = ["generate_session_id", "get_session_id"]


def get_session_id(
    cookie_header: str | None,
    name: str = "connect.sid",
    *,
    secrets: Secrets,
) -> str | None:
    """The session id in ``cookie_header`` if its ``s:`` signature verifies, else ``None``.

    The cookie is found exactly as ``cookie.parse`` finds it (first occurrence wins), then
    only an ``s:``-prefixed value is verified, with each secret in turn. An empty id, which
    express-session treats as no session at all (``if (!req.sessionID)``), is ``None`` too.

    Unlike the Node plugin engine.io-session 0.0.6, an unsigned value is never taken as an
    id: accepting one would let a client choose its session id (session fixation).
    """
    signer = secrets if type(secrets) is Signer else as_signer(secrets)
    if not cookie_header:
        return None
    raw = find_cookie(cookie_header, name)
    if not raw or raw[:2] != "s:":
        return None
    return signer.unsign(raw[2:]) or None


def generate_session_id() -> str:
    """A new id like express-session's default ``genid``: ``uid-safe`` with 24 random bytes.

    That is 32 characters of unpadded base64url, from the operating system's CSPRNG.

    >>> len(generate_session_id())
    32
    """
    return _random.token_urlsafe(24)
