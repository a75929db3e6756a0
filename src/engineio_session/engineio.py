"""The Engine.IO adapter: ``attach()`` on ``engineio.Server`` and ``engineio.AsyncServer``.

::

    eio = engineio.AsyncServer(async_mode="asgi")
    sessions = attach(eio, store=AsyncRedisStore(redis.asyncio.Redis()), secret=["new", "old"])

    @eio.on("session")
    async def on_session(sid, session):
        print(session["user"])

On every handshake the Cookie header is read as Node reads it, verified as express-session
verifies it, the session is loaded from the store and ``session`` fires with
``(sid, session)`` once the application's own ``connect`` handler (if any) accepted. The
session stays reachable for the life of the connection: ``sessions.get(sid)`` from any
handler and, inside the ``connect`` handler, ``environ["engineio_session.session"]``
(``None`` when the handshake has no session). Engine.IO itself never dispatches an event
named ``session``, so a client cannot trigger it.

Transports. The cookie is read from the handshake request, so polling and websocket-only
handshakes both get their session. A new session (``create=True``) needs its Set-Cookie on
the handshake response: a polling handshake carries it in every mode, a websocket-only one
only under ASGI and aiohttp (their 101 response takes headers); under threading, eventlet
and gevent the server writes the 101 itself, so a websocket-only handshake gets no new
session there (none is saved: it could never be found again). ``required=True`` answers a
handshake with no valid session with HTTP 401 in every mode for polling, and for
websocket-only under threading, eventlet, aiohttp and ASGI (uvicorn: 401 through the
``websocket.http.response`` extension; an ASGI server without it answers 403); under
gevent-websocket the upgrade is done before the application runs, so the client sees a 101
followed by a close.

The decisions are :mod:`engineio_session.core`'s; this module says how to reach an
Engine.IO server (:class:`EngineIOAdapter`), and :class:`SessionHandle` /
:class:`AsyncSessionHandle` drive the decisions with plain calls or awaits.
"""

from __future__ import annotations

import inspect
import logging
import time
from typing import Any, Generic, TypeVar

from .cookie_live import AsyncCookieLiveSession, CookieLiveSession
from .core import ENVIRON_SESSION, PLAN, Exchange, SessionCore, is_rejection
from .drive import AWAITABLES, Call, Plan, arun, run
from .hooks import engineio as hooks
from .live import AsyncLiveSession, LiveSession
from .options import AttachOptions

__all__ = ["AsyncSessionHandle", "EngineIOAdapter", "SessionHandle"]

logger = logging.getLogger("engineio_session")


Live = TypeVar("Live", LiveSession, AsyncLiveSession)


