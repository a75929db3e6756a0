"""PyMySQL and aiomysql glue for the runners: connections from a URL, yours, or a pool.

Imported only when a MySQL store is built (``pip install engineio-session[mysql]``).
aiomysql is PyMySQL's protocol on asyncio: one family, the same escaping, the same
errors (``pymysql.err``), both pure Python. A URL gets a small pool of this store's own
(autocommit, ``utf8mb4``, ``CLIENT_FOUND_ROWS`` so an UPDATE reports the rows it found),
connected on demand, so the first call after an outage connects again at once.
"""

from __future__ import annotations

import contextlib
import socket
from typing import Any
from urllib.parse import unquote, urlsplit

import pymysql
from pymysql.constants import CLIENT

from ._async import AsyncOwnPool, AsyncSingle, AsyncSource
from ._sync import OwnPool, Single, Source, close_quietly, connect_within

__all__ = ["async_source", "connect_args", "sync_source"]


def connect_args(url: str) -> dict[str, Any]:
    """The connect() arguments of ``mysql://user:password@host:port/database``.

    >>> connect_args("mysql://root:p%40ss@db:3307/app")["password"]
    'p@ss'
    """
    parts = urlsplit(url)
    if parts.scheme not in ("mysql", "mariadb"):
        raise ValueError(f"not a mysql:// URL: {parts.scheme}://...")
    return {
        "host": parts.hostname or "localhost",
        "port": parts.port or 3306,
        "user": unquote(parts.username or ""),
        "password": unquote(parts.password or ""),
        "database": unquote(parts.path.lstrip("/")) or None,
        "charset": "utf8mb4",
        "autocommit": True,
        "client_flag": CLIENT.FOUND_ROWS,
    }


def _is_url(client: object) -> bool:
    return isinstance(client, str) and client.startswith(("mysql://", "mariadb://"))


class _Driver:
    errors: tuple[type[BaseException], ...] = (pymysql.err.Error,)

    @staticmethod
    def autocommit(conn: Any) -> bool:
        return bool(conn.get_autocommit())


class SyncDriver(_Driver):
    @staticmethod
    def broken(conn: Any) -> bool:
        return not conn.open

    @staticmethod
    def abort(conn: Any) -> None:
        sock = conn._sock  # PyMySQL has no public accessor for its socket
        if sock is not None:
            sock.shutdown(socket.SHUT_RDWR)

    close = staticmethod(close_quietly)


class AsyncDriver(_Driver):
    @staticmethod
    def broken(conn: Any) -> bool:
        return bool(conn.closed)

    @staticmethod
    async def close(conn: Any) -> None:
        with contextlib.suppress(Exception):
            conn.close()  # aiomysql: drop the transport now, no COM_QUIT round trip


class _AioMySQLPool:
    """An ``aiomysql.Pool`` you passed."""

    def __init__(self, pool: Any) -> None:
        self.pool = pool

    async def acquire(self, *, fresh: bool = False) -> tuple[Any, bool]:
        return await self.pool.acquire(), True

    async def release(self, conn: Any, *, keep: bool) -> None:
        if not keep:
            conn.close()
        await self.pool.release(conn)

    async def aclose(self) -> None:
        pass


def sync_source(client: Any, pool_size: int) -> Source:
    """The connections of ``client``: a ``mysql://`` URL or a ``pymysql.Connection``."""
    if _is_url(client):
        args = connect_args(client)

        def connect(timeout: float | None) -> Any:
            make: Any = pymysql.connect  # the stubs cannot follow **args
            if timeout is None:
                return make(**args)
            # PyMySQL's connect_timeout bounds only the TCP connect, not the greeting that
            # follows: the whole handshake runs bounded, and the socket reads of a
            # connection it leaves behind end on their own
            bound = {"connect_timeout": max(timeout, 0.001), "read_timeout": max(timeout, 1.0)}
            return connect_within(lambda: make(**args, **bound), timeout, SyncDriver.close)

        return OwnPool(connect, SyncDriver(), pool_size)
    if isinstance(client, pymysql.connections.Connection):
        return Single(client)
    raise TypeError(
        "a sync MySQL store takes a mysql:// URL or a pymysql.Connection, "
        f"not {type(client).__name__}"
    )


def async_source(client: Any, pool_size: int) -> AsyncSource:
    """The connections of ``client``: a URL, an ``aiomysql.Connection`` or ``aiomysql.Pool``."""
    import aiomysql  # type: ignore[import-untyped]

    if _is_url(client):
        args = connect_args(client)
        args["db"] = args.pop("database")  # aiomysql's name for it

        async def connect() -> Any:
            return await aiomysql.connect(**args)

        return AsyncOwnPool(connect, AsyncDriver(), pool_size)
    if isinstance(client, aiomysql.Connection):
        return AsyncSingle(client)
    if isinstance(client, aiomysql.Pool):
        return _AioMySQLPool(client)
    raise TypeError(
        "an async MySQL store takes a mysql:// URL, an aiomysql.Connection or an aiomysql.Pool, "
        f"not {type(client).__name__}"
    )
