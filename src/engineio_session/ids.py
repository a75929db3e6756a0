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

from .cookies import cookie_finder
from .signature import Secrets, as_signer

__all__ = ["generate_session_id", "get_session_id", "verify_signed_value"]


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
    signer = as_signer(secrets)
    if not cookie_header:
        return None
    return verify_signed_value(cookie_finder(name)(cookie_header, name), signer)


def verify_signed_value(value: str | None, secrets: Secrets) -> str | None:
    """The id in a (URI-decoded) cookie value ``s:<id>.<mac>`` if it verifies, else None.

    What express-session does with the value it found: only an ``s:`` value is unsigned,
    with each secret in turn; an empty id counts as none.

    >>> from engineio_session import sign
    >>> verify_signed_value("s:" + sign("abc", "k"), "k"), verify_signed_value("abc", "k")
    ('abc', None)
    """
    if not value or value[:2] != "s:":
        return None
    return as_signer(secrets).unsign(value[2:]) or None


def generate_session_id() -> str:
    """A new id like express-session's default ``genid``: ``uid-safe`` with 24 random bytes.

    That is 32 characters of unpadded base64url, from the operating system's CSPRNG.

    >>> len(generate_session_id())
    32
    """
    return _random.token_urlsafe(24)
