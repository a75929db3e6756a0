"""express-mysql-session 3.0.3: the ``sessions`` table that Node and Python share on MySQL
or MariaDB.

::

    from engineio_session.stores import MySQLStore, AsyncMySQLStore

    store = MySQLStore("mysql://app:secret@db:3306/app")   # or a pymysql.Connection
    session = store.get(sid)

    async with AsyncMySQLStore("mysql://app:secret@db:3306/app") as store:  # or aiomysql's
        session = await store.get(sid)

Options, by their express-mysql-session names (Node's defaults):

=============================  ============================  =================================
express-mysql-session          here                          meaning
=============================  ============================  =================================
``host``, ``port``, ``user``,  the first argument            a ``mysql://`` URL, a PyMySQL
``password``, ``database``,                                  connection (sync), an aiomysql
or a connection                                              connection or pool (async)
``schema.tableName``           ``table_name`` ("sessions")   quoted as mysql2's ``escapeId``:
                                                             ``db.table`` names db's table
``schema.columnNames``         ``column_names``              ``{"session_id": ..., "expires":
                                                             ..., "data": ...}``, any of them
``expiration`` (86400000 ms)   ``expiration``                lifetime of a cookie without
                                                             ``expires``
``disableTouch``               ``disable_touch``             ``touch`` writes nothing
``createDatabaseTable``        ``create_table`` (False!)     ``schema.sql`` if missing
``clearExpired``,              ``prune()``                   never on a timer here
``checkExpirationInterval``
``endConnectionOnClose``       ``close()``                   closes only what a URL opened
``charset``                    (utf8mb4)                     the connection's character set
(none)                         ``timeout`` (2 s)             each call's bound, then StoreError
=============================  ============================  =================================

The table (``schema.sql``): ``session_id varchar(128)`` primary key, ``expires int(11)
unsigned`` (Unix seconds), ``data mediumtext``, both text columns ``utf8mb4_bin``. The
rules, as ``index.js`` has them:

- ``set``: ``data`` is ``JSON.stringify(session)`` (kept byte for byte); ``expires`` is
  ``Math.round(new Date(cookie.expires).getTime() / 1000)``: whole seconds, rounded to the
  *nearest* (half up); a cookie without ``expires`` gets ``Date.now() + expiration``,
  rounded the same. ``INSERT ... ON DUPLICATE KEY UPDATE``.
- ``get`` returns the row while ``expires >= Math.round(Date.now() / 1000)``; a NULL
  ``data`` reads as no session.
- ``touch`` updates **only** ``expires``: after a Node touch the stored cookie is stale,
  and the column wins (see :mod:`.format`).
- ``length`` counts the live rows; ``all`` returns ``{session_id: session}`` of the live
  ones, leaving out rows it cannot parse; ``clear`` deletes every row;
  ``clearExpiredSessions``: ``DELETE ... WHERE expires < <that same now>`` (``prune()``).

Deliberate differences, on the safe side: the table is created only with
``create_table=True`` (express-mysql-session creates it by default); JSON that is no
session raises :class:`~engineio_session.errors.CorruptSessionError` (Node throws the parse
error too, but returns any JSON value as the session); ``touch``, ``replace`` and
``update`` leave an expired row alone; a session whose cookie has expired reads as None
even while ``expires`` (rounded to the second) still holds it; an id matches only its own
row (``utf8mb4_bin`` pads with spaces: MySQL finds ``'abc'`` for ``'abc '``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from ...session import Session
from ..base import DEFAULT_TIMEOUT
from .dialect import MYSQL
from .format import SQLFormat, Statement
from .shell import AsyncSQLStore, SyncSQLStore, _SQLStore

__all__ = ["AsyncMySQLStore", "MySQLFormat", "MySQLStore", "js_round"]

COLUMN_NAMES = {"session_id": "session_id", "expires": "expires", "data": "data"}


def js_round(value: float) -> float:
    """JS ``Math.round``: the nearest integer, a half rounded up (toward +Infinity).

    >>> js_round(2.5), js_round(-2.5), js_round(0.49999999999999994), round(2.5)
    (3, -2, 0, 2)
    """
    if not math.isfinite(value):
        return value
    floor = math.floor(value)
    return floor + 1 if value - floor >= 0.5 else floor


class MySQLFormat(SQLFormat):
    """express-mysql-session's table and rules, with no I/O (see the module's notes).

    >>> fmt = MySQLFormat(table_name="app.sessions", column_names={"data": "sess"})
    >>> fmt.table, fmt.data
    ('`app`.`sessions`', '`sess`')
    >>> s = Session.from_json("a", {"cookie": {"expires": "1970-01-01T00:16:40.500Z"}})
    >>> fmt.expiry_value(s, now=0), fmt.live_value(1_000_499)   # rounded to the nearest
    (1001, 1000)
    """

    live = "{expiry} >= {placeholder}"
    length_counts_live = True

    def __init__(
        self,
        *,
        table_name: str = "sessions",
        column_names: Mapping[str, str] | None = None,
        expiration: float = 86_400_000,
        disable_touch: bool = False,
        store: str = "MySQLStore",
    ) -> None:
        unknown = set(column_names or {}) - set(COLUMN_NAMES)
        if unknown:
            raise ValueError(
                f"unknown column {sorted(unknown)[0]!r}: only session_id, expires and data "
                "can be renamed (express-mysql-session's schema.columnNames)"
            )
        self.columns = {**COLUMN_NAMES, **(column_names or {})}
        self.expiration = expiration
        self.disable_touch = disable_touch
        table = MYSQL.quote(table_name)
        super().__init__(
            MYSQL,
            table=table,
            label=table,
            key=MYSQL.quote(self.columns["session_id"]),
            data=MYSQL.quote(self.columns["data"]),
            expiry=MYSQL.quote(self.columns["expires"]),
            store=store,
        )

    def expiry_value(self, session: Session, now: float) -> float:
        """``Math.round(expires.getTime() / 1000)``, ``expires`` the cookie's or
        ``Date.now() + expiration``."""
        expires = session.cookie.expires_ms
        if expires is None:
            expires = now + self.expiration
        return js_round(expires / 1000)

    def live_value(self, now: float) -> float:
        return js_round(now / 1000)

    def expiry_ms(self, value: Any) -> float | None:
        return None if value is None else int(value) * 1000.0

    def written_ms(self, cookie_ms: float) -> float:
        return js_round(cookie_ms / 1000) * 1000.0

    def create_table(self) -> list[Statement]:
        """express-mysql-session's ``schema.sql`` with this table's and columns' names."""
        key, expires, data = self.key, self.expiry, self.data
        return [
            (
                f"CREATE TABLE IF NOT EXISTS {self.table} ("
                f"{key} varchar(128) COLLATE utf8mb4_bin NOT NULL, "
                f"{expires} int(11) unsigned NOT NULL, "
                f"{data} mediumtext COLLATE utf8mb4_bin, "
                f"PRIMARY KEY ({key})) ENGINE=InnoDB",
                [],
            )
        ]


