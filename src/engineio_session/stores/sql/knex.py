"""connect-session-knex 5.0.0: the ``sessions`` table that Node and Python share on
PostgreSQL, MySQL/MariaDB or SQLite.

::

    from engineio_session.stores import KnexStore, AsyncKnexStore

    store = KnexStore("postgresql://app@db:5432/app")     # or mysql://..., sqlite:///app.db
    store = KnexStore("sqlite:////srv/app/sessions.db")   # the file better-sqlite3 opens
    session = store.get(sid)

    async with AsyncKnexStore("mysql://app:pw@db/app") as store:
        session = await store.get(sid)

The dialect comes from the first argument: a ``postgresql://``, ``mysql://`` or
``sqlite://`` URL (``sqlite:///relative.db``, ``sqlite:////absolute.db``), or the
driver's own connection or pool (psycopg, PyMySQL or aiomysql, ``sqlite3``), as knex's
``client`` (``pg``, ``mysql``/``mysql2``, ``sqlite3``/``better-sqlite3``) says in Node.

Options, by their connect-session-knex names (Node's defaults):

=========================  ============================  ===================================
connect-session-knex       here                          meaning
=========================  ============================  ===================================
``knex``                   the first argument            a URL, a connection or a pool
``tableName`` (sessions)   ``table_name``                quoted as knex's query builder does:
                                                         a dot separates schema and table
``sidFieldName`` (sid)     ``sid_field_name``            the id column
``createTable`` (true!)    ``create_table`` (False)      knex's ``createTable`` if missing
``cleanupInterval``        ``prune()``                   never on a timer here
(60000 ms)
(none)                     ``timeout`` (2 s)             each call's bound, then StoreError
=========================  ============================  ===================================

The table, as knex builds it: ``sid varchar(255)`` primary key, ``sess json not null``
(on MySQL older than 5.7.8: ``text``), ``expired`` not null with an index: PostgreSQL
``timestamptz``, MySQL ``datetime``, SQLite ``datetime`` (NUMERIC affinity, so the ISO text
is kept as written). The rules, as ``src/index.ts`` and ``src/utils.ts`` have them:

- ``set``: ``sess`` is ``JSON.stringify(session)``, kept byte for byte (PostgreSQL's
  ``json`` read back as ``sess::text``; MariaDB's ``JSON`` is ``LONGTEXT``). ``expired``
  is **not** ``cookie.expires`` but ``now + cookie.maxAge`` (the time left, so the same
  instant to the millisecond), and ``now + 86400000`` when ``maxAge`` is falsy: a cookie
  without ``expires``, or one read at its very last millisecond. An upsert.
- ``expired`` is written through ``dateAsISO``: the ISO text
  (``toISOString()``) on PostgreSQL (cast to ``timestamptz``) and SQLite (stored as that
  text), ``YYYY-MM-DD HH:MM:SS`` (UTC, the milliseconds dropped) on MySQL.
- ``get`` returns the row while ``CAST(now AS timestamp with time zone) <= expired``
  (PostgreSQL, to the millisecond), ``CAST(now AS DATETIME) <= expired`` (MySQL, whole
  seconds), ``datetime(now) <= datetime(expired)`` (SQLite: ``datetime()`` drops the
  milliseconds, so a row lives to the end of its second).
- ``touch`` updates **only** ``expired``, to ``cookie.expires``, on a live row, and writes
  nothing when the cookie has no ``expires``. The stored cookie goes stale: the column
  wins (see :mod:`.format`); a column within a second of what a ``set`` of the stored
  cookie writes is taken as that ``set`` (``now + maxAge`` runs a millisecond late when
  the clock ticks between the two reads).
- ``length`` counts every row, expired ones too; ``all`` lists the live sessions (no ids);
  ``clear`` deletes every row; the cleanup deletes ``expired < now`` (SQLite:
  ``datetime(expired) < datetime(now)``): ``prune()``.

Deliberate differences, on the safe side: the table is created only with
``create_table=True`` (connect-session-knex creates it by default); JSON that is no session
raises :class:`~engineio_session.errors.CorruptSessionError` and stays; ``touch``,
``replace`` and ``update`` leave an expired row alone; a session whose cookie has expired
reads as None even while ``expired`` still holds it; an id matches only its own row
(MariaDB's default collation would match ``ABC`` for ``abc`` and ``abc `` for ``abc``).
"""

