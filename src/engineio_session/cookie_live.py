"""The session of a connection whose session lives in its cookies (cookie-session).

What ``attach(server, cookie_session=CookieSession(keys=[...]))`` hands to the ``session``
event: the data of the verified ``session`` / ``session.sig`` pair, a mapping like any
session. There is no store: the only way to change the session is a Set-Cookie, and only a
response can carry one. So ``save()`` puts the new cookies on the response of the request
being handled, where that response has not started: the handshake itself (a polling or a
websocket-only handshake under ASGI and aiohttp), or, on Socket.IO, the polling request
that carries the namespace CONNECT. Elsewhere (an event on a websocket, after the upgrade:
no HTTP response is left) ``save()`` raises :class:`CookieSessionSaveError` instead of
dropping the change silently::

    @sio.on("session")
    async def on_session(sid, session):
        session["seen"] = True
        await session.save()       # on the response of the request this runs in, if any

``destroy()`` clears both cookies the same way (cookie-session's ``req.session = null``).
Nothing on the server can revoke such a session: a logout is the browser dropping its
cookies.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any

from .errors import SessionError
from .session import DataMapping

if TYPE_CHECKING:
    from .cookie_session import CookieRead, CookieSession
    from .core import Exchange

__all__ = ["AsyncCookieLiveSession", "CookieLiveSession", "CookieSessionSaveError"]


class CookieSessionSaveError(SessionError):
    """A cookie-session session changed where no response can carry its Set-Cookie."""


class CookieLiveSession(DataMapping):
    """A cookie-session session, on a sync server (``save()`` and ``destroy()`` are plain
    calls); ``.id`` names it in logs and rooms (a digest of its cookie, not a secret)."""

    __slots__ = ("_added", "_cookies", "_data", "_read", "destroyed", "exchange", "id")
    _data: dict[str, Any]

    def __init__(self, read: CookieRead, cookies: CookieSession, exchange: Exchange) -> None:
        self._read = read
        self._cookies = cookies
        self._data = dict(read.data or {})
        #: the exchange whose response a save goes on (Socket.IO: the CONNECT's request)
        self.exchange = exchange
        self._added: list[str] = []
        self.destroyed = False
        value = read.value or ""
        self.id = "cookie:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()[:24]

    @property
    def is_new(self) -> bool:
        """No session came with the request (cookie-session's ``isNew``)."""
        return self._read.data is None

    def expired(self) -> bool:
        return False  # the browser drops an expired cookie; nothing stored can expire

    def _commit(self, data: dict[str, Any] | None) -> None:
        exchange = self.exchange
        if not exchange.open:
            raise CookieSessionSaveError(
                "cookie-session keeps the session in the browser's cookies, and no response "
                "is left to carry a Set-Cookie here (the request was answered, or this is a "
                "websocket): save it during the handshake (the `session` or `connect` "
                "handler), or over HTTP"
            )
        values = self._cookies.commit(self._read, data)
        for value in self._added:  # an earlier save of this request: replaced
            if value in exchange.set_cookie:
                exchange.set_cookie.remove(value)
        exchange.set_cookie.extend(values)
        self._added = values

    def _save(self) -> None:
        if self.destroyed:
            raise CookieSessionSaveError("the session was destroyed")
        self._commit(self._data)

    def _destroy(self) -> None:
        self._commit(None)
        self.destroyed = True

    def save(self) -> None:
        """Send the session's cookies on the current response; CookieSessionSaveError if
        none can carry them."""
        self._save()

    def destroy(self) -> None:
        """Clear both cookies on the current response (``req.session = null``)."""
        self._destroy()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.id!r}, {len(self._data)} keys)"


class AsyncCookieLiveSession(CookieLiveSession):
    """A cookie-session session on an async server: ``await session.save()``."""

    __slots__ = ()

    async def save(self) -> None:  # type: ignore[override]
        """See :meth:`CookieLiveSession.save`."""
        self._save()

    async def destroy(self) -> None:  # type: ignore[override]
        """See :meth:`CookieLiveSession.destroy`."""
        self._destroy()
