"""connect-session-sequelize 8.0.6: the ``Sessions`` table of its sequelize model, shared
by Node and Python on PostgreSQL or MySQL/MariaDB.

::

    from engineio_session.stores import SequelizeStore, AsyncSequelizeStore

    store = SequelizeStore("postgresql://app@db:5432/app")   # or mysql://..., or a connection
    session = store.get(sid)

    async with AsyncSequelizeStore("mysql://app:pw@db/app") as store:
        session = await store.get(sid)

Options, by their connect-session-sequelize names (Node's defaults):

===========================  ============================  ==================================
connect-session-sequelize    here                          meaning
===========================  ============================  ==================================
``db`` (a Sequelize)         the first argument            a ``postgresql://`` or ``mysql://``
                                                           URL, a connection or a pool
``tableName`` (Sessions)     ``table_name``                one quoted identifier; falsy:
                                                           ``modelKey``, ``"Session"``
``expiration`` (86400000)    ``expiration``                lifetime (ms) of a cookie without
                                                           ``expires``
``disableTouch``             ``disable_touch``             ``touch`` writes nothing
``store.sync()``             ``create_table`` (False)      the model's table if missing
``checkExpirationInterval``  ``prune()``                   never on a timer here
(15 min)
(none)                       ``timeout`` (2 s)             each call's bound, then StoreError
===========================  ============================  ==================================

The table is the model of ``lib/model.js`` with sequelize's timestamps: ``sid
VARCHAR(36)`` primary key, ``expires`` (PostgreSQL ``TIMESTAMP WITH TIME ZONE``, MySQL
``DATETIME``: whole seconds), ``data TEXT`` (on MySQL at most 65,535 bytes), ``createdAt``
and ``updatedAt`` NOT NULL. The rules, as ``lib/connect-session-sequelize.js`` has them:

- ``set``: ``data`` is ``JSON.stringify(session)``, kept byte for byte; ``expires`` is
  ``cookie.expires`` (``now + expiration`` without one); sequelize's ``findCreateFind``
  then ``save()``: an insert sets ``createdAt`` and ``updatedAt`` to now; an existing row
  gets ``data``, ``expires`` and ``updatedAt = now`` **only if** ``data`` or ``expires``
  changed (``expires`` compared to the millisecond with what the column holds, so on
  MySQL, which keeps whole seconds, nearly every ``set`` writes). Here: one upsert with
  that same condition.
- ``get`` reads the row **whatever its ``expires``**: Node serves a session whose cookie
  and column have both passed until its pruning (every 15 minutes) deletes the row, and
  express-session never checks. Here a row is a session while that pruning would keep it
  (``expires IS NULL OR expires >= now``), and while its cookie has not expired.
- ``touch`` updates ``expires`` (from the cookie, as ``set``) and ``updatedAt``; the stored
  cookie goes stale, and the column wins (see :mod:`.format`).
- ``length`` counts every row; ``clearExpiredSessions`` deletes ``expires < now``
  (``prune()``). There is no ``all`` or ``clear``.

Not supported: the ``table`` option (a model of your own) and ``extendDefaultFields``
(columns of your own). Deliberate differences, on the safe side: JSON that is no session
raises :class:`~engineio_session.errors.CorruptSessionError` and stays; ``touch``,
``replace`` and ``update`` leave an expired row alone (Node's ``touch`` revives it); an id
matches only its own row.
"""

from __future__ import annotations

import math
from typing import Any

from ...session import Session
from ..base import DEFAULT_TIMEOUT
from .clients import glue_for
from .dialect import POSTGRES, Dialect
from .format import SQLFormat, Statement
from .shell import AsyncSQLStore, SyncSQLStore, _SQLStore
from .times import DATETIME, TIMESTAMPTZ

__all__ = ["AsyncSequelizeStore", "SequelizeFormat", "SequelizeStore"]

DAY = 86_400_000


