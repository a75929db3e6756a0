"""``attach()`` for python-engineio: the ``session`` event, as engine.io-session does in Node.

::

    eio = engineio.AsyncServer(async_mode="asgi")
    sessions = attach(eio, store=AsyncRedisStore(redis.asyncio.Redis()), secret=["new", "old"])

    @eio.on("session")
    async def on_session(sid, session):
        print(session["user"])

On every handshake the Cookie header is read from the environ, verified as express-session
verifies it, the session is loaded from the store and ``session`` fires with
``(sid, session)`` once the application's own ``connect`` handler (if any) accepted. The
session stays reachable for the life of the connection: ``sessions.get(sid)`` and, inside
the ``connect`` handler, ``environ["engineio_session.session"]``.

Differences from engine.io-session 0.0.6, all safer: an unsigned cookie is never accepted
(session fixation); with ``create=True`` the Set-Cookie rides on the handshake response
itself (Node's plugin sends it one poll later); ``required=True`` rejects a handshake with
no valid session (401); a store failure rejects or admits without a session
(``on_store_error``), and is logged without secrets or cookies.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Mapping
from typing import Any, Literal

from . import _compat
from .cookies import decode_uri_component
from .errors import SessionError
from .ids import get_session_id
from .live import AsyncLiveSession, LiveSession, SessionGoneError
from .session import Session
from .signature import Secrets, Signer, as_signer
from .stores.base import AsyncStore, Store

__all__ = ["ENVIRON_SESSION", "AsyncSessionHandle", "SessionHandle", "attach"]

logger = logging.getLogger("engineio_session")

#: where the session is in the handshake's environ (Socket.IO: ``sio.get_environ(sid)``)
ENVIRON_SESSION = "engineio_session.session"

#: a browser keeps at most 4096 bytes a cookie; Node's default header limit is 16 KiB
MAX_COOKIE_VALUE = 4096
MAX_COOKIE_HEADER = 16384

StoreErrorPolicy = Literal["admit", "reject"]
_COOKIE_OPTIONS = frozenset(
    ("max_age", "path", "http_only", "domain", "secure", "same_site", "partitioned", "priority")
)


def _short(sid: str) -> str:
    return sid[:6] + "…"  # enough to follow a session in the logs, not enough to use it


def session_id_from_value(value: str | None, signer: Signer) -> str | None:
    """The id in a signed cookie value ``s:<id>.<mac>`` (URI-encoded or not), or None."""
    if not value or len(value) > MAX_COOKIE_VALUE:
        return None
    if "%" in value:
        try:
            value = decode_uri_component(value)
        except ValueError:
            return None
    if value[:2] != "s:":
        return None
    return signer.unsign(value[2:]) or None


class _Options:
    """What ``attach`` was told; pure decisions with no I/O."""

    def __init__(
        self,
        *,
        secret: Secrets,
        name: str,
        create: bool,
        required: bool,
        cookie: Mapping[str, Any] | None,
        header: str | None,
        auth_key: str | None,
        reload: bool,
        auto_save: bool,
        watch: float | None,
        on_store_error: StoreErrorPolicy,
    ) -> None:
        self.signer = as_signer(secret)
        self.name = name
        self.create = create
        self.required = required
        self.cookie = dict(cookie or {})
        unknown = set(self.cookie) - _COOKIE_OPTIONS
        if unknown:
            raise TypeError(
                f"unknown cookie options {sorted(unknown)}; use {sorted(_COOKIE_OPTIONS)}"
            )
        self.header = header
        self.auth_key = auth_key
        self.reload = reload
        self.auto_save = auto_save
        if watch is not None and watch <= 0:
            raise ValueError("watch is a number of seconds greater than 0")
        self.watch = watch
        if on_store_error not in ("admit", "reject"):
            raise ValueError("on_store_error is 'admit' or 'reject'")
        self.on_store_error = on_store_error

    def session_id(self, environ: dict[str, Any]) -> str | None:
        """The verified session id of a handshake: the cookie, else the configured header."""
        header = _compat.cookie_header(environ)
        if header and len(header) <= MAX_COOKIE_HEADER:
            sid = get_session_id(header, self.name, secrets=self.signer)
            if sid is not None:
                return sid
        if self.header is not None:
            return session_id_from_value(_compat.request_header(environ, self.header), self.signer)
        return None

    def new_session(self) -> Session:
        return Session.new(**self.cookie)

    def set_cookie(self, session: Session) -> str:
        """express-session's setcookie: ``s:`` + the id signed with the first secret."""
        return session.cookie.serialize(self.name, "s:" + self.signer.sign(session.id))


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