class EngineIOAdapter(SessionCore, Generic[Live]):
    """How the core reaches an Engine.IO server: its handlers, its background tasks, its
    connections. Shared by the sync and the async handles (and the Socket.IO ones)."""

    #: whether the current session is kept up to date in the handshake's environ after the
    #: handshake: python-socketio hands that environ to every handler (and keeps it anyway);
    #: python-engineio's handlers see it only in ``connect``, so it is not kept alive here
    _keeps_environs = False

    def __init__(self, eio: Any, store: Any, options: AttachOptions) -> None:
        super().__init__(store, options)
        self._eio = eio
        self._slots: hooks.HandlerSlots
        #: the handshake environ of each connection with a session (Socket.IO hands the same
        #: dict to its handlers): where the current session is published
        self._environs: dict[str, dict[str, Any]] = {}
        #: background tasks started here (asyncio keeps only weak references to tasks)
        self._tasks: set[Any] = set()

    def get(self, sid: str) -> Live | None:
        """The live session of Engine.IO connection ``sid``, if it has one."""
        session: Live | None = self._sessions.get(sid)
        return session

    def _hook(self) -> None:
        """Pin this handle's wrappers in the server's handlers (``message`` too where
        Engine.IO does the reloading), allow ``on("session")``, and wrap the handshake's
        request and response."""
        engineio_level = self.fires_on_handshake  # Socket.IO fires and reloads per namespace
        wrappers = {"connect": self._connect, "disconnect": self._disconnect}
        if self._options.reload and engineio_level:
            wrappers["message"] = self._on_message
        events = ("session",) if engineio_level else ()
        self._slots = hooks.pin_handlers(self._eio, wrappers, events)
        read_ahead = self._read_ahead_now if self._eio.is_asyncio_based() else None
        # only cookie-session asks for the exchange of a later request (a Socket.IO CONNECT)
        by_task = self._options.cookie_session is not None
        hooks.wrap_handle_request(self._eio, self._options.header, read_ahead, by_task=by_task)

    # what the core asks of a server ------------------------------------------------------

    def _app(self, event: str) -> Any:
        return self._slots.app.get(event)

    def _fire_plan(self, sid: str, session: Any) -> Plan[None]:
        return self._fire_handler(dict.get(self._slots, "session"), sid, session)

    def _close_plan(self, sid: str) -> Plan[None]:
        socket = getattr(self._eio, "sockets", {}).get(sid)
        yield Call(self._eio.disconnect, sid)
        if self._eio.is_asyncio_based():
            hooks.end_websocket(socket)

    def _publish(self, sid: str, session: Any) -> None:
        environ = self._environs.get(sid)
        if environ is not None:
            environ[ENVIRON_SESSION] = session

    def _forget(self, sid: str) -> Any:
        session = super()._forget(sid)
        self._environs.pop(sid, None)
        return session

    def _spawn(self, plan: Plan[Any]) -> None:
        task = self._eio.start_background_task(self._drive, plan)
        add_done_callback = getattr(task, "add_done_callback", None)
        if add_done_callback is not None:  # an asyncio task
            self._tasks.add(task)
            add_done_callback(self._tasks.discard)

    def _sleep(self, seconds: float) -> Any:
        return self._eio.sleep(seconds)

    @staticmethod
    def _drive(plan: Plan[Any]) -> Any:
        raise NotImplementedError

    def _read_ahead_now(self, exchange: Exchange) -> Any:
        """The core's ``_read_ahead``, awaited before an asyncio server handles a request
        that can be a handshake (the async handles)."""
        raise NotImplementedError

    def _emit_plan(self, session_id: str, data: Any) -> Plan[int]:
        """Engine.IO: send ``data`` to every connection of ``session_id`` (this process's)."""
        sids = self._sids_of(session_id)
        for sid in sids:
            yield Call(self._eio.send, sid, data)
        return len(sids)

    # the handshake's request and response ---------------------------------------------------

    def _exchange(self, environ: dict[str, Any]) -> Exchange:
        return hooks.exchange_of(environ, self._options.header)

    def _answered(self, sid: str, environ: dict[str, Any], exchange: Exchange, result: Any) -> Any:
        """What the core decided, onto the response; the result for python-engineio."""
        if is_rejection(result):
            exchange.rejected = True
            return result
        if self._keeps_environs and (sid in self._sessions or self._options.auth_key is not None):
            self._environs[sid] = environ  # a session may come later, from a CONNECT's auth
        if "aiohttp.request" in environ and exchange.open:
            hooks.add_aiohttp_cookies(environ, exchange)
        return result

    # the wrappers pinned in the server (the handles define them) -------------------------

    def _connect(self, sid: str, environ: dict[str, Any], *args: Any) -> Any:
        raise NotImplementedError

    def _disconnect(self, sid: str, *args: Any) -> Any:
        raise NotImplementedError

    def _on_message(self, sid: str, data: Any) -> Any:
        raise NotImplementedError


class SessionHandle(EngineIOAdapter[LiveSession]):
    """The sessions of a sync server's connections (what ``attach`` on ``engineio.Server``
    returns): ``get(sid)`` and ``check_sessions()``."""

    live_class = LiveSession
    cookie_class = CookieLiveSession
    _drive = staticmethod(run)

    def check_sessions(self) -> list[str]:
        """Reload every live session once; disconnect those whose session is gone or expired.

        The watcher does this every ``watch`` seconds; returns the sids it disconnects.
        """
        return run(self._reload(self._live_by_id(), "the periodic reload")) or []

    def send_to_session(self, session_id: str, data: Any) -> int:
        """Send ``data`` to every connection of session ``session_id``: a user's tabs. The
        number of connections it went to."""
        return run(self._emit_plan(session_id, data))

    def disconnect_session(self, session_id: str) -> list[str]:
        """Close every connection of session ``session_id`` (on a Redis store, the other
        processes' too, through their watchers); the sids closed here."""
        return run(self._disconnect_session(session_id))

    def _connect(self, sid: str, environ: dict[str, Any], *args: Any) -> Any:
        exchange = self._exchange(environ)
        result = run(self._handshake(sid, environ, args, exchange))
        return self._answered(sid, environ, exchange, result)

    def _disconnect(self, sid: str, *args: Any) -> Any:
        return run(self._disconnection(sid, args))

    def _on_message(self, sid: str, data: Any) -> Any:
        return run(self._message(sid, data))