class _MySQLStore(_SQLStore):
    """The constructor both MySQL stores share; the shell picks the runner."""

    def __init__(
        self,
        client: Any,
        *,
        table_name: str = "sessions",
        column_names: Mapping[str, str] | None = None,
        expiration: float = 86_400_000,
        disable_touch: bool = False,
        create_table: bool = False,
        timeout: float | None = DEFAULT_TIMEOUT,
        pool_size: int = 10,
    ) -> None:
        from . import _pymysql

        fmt = MySQLFormat(
            table_name=table_name,
            column_names=column_names,
            expiration=expiration,
            disable_touch=disable_touch,
            store=type(self).__name__,
        )
        self._start(fmt, _pymysql, client, MYSQL, create_table, timeout, pool_size)


def _by_id(sessions: list[Session]) -> dict[str, Session]:
    return {session.id: session for session in sessions}


class MySQLStore(_MySQLStore, SyncSQLStore):
    """express-mysql-session's table, from blocking code (PyMySQL).

    ``MySQLStore(client, *, table_name="sessions", column_names=None,
    expiration=86_400_000, disable_touch=False, create_table=False,
    timeout=DEFAULT_TIMEOUT, pool_size=10)``; ``client`` is a ``mysql://`` URL (this
    store's own connections, closed by :meth:`close`) or a ``pymysql.Connection``. Each
    call is bounded by ``timeout`` (a watchdog shuts a hung connection down).
    """

    def all(self) -> dict[str, Session]:
        """``all()``: ``{session_id: session}`` of every live row."""
        return _by_id(self._all())

    def length(self) -> int:
        """``length()``: how many rows are live."""
        return self._length()

    def clear(self) -> None:
        """``clear()``: delete every row."""
        self._clear()


class AsyncMySQLStore(_MySQLStore, AsyncSQLStore):
    """express-mysql-session's table, from asyncio (aiomysql).

    The same options as :class:`MySQLStore`; ``client`` is a URL, an
    ``aiomysql.Connection`` or an ``aiomysql.Pool``. Each call runs under
    ``asyncio.timeout(timeout)``. ``await store.aclose()`` (or ``async with``).
    """

    async def all(self) -> dict[str, Session]:
        """See :meth:`MySQLStore.all`."""
        return _by_id(await self._all())

    async def length(self) -> int:
        """See :meth:`MySQLStore.length`."""
        return await self._length()

    async def clear(self) -> None:
        """See :meth:`MySQLStore.clear`."""
        await self._clear()
