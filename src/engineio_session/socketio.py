"""``attach()`` for python-socketio: the Express session in every Socket.IO handler.

::

    sio = socketio.AsyncServer(async_mode="asgi")
    sessions = attach(sio, store=AsyncRedisStore(redis.asyncio.Redis()), secret="keyboard cat")

    @sio.on("session")                  # fired by the server only: a client cannot emit it
    async def on_session(sid, session):
        await sio.emit("hello", session["user"], to=sid)

    @sio.event
    async def connect(sid, environ, auth):
        session = environ["engineio_session.session"]     # or sessions.get(sid); None if none

    @sio.event
    async def buy(sid, item):
        session = sessions.get(sid)
        session["cart"] = [*session.get("cart", []), item]
        await session.save()

The handshake is the Engine.IO one: the cookie is read, verified and loaded there (HTTP 401
with ``required=True``). ``session`` then fires once per namespace the client connects to,
after the namespace's ``connect`` handler accepted, with the Socket.IO sid; decorator
handlers, class-based namespaces (``on_session``) and catch-alls receive it.

A client cannot forge it: every client event passes through python-socketio's own decoder
(whatever the serializer, binary attachments joined) and an event named ``session``,
``connect`` or ``disconnect`` (the names only the server fires; socket.io-client refuses to
emit the last two) is dropped and logged before any handler sees it. Without that a client
could call ``@sio.on("session")``, or the application's ``connect`` handler with an
``environ`` of its choosing, holding a forged ``engineio_session.session``.

``auth_key="session"`` lets a client that cannot send cookies put the signed value
(``s:<id>.<mac>``) in its ``auth`` payload instead (``io(url, {auth: {session: ...}})``);
it is verified exactly like the cookie, when the namespace CONNECT arrives and before the
namespace's ``connect`` handler runs. With ``required=True`` such a server lets a handshake
without a cookie through and refuses (``connect_error`` "Unauthorized") a namespace CONNECT
that brings no valid session either way.

``reload=True`` reads the session again before each event, before python-socketio starts
the event's handler, so the handler sees what the Node app last saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from . import _compat
from .engineio import (
    ENVIRON_SESSION,
    AsyncSessionHandle,
    SessionHandle,
    _maybe_await,
    _Options,
    check_store,
    hook_engineio,
    session_id_from_value,
)
from .live import AsyncLiveSession, LiveSession

__all__ = ["RESERVED_EVENTS", "AsyncSocketIOSessionHandle", "SocketIOSessionHandle"]

logger = logging.getLogger("engineio_session")

#: event names a client packet may not carry: only the server fires them
RESERVED_EVENTS = ("session", "connect", "disconnect")


def _forged(data: Any) -> bool:
    """Whether a client event (python-socketio's decoded ``data``) names a reserved event.

    python-socketio dispatches ``data[0]``; the same expression is read here.
    """
    try:
        name = data[0]
    except Exception:
        return False  # python-socketio fails on it the same way
    if isinstance(name, str) and name in RESERVED_EVENTS:
        logger.warning("dropped a %r event sent by a client: only the server fires it", name)
        return True
    return False


class _SocketIOMixin:
    """What the Socket.IO handles share on top of the Engine.IO ones."""

    fires_on_handshake = False  # per namespace, after its connect handler accepted
    sio: Any
    sessions: dict[str, Any]
    options: _Options
    _start_watch: Callable[[], None]

    def _eio_sid(self, sid: str, namespace: str) -> str | None:
        if sid in self.sessions:
            return sid
        return _compat.socketio_eio_sid(self.sio, sid, namespace)

    def _publish(self, sid: str, session: Any) -> None:
        environ = self.sio.environ.get(sid)
        if environ is not None:
            environ[ENVIRON_SESSION] = session

    def _adopt_auth_session(self, eio_sid: str, session: Any) -> None:
        self.sessions[eio_sid] = session
        self._publish(eio_sid, session)
        self._start_watch()

    def _auth_session_id(self, auth: Any) -> str | None:
        key = self.options.auth_key
        if key is None or not isinstance(auth, dict):
            return None
        value = auth.get(key)
        return session_id_from_value(value if isinstance(value, str) else None, self.options.signer)


class SocketIOSessionHandle(_SocketIOMixin, SessionHandle):
    """The sessions of a ``socketio.Server``'s connections."""

    def __init__(self, sio: Any, store: Any, options: _Options) -> None:
        super().__init__(sio.eio, store, options)
        self.sio = sio

    def get(self, sid: str, namespace: str = "/") -> LiveSession | None:
        """The live session of Socket.IO connection ``sid`` (or of an Engine.IO sid)."""
        eio_sid = self._eio_sid(sid, namespace)
        return self.sessions.get(eio_sid) if eio_sid is not None else None

    def _on_connect(
        self, original: Callable[..., Any], eio_sid: str, namespace: str | None, auth: Any
    ) -> Any:
        namespace = namespace or "/"
        session_id = None if eio_sid in self.sessions else self._auth_session_id(auth)
        if session_id is not None and not self._session_from_auth(eio_sid, session_id):
            return _compat.socketio_refuse(self.sio, eio_sid, namespace, "Unauthorized")
        if self.options.required and eio_sid not in self.sessions:
            return _compat.socketio_refuse(self.sio, eio_sid, namespace, "Unauthorized")
        result = original(eio_sid, namespace, auth)
        session = self.sessions.get(eio_sid)
        sid = _compat.socketio_sid(self.sio, eio_sid, namespace)
        if session is not None and sid is not None:
            try:
                _compat.socketio_trigger(self.sio, "session", namespace, sid, session)
            except Exception:
                logger.exception("session handler error")
        return result

    def _session_from_auth(self, eio_sid: str, session_id: str) -> bool:
        """Load the session the ``auth`` payload named; False to refuse the namespace."""
        session, failed = self._load(session_id, "a CONNECT with auth")
        if session is not None:
            self._adopt_auth_session(eio_sid, session)
        return not (failed and self.options.reject_on_store_error())

    def _on_event(
        self, original: Callable[..., Any], eio_sid: str, namespace: str, id: Any, data: Any
    ) -> Any:
        if _forged(data):
            return None
        if self.options.reload and eio_sid in self.sessions and not self._refresh(eio_sid):
            return None
        return original(eio_sid, namespace, id, data)

    def _close_connection(self, sid: str) -> None:
        # a Socket.IO DISCONNECT per namespace first: the client sees "io server
        # disconnect" and does not reconnect with the dead cookie
        for namespace, socket_sid in _compat.socketio_connected_namespaces(self.sio, sid):
            self.sio.disconnect(socket_sid, namespace=namespace, ignore_queue=True)
        self.eio.disconnect(sid)


class AsyncSocketIOSessionHandle(_SocketIOMixin, AsyncSessionHandle):
    """The sessions of a ``socketio.AsyncServer``'s connections."""

    def __init__(self, sio: Any, store: Any, options: _Options) -> None:
        super().__init__(sio.eio, store, options)
        self.sio = sio

    def get(self, sid: str, namespace: str = "/") -> AsyncLiveSession | None:
        """The live session of Socket.IO connection ``sid`` (or of an Engine.IO sid)."""
        eio_sid = self._eio_sid(sid, namespace)
        return self.sessions.get(eio_sid) if eio_sid is not None else None

    async def _on_connect(
        self, original: Callable[..., Any], eio_sid: str, namespace: str | None, auth: Any
    ) -> Any:
        namespace = namespace or "/"
        session_id = None if eio_sid in self.sessions else self._auth_session_id(auth)
        if session_id is not None and not await self._session_from_auth(eio_sid, session_id):
            return await _compat.socketio_refuse(self.sio, eio_sid, namespace, "Unauthorized")
        if self.options.required and eio_sid not in self.sessions:
            return await _compat.socketio_refuse(self.sio, eio_sid, namespace, "Unauthorized")
        result = await original(eio_sid, namespace, auth)
        session = self.sessions.get(eio_sid)
        sid = _compat.socketio_sid(self.sio, eio_sid, namespace)
        if session is not None and sid is not None:
            try:
                await _maybe_await(
                    _compat.socketio_trigger(self.sio, "session", namespace, sid, session)
                )
            except Exception:
                logger.exception("session handler error")
        return result

    async def _session_from_auth(self, eio_sid: str, session_id: str) -> bool:
        """See :meth:`SocketIOSessionHandle._session_from_auth`."""
        session, failed = await self._load(session_id, "a CONNECT with auth")
        if session is not None:
            self._adopt_auth_session(eio_sid, session)
        return not (failed and self.options.reject_on_store_error())

    async def _on_event(
        self, original: Callable[..., Any], eio_sid: str, namespace: str, id: Any, data: Any
    ) -> Any:
        if _forged(data):
            return None
        if self.options.reload and eio_sid in self.sessions and not await self._refresh(eio_sid):
            return None
        return await original(eio_sid, namespace, id, data)

    async def _close_connection(self, sid: str) -> None:
        for namespace, socket_sid in _compat.socketio_connected_namespaces(self.sio, sid):
            await self.sio.disconnect(socket_sid, namespace=namespace, ignore_queue=True)
        await _compat.async_disconnect(self.eio, sid)


def attach_socketio(sio: Any, options: _Options, store: Any) -> Any:
    """``attach`` for a socketio.Server / AsyncServer: hooks its ``sio.eio`` handshake and
    its namespace connects and events."""
    _compat.check_server(sio.eio)
    _compat.check_socketio(sio)
    handle: SocketIOSessionHandle | AsyncSocketIOSessionHandle
    if check_store(sio.eio, store):
        handle = AsyncSocketIOSessionHandle(sio, store, options)
    else:
        handle = SocketIOSessionHandle(sio, store, options)
    hook_engineio(sio.eio, handle)
    _compat.wrap_socketio(sio, handle._on_connect, handle._on_event)
    return handle