class AsyncSessionHandle(EngineIOAdapter[AsyncLiveSession]):
    """The sessions of an async server's connections (``attach`` on
    ``engineio.AsyncServer``): ``get(sid)`` and ``await check_sessions()``."""

    live_class = AsyncLiveSession
    cookie_class = AsyncCookieLiveSession
    _drive = staticmethod(arun)

    async def check_sessions(self) -> list[str]:
        """See :meth:`SessionHandle.check_sessions`."""
        return await arun(self._reload(self._live_by_id(), "the periodic reload")) or []

    async def send_to_session(self, session_id: str, data: Any) -> int:
        """See :meth:`SessionHandle.send_to_session`."""
        return await arun(self._emit_plan(session_id, data))

    async def disconnect_session(self, session_id: str) -> list[str]:
        """See :meth:`SessionHandle.disconnect_session`."""
        return await arun(self._disconnect_session(session_id))

    # python-engineio awaits a handler only if it is a coroutine function
    async def _connect(self, sid: str, environ: dict[str, Any], *args: Any) -> Any:
        exchange = self._exchange(environ)
        session = self._take_read_ahead(exchange)
        if session is PLAN:
            result = await arun(self._handshake(sid, environ, args, exchange))
        else:
            result = await self._admitted(sid, environ, args, session)
        return self._answered(sid, environ, exchange, result)

    async def _admitted(
        self, sid: str, environ: dict[str, Any], args: tuple[Any, ...], session: Any
    ) -> Any:
        """The core's ``_handshake`` from what was read ahead on (``_take_read_ahead``: a
        session, or none with nothing to create or require), made with awaits rather than
        through its plan: the handshake of nearly every connection, whose plan and driver
        cost 8,500 instructions of the 720,000 of one with a session (issue 10) and 4,200
        of the 570,000 of one without. tests/test_admitted.py holds the two to the same
        outcome."""
        self._admit(sid, environ, session)
        app = self._app("connect")
        result = None
        if app is not None:
            try:
                result = app(sid, environ, *args)
                if type(result) in AWAITABLES or inspect.isawaitable(result):
                    result = await result
            except BaseException:
                self._forget(sid)
                raise
            if result is not None and result is not True:  # is_rejection
                self._forget(sid)
                return result
        if session is None:
            return result
        handler = dict.get(self._slots, "session") if self.fires_on_handshake else None
        if handler is not None:
            try:
                fired = handler(sid, session)
                if type(fired) in AWAITABLES or inspect.isawaitable(fired):
                    await fired
            except Exception:
                logger.exception("session handler error")
        if self._loops_wanted:
            self._start_watch()
        return result

    async def _disconnect(self, sid: str, *args: Any) -> Any:
        return await arun(self._disconnection(sid, args))

    async def _read_ahead_now(self, exchange: Exchange) -> None:
        """The core's ``_read_ahead`` made as one await rather than through its plan: the
        read every handshake with a cookie waits for (an async server's store is async)."""
        session_id = self._read_ahead_id(exchange)
        if session_id is None:
            return
        what = "the handshake"
        outcome: tuple[Any, bool] = (None, True)
        if not self._health.down or self._may_load(what):  # _may_load's own first test
            started = time.monotonic()
            try:
                stored = await self._store.get(session_id)
            except Exception as error:
                outcome = self._load_failed(error, what, started)
            except BaseException:
                self._health.release(time.monotonic() - started)
                raise
            else:
                outcome = self._loaded(stored)
        self._read_ahead_done(exchange, session_id, outcome)

    async def _on_message(self, sid: str, data: Any) -> Any:
        return await arun(self._message(sid, data))
