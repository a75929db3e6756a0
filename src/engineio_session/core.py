"""Every decision about the sessions of a server's connections, written once, with no I/O.

What happens at a handshake, a namespace connect, a reload before an event, a disconnect
and a watcher sweep (which cookie or header, verify, load, create, required, what a store
failure means, Set-Cookie, fire ``session``, close) is decided here, as plans
(:mod:`engineio_session.drive`) that ask for each call they need. :class:`SessionCore`
holds the state those decisions read and write (the live session of each connection);
an adapter (:mod:`.engineio`, :mod:`.socketio`) says how to reach its server, and a
driver (the sync or the async handle) makes the calls. Every branch is a plain unit test
(tests/test_core.py steps the plans by hand).

A handshake, in order:

1. the session id: the cookie ``name`` (``s:<id>.<mac>``, verified with every secret),
   else the configured ``header``; nothing unverified ever reaches the store;
2. the store read, unless the store is known to be down (:mod:`.health`); an expired
   session is no session;
3. ``create``: a new session, saved, its Set-Cookie on this response, when the handshake
   had none, the store did not fail, and the response can carry a header;
4. ``required``: no session, no connection (401);
5. the application's own ``connect`` handler; if it rejects, a session created in 3 is
   destroyed again;
6. ``session`` fires (Engine.IO; Socket.IO fires per namespace) and the watcher starts.
"""

from __future__ import annotations

import functools
import inspect
import logging
import threading
import time
from collections.abc import Callable, Iterable
from typing import Any

from .cookie_live import CookieLiveSession
from .drive import Call, Plan, call
from .errors import SessionGoneError, short_id
from .health import StoreHealth
from .live import LiveSession, _BoundSession
from .options import AttachOptions
from .watch import keepalive_loop, watch_loop

__all__ = ["ENVIRON_SESSION", "PLAN", "Exchange", "SessionCore", "is_rejection"]

logger = logging.getLogger("engineio_session")

#: where the session is in the handshake's environ (Socket.IO: ``sio.get_environ(sid)``)
ENVIRON_SESSION = "engineio_session.session"

#: how many sessions one watcher read asks the store for at once (``get_many``)
SWEEP_BATCH = 500


class _Plan:
    __slots__ = ()

    def __repr__(self) -> str:
        return "PLAN"


#: :meth:`SessionCore._take_read_ahead`'s answer where the handshake needs its plan
PLAN: Any = _Plan()


class Exchange:
    """What the HTTP exchange of one handshake brings and takes, as the adapter read it.

    ``cookie_header``: the Cookie header as Node's ``req.headers.cookie`` has it;
    ``header_value``: the configured ``header``'s value; ``can_set_cookie``: whether the
    response can carry a header at all; ``secure``: whether the request came over https.
    The core adds ``set_cookie`` values and sets ``rejected``; the adapter writes them on
    the response, and sets ``sent`` once it started (no header can be added then).

    ``loaded``: the session read before the server handled the handshake (see
    :meth:`SessionCore._read_ahead`), for the handshake to take: ``(session_id, (live
    session or None, whether the store failed))``. ``writes``: whether the core may still
    write on the response (False once what was read ahead leaves ``create`` nothing to do:
    no Set-Cookie will come), so an adapter can hand the response to the server unwrapped.
    """

    __slots__ = (
        "can_set_cookie",
        "cookie_header",
        "header_value",
        "loaded",
        "rejected",
        "secure",
        "sent",
        "set_cookie",
        "writes",
    )

    def __init__(
        self,
        cookie_header: str | None,
        header_value: str | None = None,
        *,
        can_set_cookie: bool = True,
        secure: bool = False,
    ) -> None:
        self.cookie_header = cookie_header
        self.header_value = header_value
        self.can_set_cookie = can_set_cookie
        self.secure = secure
        self.set_cookie: list[str] = []
        self.rejected = False
        self.sent = False
        self.loaded: tuple[str | None, tuple[Any, bool]] | None = None
        self.writes = True

    @property
    def open(self) -> bool:
        """Whether a Set-Cookie can still go on the response."""
        return self.can_set_cookie and not self.sent


def is_rejection(result: Any) -> bool:
    """python-engineio's rule: a ``connect`` handler's None or True accepts, anything else
    rejects."""
    return result is not None and result is not True