class _Handle:
    """What ``attach`` returns: the live sessions by Engine.IO sid, and the options."""

    def __init__(self, eio: Any, store: Any, options: _Options) -> None:
        self.eio = eio
        self.store = store
        self.options = options
        self.sessions: dict[str, Any] = {}
        self.slots: _compat.HandlerSlots
        self._watching = False

    def _app(self, event: str) -> Callable[..., Any] | None:
        return self.slots.app.get(event)

    def _session_handler(self) -> Callable[..., Any] | None:
        return dict.get(self.slots, "session")

    def _log_store_error(self, error: SessionError, what: str) -> None:
        logger.warning("%s failed during %s: %s", type(self.store).__name__, what, error)


class SessionHandle(_Handle):
    """The sessions of a sync server's connections (``attach`` on ``engineio.Server``)."""

    store: Store
    sessions: dict[str, LiveSession]

    def get(self, sid: str) -> LiveSession | None:
        """The live session of Engine.IO connection ``sid``, if it has one."""
        return self.sessions.get(sid)

    # --- the wrappers pinned in the server's handlers --------------------------------------

    def _connect(self, sid: str, environ: dict[str, Any], *args: Any) -> Any:
        options = self.options
        session: LiveSession | None = None
        session_id = options.session_id(environ)
        if session_id is not None:
            try:
                stored = self.store.get(session_id)
            except SessionError as error:
                self._log_store_error(error, "the handshake")
                if options.on_store_error == "reject" or options.required:
                    return False
                stored = None
            if stored is not None and not stored.expired():
                session = LiveSession(stored, self.store)
        created = False
        if session is None and options.create:
            if _compat.can_send_cookie(self.eio.async_mode, environ):
                session = LiveSession(options.new_session(), self.store)
                created = True
            else:
                logger.debug("no Set-Cookie possible on this handshake: no new session")
        if session is None and options.required:
            return False
        environ[ENVIRON_SESSION] = session
        if session is not None:
            self.sessions[sid] = session
        try:
            app = self._app("connect")
            result = app(sid, environ, *args) if app is not None else None
        except BaseException:
            self.sessions.pop(sid, None)
            raise
        if result is not None and result is not True:
            self.sessions.pop(sid, None)
            return result
        if session is None:
            return result
        if created:
            try:
                session.save()  # before the response names it
            except SessionError as error:
                self._log_store_error(error, "saving a new session")
                self.sessions.pop(sid, None)
                return False if options.required else result
            environ[_compat.ENVIRON_SET_COOKIE] = options.set_cookie(session)
        self._fire_session(sid, session)
        self._start_watch()
        return result

    def _fire_session(self, sid: str, session: LiveSession) -> None:
        handler = self._session_handler()
        if handler is not None:
            try:
                handler(sid, session)
            except Exception:
                logger.exception("session handler error")

    def _message(self, sid: str, data: Any) -> Any:
        session = self.sessions.get(sid)
        if session is not None and self.options.reload and not self._reload(sid, session):
            return None
        app = self._app("message")
        return app(sid, data) if app is not None else None

    def _reload(self, sid: str, session: LiveSession) -> bool:
        """Fresh data before a message; False (and the socket closed) when it is gone."""
        try:
            session.reload()
        except SessionGoneError:
            self._end(sid)
            return False
        except SessionError as error:
            self._log_store_error(error, "a reload")
        return True

    def _disconnect(self, sid: str, *args: Any) -> Any:
        app = self._app("disconnect")
        result = app(sid, *args) if app is not None else None
        session = self.sessions.pop(sid, None)
        if (
            session is not None
            and self.options.auto_save
            and not session.destroyed
            and session.modified
        ):
            try:
                session.save()
            except SessionError as error:
                self._log_store_error(error, "the auto-save on disconnect")
        return result

    # --- noticing a logout or an expiry ------------------------------------------------------

    def _start_watch(self) -> None:
        if self.options.watch is not None and not self._watching:
            self._watching = True
            self.eio.start_background_task(self._watch_loop)

    def _watch_loop(self) -> None:
        interval = self.options.watch
        assert interval is not None
        try:
            while self.sessions:
                self.eio.sleep(interval)
                self.check_sessions()
        finally:
            self._watching = False

    def check_sessions(self) -> list[str]:
        """Reload every live session once; disconnect those whose session is gone or expired.

        The watcher calls this every ``watch`` seconds; it returns the sids it disconnected.
        """
        ended = []
        by_id: dict[str, list[str]] = {}
        for sid, session in list(self.sessions.items()):
            by_id.setdefault(session.id, []).append(sid)
        for session_id, sids in by_id.items():
            try:
                current = self.store.get(session_id)
            except SessionError as error:
                self._log_store_error(error, "the watch")
                continue
            if current is None or current.expired():
                for sid in sids:
                    self._end(sid)
                    ended.append(sid)
        return ended

    def _end(self, sid: str) -> None:
        session = self.sessions.pop(sid, None)
        if session is not None:
            session.destroyed = True
            logger.info("session %s is gone: disconnecting %s", _short(session.id), sid)
        self.eio.disconnect(sid)