from __future__ import annotations

import math
from typing import Any

from ...session import Session
from ..base import DEFAULT_TIMEOUT
from .clients import glue_for
from .dialect import MYSQL, POSTGRES, SQLITE, Dialect
from .format import SQLFormat, Statement
from .shell import AsyncSQLStore, SyncSQLStore, _SQLStore
from .times import DATETIME, SQLITE_TEXT, TIMESTAMPTZ, TimeColumn

__all__ = ["AsyncKnexStore", "KnexFormat", "KnexStore"]

DAY = 86_400_000
#: how much later than the cookie a ``set`` may write ``expired`` (``now + maxAge``)
SET_SLACK = 1000

_TIMES: dict[str, TimeColumn] = {
    POSTGRES.name: TIMESTAMPTZ,
    MYSQL.name: DATETIME,
    SQLITE.name: SQLITE_TEXT,
}


def set_expiry_ms(session: Session, now: float) -> float:
    """``maxAge ? now + maxAge : now + 86400000``, ``maxAge`` the cookie's time left.

    >>> s = Session.from_json("a", {"cookie": {"expires": "1970-01-01T00:00:01.000Z"}})
    >>> set_expiry_ms(s, now=0), set_expiry_ms(s, now=1000)   # no time left: falsy
    (1000, 86401000)
    """
    expires = session.cookie.expires_ms
    max_age = None if expires is None else expires - now
    if not max_age or math.isnan(max_age):
        return now + DAY
    return now + max_age


class KnexFormat(SQLFormat):
    """connect-session-knex's table and rules on one database, with no I/O.

    >>> fmt = KnexFormat(MYSQL, table_name="app.sessions")
    >>> fmt.table, fmt.key
    ('`app`.`sessions`', '`sid`')
    >>> fmt.live_value(1795628562841)
    '2026-11-25 17:42:42'
    >>> KnexFormat(SQLITE).select("abc", 0)[0].partition(" WHERE ")[2]
    '"sid" = ? AND datetime(?) <= datetime("expired")'
    """

    def __init__(
        self,
        dialect: Dialect,
        *,
        table_name: str = "sessions",
        sid_field_name: str = "sid",
        store: str = "KnexStore",
    ) -> None:
        time = self.time = _TIMES[dialect.name]
        self.table_name = table_name
        self.sid_field_name = sid_field_name
        self.data_read = "{data}::text" if dialect is POSTGRES else "{data}"
        self.expiry_read = time.read.format("{expiry}")
        self.expiry_write = time.write.format("{placeholder}")
        column, now = time.compare.format("{expiry}"), time.cast.format("{placeholder}")
        self.live = f"{now} <= {column}"  # utils.ts expiredCondition
        self.expired = f"{column} < {now}"  # index.ts dbCleanup
        # knex's query builder quotes each dot-separated part (wrapString)
        self._parts = [dialect.check_identifier(part) for part in table_name.split(".")]
        table = ".".join(dialect.quote(part) for part in self._parts)
        super().__init__(
            dialect,
            table=table,
            label=table,
            key=dialect.quote(sid_field_name),
            data=dialect.quote("sess"),
            expiry=dialect.quote("expired"),
            store=store,
        )

    def expiry_value(self, session: Session, now: float) -> str:
        return self.time.text(set_expiry_ms(session, now))

    def touch_value(self, session: Session, now: float) -> str | None:
        """``cookie.expires`` as ``dateAsISO`` writes it; None (nothing written) without."""
        expires = session.cookie.expires_ms
        if expires is None or math.isnan(expires):
            return None
        return self.time.text(expires)

    def live_value(self, now: float) -> str:
        """``dateAsISO(knex)``: now, as the column's text."""
        return self.time.text(now)

    def expiry_ms(self, value: Any) -> float | None:
        return self.time.to_ms(value)

    def written_ms(self, cookie_ms: float) -> float:
        return self.time.kept(cookie_ms) + SET_SLACK

    # --- the table ----------------------------------------------------------------------------

    def table_exists(self) -> Statement:
        *schema, name = self._parts
        if self.dialect is POSTGRES:
            return "SELECT to_regclass(%s::text) IS NOT NULL", [self.table]
        if self.dialect is MYSQL:
            where = "%s" if schema else "DATABASE()"
            sql = (
                "SELECT COUNT(*) FROM information_schema.tables "
                f"WHERE table_schema = {where} AND table_name = %s"
            )
            return sql, [*schema, name]
        master = ".".join([*(SQLITE.quote(part) for part in schema), "sqlite_master"])
        return f"SELECT COUNT(*) FROM {master} WHERE type = 'table' AND name = ?", [name]

    def create_table(self) -> list[Statement]:
        """knex's ``createTable`` of connect-session-knex, as ``toSQL()`` gives it."""
        raw = self._parts[-1]
        index_name = self.table_name.replace(".", "_").replace("-", "_") + "_expired_index"
        index_name = index_name.lower()  # tablecompiler.js _indexCommand
        if self.dialect is SQLITE:  # knex's backticks: the same text in sqlite_master
            quote = _backticks
            table = ".".join(quote(part) for part in self._parts)
        else:
            quote, table = self.dialect.quote, self.table
        sid, sess, expired = quote(self.sid_field_name), quote("sess"), quote("expired")
        index = quote(index_name)
        if self.dialect is POSTGRES:
            return [
                (
                    f"create table {table} ({sid} varchar(255), {sess} json not null, "
                    f"{expired} timestamptz not null, "
                    f"constraint {quote(raw + '_pkey')} primary key ({sid}))",
                    [],
                ),
                (f"create index {index} on {table} ({expired})", []),
            ]
        create = (
            f"create table {table} ({sid} varchar(255), {sess} json not null, "
            f"{expired} datetime not null, primary key ({sid}))"
        )
        if self.dialect is MYSQL:
            return [(create, []), (f"alter table {table} add index {index}({expired})", [])]
        return [(create, []), (f"create index {index} on {table} ({expired})", [])]


