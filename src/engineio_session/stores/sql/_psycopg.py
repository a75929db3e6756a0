"""psycopg 3 glue for the runners: connections from a URL, yours, or a psycopg_pool pool.

Imported only when a PostgreSQL store is built (``pip install engineio-session[postgres]``).
A URL gets a small pool of this store's own: connections made on demand in autocommit
mode, at most ``pool_size`` kept idle, and no background thread, so the first call after
an outage connects again at once. A ``psycopg_pool`` pool you pass is used as it is (its
own reconnection rules apply); one connection you pass serves one call at a time.
"""

from __future__ import annotations

import contextlib
import math
import socket
from typing import Any

import psycopg

from ._async import AsyncOwnPool, AsyncSingle, AsyncSource
from ._sync import OwnPool, Single, Source, close_quietly, connect_within

__all__ = ["async_source", "sync_source"]

_ERRORS: tuple[type[BaseException], ...] = (psycopg.Error,)


class _Driver:
    errors = _ERRORS

    @staticmethod
    def autocommit(conn: Any) -> bool:
        return bool(conn.autocommit)

    @staticmethod
    def broken(conn: Any) -> bool:
        return bool(conn.closed or conn.broken)


class SyncDriver(_Driver):
    @staticmethod
    def abort(conn: Any) -> None:
        # shut the libpq socket down: the blocked wait in the other thread wakes at once
        # with "server closed the connection", and the connection is BAD (never reused)
        with socket.fromfd(conn.pgconn.socket, socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.shutdown(socket.SHUT_RDWR)

    close = staticmethod(close_quietly)


class AsyncDriver(_Driver):
    @staticmethod
    async def close(conn: Any) -> None:
        with contextlib.suppress(Exception):
            await conn.close()


class _LibraryPool:
    """A ``psycopg_pool.ConnectionPool`` you passed."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    def acquire(self, timeout: float | None, *, fresh: bool = False) -> tuple[Any, bool]:
        if fresh:
            self.pool.check()  # drop the idle connections that died with the server
        return self.pool.getconn(timeout=timeout), True

    def release(self, conn: Any, *, keep: bool) -> None:
        if not keep:
            SyncDriver.close(conn)
        self.pool.putconn(conn)

    def close(self) -> None:
        pass


class _AsyncLibraryPool:
    """A ``psycopg_pool.AsyncConnectionPool`` you passed."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def acquire(self, *, fresh: bool = False) -> tuple[Any, bool]:
        if fresh:
            await self.pool.check()
        return await self.pool.getconn(), True

    async def release(self, conn: Any, *, keep: bool) -> None:
        if not keep:
            await AsyncDriver.close(conn)
        await self.pool.putconn(conn)

    async def aclose(self) -> None:
        pass


def _is_url(client: object) -> bool:
    return isinstance(client, str) and client.startswith(("postgresql://", "postgres://"))


def sync_source(client: Any, pool_size: int) -> Source:
    """The connections of ``client``: a URL, a ``psycopg.Connection`` or a
    ``psycopg_pool.ConnectionPool``."""
    if _is_url(client):
        url: str = client

        def connect(timeout: float | None) -> Any:
            if timeout is None:
                return psycopg.Connection.connect(url, autocommit=True)
            # libpq's own bound (whole seconds, at least 2) ends the worker thread of a
            # connect to a server that never answers; without it the thread waits forever,
            # and a few such waits leave no worker for any later connect
            bound = max(2, math.ceil(timeout))
            return connect_within(
                lambda: psycopg.Connection.connect(url, autocommit=True, connect_timeout=bound),
                timeout,
                SyncDriver.close,
            )

        return OwnPool(connect, SyncDriver(), pool_size)
    if isinstance(client, psycopg.Connection):
        return Single(client)
    if hasattr(client, "getconn") and not _is_async_pool(client):
        return _LibraryPool(client)
    raise TypeError(
        "a sync PostgreSQL store takes a postgresql:// URL, a psycopg.Connection or a "
        f"psycopg_pool.ConnectionPool, not {type(client).__name__}"
    )


def async_source(client: Any, pool_size: int) -> AsyncSource:
    """The connections of ``client``: a URL, a ``psycopg.AsyncConnection`` or a
    ``psycopg_pool.AsyncConnectionPool``."""
    if _is_url(client):
        url: str = client

        async def connect() -> Any:
            return await psycopg.AsyncConnection.connect(url, autocommit=True)

        return AsyncOwnPool(connect, AsyncDriver(), pool_size)
    if isinstance(client, psycopg.AsyncConnection):
        return AsyncSingle(client)
    if _is_async_pool(client):
        return _AsyncLibraryPool(client)
    raise TypeError(
        "an async PostgreSQL store takes a postgresql:// URL, a psycopg.AsyncConnection or a "
        f"psycopg_pool.AsyncConnectionPool, not {type(client).__name__}"
    )


def _is_async_pool(client: object) -> bool:
    import inspect

    return hasattr(client, "getconn") and inspect.iscoroutinefunction(client.getconn)
