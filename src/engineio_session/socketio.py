"""The Socket.IO adapter: ``attach()`` on ``socketio.Server`` and ``socketio.AsyncServer``.

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

import functools
import logging
from collections.abc import Callable
from typing import Any

from .drive import Call, Plan, arun, run
from .engineio import AsyncSessionHandle, EngineIOAdapter, SessionHandle
from .hooks import engineio as engineio_hooks
from .hooks import socketio as hooks
from .live import AsyncLiveSession, LiveSession
from .options import AttachOptions

__all__ = ["RESERVED_EVENTS", "AsyncSocketIOSessionHandle", "SocketIOSessionHandle"]

logger = logging.getLogger("engineio_session")

#: event names a client packet may not carry: only the server fires them
RESERVED_EVENTS = ("session", "connect", "disconnect")


def forged(data: Any) -> bool:
    """Whether a client event (python-socketio's decoded ``data``) names a reserved event.

    python-socketio dispatches ``data[0]``; the same expression is read here.

    >>> forged(["session", {}]), forged(["buy", 1]), forged(None)
    (True, False, False)
    """
    try:
        name = data[0]
    except Exception:
        return False  # python-socketio fails on it the same way
    if isinstance(name, str) and name in RESERVED_EVENTS:
        logger.warning("dropped a %r event sent by a client: only the server fires it", name)
        return True
    return False


class SocketIOAdapter(EngineIOAdapter[Any]):
    """What the Socket.IO handles add to the Engine.IO ones: the namespace connect (with
    ``auth``), each event, and closing every namespace first."""

    fires_on_handshake = False  # per namespace, after its connect handler accepted
    _keeps_environs = True

    def __init__(self, sio: Any, store: Any, options: AttachOptions) -> None:
        super().__init__(sio.eio, store, options)
        self._sio = sio

    def _hook(self) -> None:
        super()._hook()
        hooks.wrap_socketio(self._sio, self._on_connect, self._on_event)

    def _eio_sid(self, sid: str, namespace: str) -> str | None:
        if sid in self._sessions:
            return sid
        return hooks.eio_sid_of(self._sio, sid, namespace)

    def _on_connect(
        self, original: Callable[..., Any], eio_sid: str, namespace: str | None, auth: Any
    ) -> Any:
        return self._drive(self._namespace_connect(original, eio_sid, namespace or "/", auth))

    def _on_event(
        self, original: Callable[..., Any], eio_sid: str, namespace: str, id: Any, data: Any
    ) -> Any:
        return self._drive(self._event(original, eio_sid, namespace, id, data))

    def _namespace_connect(
        self, original: Callable[..., Any], eio_sid: str, namespace: str, auth: Any
    ) -> Plan[Any]:
        """A namespace CONNECT: a session from ``auth`` when the handshake brought none,
        ``required``, then python-socketio's own connect, then ``session``."""
        session_id = None if eio_sid in self._sessions else self._options.auth_session_id(auth)
        if session_id is not None:
            session, failed = yield from self._load(session_id, "a CONNECT with auth")
            if session is not None:
                self._sessions[eio_sid] = session
                self._publish(eio_sid, session)
                self._start_watch()
            elif failed and self._options.reject_on_store_error():
                return (yield Call(hooks.refuse, self._sio, eio_sid, namespace, "Unauthorized"))
        if self._options.required and eio_sid not in self._sessions:
            return (yield Call(hooks.refuse, self._sio, eio_sid, namespace, "Unauthorized"))
        session = self._sessions.get(eio_sid)
        if session is not None and hasattr(session, "exchange"):
            # cookie-session: a save goes on the response of the request that carried this
            # CONNECT (a polling POST can take a Set-Cookie; a websocket frame cannot)
            current = engineio_hooks.current_exchange()
            session.exchange = current if current is not None else session.exchange
        result = yield Call(original, eio_sid, namespace, auth)
        session = self._sessions.get(eio_sid)
        sid = hooks.socket_sid(self._sio, eio_sid, namespace)
        if session is not None and sid is not None:
            rooms = self._options.session_rooms
            if rooms is not None:
                yield Call(self._sio.enter_room, sid, rooms + session.id, namespace)
            trigger = functools.partial(hooks.trigger, self._sio, "session", namespace)
            yield from self._fire_handler(trigger, sid, session)
        return result

    def send_to_session(self, session_id: str, data: Any) -> Any:
        """Engine.IO's raw messages would break Socket.IO's protocol: use emit_to_session."""
        raise TypeError("a Socket.IO server sends events: use emit_to_session()")

    def _event_plan(
        self, session_id: str, event: Any, data: Any = None, namespace: str = "/"
    ) -> Plan[int]:
        """Emit ``event`` to every connection of ``session_id``: to its room (every process
        sharing a client manager), or, without rooms, to this process's connections."""
        rooms = self._options.session_rooms
        if rooms is not None:
            emit = functools.partial(self._sio.emit, room=rooms + session_id, namespace=namespace)
            yield Call(emit, event, data)
            return -1  # how many: only the client managers know
        sent = 0
        for eio_sid in self._sids_of(session_id):
            sid = hooks.socket_sid(self._sio, eio_sid, namespace)
            if sid is not None:
                yield Call(
                    functools.partial(self._sio.emit, to=sid, namespace=namespace), event, data
                )
                sent += 1
        return sent

    def _event(
        self, original: Callable[..., Any], eio_sid: str, namespace: str, id: Any, data: Any
    ) -> Plan[Any]:
        if forged(data):
            return None
        reload = self._options.reload and eio_sid in self._sessions
        if reload and not (yield from self._refresh(eio_sid)):
            return None
        return (yield Call(original, eio_sid, namespace, id, data))

    def _fire_plan(self, sid: str, session: Any) -> Plan[None]:
        return
        yield  # fired per namespace instead

    def _close_plan(self, sid: str) -> Plan[None]:
        # a Socket.IO DISCONNECT per namespace first: the client sees "io server
        # disconnect" and does not reconnect with the dead cookie
        for namespace, socket_sid in hooks.connected_namespaces(self._sio, sid):
            disconnect = functools.partial(self._sio.disconnect, namespace=namespace)
            yield Call(disconnect, socket_sid)
        yield from super()._close_plan(sid)


class SocketIOSessionHandle(SocketIOAdapter, SessionHandle):
    """The sessions of a ``socketio.Server``'s connections."""

    def emit_to_session(
        self, session_id: str, event: str, data: Any = None, namespace: str = "/"
    ) -> None:
        """Emit ``event`` to every connection (every tab) of session ``session_id``, in every
        process that shares this server's client manager (through the session's room)."""
        run(self._event_plan(session_id, event, data, namespace))

    def get(self, sid: str, namespace: str = "/") -> LiveSession | None:
        """The live session of Socket.IO connection ``sid`` (or of an Engine.IO sid)."""
        eio_sid = self._eio_sid(sid, namespace)
        return self._sessions.get(eio_sid) if eio_sid is not None else None


class AsyncSocketIOSessionHandle(SocketIOAdapter, AsyncSessionHandle):
    """The sessions of a ``socketio.AsyncServer``'s connections."""

    async def emit_to_session(
        self, session_id: str, event: str, data: Any = None, namespace: str = "/"
    ) -> None:
        """See :meth:`SocketIOSessionHandle.emit_to_session`."""
        await arun(self._event_plan(session_id, event, data, namespace))

    def get(self, sid: str, namespace: str = "/") -> AsyncLiveSession | None:
        """The live session of Socket.IO connection ``sid`` (or of an Engine.IO sid)."""
        eio_sid = self._eio_sid(sid, namespace)
        return self._sessions.get(eio_sid) if eio_sid is not None else None
