"""Driving a plan on a blocking DB-API connection, bounded by ``timeout``.

The plan runs in the caller's thread. A single watchdog thread holds each call's deadline;
when one passes, it *aborts* the call's connection (the driver shuts its socket down, or
``sqlite3.Connection.interrupt()``), so the blocked driver call returns at once with an
error, which becomes :class:`StoreError`. That bounds a hung server, a lost network or a
row lock held elsewhere, with no thread hand-off on the normal path. Getting a connection
is bounded by the same deadline (a pool's wait, a connect timeout).

A connection that failed is rolled back if it can be, else closed and dropped; a failure
on a connection that sat idle in a pool (a restarted server) is tried once more on a fresh
one within the same deadline. Everything a database library contributes is a
:class:`Driver` and a :class:`Source`.
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import functools
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, Protocol, TypeVar

from ...drive import Plan, run
from .runner import Settings, remaining, wrap

__all__ = [
    "DBAPIQuery",
    "OwnPool",
    "Single",
    "Source",
    "SyncRunner",
    "connect_within",
    "watchdog",
]

T = TypeVar("T")


class DBAPIQuery:
    """The ``q`` of a plan over a DB-API connection (psycopg, PyMySQL, sqlite3)."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        cursor = self.conn.cursor()
        if params:
            cursor.execute(sql, params)
        else:  # sqlite3 takes no None for "no parameters"
            cursor.execute(sql)
        return cursor

    def one(self, sql: str, params: Sequence[Any]) -> Any:
        cursor = self._execute(sql, params)
        try:
            return cursor.fetchone()
        finally:
            cursor.close()

    def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        cursor = self._execute(sql, params)
        try:
            return list(cursor.fetchall())
        finally:
            cursor.close()

    def run(self, sql: str, params: Sequence[Any]) -> int:
        cursor = self._execute(sql, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()


class Driver(Protocol):
    """What the runner knows of a blocking database library."""

    #: the library's exceptions (they become StoreError; anything else is a bug: raised)
    errors: tuple[type[BaseException], ...]

    def autocommit(self, conn: Any) -> bool: ...

    def broken(self, conn: Any) -> bool: ...

    def abort(self, conn: Any) -> None:
        """Make a call blocked on ``conn`` in another thread return now (may break it)."""

    def close(self, conn: Any) -> None: ...


class Source(Protocol):
    """Where connections come from: ``acquire`` gives one and whether it was used before."""

    def acquire(self, timeout: float | None, *, fresh: bool = False) -> tuple[Any, bool]: ...

    def release(self, conn: Any, *, keep: bool) -> None: ...

    def close(self) -> None: ...


class Single:
    """One connection you gave, used by one call at a time (a lock); never closed here."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._lock = threading.Lock()

    def acquire(self, timeout: float | None, *, fresh: bool = False) -> tuple[Any, bool]:
        if not self._lock.acquire(timeout=-1 if timeout is None else max(timeout, 0)):
            raise TimeoutError("the connection stayed busy")
        return self.conn, False  # never retried: there is no other connection

    def release(self, conn: Any, *, keep: bool) -> None:
        self._lock.release()

    def close(self) -> None:
        pass


class OwnPool:
    """Connections this store made (from a URL): the idle ones kept, at most ``size``."""

    def __init__(self, connect: Callable[[float | None], Any], driver: Driver, size: int) -> None:
        self._connect = connect
        self._driver = driver
        self._size = size
        self._idle: list[Any] = []
        self._lock = threading.Lock()

    def acquire(self, timeout: float | None, *, fresh: bool = False) -> tuple[Any, bool]:
        with self._lock:
            stale, self._idle = (self._idle, []) if fresh else ([], self._idle)
            conn = self._idle.pop() if self._idle else None
        for old in stale:  # a fresh start: the idle ones are likely dead too
            self._driver.close(old)
        if conn is not None:
            return conn, True
        return self._connect(timeout), False

    def release(self, conn: Any, *, keep: bool) -> None:
        if keep and not self._driver.broken(conn):
            with self._lock:
                if len(self._idle) < self._size:
                    self._idle.append(conn)
                    return
        self._driver.close(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            self._driver.close(conn)


class SyncRunner:
    """Runs plans for one sync store: ``runner(make_plan, atomic=...)``."""

    def __init__(self, settings: Settings, source: Source, driver: Driver) -> None:
        self.settings = settings
        self.source = source
        self.driver = driver

    def __call__(self, make: Callable[[DBAPIQuery], Plan[T]], *, atomic: bool) -> T:
        settings = self.settings
        deadline = None if settings.timeout is None else time.monotonic() + settings.timeout
        fresh = False
        while True:
            try:
                conn, reused = self.source.acquire(remaining(deadline), fresh=fresh)
            except (*self.driver.errors, OSError, TimeoutError) as error:  # type: ignore[misc]
                raise settings.failure(error) from error
            alarm = watchdog.arm(deadline, functools.partial(self.driver.abort, conn))
            try:
                q = DBAPIQuery(conn)
                result = run(wrap(make(q), q, settings, atomic, self.driver.autocommit(conn)))
            except BaseException as error:
                self.source.release(conn, keep=self._settle(conn, atomic))
                alarm.disarm()
                if alarm.fired:
                    raise settings.timed_out() from error
                if not isinstance(error, self.driver.errors):
                    raise
                if reused and self.driver.broken(conn) and not fresh and remaining(deadline) != 0:
                    fresh = True  # a dead idle connection: once more on a new one
                    continue
                raise settings.failure(error) from error
            alarm.disarm()
            self.source.release(conn, keep=not alarm.fired)
            return result

    def _settle(self, conn: Any, atomic: bool) -> bool:
        """After a failure: roll back what may be open; whether ``conn`` can serve again."""
        if self.driver.broken(conn):
            return False
        if atomic or not self.driver.autocommit(conn):
            try:
                DBAPIQuery(conn).run("ROLLBACK", ())
            except Exception:
                return False
        return True

    def close(self) -> None:
        self.source.close()


def close_quietly(conn: Any) -> None:
    """Close a DB-API connection, whatever state it is in (a broken one may raise)."""
    with contextlib.suppress(Exception):
        conn.close()


def connect_within(
    connect: Callable[[], Any], timeout: float | None, close: Callable[[Any], None]
) -> Any:
    """``connect()`` bounded by ``timeout`` even where the driver's own bound is coarser
    (libpq's ``connect_timeout`` is whole seconds, at least 2): it runs in a thread of its
    own (a connect that outlives its caller never holds up the next one); past the deadline
    TimeoutError, and the connection, if it still comes, is closed."""
    if timeout is None:
        return connect()
    future: concurrent.futures.Future[Any] = concurrent.futures.Future()

    def work() -> None:
        try:
            conn = connect()
        except BaseException as error:
            future.set_exception(error)
        else:
            future.set_result(conn)

    threading.Thread(target=work, name="engineio-session-sql-connect", daemon=True).start()
    try:
        return future.result(timeout)
    except concurrent.futures.TimeoutError:

        def close_late(done: concurrent.futures.Future[Any]) -> None:
            if done.exception() is None:
                close(done.result())

        future.add_done_callback(close_late)
        raise TimeoutError(f"no connection within {timeout:.3g} s") from None


# --- the watchdog -------------------------------------------------------------------------------


class _Alarm:
    __slots__ = ("action", "deadline", "fired")

    def __init__(self, deadline: float, action: Callable[[], None]) -> None:
        self.deadline = deadline
        self.action = action
        self.fired = False

    def disarm(self) -> None:
        watchdog.disarm(self)


class _NoAlarm:
    fired = False

    def disarm(self) -> None:
        pass


class _Watchdog:
    """One daemon thread that runs each armed alarm's action once its deadline passes."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._alarms: dict[int, _Alarm] = {}
        self._until = float("inf")  # when the thread wakes next
        self._thread: threading.Thread | None = None

    def arm(self, deadline: float | None, action: Callable[[], None]) -> _Alarm | _NoAlarm:
        if deadline is None:
            return _NoAlarm()
        alarm = _Alarm(deadline, action)
        with self._cond:
            self._alarms[id(alarm)] = alarm
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._watch, name="engineio-session-sql-watchdog", daemon=True
                )
                self._thread.start()
            elif deadline < self._until:
                self._cond.notify()
        return alarm

    def disarm(self, alarm: _Alarm) -> None:
        with self._cond:
            self._alarms.pop(id(alarm), None)

    def _watch(self) -> None:
        while True:
            due: list[_Alarm] = []
            with self._cond:
                now = time.monotonic()
                for key, alarm in list(self._alarms.items()):
                    if alarm.deadline <= now:
                        alarm.fired = True
                        due.append(alarm)
                        del self._alarms[key]
                if not due:
                    self._until = min(
                        (alarm.deadline for alarm in self._alarms.values()), default=float("inf")
                    )
                    self._cond.wait(None if self._until == float("inf") else self._until - now)
                    self._until = 0.0
            for alarm in due:
                with contextlib.suppress(Exception):  # the call fails on its own then
                    alarm.action()


#: the process's one watchdog
watchdog = _Watchdog()
