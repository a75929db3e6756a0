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

Differences from engine.io-session 0.0.6, all safer: an unsigned cookie is never accepted
(session fixation); with ``create=True`` the Set-Cookie rides on the handshake response
itself (Node's plugin sends it one poll later); ``required=True`` rejects a handshake with
no valid session (401); a store failure rejects or admits without a session
(``on_store_error``), and is logged without secrets or cookies.
"""

from __future__ import annotations

import functools
import inspect
import logging
import math
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, Literal

from . import _compat
from .cookies import decode_uri_component, find_cookie, serialize_cookie
from .errors import CorruptSessionError, NotificationsUnavailableError, StoreError, short_id
from .ids import verify_signed_value
from .live import AsyncLiveSession, LiveSession
from .session import Session
from .signature import Secrets, Signer, as_signer
from .stores.base import AsyncStore, Store

__all__ = ["ENVIRON_SESSION", "AsyncSessionHandle", "SessionHandle", "attach"]

logger = logging.getLogger("engineio_session")

#: where the session is in the handshake's environ (Socket.IO: ``sio.get_environ(sid)``)
ENVIRON_SESSION = "engineio_session.session"

#: a browser keeps at most 4096 bytes a cookie; Node's default header limit is 16 KiB.
#: Longer values are refused before any HMAC is computed or the store is asked.
MAX_COOKIE_VALUE = 4096
MAX_COOKIE_HEADER = 16384

StoreErrorPolicy = Literal["admit", "reject"]

#: seconds a watcher waits on its keyspace subscription before it looks whether any session
#: is still live: an idle watcher stops (and unsubscribes) within this
NOTIFY_POLL = 1.0
#: seconds before subscribing again after a failure, doubled after each one, up to the max:
#: the periodic reload goes on meanwhile, so a Redis that is down costs a few log lines only
RESUBSCRIBE_FIRST = 0.5
RESUBSCRIBE_MAX = 30.0
_NOTIFIED = "a keyspace notification"
_COOKIE_OPTIONS = frozenset(
    ("max_age", "path", "http_only", "domain", "secure", "same_site", "partitioned", "priority")
)


def _describe(error: BaseException) -> str:
    """A store failure for the log: what failed and why, never a cookie or a whole id."""
    if isinstance(error, CorruptSessionError):
        return error.log_line()
    if isinstance(error, StoreError):
        return str(error)
    return f"{type(error).__name__}: {error}"


def _verify(value: str | None, signer: Signer) -> str | None:
    """The id in a decoded signed value ``s:<id>.<mac>``, or None (too long, unsigned, forged)."""
    if value is None or len(value) > MAX_COOKIE_VALUE:
        return None
    return verify_signed_value(value, signer)


def session_id_from_value(value: str | None, signer: Signer) -> str | None:
    """The id in a signed value ``s:<id>.<mac>`` (URI-encoded or not) from a header or an
    ``auth`` payload, or None: verified exactly like the cookie's value.

    >>> from engineio_session import sign
    >>> signer = as_signer("kitty")
    >>> session_id_from_value("s%3A" + sign("abc", "kitty"), signer)
    'abc'
    >>> session_id_from_value("abc", signer) is None
    True
    """
    if not value or len(value) > MAX_COOKIE_VALUE:
        return None
    if "%" in value:
        try:
            value = decode_uri_component(value)
        except ValueError:
            return None
    return _verify(value, signer)


@functools.lru_cache(maxsize=64)  # asked on every disconnect, of the same few handlers
def _accepts(handler: Callable[..., Any], count: int) -> bool:
    """Whether ``handler`` can be called with ``count`` positional arguments."""
    try:
        inspect.signature(handler).bind(*range(count))
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): let the call decide
        return True
    return True


class _Options:
    """What ``attach`` was told, checked at once; pure decisions with no I/O."""

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
        if not isinstance(name, str):
            raise TypeError("name is the cookie's name, a str")
        serialize_cookie(name, "")  # ValueError for a name no cookie can have
        self.name = name
        self.create = bool(create)
        self.required = bool(required)
        if cookie is not None and not isinstance(cookie, Mapping):
            raise TypeError("cookie is a mapping of express-session cookie options")
        self.cookie = dict(cookie or {})
        unknown = set(self.cookie) - _COOKIE_OPTIONS
        if unknown:
            raise TypeError(
                f"unknown cookie options {sorted(unknown)}; use {sorted(_COOKIE_OPTIONS)}"
            )
        self.set_cookie(self.new_session())  # bad cookie options fail here, not in a handshake
        for option, value in (("header", header), ("auth_key", auth_key)):
            if value is not None and (not isinstance(value, str) or not value):
                raise TypeError(f"{option} is a non-empty str")
        if header is not None and not _compat.is_header_name(header):
            raise ValueError(f"header {header!r} is not an HTTP header name")
        self.header = header
        self.auth_key = auth_key
        self.reload = bool(reload)
        self.auto_save = bool(auto_save)
        if watch is not None and (
            isinstance(watch, bool) or not isinstance(watch, (int, float)) or not watch > 0
        ):
            raise ValueError("watch is a number of seconds greater than 0, or None")
        self.watch = None if watch is None else float(watch)
        if on_store_error not in ("admit", "reject"):
            raise ValueError("on_store_error is 'admit' or 'reject'")
        self.on_store_error = on_store_error

    @property
    def required_at_handshake(self) -> bool:
        """With ``auth_key`` the session may still come in the CONNECT's ``auth``: the
        Socket.IO namespace connect enforces ``required`` then, not the handshake."""
        return self.required and self.auth_key is None

    def session_id(self, environ: dict[str, Any]) -> str | None:
        """The verified session id of a handshake: the cookie, else the configured header."""
        header = _compat.cookie_header(environ)
        if header and len(header) <= MAX_COOKIE_HEADER:
            sid = _verify(find_cookie(header, self.name), self.signer)
            if sid is not None:
                return sid
        if self.header is not None:
            return session_id_from_value(_compat.request_header(environ, self.header), self.signer)
        return None

    def reject_on_store_error(self) -> bool:
        return self.on_store_error == "reject" or self.required

    def new_session(self) -> Session:
        return Session.new(**self.cookie)

    def set_cookie(self, session: Session) -> str:
        """express-session's setcookie: ``s:`` + the id signed with the first secret."""
        return session.cookie.serialize(self.name, "s:" + self.signer.sign(session.id))


async def _maybe_await(value: Any) -> Any:
    if inspect.isawaitable(value):
        return await value
    return value


def _is_rejection(result: Any) -> bool:
    return result is not None and result is not True


class _WatchClock:
    """When the watcher reloads every session and may subscribe (again); no I/O.

    The periodic reload runs every ``watch`` seconds whether or not notifications come: it
    bounds the notice time when a notification is lost, and sees what sends none (a cookie
    that expires before its Redis key, a store with no notifications). Right after each
    subscription every session is reloaded once: what ended before it was not notified.
    """

    def __init__(self, interval: float, notifies: bool) -> None:
        self.interval = interval
        self.reload_at = time.monotonic() + interval
        self.subscribe_at = 0.0 if notifies else math.inf
        self.failures = 0

    def subscribed(self) -> None:
        self.failures = 0
        self.reload_at = 0.0

    def lost(self) -> float:
        """A subscription failed or broke: the seconds until the next attempt."""
        delay = min(RESUBSCRIBE_MAX, RESUBSCRIBE_FIRST * 2.0**self.failures)
        self.failures += 1
        self.subscribe_at = time.monotonic() + delay
        return delay

    def unavailable(self) -> None:
        self.subscribe_at = math.inf

    def may_subscribe(self) -> bool:
        return time.monotonic() >= self.subscribe_at

    def wait(self, subscribed: bool) -> float:
        """How long to poll the subscription (or, without one, to sleep) now."""
        until = self.reload_at if subscribed else min(self.reload_at, self.subscribe_at)
        left = max(0.0, until - time.monotonic())
        return min(left, NOTIFY_POLL) if subscribed else left

    def reload_due(self) -> str | None:
        """Whether to reload every session now: why (for the log), or None."""
        now = time.monotonic()
        if now < self.reload_at:
            return None
        why = "the reload after subscribing" if self.reload_at == 0.0 else "the periodic reload"
        self.reload_at = now + self.interval
        return why


class _Handle:
    """What ``attach`` returns: the live sessions by Engine.IO sid, and the options."""

    #: Engine.IO fires ``session`` at the handshake; Socket.IO per namespace connect
    fires_on_handshake = True

    def __init__(self, eio: Any, store: Any, options: _Options) -> None:
        self.eio = eio
        self.store = store
        self.options = options
        self.sessions: dict[str, Any] = {}
        self.slots: _compat.HandlerSlots
        self._watching = False
        #: the store can say when a session ends (RedisStore.subscribe_ends); False once it
        #: said it cannot, so that is logged once
        self._notifies = options.watch is not None and callable(
            getattr(store, "subscribe_ends", None)
        )
        self._lock = threading.Lock()
        #: background tasks started here (asyncio keeps only weak references to tasks)
        self._tasks: set[Any] = set()

    def _spawn(self, function: Callable[..., Any], *args: Any) -> None:
        task = self.eio.start_background_task(function, *args)
        add_done_callback = getattr(task, "add_done_callback", None)
        if add_done_callback is not None:  # an asyncio task
            self._tasks.add(task)
            add_done_callback(self._tasks.discard)

    def _app(self, event: str) -> Callable[..., Any] | None:
        return self.slots.app.get(event)

    def _session_handler(self) -> Callable[..., Any] | None:
        return dict.get(self.slots, "session")

    def _store_failed(self, error: BaseException, what: str, reject: bool) -> None:
        outcome = "rejecting it" if reject else "going on without a session"
        logger.warning(
            "%s failed during %s, %s: %s",
            type(self.store).__name__,
            what,
            outcome,
            _describe(error),
        )

    def _publish(self, sid: str, session: Any) -> None:
        """Where else the connection's current session is kept (Socket.IO: its environ)."""

    def _forget(self, sid: str) -> Any:
        session = self.sessions.pop(sid, None)
        if session is not None:
            self._publish(sid, None)
        return session

    def _end(self, sid: str, why: str) -> None:
        """The session is gone: forget it and close the connection (in the background, as a
        close waits for the client to take its last packets)."""
        session = self._forget(sid)
        if session is not None:
            session.destroyed = True
            logger.info(
                "session %s is gone (seen by %s): disconnecting %s", short_id(session.id), why, sid
            )
        self._spawn(self._close_connection, sid)

    def _close_connection(self, sid: str) -> Any:
        raise NotImplementedError

    def _live_by_id(self, only: Iterable[str] | None = None) -> dict[str, list[str]]:
        """The Engine.IO sids of each live session id (tabs share a session), all or ``only``."""
        wanted = None if only is None else set(only)
        by_id: dict[str, list[str]] = {}
        for sid, session in list(self.sessions.items()):
            if wanted is None or session.id in wanted:
                by_id.setdefault(session.id, []).append(sid)
        return by_id

    def _subscribed(self, ends: Any, error: BaseException | None, clock: _WatchClock) -> Any:
        """The outcome of a subscribe: the subscription, or None (logged; when to retry)."""
        if error is None:
            clock.subscribed()
            return ends
        watch = self.options.watch
        if isinstance(error, NotificationsUnavailableError):
            self._notifies = False
            clock.unavailable()
            logger.warning(
                "watch: %s. A logout or an expiry is noticed by the reload every %s s only",
                error,
                watch,
            )
        else:
            delay = clock.lost()
            logger.warning(
                "watch: no keyspace notifications (%s); subscribing again in %s s, the reload "
                "every %s s goes on",
                _describe(error),
                delay,
                watch,
            )
        return None

    def _should_auto_save(self, session: Any) -> bool:
        return (
            session is not None
            and self.options.auto_save
            and not session.destroyed
            and session.modified
        )


class SessionHandle(_Handle):
    """The sessions of a sync server's connections (``attach`` on ``engineio.Server``)."""

    store: Store
    sessions: dict[str, LiveSession]

    def get(self, sid: str) -> LiveSession | None:
        """The live session of Engine.IO connection ``sid``, if it has one."""
        return self.sessions.get(sid)

    # --- the wrappers pinned in the server's handlers --------------------------------------

    def _load(self, session_id: str, what: str) -> tuple[LiveSession | None, bool]:
        """The live session stored under ``session_id`` (None: none, or expired), and
        whether the store failed (logged with what ``on_store_error`` makes of it)."""
        try:
            stored = self.store.get(session_id)
        except Exception as error:
            self._store_failed(error, what, self.options.reject_on_store_error())
            return None, True
        if stored is None or stored.expired():
            return None, False
        return LiveSession(stored, self.store), False

    def _connect(self, sid: str, environ: dict[str, Any], *args: Any) -> Any:
        options = self.options
        session: LiveSession | None = None
        store_failed = False
        session_id = options.session_id(environ)
        if session_id is not None:
            session, store_failed = self._load(session_id, "the handshake")
            if store_failed and options.reject_on_store_error():
                return False
        created = False
        # a store that failed may hold this user's session: a new one would log them out
        if session is None and options.create and not store_failed:
            if _compat.can_send_cookie(self.eio.async_mode, environ):
                session = LiveSession(options.new_session(), self.store)
                try:
                    session.save()  # before anything can see or name it
                    created = True
                except Exception as error:
                    reject = options.reject_on_store_error()
                    self._store_failed(error, "saving a new session", reject)
                    if reject:
                        return False
                    session = None
            else:
                logger.debug("no Set-Cookie possible on this handshake: no new session")
        if session is None and options.required_at_handshake:
            return False
        environ[ENVIRON_SESSION] = session
        if session is not None:
            self.sessions[sid] = session
        app = self._app("connect")
        try:
            result = app(sid, environ, *args) if app is not None else None
        except BaseException:
            self._rejected(sid, created)
            raise
        if _is_rejection(result):
            self._rejected(sid, created)
            return result
        if session is not None:
            if created:
                environ[_compat.ENVIRON_SET_COOKIE] = options.set_cookie(session)
            if self.fires_on_handshake:
                self._fire_session(sid, session)
            self._start_watch()
        return result

    def _rejected(self, sid: str, created: bool) -> None:
        session = self._forget(sid)
        if created and session is not None:
            try:
                session.destroy()  # nobody will ever hold its cookie
            except Exception as error:
                self._store_failed(error, "removing a rejected connection's new session", False)

    def _fire_session(self, sid: str, session: LiveSession) -> None:
        handler = self._session_handler()
        if handler is not None:
            try:
                handler(sid, session)
            except Exception:
                logger.exception("session handler error")

    def _message(self, sid: str, data: Any) -> Any:
        if self.options.reload and sid in self.sessions and not self._refresh(sid):
            return None
        app = self._app("message")
        return app(sid, data) if app is not None else None

    def _refresh(self, sid: str) -> bool:
        """``reload=True``: swap in the store's current session before a message or event.

        A new object, so a handler still running on the previous one keeps a consistent
        view. False (and the connection closed) when the session is gone.
        """
        session = self.sessions.get(sid)
        if session is None:
            return True
        try:
            fresh = self.store.get(session.id)
        except Exception as error:
            self._store_failed(error, "a reload", False)
            return True
        if fresh is None or fresh.expired():
            self._end(sid, "the reload before an event")
            return False
        if self.sessions.get(sid) is session:
            current = LiveSession(fresh, self.store)
            self.sessions[sid] = current
            self._publish(sid, current)
        return True

    def _disconnect(self, sid: str, *args: Any) -> Any:
        app = self._app("disconnect")
        try:
            if app is None:
                return None
            # python-engineio >= 4.11 passes a reason; a legacy handler takes only the sid
            return app(sid, *args) if not args or _accepts(app, 1 + len(args)) else app(sid)
        finally:
            session = self._forget(sid)
            if self._should_auto_save(session):
                assert session is not None
                try:
                    session.save()
                except Exception as error:
                    self._store_failed(error, "the auto-save on disconnect", False)

    # --- noticing a logout or an expiry ------------------------------------------------------

    def _start_watch(self) -> None:
        if self.options.watch is None:
            return
        with self._lock:
            if self._watching:
                return
            self._watching = True
        self._spawn(self._watch_loop)

    def _watch_loop(self) -> None:
        """Reload every live session each ``watch`` seconds; where the store notifies (Redis
        keyspace events), also reload at once each session it reports ended. Runs while any
        session is live (a thread, or a greenlet under eventlet/gevent)."""
        interval = self.options.watch
        assert interval is not None
        clock = _WatchClock(interval, self._notifies)
        ends: Any = None
        try:
            while True:
                if ends is None and self._notifies and clock.may_subscribe():
                    ends = self._subscribe(clock)
                if ends is None:
                    self.eio.sleep(clock.wait(False))
                else:
                    try:
                        ended = ends.poll(clock.wait(True))
                    except Exception as error:
                        ends.close()
                        ends = self._subscribed(None, error, clock)
                    else:
                        if ended:
                            self._guarded(self._reload, self._live_by_id(ended), _NOTIFIED)
                with self._lock:
                    if not self.sessions:
                        self._watching = False
                        return
                why = clock.reload_due()
                if why is not None:
                    self._guarded(self._reload, self._live_by_id(), why)
        finally:
            if ends is not None:
                ends.close()

    @staticmethod
    def _guarded(function: Callable[..., Any], *args: Any) -> None:
        try:
            function(*args)
        except Exception:  # a bug must not stop the watch
            logger.exception("session watch error")

    def _subscribe(self, clock: _WatchClock) -> Any:
        try:
            ends = self.store.subscribe_ends(keepalive=self.options.watch)  # type: ignore[attr-defined]
        except Exception as error:
            return self._subscribed(None, error, clock)
        return self._subscribed(ends, None, clock)

    def check_sessions(self) -> list[str]:
        """Reload every live session once; disconnect those whose session is gone or expired.

        The watcher calls this every ``watch`` seconds; it returns the sids it disconnects.
        """
        return self._reload(self._live_by_id(), "the periodic reload")

    def _reload(self, by_id: dict[str, list[str]], why: str) -> list[str]:
        """Read each session of ``by_id`` once; end the connections of those gone."""
        ended = []
        for session_id, sids in by_id.items():
            try:
                current = self.store.get(session_id)
            except Exception as error:
                self._store_failed(error, "the watch", False)
                continue
            if current is None or current.expired():
                for sid in sids:
                    self._end(sid, why)
                    ended.append(sid)
        return ended

    def _close_connection(self, sid: str) -> None:
        self.eio.disconnect(sid)


class AsyncSessionHandle(_Handle):
    """The sessions of an async server's connections (``attach`` on ``engineio.AsyncServer``)."""

    store: AsyncStore
    sessions: dict[str, AsyncLiveSession]

    def get(self, sid: str) -> AsyncLiveSession | None:
        """The live session of Engine.IO connection ``sid``, if it has one."""
        return self.sessions.get(sid)

    async def _connect(self, sid: str, environ: dict[str, Any], *args: Any) -> Any:
        result = await self._handshake(sid, environ, *args)
        if _is_rejection(result):
            _compat.asgi_reject_with_401(environ)
        return result

    async def _load(self, session_id: str, what: str) -> tuple[AsyncLiveSession | None, bool]:
        """See :meth:`SessionHandle._load`."""
        try:
            stored = await self.store.get(session_id)
        except Exception as error:
            self._store_failed(error, what, self.options.reject_on_store_error())
            return None, True
        if stored is None or stored.expired():
            return None, False
        return AsyncLiveSession(stored, self.store), False

    async def _handshake(self, sid: str, environ: dict[str, Any], *args: Any) -> Any:
        options = self.options
        session: AsyncLiveSession | None = None
        store_failed = False
        session_id = options.session_id(environ)
        if session_id is not None:
            session, store_failed = await self._load(session_id, "the handshake")
            if store_failed and options.reject_on_store_error():
                return False
        created = False
        if session is None and options.create and not store_failed:
            if _compat.can_send_cookie(self.eio.async_mode, environ):
                session = AsyncLiveSession(options.new_session(), self.store)
                try:
                    await session.save()
                    created = True
                except Exception as error:
                    reject = options.reject_on_store_error()
                    self._store_failed(error, "saving a new session", reject)
                    if reject:
                        return False
                    session = None
            else:
                logger.debug("no Set-Cookie possible on this handshake: no new session")
        if session is None and options.required_at_handshake:
            return False
        environ[ENVIRON_SESSION] = session
        if session is not None:
            self.sessions[sid] = session
        app = self._app("connect")
        try:
            result = await _maybe_await(app(sid, environ, *args)) if app is not None else None
        except BaseException:
            await self._rejected(sid, created)
            raise
        if _is_rejection(result):
            await self._rejected(sid, created)
            return result
        if session is not None:
            if created:
                _compat.add_response_header(environ, "Set-Cookie", options.set_cookie(session))
            if self.fires_on_handshake:
                await self._fire_session(sid, session)
            self._start_watch()
        return result

    async def _rejected(self, sid: str, created: bool) -> None:
        session = self._forget(sid)
        if created and session is not None:
            try:
                await session.destroy()
            except Exception as error:
                self._store_failed(error, "removing a rejected connection's new session", False)

    async def _fire_session(self, sid: str, session: AsyncLiveSession) -> None:
        handler = self._session_handler()
        if handler is not None:
            try:
                await _maybe_await(handler(sid, session))
            except Exception:
                logger.exception("session handler error")

    async def _message(self, sid: str, data: Any) -> Any:
        if self.options.reload and sid in self.sessions and not await self._refresh(sid):
            return None
        app = self._app("message")
        return await _maybe_await(app(sid, data)) if app is not None else None

    async def _refresh(self, sid: str) -> bool:
        """See :meth:`SessionHandle._refresh`."""
        session = self.sessions.get(sid)
        if session is None:
            return True
        try:
            fresh = await self.store.get(session.id)
        except Exception as error:
            self._store_failed(error, "a reload", False)
            return True
        if fresh is None or fresh.expired():
            self._end(sid, "the reload before an event")
            return False
        if self.sessions.get(sid) is session:
            current = AsyncLiveSession(fresh, self.store)
            self.sessions[sid] = current
            self._publish(sid, current)
        return True

    async def _disconnect(self, sid: str, *args: Any) -> Any:
        app = self._app("disconnect")
        try:
            if app is None:
                return None
            if args and not _accepts(app, 1 + len(args)):
                args = ()
            return await _maybe_await(app(sid, *args))
        finally:
            session = self._forget(sid)
            if self._should_auto_save(session):
                assert session is not None
                try:
                    await session.save()
                except Exception as error:
                    self._store_failed(error, "the auto-save on disconnect", False)

    def _start_watch(self) -> None:
        if self.options.watch is not None and not self._watching:
            self._watching = True
            self._spawn(self._watch_loop)

    async def _watch_loop(self) -> None:
        """See :meth:`SessionHandle._watch_loop`; an asyncio task."""
        interval = self.options.watch
        assert interval is not None
        clock = _WatchClock(interval, self._notifies)
        ends: Any = None
        try:
            while True:
                if ends is None and self._notifies and clock.may_subscribe():
                    ends = await self._subscribe(clock)
                if ends is None:
                    await self.eio.sleep(clock.wait(False))
                else:
                    try:
                        ended = await ends.poll(clock.wait(True))
                    except Exception as error:
                        await ends.aclose()
                        ends = self._subscribed(None, error, clock)
                    else:
                        if ended:
                            await self._guarded(self._reload(self._live_by_id(ended), _NOTIFIED))
                if not self.sessions:  # no await since the check: no connect can slip in
                    self._watching = False
                    return
                why = clock.reload_due()
                if why is not None:
                    await self._guarded(self._reload(self._live_by_id(), why))
        finally:
            if ends is not None:
                await ends.aclose()

    @staticmethod
    async def _guarded(work: Awaitable[Any]) -> None:
        try:
            await work
        except Exception:  # a bug must not stop the watch
            logger.exception("session watch error")

    async def _subscribe(self, clock: _WatchClock) -> Any:
        try:
            ends = await self.store.subscribe_ends(keepalive=self.options.watch)  # type: ignore[attr-defined]
        except Exception as error:
            return self._subscribed(None, error, clock)
        return self._subscribed(ends, None, clock)

    async def check_sessions(self) -> list[str]:
        """Reload every live session once; disconnect those whose session is gone or expired."""
        return await self._reload(self._live_by_id(), "the periodic reload")

    async def _reload(self, by_id: dict[str, list[str]], why: str) -> list[str]:
        """See :meth:`SessionHandle._reload`."""
        ended = []
        for session_id, sids in by_id.items():
            try:
                current = await self.store.get(session_id)
            except Exception as error:
                self._store_failed(error, "the watch", False)
                continue
            if current is None or current.expired():
                for sid in sids:
                    self._end(sid, why)
                    ended.append(sid)
        return ended

    async def _close_connection(self, sid: str) -> None:
        await _compat.async_disconnect(self.eio, sid)


def check_store(eio: Any, store: Any) -> bool:
    """True for an async server; a sync server needs a sync store and an async one an async."""
    is_async = bool(eio.is_asyncio_based())
    for method in ("get", "set", "touch", "destroy"):
        if not callable(getattr(store, method, None)):
            raise TypeError(
                f"store {type(store).__name__} has no {method}(); see engineio_session.stores"
            )
    if inspect.iscoroutinefunction(store.get) != is_async:
        want = (
            "an async store (AsyncRedisStore, AsyncFileStore, ...)"
            if is_async
            else "a sync store (RedisStore, FileStore, ...)"
        )
        server = "an async" if is_async else "a sync"
        raise TypeError(f"{type(store).__name__} cannot serve {server} server: use {want}")
    return is_async


def hook_engineio(eio: Any, handle: SessionHandle | AsyncSessionHandle) -> None:
    """Pin ``handle``'s wrappers in the handshake and disconnect (and on an Engine.IO server
    with ``reload``, each message) of an engineio server; a socketio server's ``sio.eio``
    too. Engine.IO servers also accept ``on("session")``."""
    engineio_level = handle.fires_on_handshake  # Socket.IO fires and reloads per namespace
    wrappers = {"connect": handle._connect, "disconnect": handle._disconnect}
    if handle.options.reload and engineio_level:
        wrappers["message"] = handle._message
    handle.slots = _compat.pin_handlers(eio, wrappers, ("session",) if engineio_level else ())
    if not eio.is_asyncio_based():
        _compat.install_wsgi_response_hook(eio)


def attach_engineio(eio: Any, options: _Options, store: Any) -> SessionHandle | AsyncSessionHandle:
    """``attach`` for an engineio.Server / AsyncServer."""
    _compat.check_server(eio)
    handle: SessionHandle | AsyncSessionHandle
    if check_store(eio, store):
        handle = AsyncSessionHandle(eio, store, options)
    else:
        handle = SessionHandle(eio, store, options)
    hook_engineio(eio, handle)
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
      (express-socket.io-session's ``autoSave``).
    - ``watch``: every ``watch`` seconds, read the live sessions again and close the
      connections whose session was destroyed (a logout) or expired; it notices within
      ``watch`` seconds plus one store read. A store that reports ends (``RedisStore`` /
      ``AsyncRedisStore`` with Redis keyspace notifications: ``notify-keyspace-events``
      with K, g and x, or the store's ``enable_notifications=True``) is also listened to,
      on a connection of its own while any session is live: a logout or an expiry closes
      the connection within milliseconds (one store read confirms it), and the reload
      every ``watch`` seconds stays as the bound. After a subscription (re)starts, every
      session is reloaded once. Without notifications (a Redis Cluster, or Redis not
      configured) one warning is logged and the periodic reload does it alone.
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