class SequelizeFormat(SQLFormat):
    """connect-session-sequelize's table and rules on PostgreSQL or MySQL, with no I/O.

    >>> fmt = SequelizeFormat(POSTGRES)
    >>> fmt.table, fmt.touch("abc", Session.new("abc", max_age=0, now=0), 0)[0]
    ('"Sessions"', 'UPDATE "Sessions" SET "expires" = CAST(%s AS timestamp with time zone), \
"updatedAt" = CAST(%s AS timestamp with time zone) WHERE "sid" = %s AND ("expires" IS NULL \
OR "expires" >= CAST(%s AS timestamp with time zone))')
    """

    def __init__(
        self,
        dialect: Dialect,
        *,
        table_name: str | None = "Sessions",
        expiration: float = DAY,
        disable_touch: bool = False,
        store: str = "SequelizeStore",
    ) -> None:
        time = self.time = TIMESTAMPTZ if dialect is POSTGRES else DATETIME
        self.expiration = expiration
        self.disable_touch = disable_touch
        self.expiry_read = time.read.format("{expiry}")
        self.expiry_write = time.write.format("{placeholder}")
        now = time.cast.format("{placeholder}")
        # its pruning (clearExpiredSessions) deletes `expires < now`: a row lives until then
        self.live = f"({{expiry}} IS NULL OR {{expiry}} >= {now})"
        self.expired = f"{{expiry}} < {now}"
        # `tableName: this.options.tableName || this.options.modelKey`
        table = dialect.quote_one(table_name or "Session")
        self._created = dialect.quote_one("createdAt")
        self._updated = dialect.quote_one("updatedAt")
        super().__init__(
            dialect,
            table=table,
            label=table,
            key=dialect.quote_one("sid"),
            data=dialect.quote_one("data"),
            expiry=dialect.quote_one("expires"),
            store=store,
        )

    def _expires_ms(self, session: Session, now: float) -> float:
        """``expiration(data)``: ``cookie.expires`` if it is a valid Date, else
        ``Date.now() + expiration``."""
        expires = session.cookie.expires_ms
        if expires is None or math.isnan(expires):
            return now + self.expiration
        return expires

    def expiry_value(self, session: Session, now: float) -> str:
        return self.time.text(self._expires_ms(session, now))

    def live_value(self, now: float) -> str:
        return self.time.text(now)

    def expiry_ms(self, value: Any) -> float | None:
        return self.time.to_ms(value)

    def written_ms(self, cookie_ms: float) -> float:
        return self.time.kept(cookie_ms)

    def stamps(self, now: float) -> list[tuple[str, str, Any]]:
        """``updatedAt``: sequelize sets it on every UPDATE of a model with timestamps."""
        return [(self._updated, self._expiry_write, self.time.text(now))]

    def upsert(self, sid: str, session: Session, now: float) -> Statement:
        """``set``: insert with ``createdAt``/``updatedAt``, or update ``data``, ``expires``
        and ``updatedAt`` only where ``data`` or ``expires`` changed (``save()`` of the
        attributes sequelize sees changed)."""
        p, at = self.dialect.placeholder, self._expiry_write
        data, expires, updated = self.data, self.expiry, self._updated
        names = f"{self.key}, {expires}, {data}, {self._created}, {updated}"
        expires_ms = self._expires_ms(session, now)
        stamp = self.time.text(now)
        values = [sid, self.time.text(expires_ms), self.encode(session), stamp, stamp]
        if self.dialect is POSTGRES:
            sql = (
                f"INSERT INTO {self.table} AS cur ({names}) VALUES ({p}, {at}, {p}, {at}, {at}) "
                f"ON CONFLICT ({self.key}) DO UPDATE SET {expires} = EXCLUDED.{expires}, "
                f"{data} = EXCLUDED.{data}, {updated} = EXCLUDED.{updated} "
                f"WHERE cur.{data} IS DISTINCT FROM EXCLUDED.{data} "
                f"OR cur.{expires} IS DISTINCT FROM EXCLUDED.{expires}"
            )
            return sql, values
        # MySQL assigns left to right: updatedAt first, from the old values. sequelize
        # compares the DATETIME it reads back (whole seconds) with the new Date to the
        # millisecond: the same only when the new one has no milliseconds.
        same = (
            f"BINARY {data} <=> BINARY VALUES({data}) AND {expires} <=> VALUES({expires}) AND {p}"
        )
        sql = (
            f"INSERT INTO {self.table} ({names}) VALUES ({p}, {p}, {p}, {p}, {p}) "
            f"ON DUPLICATE KEY UPDATE {updated} = IF({same}, {updated}, VALUES({updated})), "
            f"{expires} = VALUES({expires}), {data} = VALUES({data})"
        )
        return sql, [*values, expires_ms % 1000 == 0]

    def create_table(self) -> list[Statement]:
        """``store.sync()``: sequelize's ``CREATE TABLE IF NOT EXISTS`` of the model."""
        t, key, data, expires = self.table, self.key, self.data, self.expiry
        created, updated = self._created, self._updated
        if self.dialect is POSTGRES:
            stamp = "TIMESTAMP WITH TIME ZONE"
            engine = ""
        else:
            stamp = "DATETIME"
            engine = " ENGINE=InnoDB"
        return [
            (
                f"CREATE TABLE IF NOT EXISTS {t} ({key} VARCHAR(36) , {expires} {stamp}, "
                f"{data} TEXT, {created} {stamp} NOT NULL, {updated} {stamp} NOT NULL, "
                f"PRIMARY KEY ({key})){engine}",
                [],
            )
        ]


class _SequelizeStore(_SQLStore):
    """The constructor both sequelize stores share; the shell picks the runner."""

    def __init__(
        self,
        client: Any,
        *,
        table_name: str | None = "Sessions",
        expiration: float = DAY,
        disable_touch: bool = False,
        create_table: bool = False,
        timeout: float | None = DEFAULT_TIMEOUT,
        pool_size: int = 10,
    ) -> None:
        name = type(self).__name__
        glue, dialect = glue_for(client, store=name, families=("postgresql", "mysql"))
        fmt = SequelizeFormat(
            dialect,
            table_name=table_name,
            expiration=expiration,
            disable_touch=disable_touch,
            store=name,
        )
        self._start(fmt, glue, client, dialect, create_table, timeout, pool_size)


class SequelizeStore(_SequelizeStore, SyncSQLStore):
    """connect-session-sequelize's table, from blocking code (psycopg or PyMySQL).

    ``SequelizeStore(client, *, table_name="Sessions", expiration=86_400_000,
    disable_touch=False, create_table=False, timeout=DEFAULT_TIMEOUT, pool_size=10)``;
    ``client`` is a ``postgresql://`` or ``mysql://`` URL (this store's own connections,
    closed by :meth:`close`), a ``psycopg.Connection`` or pool, or a ``pymysql.Connection``.
    """

    def length(self) -> int:
        """``length()``: how many rows, expired ones included."""
        return self._length()


class AsyncSequelizeStore(_SequelizeStore, AsyncSQLStore):
    """connect-session-sequelize's table, from asyncio (psycopg's ``AsyncConnection`` or
    pool, aiomysql's connection or pool). The same options as :class:`SequelizeStore`.
    """

    async def length(self) -> int:
        """See :meth:`SequelizeStore.length`."""
        return await self._length()