class AsyncSessionHandle(_Handle):
    """The sessions of an async server's connections (``attach`` on ``engineio.AsyncServer``)."""

    store: AsyncStore
    sessions: dict[str, AsyncLiveSession]

    def get(self, sid: str) -> AsyncLiveSession | None:
        """The live session of Engine.IO connection ``sid``, if it has one."""
        return self.sessions.get(sid)

    async def _connect(self, sid: str, environ: dict[str, Any], *args: Any) -> Any:
        options = self.options
        session: AsyncLiveSession | None = None
        session_id = options.session_id(environ)
        if session_id is not None:
            try:
                stored = await self.store.get(session_id)
            except SessionError as error:
                self._log_store_error(error, "the handshake")
                if options.on_store_error == "reject" or options.required:
                    _compat.asgi_reject_with_401(environ)
                    return False
                stored = None
            if stored is not None and not stored.expired():
                session = AsyncLiveSession(stored, self.store)
        created = False
        if session is None and options.create:
            if _compat.can_send_cookie(self.eio.async_mode, environ):
                session = AsyncLiveSession(options.new_session(), self.store)
                created = True
            else:
                logger.debug("no Set-Cookie possible on this handshake: no new session")
        if session is None and options.required:
            _compat.asgi_reject_with_401(environ)
            return False
        environ[ENVIRON_SESSION] = session
        if session is not None:
            self.sessions[sid] = session
        try:
            app = self._app("connect")
            result = await _maybe_await(app(sid, environ, *args)) if app is not None else None
        except BaseException:
            self.sessions.pop(sid, None)
            raise
        if result is not None and result is not True:
            self.sessions.pop(sid, None)
            _compat.asgi_reject_with_401(environ)
            return result
        if session is None:
            return result
        if created:
            try:
                await session.save()
            except SessionError as error:
                self._log_store_error(error, "saving a new session")
                self.sessions.pop(sid, None)
                if options.required:
                    _compat.asgi_reject_with_401(environ)
                    return False
                return result
            _compat.add_response_header(environ, "Set-Cookie", options.set_cookie(session))
        await self._fire_session(sid, session)
        self._start_watch()
        return result

    async def _fire_session(self, sid: str, session: AsyncLiveSession) -> None:
        handler = self._session_handler()
        if handler is not None:
            try:
                await _maybe_await(handler(sid, session))
            except Exception:
                logger.exception("session handler error")

    async def _message(self, sid: str, data: Any) -> Any:
        session = self.sessions.get(sid)
        if session is not None and self.options.reload and not await self._reload(sid, session):
            return None
        app = self._app("message")
        return await _maybe_await(app(sid, data)) if app is not None else None

    async def _reload(self, sid: str, session: AsyncLiveSession) -> bool:
        try:
            await session.reload()
        except SessionGoneError:
            await self._end(sid)
            return False
        except SessionError as error:
            self._log_store_error(error, "a reload")
        return True

    async def _disconnect(self, sid: str, *args: Any) -> Any:
        app = self._app("disconnect")
        result = await _maybe_await(app(sid, *args)) if app is not None else None
        session = self.sessions.pop(sid, None)
        if (
            session is not None
            and self.options.auto_save
            and not session.destroyed
            and session.modified
        ):
            try:
                await session.save()
            except SessionError as error:
                self._log_store_error(error, "the auto-save on disconnect")
        return result

    def _start_watch(self) -> None:
        if self.options.watch is not None and not self._watching:
            self._watching = True
            self.eio.start_background_task(self._watch_loop)

    async def _watch_loop(self) -> None:
        interval = self.options.watch
        assert interval is not None
        try:
            while self.sessions:
                await self.eio.sleep(interval)
                await self.check_sessions()
        finally:
            self._watching = False

    async def check_sessions(self) -> list[str]:
        """Reload every live session once; disconnect those whose session is gone or expired."""
        ended = []
        by_id: dict[str, list[str]] = {}
        for sid, session in list(self.sessions.items()):
            by_id.setdefault(session.id, []).append(sid)
        for session_id, sids in by_id.items():
            try:
                current = await self.store.get(session_id)
            except SessionError as error:
                self._log_store_error(error, "the watch")
                continue
            if current is None or current.expired():
                for sid in sids:
                    await self._end(sid)
                    ended.append(sid)
        return ended

    async def _end(self, sid: str) -> None:
        session = self.sessions.pop(sid, None)
        if session is not None:
            session.destroyed = True
            logger.info("session %s is gone: disconnecting %s", _short(session.id), sid)
        await self.eio.disconnect(sid)