@functools.lru_cache(maxsize=64)  # asked on every disconnect, of the same few handlers
def accepts(handler: Callable[..., Any], count: int) -> bool:
    """Whether ``handler`` can be called with ``count`` positional arguments."""
    try:
        inspect.signature(handler).bind(*range(count))
    except TypeError:
        return False
    except ValueError:  # no signature (a builtin): let the call decide
        return True
    return True


class SessionCore:
    """The live sessions of a server's connections, and the plans that decide about them.

    Subclasses (the adapters) provide the server: :meth:`_app`, :meth:`_fire_plan`,
    :meth:`_close_plan`, :meth:`_publish`, :meth:`_spawn`, :meth:`_sleep`.
    """

    #: Engine.IO fires ``session`` at the handshake; Socket.IO per namespace connect
    fires_on_handshake = True
    #: the class of the live sessions handed out (the async handles: AsyncLiveSession)
    live_class: type[_BoundSession] = LiveSession
    #: the class of the sessions handed out with cookie-session
    cookie_class: type[Any] = CookieLiveSession

    def __init__(self, store: Any, options: AttachOptions) -> None:
        self._store = store
        self._options = options
        self._sessions: dict[str, Any] = {}
        self._health = StoreHealth(getattr(store, "name", None) or type(store).__name__)
        #: the background loops running now (watch, keepalive): each stops with no session
        self._running: set[str] = set()
        self._lock = threading.Lock()
        #: the store can say when a session ends (RedisStore.subscribe_ends); False once it
        #: said it cannot, so that is logged once
        #: what live sessions call when they find theirs gone (one bound method for all)
        self._on_gone = self._end_session
        #: whether a live session starts background loops (watch, keepalive)
        self._loops_wanted = options.watch is not None or options.touch_interval is not None
        self._notifies = options.watch is not None and callable(
            getattr(store, "subscribe_ends", None)
        )
        #: whether what the store's ``get`` returns may have expired (see Store)
        self._may_be_expired = getattr(store, "drops_expired", False) is not True
        #: whether what the store's ``get`` returns is ours to keep (see Store)
        self._reads_owned = getattr(store, "fresh_sessions", False) is True

    # --- what an adapter provides ------------------------------------------------------

    def _app(self, event: str) -> Callable[..., Any] | None:
        """The application's own handler of ``event``, if any."""
        raise NotImplementedError

    def _fire_plan(self, sid: str, session: Any) -> Plan[None]:
        """Fire ``session`` at the handshake (only where ``fires_on_handshake``)."""
        raise NotImplementedError

    def _close_plan(self, sid: str) -> Plan[None]:
        """Close the connection ``sid`` (the session is gone)."""
        raise NotImplementedError

    def _publish(self, sid: str, session: Any) -> None:
        """Where else the connection's current session is kept (its environ)."""

    def _spawn(self, plan: Plan[Any]) -> None:
        """Run ``plan`` in the background (a thread, a greenlet, an asyncio task)."""
        raise NotImplementedError

    def _sleep(self, seconds: float) -> Any:
        raise NotImplementedError

    # --- the store, through the breaker --------------------------------------------------

    def _outcome(self, reject: bool) -> str:
        return "rejecting it" if reject else "going on without a session"

    def _guarded(self, what: str, reject: bool, plan: Plan[Any]) -> Plan[tuple[Any, bool]]:
        """Run ``plan``, which calls the store: (its result, False), or (None, True) when the
        store failed or is known to be down (logged, with what ``reject`` makes of it)."""
        health = self._health
        if not health.admit():
            health.refused(what, self._outcome(reject))
            plan.close()
            return None, True
        started = time.monotonic()
        try:
            result = yield from plan
        except Exception as error:
            health.failed(error, what, self._outcome(reject), time.monotonic() - started)
            return None, True
        except BaseException:
            health.release(time.monotonic() - started)
            raise
        health.succeeded()
        return result, False

    def _load(self, session_id: str, what: str) -> Plan[tuple[Any, bool]]:
        """The live session stored under ``session_id`` (None: none, or expired), and
        whether the store failed."""
        # _guarded(call(get)) unrolled: the hot path of every handshake with a cookie
        if not self._may_load(what):
            return None, True
        started = time.monotonic()
        try:
            stored = yield Call(self._store.get, session_id)
        except Exception as error:
            return self._load_failed(error, what, started)
        except BaseException:
            self._health.release(time.monotonic() - started)
            raise
        return self._loaded(stored)

    def _may_load(self, what: str) -> bool:
        """Whether the store may be read now (the breaker); a refusal is logged."""
        health = self._health
        if health.down and not health.admit():
            health.refused(what, self._outcome(self._options.reject_on_store_error()))
            return False
        return True

    def _load_failed(self, error: Exception, what: str, started: float) -> tuple[None, bool]:
        """A read that failed (begun at monotonic time ``started``): logged, no session."""
        outcome = self._outcome(self._options.reject_on_store_error())
        self._health.failed(error, what, outcome, time.monotonic() - started)
        return None, True

    def _loaded(self, stored: Any) -> tuple[Any, bool]:
        """What a read that succeeded gives: the live session, or None (none, expired)."""
        health = self._health
        if health.failures:  # succeeded()'s own test, without its call: every handshake
            health.succeeded()
        if stored is None or (self._may_be_expired and stored.expired()):
            return None, False
        return self.live_class.bind(
            stored, self._store, on_gone=self._on_gone, owned=self._reads_owned
        ), False

    # --- a handshake ------------------------------------------------------------------

    def _create(self) -> Plan[tuple[Any, bool]]:
        """``create``: a new session, saved before anything can see or name it; and
        whether the handshake must be rejected (the save failed under ``reject``)."""
        session = self.live_class.bind(
            self._options.new_session(), self._store, new=True, on_gone=self._on_gone, owned=True
        )
        reject = self._options.reject_on_store_error()
        _, failed = yield from self._guarded("saving a new session", reject, session._save(False))
        if failed:
            return None, reject
        return session, False

    def _handshake(
        self, sid: str, environ: dict[str, Any], args: tuple[Any, ...], exchange: Exchange
    ) -> Plan[Any]:
        """The Engine.IO handshake of connection ``sid``: what its ``connect`` returns."""
        options = self._options
        session = None
        failed = False
        session_id = None
        loaded, exchange.loaded = exchange.loaded, None
        if options.cookie_session is not None:  # the session is in the cookie: no store
            session = self._from_cookie(exchange)
        elif loaded is not None:  # read ahead, before the server began the handshake
            session_id, (session, failed) = loaded
        else:
            session_id = options.session_id(exchange.cookie_header, exchange.header_value)
            if session_id is not None:
                session, failed = yield from self._load(session_id, "the handshake")
        if failed and options.reject_on_store_error():
            return False
        created = False
        # a store that failed may hold this user's session: a new one would log them out
        if session is None and options.create and not failed and options.cookie_session is None:
            if exchange.can_set_cookie:
                session, reject = yield from self._create()
                if reject:
                    return False
                created = session is not None
            else:
                logger.debug("no Set-Cookie possible on this handshake: no new session")
        if session is None and options.required_at_handshake:
            return False
        self._admit(sid, environ, session)
        app = self._app("connect")
        try:
            result = (yield Call(app, sid, environ, *args)) if app is not None else None
        except BaseException:
            yield from self._rejected(sid, created)
            raise
        if result is not None and result is not True:  # is_rejection, inlined: every handshake
            yield from self._rejected(sid, created)
            return result
        if session is not None:
            if created:
                exchange.set_cookie.append(options.set_cookie(session))
            if self.fires_on_handshake:
                yield from self._fire_plan(sid, session)
            if self._loops_wanted:
                self._start_watch()
        return result

    def _admit(self, sid: str, environ: dict[str, Any], session: Any) -> None:
        """The handshake's session (or None) where its ``connect`` handler and the rest of
        the server can reach it, before that handler runs."""
        environ[ENVIRON_SESSION] = session
        if session is not None:
            self._sessions[sid] = session

    def _take_read_ahead(self, exchange: Exchange) -> Any:
        """What was read ahead for this handshake when that is all it needs (no store call,
        nothing created, nothing to reject before its ``connect`` handler), taken from
        ``exchange``: the live session, or None (no cookie, an unverified one, no session
        stored) where ``create`` and ``required`` have nothing to do. Else :data:`PLAN`,
        and ``exchange`` is left to :meth:`_handshake`. The async handles then make the rest
        of the handshake with awaits (``_admitted``), as :meth:`_handshake` would from
        there: :meth:`_admit`, the ``connect`` handler (:meth:`_forget` if it rejects or
        raises), and with a session ``session`` fired and the watcher."""
        loaded = exchange.loaded
        if loaded is None:
            return PLAN
        session, failed = loaded[1]  # a session means the store did not fail (_loaded)
        if session is None:
            options = self._options
            if failed or options.create or options.required_at_handshake:
                return PLAN
        exchange.loaded = None
        return session

    def _read_ahead(self, exchange: Exchange) -> Plan[None]:
        """The handshake's session, read before the server handles the request (the ASGI
        hook awaits this first): the handshake then runs through without waiting, so what
        the server builds for it lives for microseconds, not for a store's round trip, and
        the cyclic collector never finds it in flight. What it read waits in
        ``exchange.loaded`` for :meth:`_handshake`; a request the server turns away (not a
        handshake after all, a refused origin) just drops it. The async handles make this
        read without the plan (:meth:`_read_ahead_id`, then :meth:`_may_load`, the store's
        ``get``, :meth:`_loaded` or :meth:`_load_failed`, and :meth:`_read_ahead_done`)."""
        session_id = self._read_ahead_id(exchange)
        if session_id is not None:
            outcome = yield from self._load(session_id, "the handshake")
            self._read_ahead_done(exchange, session_id, outcome)

    def _read_ahead_id(self, exchange: Exchange) -> str | None:
        """The verified session id a read ahead reads; None where there is nothing to read
        (then ``exchange.loaded`` already says so; with cookie-session it stays None)."""
        options = self._options
        if options.cookie_session is not None:
            return None
        session_id = options.session_id(exchange.cookie_header, exchange.header_value)
        if session_id is None:
            exchange.loaded = (None, (None, False))
            exchange.writes = options.create  # only a new session's Set-Cookie can come
        return session_id

    def _read_ahead_done(
        self, exchange: Exchange, session_id: str, outcome: tuple[Any, bool]
    ) -> None:
        # only `create` writes on the response, and only where no session was found and the
        # store did not fail (a store that failed may still reject the handshake; that
        # answer is the server's own)
        session, failed = outcome
        exchange.writes = session is None and not failed and self._options.create
        exchange.loaded = (session_id, outcome)

    def _from_cookie(self, exchange: Exchange) -> Any:
        """cookie-session: the session in the handshake's cookies (or a new, empty one with
        ``create``), or None. What the read sends back (a ``.sig`` re-signed with the newest
        key, a forged one cleared) goes on the response, as cookie-session sends it."""
        cookies = self._options.cookie_session
        assert cookies is not None
        read = cookies.read(exchange.cookie_header, https=exchange.secure)
        if read.set_cookie and exchange.open:
            exchange.set_cookie.extend(read.set_cookie)
        if read.data is None and not self._options.create:
            return None
        return self.cookie_class(read, cookies, exchange)

    def _rejected(self, sid: str, created: bool) -> Plan[None]:
        session = self._forget(sid)
        if created and session is not None:
            try:
                yield Call(self._store.destroy, session.id)  # nobody will ever hold its cookie
            except Exception as error:
                what = "removing a rejected connection's new session"
                self._health.failed(error, what, "going on")

    def _fire_handler(self, handler: Callable[..., Any] | None, *args: Any) -> Plan[None]:
        """Call a ``session`` handler; its failure is logged, never the connection's end."""
        if handler is None:
            return
        try:
            yield Call(handler, *args)
        except Exception:
            logger.exception("session handler error")

    # --- events and the end of a connection ----------------------------------------------

    def _refresh(self, sid: str) -> Plan[bool]:
        """``reload=True``: swap in the store's current session before a message or event.

        A new object, so a handler still running on the previous one keeps a consistent
        view. False (and the connection closed) when the session is gone; True when the
        store failed (the connection keeps the session it has).
        """
        session = self._sessions.get(sid)
        if session is None:
            return True
        fresh, failed = yield from self._load(session.id, "a reload")
        if failed:
            return True
        if fresh is None:
            self._end(sid, "the reload before an event")
            return False
        if self._sessions.get(sid) is session:
            self._sessions[sid] = fresh
            self._publish(sid, fresh)
        return True

    def _message(self, sid: str, data: Any) -> Plan[Any]:
        """An Engine.IO message with ``reload``: reload, then the application's handler."""
        if self._options.reload and sid in self._sessions and not (yield from self._refresh(sid)):
            return None
        app = self._app("message")
        return (yield Call(app, sid, data)) if app is not None else None

    def _disconnection(self, sid: str, args: tuple[Any, ...]) -> Plan[Any]:
        """The application's ``disconnect`` handler, then the session forgotten (and saved
        with ``auto_save`` if it changed; never brought back if the store lost it)."""
        app = self._app("disconnect")
        try:
            if app is None:
                return None
            # python-engineio >= 4.11 passes a reason; a legacy handler takes only the sid
            if args and not accepts(app, 1 + len(args)):
                args = ()
            return (yield Call(app, sid, *args))
        finally:
            session = self._forget(sid)
            if (
                session is not None
                and self._options.auto_save
                and not session.destroyed
                and session.modified
            ):
                try:
                    yield from session._save(False)
                except SessionGoneError:
                    pass  # logged out meanwhile: not brought back
                except Exception as error:
                    self._health.failed(error, "the auto-save on disconnect", "going on")

    def _forget(self, sid: str) -> Any:
        session = self._sessions.pop(sid, None)
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
        self._spawn(self._close_plan(sid))

    def _end_session(self, session_id: str) -> None:
        """A live session found its session gone (a save, touch or reload): close every
        connection that holds it."""
        for sid in self._live_by_id((session_id,)).get(session_id, ()):
            self._end(sid, "a write back")

    # --- the watcher's reads ------------------------------------------------------------

    def _live_by_id(self, only: Iterable[str] | None = None) -> dict[str, list[str]]:
        """The Engine.IO sids of each live session id (tabs share a session), all or ``only``."""
        wanted = None if only is None else set(only)
        by_id: dict[str, list[str]] = {}
        for sid, session in list(self._sessions.items()):
            if wanted is None or session.id in wanted:
                by_id.setdefault(session.id, []).append(sid)
        return by_id

    def _reload(self, by_id: dict[str, list[str]], why: str) -> Plan[list[str] | None]:
        """Read the sessions of ``by_id`` (``get_many``, in batches); end the connections of
        those gone. The sids ended, or None when the store failed."""
        ended: list[str] = []
        ids = list(by_id)
        for start in range(0, len(ids), SWEEP_BATCH):
            batch = ids[start : start + SWEEP_BATCH]
            read = call(self._store.get_many, batch)
            found, failed = yield from self._guarded("the watch", False, read)
            if failed:
                return None
            for session_id, current in zip(batch, found, strict=True):
                if current is None or current.expired():
                    for sid in by_id[session_id]:
                        self._end(sid, why)
                        ended.append(sid)
        return ended

    def _start_watch(self) -> None:
        """A session is live: start the watcher and the keep-alive touch, where asked for
        and not running."""
        if not self._loops_wanted:
            return
        options = self._options
        for name, wanted, loop in (
            ("watch", options.watch is not None, watch_loop),
            ("keepalive", options.touch_interval is not None, keepalive_loop),
        ):
            if not wanted:
                continue
            with self._lock:
                if name in self._running:
                    continue
                self._running.add(name)
            self._spawn(loop(self))

    @property
    def _watching(self) -> bool:
        return "watch" in self._running

    def _keep_running(self, name: str) -> bool:
        """Whether the loop ``name`` goes on: False (and it stops) once no session is live."""
        with self._lock:
            if not self._sessions:
                self._running.discard(name)
                return False
            return True

    def _keep_watching(self) -> bool:
        return self._keep_running("watch")

    # --- the connections of a session (rooms, emit, disconnect) ---------------------------

    def _sids_of(self, session_id: str) -> list[str]:
        """The Engine.IO sids whose live session is ``session_id`` (the tabs of a user)."""
        return self._live_by_id((session_id,)).get(session_id, [])

    def _disconnect_session(self, session_id: str) -> Plan[list[str]]:
        """Close every connection of ``session_id`` here, and tell the other processes where
        the store can (``announce_end``: their watchers close theirs)."""
        ended = self._sids_of(session_id)
        for sid in ended:
            self._end(sid, "disconnect_session")
        announce = getattr(self._store, "announce_end", None)
        if announce is not None:
            yield Call(announce, session_id)
        return ended
