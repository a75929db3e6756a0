"""``attach()`` for python-socketio: the Express session in every Socket.IO handler.

::

    sio = socketio.AsyncServer(async_mode="asgi")
    sessions = attach(sio, store=AsyncRedisStore(redis.asyncio.Redis()), secret="keyboard cat")

    @sio.on("session")                  # fired by the server only: a client cannot emit it
    async def on_session(sid, session):
        await sio.emit("hello", session["user"], to=sid)

    @sio.event
    async def connect(sid, environ, auth):
        session = environ["engineio_session.session"]     # or sessions.get(sid)

The handshake is the Engine.IO one: the cookie is read, verified and loaded there (HTTP 401
with ``required=True``). ``session`` then fires once per namespace the client connects to,
after the namespace's ``connect`` handler accepted, with the Socket.IO sid. A client packet
that emits an event named ``session`` is dropped, so the event cannot be forged.

``auth_key="session"`` lets a client that cannot send cookies put the signed value
(``s:<id>.<mac>``) in its ``auth`` payload instead (``io(url, {auth: {session: ...}})``);
it is verified exactly like the cookie, when the namespace CONNECT arrives.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from . import _compat
from .engineio import (
    ENVIRON_SESSION,
    AsyncSessionHandle,
    SessionHandle,
    _maybe_await,
    _Options,
    attach_engineio,
    session_id_from_value,
)
from .errors import SessionError
from .live import AsyncLiveSession, LiveSession

__all__ = ["AsyncSocketIOSessionHandle", "SocketIOSessionHandle", "attach_socketio"]

logger = logging.getLogger("engineio_session")
_decoder = json.JSONDecoder()

# Socket.IO packet types (socket.io-protocol v5)
_CONNECT, _EVENT, _BINARY_EVENT = "0", "2", "5"


def packet_head(text: str) -> tuple[str, str, int]:
    """(type, namespace, index where the JSON payload starts) of a Socket.IO text packet.

    >>> packet_head('2/chat,17["session",{}]')
    ('2', '/chat', 9)
    >>> packet_head('51-["x",{"_placeholder":true,"num":0}]')
    ('5', '/', 3)
    """
    kind = text[:1]
    index = 1
    if kind in ("5", "6"):
        dash = text.find("-", index)
        index = dash + 1 if dash != -1 else len(text)
    namespace = "/"
    if text.startswith("/", index):
        comma = text.find(",", index)
        end = comma if comma != -1 else len(text)
        namespace = text[index:end]
        index = end + 1 if comma != -1 else end
    while index < len(text) and text[index].isdigit():
        index += 1
    return kind, namespace, index


def event_name(text: str, start: int) -> Any:
    """The first element of the JSON array at ``start`` (an event's name), or None."""
    if not text.startswith("[", start):
        return None
    try:
        name, _ = _decoder.raw_decode(text, start + 1)
    except ValueError:
        return None
    return name


def connect_auth(text: str, start: int) -> Any:
    """The ``auth`` payload of a CONNECT packet, or None."""
    if start >= len(text):
        return None
    try:
        return json.loads(text[start:])
    except ValueError:
        return None


class _SocketIOMixin:
    """What the Socket.IO handles share on top of the Engine.IO ones."""

    sio: Any
    sessions: dict[str, Any]
    options: _Options
    _announced: set[tuple[str, str]]

    def _eio_sid(self, sid: str, namespace: str) -> str | None:
        if sid in self.sessions:
            return sid
        return _compat.socketio_eio_sid(self.sio, sid, namespace)

    def _forged(self, data: Any) -> tuple[str, str, int] | None:
        """The packet head of a text packet; None after logging a forged ``session`` event."""
        if not isinstance(data, str) or not data:
            return ("", "/", 0)
        head = packet_head(data)
        if head[0] in (_EVENT, _BINARY_EVENT) and event_name(data, head[2]) == "session":
            logger.warning("dropped a 'session' event sent by a client: only the server fires it")
            return None
        return head

    def _session_handler(self) -> None:
        return None  # Socket.IO: fired per namespace, after its connect (see _announce)

    def _signed_from_auth(self, data: str, start: int) -> str | None:
        key = self.options.auth_key
        if key is None:
            return None
        auth = connect_auth(data, start)
        value = auth.get(key) if isinstance(auth, dict) else None
        return session_id_from_value(value if isinstance(value, str) else None, self.options.signer)


class SocketIOSessionHandle(_SocketIOMixin, SessionHandle):
    """The sessions of a ``socketio.Server``'s connections."""

    def __init__(self, sio: Any, store: Any, options: _Options) -> None:
        super().__init__(sio.eio, store, options)
        self.sio = sio
        self._announced = set()

    def get(self, sid: str, namespace: str = "/") -> LiveSession | None:
        """The live session of Socket.IO connection ``sid`` (or of an Engine.IO sid)."""
        eio_sid = self._eio_sid(sid, namespace)
        return self.sessions.get(eio_sid) if eio_sid is not None else None

    def _message(self, eio_sid: str, data: Any) -> Any:
        head = self._forged(data)
        if head is None:
            return None
        kind, namespace, start = head
        if kind == _CONNECT and eio_sid not in self.sessions:
            self._session_from_auth(eio_sid, data, start)
        session = self.sessions.get(eio_sid)
        if (
            session is not None
            and self.options.reload
            and kind in (_EVENT, _BINARY_EVENT)
            and not self._reload(eio_sid, session)
        ):
            return None
        app = self._app("message")
        result = app(eio_sid, data) if app is not None else None
        if kind == _CONNECT:
            self._announce(eio_sid, namespace)
        return result

    def _session_from_auth(self, eio_sid: str, data: str, start: int) -> None:
        session_id = self._signed_from_auth(data, start)
        if session_id is None:
            return
        try:
            stored = self.store.get(session_id)
        except SessionError as error:
            self._log_store_error(error, "a CONNECT with auth")
            return
        if stored is not None and not stored.expired():
            session = LiveSession(stored, self.store)
            self.sessions[eio_sid] = session
            environ = self.sio.environ.get(eio_sid)
            if environ is not None:
                environ[ENVIRON_SESSION] = session

    def _announce(self, eio_sid: str, namespace: str) -> None:
        session = self.sessions.get(eio_sid)
        sid = _compat.socketio_sid(self.sio, eio_sid, namespace)
        if session is None or sid is None or (eio_sid, namespace) in self._announced:
            return
        self._announced.add((eio_sid, namespace))
        try:
            _compat.socketio_trigger(self.sio, "session", namespace, sid, session)
        except Exception:
            logger.exception("session handler error")

    def _disconnect(self, sid: str, *args: Any) -> Any:
        self._announced = {item for item in self._announced if item[0] != sid}
        return super()._disconnect(sid, *args)


class AsyncSocketIOSessionHandle(_SocketIOMixin, AsyncSessionHandle):
    """The sessions of a ``socketio.AsyncServer``'s connections."""

    def __init__(self, sio: Any, store: Any, options: _Options) -> None:
        super().__init__(sio.eio, store, options)
        self.sio = sio
        self._announced = set()

    def get(self, sid: str, namespace: str = "/") -> AsyncLiveSession | None:
        """The live session of Socket.IO connection ``sid`` (or of an Engine.IO sid)."""
        eio_sid = self._eio_sid(sid, namespace)
        return self.sessions.get(eio_sid) if eio_sid is not None else None

    async def _fire_session(self, sid: str, session: AsyncLiveSession) -> None:
        return None  # Socket.IO: fired per namespace, after its connect (see _announce)

    async def _message(self, eio_sid: str, data: Any) -> Any:
        head = self._forged(data)
        if head is None:
            return None
        kind, namespace, start = head
        if kind == _CONNECT and eio_sid not in self.sessions:
            await self._session_from_auth(eio_sid, data, start)
        session = self.sessions.get(eio_sid)
        if (
            session is not None
            and self.options.reload
            and kind in (_EVENT, _BINARY_EVENT)
            and not await self._reload(eio_sid, session)
        ):
            return None
        app = self._app("message")
        result = await _maybe_await(app(eio_sid, data)) if app is not None else None
        if kind == _CONNECT:
            await self._announce(eio_sid, namespace)
        return result

    async def _session_from_auth(self, eio_sid: str, data: str, start: int) -> None:
        session_id = self._signed_from_auth(data, start)
        if session_id is None:
            return
        try:
            stored = await self.store.get(session_id)
        except SessionError as error:
            self._log_store_error(error, "a CONNECT with auth")
            return
        if stored is not None and not stored.expired():
            session = AsyncLiveSession(stored, self.store)
            self.sessions[eio_sid] = session
            environ = self.sio.environ.get(eio_sid)
            if environ is not None:
                environ[ENVIRON_SESSION] = session

    async def _announce(self, eio_sid: str, namespace: str) -> None:
        session = self.sessions.get(eio_sid)
        sid = _compat.socketio_sid(self.sio, eio_sid, namespace)
        if session is None or sid is None or (eio_sid, namespace) in self._announced:
            return
        self._announced.add((eio_sid, namespace))
        try:
            await _maybe_await(
                _compat.socketio_trigger(self.sio, "session", namespace, sid, session)
            )
        except Exception:
            logger.exception("session handler error")

    async def _disconnect(self, sid: str, *args: Any) -> Any:
        self._announced = {item for item in self._announced if item[0] != sid}
        return await super()._disconnect(sid, *args)


def attach_socketio(sio: Any, options: _Options, store: Any) -> Any:
    """``attach`` for a socketio.Server / AsyncServer: hooks its ``sio.eio``."""
    handle_class = (
        AsyncSocketIOSessionHandle if sio.eio.is_asyncio_based() else SocketIOSessionHandle
    )
    return attach_engineio(
        sio.eio,
        options,
        store,
        extra_events=(),
        handle_factory=lambda: handle_class(sio, store, options),
    )