def _check_store(eio: Any, store: Any) -> bool:
    """True for an async server; a sync server needs a sync store and an async one an async."""
    is_async = bool(eio.is_asyncio_based())
    get = getattr(store, "get", None)
    if get is None or not callable(get):
        raise TypeError(f"store {store!r} has no get(); see engineio_session.stores")
    if inspect.iscoroutinefunction(get) != is_async:
        want = (
            "an async store (AsyncRedisStore, AsyncFileStore, ...)" if is_async else "a sync store"
        )
        server = "an async" if is_async else "a sync"
        raise TypeError(f"{type(store).__name__} cannot serve {server} server: use {want}")
    return is_async


def attach_engineio(
    eio: Any,
    options: _Options,
    store: Any,
    *,
    extra_events: tuple[str, ...] = ("session",),
    handle_factory: Callable[[], SessionHandle | AsyncSessionHandle] | None = None,
) -> SessionHandle | AsyncSessionHandle:
    """Hook the handshake, message and disconnect of an engineio server (also ``sio.eio``)."""
    is_async = _check_store(eio, store)
    handle: SessionHandle | AsyncSessionHandle
    if handle_factory is not None:
        handle = handle_factory()
    elif is_async:
        handle = AsyncSessionHandle(eio, store, options)
    else:
        handle = SessionHandle(eio, store, options)
    if not is_async:
        _compat.install_wsgi_response_hook(eio)
    handle.slots = _compat.pin_handlers(
        eio,
        {"connect": handle._connect, "message": handle._message, "disconnect": handle._disconnect},
        extra_events,
    )
    return handle


def attach(
    server: Any,
    *,
    store: Store | AsyncStore,
    secret: Secrets,
    name: str = "connect.sid",
    create: bool = False,
    required: bool = False,
    cookie: Mapping[str, Any] | None = None,
    header: str | None = None,
    auth_key: str | None = None,
    reload: bool = False,
    auto_save: bool = False,
    watch: float | None = None,
    on_store_error: StoreErrorPolicy = "admit",
) -> Any:
    """Give every connection of ``server`` the express-session of its handshake.

    ``server`` is an ``engineio.Server`` / ``AsyncServer`` or a ``socketio.Server`` /
    ``AsyncServer``; a sync server takes a sync store and an async server an async store.
    Returns the handle (``handle.get(sid)``). The options, with their Node counterparts:

    - ``secret``, ``name``: express-session's ``secret`` (a list rotates) and ``name``.
    - ``create``: engine.io-session's behaviour for a handshake with no valid cookie: a new
      session, saved, with Set-Cookie on the handshake response (``cookie`` options as
      express-session's ``cookie``: ``max_age`` in ms, ``path``, ``http_only``, ``domain``,
      ``secure``, ``same_site``, ``partitioned``, ``priority``). Not possible on a
      websocket-only handshake under WSGI servers: no session is created there.
    - ``required``: reject (HTTP 401) a handshake that ends with no session.
    - ``header``: also accept the signed value (``s:<id>.<mac>``) from this request header,
      for clients that cannot send cookies; ``auth_key`` (Socket.IO): from this key of the
      ``auth`` payload.
    - ``reload``: reload the session from the store before each message (Socket.IO: each
      event), so a change the Node app made is seen; a session gone closes the connection.
    - ``auto_save``: on disconnect, save the session if its data changed
      (express-socket.io-session's ``autoSave``).
    - ``watch``: every ``watch`` seconds, reload the live sessions and close the connections
      whose session was destroyed (a logout) or expired.
    - ``on_store_error``: ``"admit"`` (go on without a session) or ``"reject"`` (401) when the
      store fails at the handshake; ``required=True`` always rejects.
    """
    options = _Options(
        secret=secret,
        name=name,
        create=create,
        required=required,
        cookie=cookie,
        header=header,
        auth_key=auth_key,
        reload=reload,
        auto_save=auto_save,
        watch=watch,
        on_store_error=on_store_error,
    )
    if hasattr(server, "eio") and hasattr(server, "namespace_handlers"):
        from .socketio import attach_socketio

        return attach_socketio(server, options, store)
    if auth_key is not None:
        raise TypeError("auth_key is for Socket.IO servers (the auth payload of CONNECT)")
    return attach_engineio(eio=server, options=options, store=store)