def _backticks(name: str) -> str:
    return "`" + SQLITE.check_identifier(name).replace("`", "``") + "`"


class _KnexStore(_SQLStore):
    """The constructor both knex stores share; the shell picks the runner."""

    def __init__(
        self,
        client: Any,
        *,
        table_name: str = "sessions",
        sid_field_name: str = "sid",
        create_table: bool = False,
        timeout: float | None = DEFAULT_TIMEOUT,
        pool_size: int = 10,
    ) -> None:
        name = type(self).__name__
        glue, dialect = glue_for(client, store=name, create=create_table)
        fmt = KnexFormat(dialect, table_name=table_name, sid_field_name=sid_field_name, store=name)
        self._start(fmt, glue, client, dialect, create_table, timeout, pool_size)


class KnexStore(_KnexStore, SyncSQLStore):
    """connect-session-knex's table, from blocking code (psycopg, PyMySQL or sqlite3).

    ``KnexStore(client, *, table_name="sessions", sid_field_name="sid",
    create_table=False, timeout=DEFAULT_TIMEOUT, pool_size=10)``; ``client`` is a
    ``postgresql://``, ``mysql://`` or ``sqlite://`` URL (this store's own connections,
    closed by :meth:`close`), a ``psycopg.Connection`` or ``psycopg_pool.ConnectionPool``,
    a ``pymysql.Connection``, or a ``sqlite3.Connection`` in autocommit mode.
    """

    def all(self) -> list[Session]:
        """``all()``: the live sessions, as a list (connect-session-knex gives no ids)."""
        return self._all()

    def length(self) -> int:
        """``length()``: how many rows, expired ones included."""
        return self._length()

    def clear(self) -> None:
        """``clear()``: delete every row."""
        self._clear()


class AsyncKnexStore(_KnexStore, AsyncSQLStore):
    """connect-session-knex's table, from asyncio: psycopg's ``AsyncConnection`` or pool,
    aiomysql's connection or pool, or sqlite3 on a worker thread (a
    ``sqlite3.Connection`` you pass needs ``check_same_thread=False``).

    The same options as :class:`KnexStore`. ``await store.aclose()`` (or ``async with``).
    """

    async def all(self) -> list[Session]:
        """See :meth:`KnexStore.all`."""
        return await self._all()

    async def length(self) -> int:
        """See :meth:`KnexStore.length`."""
        return await self._length()

    async def clear(self) -> None:
        """See :meth:`KnexStore.clear`."""
        await self._clear()
