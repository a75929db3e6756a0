"""Driving a plan on an asyncio database connection, bounded by ``timeout``.

The whole call, getting a connection included, runs under ``asyncio.timeout(timeout)``.
A connection whose call was cancelled there is closed, never reused: its protocol state is
unknown. A connection that failed otherwise is rolled back if it can be (within the same
deadline), else closed; a failure on an idle pooled connection (a restarted server) is
tried once more on a fresh one. What a database library contributes is an
:class:`AsyncDriver` and an :class:`AsyncSource` (psycopg's ``AsyncConnection`` and
aiomysql's ``Connection`` both fit :class:`AsyncQuery`). A library with no asyncio side
(sqlite3) runs its sync runner on a worker thread instead: :class:`ThreadedRunner`.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol, TypeVar

from ...drive import Plan, arun
from ._sync import DBAPIQuery, SyncRunner
from .runner import Settings, wrap

__all__ = [
    "AsyncOwnPool",
    "AsyncQuery",
    "AsyncRunner",
    "AsyncSingle",
    "AsyncSource",
    "ThreadedRunner",
]

T = TypeVar("T")


async def _settled(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


class AsyncQuery:
    """The ``q`` of a plan over an async connection (psycopg async, aiomysql)."""

    __slots__ = ("conn",)

    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def _execute(self, sql: str, params: Sequence[Any]) -> Any:
        cursor = await _settled(self.conn.cursor())
        await cursor.execute(sql, params if params else None)
        return cursor

    async def one(self, sql: str, params: Sequence[Any]) -> Any:
        cursor = await self._execute(sql, params)
        try:
            return await _settled(cursor.fetchone())
        finally:
            await _settled(cursor.close())

    async def rows(self, sql: str, params: Sequence[Any]) -> list[Any]:
        cursor = await self._execute(sql, params)
        try:
            return list(await _settled(cursor.fetchall()))
        finally:
            await _settled(cursor.close())

    async def run(self, sql: str, params: Sequence[Any]) -> int:
        cursor = await self._execute(sql, params)
        try:
            return int(cursor.rowcount)
        finally:
            await _settled(cursor.close())


class AsyncDriver(Protocol):
    """What the runner knows of an asyncio database library."""

    errors: tuple[type[BaseException], ...]

    def autocommit(self, conn: Any) -> bool: ...

    def broken(self, conn: Any) -> bool: ...

    async def close(self, conn: Any) -> None: ...


class AsyncSource(Protocol):
    async def acquire(self, *, fresh: bool = False) -> tuple[Any, bool]: ...

    async def release(self, conn: Any, *, keep: bool) -> None: ...

    async def aclose(self) -> None: ...


class AsyncSingle:
    """One connection you gave, one call at a time; never closed here (unless a cancelled
    call left it in an unknown state: then it is closed, and later calls fail)."""

    def __init__(self, conn: Any) -> None:
        self.conn = conn
        self._lock: asyncio.Lock | None = None

    async def acquire(self, *, fresh: bool = False) -> tuple[Any, bool]:
        if self._lock is None:
            self._lock = asyncio.Lock()
        await self._lock.acquire()
        return self.conn, False

    async def release(self, conn: Any, *, keep: bool) -> None:
        assert self._lock is not None
        self._lock.release()

    async def aclose(self) -> None:
        pass


class AsyncOwnPool:
    """Connections this store made (from a URL), connected on demand; idle ones kept."""

    def __init__(
        self, connect: Callable[[], Awaitable[Any]], driver: AsyncDriver, size: int
    ) -> None:
        self._connect = connect
        self._driver = driver
        self._size = size
        self._idle: list[Any] = []

    async def acquire(self, *, fresh: bool = False) -> tuple[Any, bool]:
        if fresh:
            stale, self._idle = self._idle, []
            for old in stale:
                await self._driver.close(old)
        if self._idle:
            return self._idle.pop(), True
        return await self._connect(), False

    async def release(self, conn: Any, *, keep: bool) -> None:
        if keep and not self._driver.broken(conn) and len(self._idle) < self._size:
            self._idle.append(conn)
        else:
            await self._driver.close(conn)

    async def aclose(self) -> None:
        idle, self._idle = self._idle, []
        for conn in idle:
            await self._driver.close(conn)


class AsyncRunner:
    """Runs plans for one async store: ``await runner(make_plan, atomic=...)``."""

    def __init__(self, settings: Settings, source: AsyncSource, driver: AsyncDriver) -> None:
        self.settings = settings
        self.source = source
        self.driver = driver

    async def __call__(self, make: Callable[[AsyncQuery], Plan[T]], *, atomic: bool) -> T:
        deadline = asyncio.timeout(self.settings.timeout)
        try:
            async with deadline:
                return await self._attempts(make, atomic)
        except TimeoutError as error:
            if not deadline.expired():
                raise self.settings.failure(error) from error
            raise self.settings.timed_out() from error

    async def _attempts(self, make: Callable[[AsyncQuery], Plan[T]], atomic: bool) -> T:
        driver, fresh = self.driver, False
        while True:
            try:
                conn, reused = await self.source.acquire(fresh=fresh)
            except (*driver.errors, OSError) as error:  # type: ignore[misc]
                raise self.settings.failure(error) from error
            try:
                q = AsyncQuery(conn)
                plan = wrap(make(q), q, self.settings, atomic, driver.autocommit(conn))
                result = await arun(plan)
            except BaseException as error:
                await self.source.release(conn, keep=await self._settle(conn, atomic, error))
                if not isinstance(error, driver.errors):
                    raise
                if reused and driver.broken(conn) and not fresh:
                    fresh = True  # a dead idle connection: once more on a new one
                    continue
                raise self.settings.failure(error) from error
            await self.source.release(conn, keep=True)
            return result

    async def _settle(self, conn: Any, atomic: bool, error: BaseException) -> bool:
        """After a failure: roll back what may be open; whether ``conn`` can serve again."""
        if isinstance(error, asyncio.CancelledError) or self.driver.broken(conn):
            await self.driver.close(conn)  # cut off mid-call: its state is unknown
            return False
        if atomic or not self.driver.autocommit(conn):
            try:
                await AsyncQuery(conn).run("ROLLBACK", ())
            except Exception:
                await self.driver.close(conn)
                return False
        return True

    async def aclose(self) -> None:
        await self.source.aclose()


class ThreadedRunner:
    """Runs plans for one async store on a blocking driver: each call is the sync runner's,
    whole, on a worker thread (``asyncio.to_thread``), so the event loop never waits on the
    driver and the call is bounded as the sync one is (its watchdog). A call cancelled
    while it runs aborts its connection (sqlite3: ``interrupt()``), so the thread ends too.
    """

    def __init__(self, sync: SyncRunner) -> None:
        self.sync = sync
        self.settings = sync.settings

    async def __call__(self, make: Callable[[DBAPIQuery], Plan[T]], *, atomic: bool) -> T:
        used: list[Any] = []

        def tracked(q: DBAPIQuery) -> Plan[T]:
            used.append(q.conn)
            return make(q)

        try:
            return await asyncio.to_thread(self.sync, tracked, atomic=atomic)
        except asyncio.CancelledError:
            if used:
                self.sync.driver.abort(used[-1])
            raise

    async def aclose(self) -> None:
        await asyncio.to_thread(self.sync.close)
