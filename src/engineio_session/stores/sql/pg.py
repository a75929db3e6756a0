"""connect-pg-simple 10.0.0: the ``session`` table that Node and Python share on PostgreSQL.

::

    from engineio_session.stores import PGStore, AsyncPGStore

    store = PGStore("postgresql://app@db:5432/app")       # or a psycopg.Connection / pool
    session = store.get(sid)                              # what express-session stored
    store.update(sid, Changes.of(session))                # this side's changes, row-locked

    async with AsyncPGStore("postgresql://app@db:5432/app", table_name="sessions") as store:
        session = await store.get(sid)

Options, by their connect-pg-simple names (Node's defaults):

=========================  =============================  ===================================
connect-pg-simple          here                           meaning
=========================  =============================  ===================================
``pool``, ``conString``,   the first argument             a ``postgresql://`` URL, a
``conObject``                                             ``psycopg.Connection`` / ``Async…``
                                                          or a ``psycopg_pool`` pool
``tableName`` (session)    ``table_name``                 quoted; falsy: ``"session"``
``schemaName`` (none)      ``schema_name``                quoted; none: the search_path
``ttl`` (86400 s)          ``ttl``                        lifetime when the cookie has no
                                                          ``expires`` (``ttl || 86400``)
``disableTouch``           ``disable_touch``              ``touch`` writes nothing
``createTableIfMissing``   ``create_table`` (False)       ``table.sql`` when it is missing
``pruneSessionInterval``   ``prune()``                    never on a timer: call it, or let
                                                          the Node app prune (its default)
(none)                     ``time_zone`` (None)           see "time zone" below
(none)                     ``timeout`` (2 s)              each call's bound, then StoreError
=========================  =============================  ===================================

The table (``table.sql``): ``sid varchar`` primary key, ``sess json``, ``expire
timestamp(6)`` (without time zone) with an index. The rules, as ``index.js`` has them:

- ``set``: ``sess`` is ``JSON.stringify(session)``, which the ``json`` type keeps byte for
  byte (read back here as ``sess::text``); ``expire`` is
  ``to_timestamp(Math.ceil(Date.parse(cookie.expires) / 1000))``: whole seconds, rounded
  *up*; a cookie without ``expires`` gets ``Math.ceil(Date.now() / 1000 + ttl)``.
  An upsert (``ON CONFLICT (sid) DO UPDATE``).
- ``get`` returns the row while ``expire >= to_timestamp(Math.ceil(Date.now() / 1000))``.
- ``touch`` updates **only** ``expire`` (from the cookie it is given). The JSON keeps the
  ``cookie.expires`` of the last ``set``, so after a Node touch the stored cookie is stale:
  the ``expire`` column wins (see :mod:`.format`): the session read back carries the
  column's time as its ``cookie.expires``, and an update writes that forward.
- ``pruneSessions``: ``DELETE ... WHERE expire < to_timestamp(<that same now>)``.

Time zone. ``expire`` has no time zone: ``to_timestamp()`` (a ``timestamptz``) is stored
as the wall-clock time of the *session's* ``TimeZone`` setting, and compared back the same
way. Node's ``pg`` leaves ``TimeZone`` at the server's default, and so does psycopg, so
both sides agree by default. If one side's connections set another zone (``PGTZ`` in
Python's environment, ``options=-c TimeZone=...`` in a URL, ``SET TIME ZONE`` in a pool's
configure hook), sessions read hours early or late. ``time_zone="UTC"`` (the zone Node's
connections use) makes this store independent of its own connections' setting: every
expression says ``AT TIME ZONE`` explicitly. Around a daylight-saving change, a zone with
DST makes one hour ambiguous on both sides: prefer a server default of UTC.

Deliberate differences, on the safe side:

- a row that is no session (JSON that is no object, no cookie, a bad date) raises
  :class:`~engineio_session.errors.CorruptSessionError` and stays; connect-pg-simple's
  ``get`` *deletes* a row it cannot parse;
- ``touch``, ``replace`` and ``update`` leave a row alone once it has expired, so a stale
  copy never revives a session Node considers gone; Node's ``touch`` would;
- a session whose cookie has expired reads as None even while ``expire`` (rounded up to the
  second) still holds it, as on every store here;
- the table is never created unless ``create_table=True`` (connect-pg-simple's default is
  also not to); its DDL names the primary key ``session_pkey`` and the index
  ``IDX_session_expire`` whatever the table is called, so two such tables cannot share a
  schema: on the Node side as here.
"""

from __future__ import annotations

import math
import re
from typing import Any

from ...session import Session
from ..base import DEFAULT_TIMEOUT, logger
from .dialect import POSTGRES
from .format import SQLFormat, Statement
from .shell import AsyncSQLStore, SyncSQLStore, _SQLStore

__all__ = ["AsyncPGStore", "PGFormat", "PGStore"]

ONE_DAY = 86400
# the deprecated `tableName: 'schema"."table'` form, after connect-pg-simple's escaping
_DOTTED = re.compile(r'^([^"]+)""\.""([^"]+)$')


