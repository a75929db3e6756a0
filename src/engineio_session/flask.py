"""express-session for Flask: ``flask.session`` is the Node user's session.

::

    from flask import Flask, session
    from engineio_session.flask import ExpressSessionInterface
    from engineio_session.stores import RedisStore

    app = Flask(__name__)
    app.session_interface = ExpressSessionInterface(
        store=RedisStore(redis.Redis()), secret=["new secret", "old secret"]
    )

    @app.get("/me")
    def me():
        session["seen"] = session.get("seen", 0) + 1     # saved with the response
        return {"user": session.get("user")}

The semantics are express-session's, as in :mod:`engineio_session.asgi`: the stored session
when the signed ``connect.sid`` verifies, else a new empty one, saved (with its Set-Cookie)
only if the route changed it; a changed session is saved when the response is made, as
this side's changes applied to what the store holds now. ``session.destroy()`` logs out.

Beside Flask-SocketIO: ``SocketIO(app, manage_session=False)`` leaves ``flask.session`` to
this interface: in each event handler it is opened from the store with the handshake's
cookie, and Flask-SocketIO saves it after an event that changed it (through
``save_session``, as at the end of a request), and ``attach(socketio.server, store=...,
secret=...)`` gives the Socket.IO handlers the ``session`` event and ``sessions.get(sid)``.

Flask's own session flags map onto express-session's: ``session.modified = True`` forces a
save (as changing it would); ``session.permanent`` is whether the cookie has a max age
(setting it changes nothing: the cookie options decide); ``session.new`` is a session the
store has never held.
"""

from __future__ import annotations

from typing import Any, Unpack

from flask.sessions import SessionInterface, SessionMixin

from .drive import run
from .http_session import HttpSessionKeywords, HttpSessionOptions, RequestCycle
from .live import LiveSession
from .wsgi import check_sync_store, request_of

__all__ = ["ExpressSession", "ExpressSessionInterface"]


class ExpressSession(LiveSession, SessionMixin):
    """``flask.session``: a :class:`~engineio_session.live.LiveSession` that Flask accepts."""

    accessed = True

    @property
    def new(self) -> bool:  # type: ignore[override]
        return self.is_new

    @property
    def permanent(self) -> bool:
        return self.cookie.original_max_age is not None

    @permanent.setter
    def permanent(self, value: bool) -> None:
        pass  # the cookie options decide, as in express-session

    @property
    def modified(self) -> bool:
        """Whether it needs saving: set to True, or its data changed since it was loaded or
        last saved (a session never stored: since it was made, empty)."""
        if getattr(self, "forced", False):
            return True
        cycle = getattr(self, "cycle", None)
        if self.is_new and cycle is not None:
            return bool(cycle.original_hash != self.hash())
        return super().modified

    @modified.setter
    def modified(self, value: bool) -> None:
        self.forced = bool(value)


class ExpressSessionInterface(SessionInterface):
    """``app.session_interface = ExpressSessionInterface(store=..., secret=...)``; the options
    are express-session's (see :class:`~engineio_session.http_session.HttpSessionOptions`),
    with a sync store."""

    def __init__(
        self,
        *,
        store: Any,
        **options: Unpack[HttpSessionKeywords],
    ) -> None:
        check_sync_store(store)
        self.store = store
        self.options = HttpSessionOptions(**options)

    def open_session(self, app: Any, request: Any) -> ExpressSession | None:
        cycle = RequestCycle(self.options, self.store, request_of(request.environ))
        cycle.live_class = ExpressSession
        session = run(cycle.begin())
        if session is None:
            return None  # outside the cookie's path: Flask's null session
        session.cycle = cycle
        return session  # type: ignore[no-any-return]

    def save_session(self, app: Any, session: Any, response: Any) -> None:
        cycle = getattr(session, "cycle", None)
        if cycle is None:
            return
        for value in run(cycle.finish(session)):
            response.headers.add("Set-Cookie", value)
