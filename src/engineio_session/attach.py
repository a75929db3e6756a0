"""``attach()``: give every connection of a python-engineio or python-socketio server the
express-session of its handshake.

::

    sessions = attach(eio, store=AsyncRedisStore(redis.asyncio.Redis()), secret="s3cret")
    session = sessions.get(sid)     # in any handler: the live session, or None

The handle's type follows the server's: :class:`~.engineio.SessionHandle` /
:class:`~.engineio.AsyncSessionHandle` for ``engineio.Server`` / ``AsyncServer``,
:class:`~.socketio.SocketIOSessionHandle` / :class:`~.socketio.AsyncSocketIOSessionHandle`
for ``socketio.Server`` / ``AsyncServer``.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypedDict, Unpack, overload

from .cookie_session import CookieSession
from .engineio import AsyncSessionHandle, SessionHandle
from .hooks import engineio as engineio_hooks
from .hooks import socketio as socketio_hooks
from .options import AttachOptions, StoreErrorPolicy
from .signature import Secrets
from .socketio import AsyncSocketIOSessionHandle, SocketIOSessionHandle
from .stores.base import AsyncStore, Store

if TYPE_CHECKING:
    import engineio
    import socketio

__all__ = ["AttachKeywords", "attach", "check_store"]

#: what every store has (stores/base.py: the store contract)
STORE_METHODS = ("get", "get_many", "set", "update", "replace", "touch", "destroy")


def check_store(eio: Any, store: Any) -> bool:
    """True for an async server; a sync server needs a sync store and an async one an async
    (each method a coroutine function), with every method of the store contract."""
    is_async = bool(eio.is_asyncio_based())
    if store is None:
        return is_async  # cookie-session: no store
    for method in STORE_METHODS:
        if not callable(getattr(store, method, None)):
            raise TypeError(
                f"store {type(store).__name__} has no {method}(); see engineio_session.stores"
            )
    kinds = {inspect.iscoroutinefunction(getattr(store, method)) for method in STORE_METHODS}
    if kinds != {is_async}:
        want = (
            "an async store (AsyncRedisStore, AsyncFileStore, ...)"
            if is_async
            else "a sync store (RedisStore, FileStore, ...)"
        )
        server = "an async" if is_async else "a sync"
        raise TypeError(f"{type(store).__name__} cannot serve {server} server: use {want}")
    return is_async


class AttachKeywords(TypedDict, total=False):
    """The options of :func:`attach` after ``store`` and ``secret`` (see its docstring)."""

    name: str
    create: bool
    required: bool
    cookie: Mapping[str, Any] | None
    header: str | None
    auth_key: str | None
    reload: bool
    auto_save: bool
    watch: float | None
    on_store_error: StoreErrorPolicy
    cookie_session: CookieSession | None
    session_rooms: str | None
    touch_interval: float | None


@overload
def attach(
    server: socketio.AsyncServer,
    *,
    store: AsyncStore | None = None,
    secret: Secrets | None = None,
    **options: Unpack[AttachKeywords],
) -> AsyncSocketIOSessionHandle: ...


@overload
def attach(
    server: socketio.Server,
    *,
    store: Store | None = None,
    secret: Secrets | None = None,
    **options: Unpack[AttachKeywords],
) -> SocketIOSessionHandle: ...


@overload
def attach(
    server: engineio.AsyncServer,
    *,
    store: AsyncStore | None = None,
    secret: Secrets | None = None,
    **options: Unpack[AttachKeywords],
) -> AsyncSessionHandle: ...


@overload
def attach(
    server: engineio.Server,
    *,
    store: Store | None = None,
    secret: Secrets | None = None,
    **options: Unpack[AttachKeywords],
) -> SessionHandle: ...


def attach(
    server: Any,
    *,
    store: Store | AsyncStore | None = None,
    secret: Secrets | None = None,
    **options: Unpack[AttachKeywords],
) -> Any:
    """Give every connection of ``server`` the express-session of its handshake.

    ``server`` is an ``engineio.Server`` / ``AsyncServer`` or a ``socketio.Server`` /
    ``AsyncServer``; a sync server takes a sync store and an async server an async store
    (anything else is a ``TypeError`` here, as are bad options). Returns the handle:
    ``handle.get(sid)`` is the connection's live session (``save()``, ``reload()``,
    ``touch()``, ``destroy()``; awaited on an async server) or None. The options, with
    their Node counterparts:

    - ``secret``, ``name``: express-session's ``secret`` (a list rotates: sign with the
      first, accept any) and ``name``.
    - ``create``: engine.io-session's behaviour for a handshake with no valid cookie: a new
      session, saved, with Set-Cookie on the handshake response (``cookie`` options as
      express-session's ``cookie``: ``max_age`` in ms, ``path``, ``http_only``, ``domain``,
      ``secure``, ``same_site``, ``partitioned``, ``priority``). Not possible on a
      websocket-only handshake under threading, eventlet or gevent: no session is created
      there. Nor when the store failed to read a valid cookie's session.
    - ``required``: reject (HTTP 401) a handshake that ends with no session. With
      ``auth_key`` the handshake is let through and a namespace CONNECT with no session
      from the cookie or the ``auth`` payload is refused (``connect_error``).
    - ``header``: also accept the signed value (``s:<id>.<mac>``) from this request header,
      for clients that cannot send cookies; ``auth_key`` (Socket.IO): from this key of the
      CONNECT ``auth`` payload. Both verified exactly like the cookie.
    - ``reload``: fetch the session again before each message (Socket.IO: each event), so a
      change the Node app made is seen; ``handle.get(sid)`` then returns a new object, and
      unsaved changes to the previous one are not kept. A session gone closes the
      connection.
    - ``auto_save``: on disconnect, save the session if its data changed
      (express-socket.io-session's ``autoSave``): this side's changes, applied to what
      the store holds then; nothing if the session was destroyed meanwhile.
    - ``watch``: every ``watch`` seconds, read the live sessions again and close the
      connections whose session was destroyed (a logout) or expired; it notices within
      ``watch`` seconds plus one store read. A store that reports ends (``RedisStore`` /
      ``AsyncRedisStore`` with Redis keyspace notifications: ``notify-keyspace-events``
      with K, g and x, or the store's ``enable_notifications=True``) is also listened to,
      on a connection of its own while any session is live: a logout or an expiry closes
      the connection within milliseconds (one store read confirms it), and the reload
      every ``watch`` seconds stays as the bound. After a subscription (re)starts, every
      session is reloaded once (tried again until it succeeds). Without notifications (a
      Redis Cluster, or Redis not configured) one warning is logged and the periodic
      reload does it alone.
    - ``cookie_session``: instead of a ``store`` and a ``secret``, a
      :class:`~engineio_session.cookie_session.CookieSession` (cookie-session's keys and
      options): the session is read from the handshake's ``session`` / ``session.sig``
      cookies (re-signed with the newest key, or a forged signature cleared, on the
      handshake's response, as cookie-session does), ``required`` and ``create`` apply,
      ``header``, ``auth_key``, ``reload``, ``auto_save`` and ``watch`` do not (no store,
      and a pair of cookies no header carries). ``session.save()`` sends the cookies on the
      response of the request being handled, while one is left to send
      (:mod:`engineio_session.cookie_live`).
    - ``session_rooms`` (Socket.IO): every connection with a session joins the room
      ``session_rooms + session.id`` (``"session:"`` by default; None: no rooms), so
      ``handle.emit_to_session(session_id, event, data)`` reaches every tab of the user,
      in every process that shares a client manager (a Redis manager).
      ``handle.disconnect_session(session_id)`` closes them all here, and, on a Redis store,
      in the other processes too (their watchers, ``watch``, take the store's
      announcement). On an Engine.IO server the same two methods act on its connections.
    - ``touch_interval``: while a connection with a session is open, extend the session in
      the store every ``touch_interval`` seconds (its cookie's expiry starts again from its
      max age, as express-session's ``rolling`` does on each request), at most once an
      interval for each session, however many tabs hold it; a session found gone closes
      its connections. The browser's own cookie expiry cannot be moved over a websocket.
    - ``on_store_error``: ``"admit"`` (go on without a session) or ``"reject"`` (401) when the
      store fails at the handshake; ``required=True`` always rejects. While the store is
      known to be down, one call at a time goes to it and the rest fail at once
      (:mod:`engineio_session.health`).
    """
    checked = AttachOptions(secret=secret, **options)
    if (store is None) == (checked.cookie_session is None):
        raise TypeError("attach() takes a store (express-session) or a cookie_session, one of them")
    handle: SessionHandle | AsyncSessionHandle
    if hasattr(server, "eio") and hasattr(server, "namespace_handlers"):
        engineio_hooks.check_server(server.eio)
        socketio_hooks.check_socketio(server)
        if check_store(server.eio, store):
            handle = AsyncSocketIOSessionHandle(server, store, checked)
        else:
            handle = SocketIOSessionHandle(server, store, checked)
    else:
        if checked.auth_key is not None:
            raise TypeError("auth_key is for Socket.IO servers (the auth payload of CONNECT)")
        engineio_hooks.check_server(server)
        if check_store(server, store):
            handle = AsyncSessionHandle(server, store, checked)
        else:
            handle = SessionHandle(server, store, checked)
    handle._hook()
    return handle