class PGFormat(SQLFormat):
    """connect-pg-simple's table and rules, with no I/O (see the module's notes).

    >>> fmt = PGFormat(table_name="sessions", schema_name="app", ttl=60)
    >>> fmt.table
    '"app"."sessions"'
    >>> fmt.expiry_value(Session.new("a"), now=1_000_500)     # no expires: ceil(now/1000 + ttl)
    1061
    >>> s = Session.from_json("a", {"cookie": {"expires": "1970-01-01T00:16:40.001Z"}})
    >>> fmt.expiry_value(s, now=0), fmt.live_value(1_000_001)   # both rounded up
    (1001, 1001)
    """

    data_read = "{data}::text"

    def __init__(
        self,
        *,
        table_name: str | None = "session",
        schema_name: str | None = None,
        ttl: float | None = None,
        disable_touch: bool = False,
        time_zone: str | None = None,
        store: str = "PGStore",
    ) -> None:
        # `options.tableName ? escape(tableName) : 'session'`; the same for schemaName
        table = table_name or "session"
        schema = schema_name or None
        if schema is None and '"."' in table:
            match = _DOTTED.match(table.replace('"', '""'))
            if match:
                logger.warning(
                    "%s: a schema in table_name is deprecated in connect-pg-simple: "
                    "pass schema_name",
                    store,
                )
                schema, table = match.group(1), match.group(2)
        quoted = POSTGRES.qualified(table, schema)
        self.ttl = ttl
        self.disable_touch = disable_touch
        self.time_zone = time_zone
        if time_zone is None:
            self.expiry_read = "extract(epoch FROM {expiry}::timestamptz)::float8"
            self.expiry_write = "to_timestamp({placeholder})"
        else:
            if not time_zone or "\x00" in time_zone:
                raise ValueError(f"time_zone {time_zone!r} is no time zone name")
            zone = "'" + time_zone.replace("'", "''") + "'"
            self.expiry_read = f"extract(epoch FROM {{expiry}} AT TIME ZONE {zone})::float8"
            self.expiry_write = f"(to_timestamp({{placeholder}}) AT TIME ZONE {zone})"
        self.live = "{expiry} >= " + self.expiry_write
        self.expired = "{expiry} < " + self.expiry_write
        super().__init__(
            POSTGRES,
            table=quoted,
            label=quoted,
            key='"sid"',
            data='"sess"',
            expiry='"expire"',
            store=store,
        )

    def expiry_value(self, session: Session, now: float) -> int:
        """``#getExpireTime(sess)``: Unix seconds, rounded up."""
        expires = session.cookie.expires_ms
        if expires is not None:
            return math.ceil(expires / 1000)
        return math.ceil(now / 1000 + (self.ttl or ONE_DAY))

    def live_value(self, now: float) -> int:
        """``currentTimestamp()``: ``Math.ceil(Date.now() / 1000)``."""
        return math.ceil(now / 1000)

    def expiry_ms(self, value: Any) -> float | None:
        return None if value is None else float(value) * 1000

    def written_ms(self, cookie_ms: float) -> float:
        return math.ceil(cookie_ms / 1000) * 1000.0

    def table_exists(self) -> Statement:
        # connect-pg-simple: SELECT to_regclass($1::text) with the quoted table
        return "SELECT to_regclass(%s::text) IS NOT NULL", [self.table]

    def create_table(self) -> list[Statement]:
        """connect-pg-simple's ``table.sql``, ``"session"`` replaced by the quoted table."""
        t = self.table
        return [
            (
                f'CREATE TABLE {t} ("sid" varchar NOT NULL COLLATE "default", '
                '"sess" json NOT NULL, "expire" timestamp(6) NOT NULL) WITH (OIDS=FALSE)',
                [],
            ),
            (
                f'ALTER TABLE {t} ADD CONSTRAINT "session_pkey" PRIMARY KEY ("sid") '
                "NOT DEFERRABLE INITIALLY IMMEDIATE",
                [],
            ),
            (f'CREATE INDEX "IDX_session_expire" ON {t} ("expire")', []),
        ]


class _PGStore(_SQLStore):
    """The constructor both PostgreSQL stores share; the shell picks the runner."""

    def __init__(
        self,
        client: Any,
        *,
        table_name: str | None = "session",
        schema_name: str | None = None,
        ttl: float | None = None,
        disable_touch: bool = False,
        time_zone: str | None = None,
        create_table: bool = False,
        timeout: float | None = DEFAULT_TIMEOUT,
        pool_size: int = 10,
    ) -> None:
        from . import _psycopg

        fmt = PGFormat(
            table_name=table_name,
            schema_name=schema_name,
            ttl=ttl,
            disable_touch=disable_touch,
            time_zone=time_zone,
            store=type(self).__name__,
        )
        self._start(fmt, _psycopg, client, POSTGRES, create_table, timeout, pool_size)


class PGStore(_PGStore, SyncSQLStore):
    """connect-pg-simple's table, from blocking code (psycopg 3).

    ``PGStore(client, *, table_name="session", schema_name=None, ttl=None,
    disable_touch=False, time_zone=None, create_table=False, timeout=DEFAULT_TIMEOUT,
    pool_size=10)``; ``client`` is a ``postgresql://`` URL (this store's own connections,
    closed by :meth:`close`), a ``psycopg.Connection`` or a ``psycopg_pool.ConnectionPool``.
    Each call is bounded by ``timeout`` (a watchdog shuts a hung connection down).
    """


class AsyncPGStore(_PGStore, AsyncSQLStore):
    """connect-pg-simple's table, from asyncio (psycopg 3's ``AsyncConnection``).

    The same options as :class:`PGStore`; ``client`` is a URL, a
    ``psycopg.AsyncConnection`` or a ``psycopg_pool.AsyncConnectionPool``. Each call runs
    under ``asyncio.timeout(timeout)``. ``await store.aclose()`` (or ``async with``).
    """
