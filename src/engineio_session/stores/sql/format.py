"""One Node package's table layout as plain code: its statements and how a row reads.

A session table has three columns that matter: the id, the session's JSON, and an expiry.
The packages differ in names, types, the unit and rounding of the expiry, and which rows
their ``get`` filters out. A format subclass declares those (SQL fragments with exactly
one placeholder each, and small functions of the session and the time); this base class
builds every statement from them and turns a row back into a
:class:`~engineio_session.session.Session`. No I/O happens here: ``now`` is always an
argument (JS milliseconds), so every rule is a unit test.

What a subclass declares:

- ``data_read``: the SQL that reads the JSON column as text (``"{data}::text"`` on
  PostgreSQL's ``json``, so the bytes Node wrote come back as they are);
- ``expiry_read``: the SQL that reads the expiry column as something :meth:`expiry_ms`
  turns into JS milliseconds;
- ``expiry_write``: the SQL, with one placeholder, of the value a write stores (bound to
  :meth:`expiry_value`);
- ``live``: the predicate, with one placeholder (bound to :meth:`live_value`), of the rows
  the Node package's ``get`` returns; None when it filters none (connect-session-sequelize);
- ``expired``: the predicate of the rows its pruning deletes (bound to :meth:`live_value`);
- :meth:`written_ms`: the expiry a write of a cookie expiring at ``ms`` stores, as
  milliseconds: the rounding that tells a stale cookie (see :meth:`session`);
- :meth:`stamps`: other columns every write sets (connect-session-sequelize's
  ``updatedAt``), none by default.

Which expiry wins on read. Several packages' ``touch`` updates only the expiry column, so
the ``cookie.expires`` inside the JSON stays at the time of the last full write while the
row lives on. The column wins, as in Node: a row is a session while the package's own test
on the column says so (``live``, in SQL), and when the column is later than what a write
of the stored cookie would have stored, the cookie read back gets the column's time as its
``expires`` (``originalMaxAge`` untouched). Then, as on every store here, a session whose
cookie (so corrected) has expired reads as None.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..._js import date_to_json
from ...session import Cookie, Session
from ..base import corrupt, decode_session
from .dialect import Dialect

__all__ = ["Row", "SQLFormat", "Statement"]

#: a SQL text and its parameters
Statement = tuple[str, Sequence[Any]]
#: what every read selects: (id, the JSON as text or None, the expiry as read)
Row = Sequence[Any]


class SQLFormat:
    """The base of a Node package's SQL format. See the module's notes for what a subclass
    declares; ``dialect`` is the database's :class:`Dialect`, ``table`` the quoted
    (qualified) table, ``label`` its name for messages, ``key``/``data``/``expiry`` the
    quoted columns."""

    data_read = "{data}"
    expiry_read = "{expiry}"
    expiry_write = "{placeholder}"
    live: str | None = None
    expired = "{expiry} < {placeholder}"
    #: Node's ``length()`` counts only live rows (express-mysql-session) or every row
    length_counts_live = False
    #: Node's ``touch`` is a no-op (``disableTouch``)
    disable_touch = False

    def __init__(
        self,
        dialect: Dialect,
        *,
        table: str,
        label: str,
        key: str,
        data: str,
        expiry: str,
        store: str,
    ) -> None:
        self.dialect = dialect
        self.table = table
        self.label = label
        self.key = key
        self.data = data
        self.expiry = expiry
        self.store = store
        names = {"data": data, "expiry": expiry, "key": key, "placeholder": dialect.placeholder}
        self._data_read = self.data_read.format(**names)
        self._expiry_read = self.expiry_read.format(**names)
        self._expiry_write = self.expiry_write.format(**names)
        self._live = None if self.live is None else self.live.format(**names)
        self._expired = self.expired.format(**names)
        self._select = f"SELECT {key}, {self._data_read}, {self._expiry_read} FROM {table}"

    # --- what a subclass defines ---------------------------------------------------------------

    def expiry_value(self, session: Session, now: float) -> Any:
        """The parameter of ``expiry_write`` when ``session`` is written at ``now``."""
        raise NotImplementedError

    def touch_value(self, session: Session, now: float) -> Any:
        """The parameter of ``expiry_write`` for ``touch``; None: the Node package writes
        nothing (connect-session-knex without ``cookie.expires``)."""
        return self.expiry_value(session, now)

    def stamps(self, now: float) -> list[tuple[str, str, Any]]:
        """Other columns a write sets at ``now``: (quoted column, SQL with one placeholder,
        its parameter). None here; a format whose inserts set more columns overrides
        :meth:`upsert` too."""
        return []

    def live_value(self, now: float) -> Any:
        """The parameter of ``live`` and ``expired`` at ``now``."""
        raise NotImplementedError

    def expiry_ms(self, value: Any) -> float | None:
        """The expiry column as read (``expiry_read``), in JS milliseconds."""
        raise NotImplementedError

    def written_ms(self, cookie_ms: float) -> float:
        """What a write of a cookie expiring at ``cookie_ms`` stores, in ms."""
        raise NotImplementedError

    # --- statements ------------------------------------------------------------------------

    def _where_live(self, now: float) -> tuple[str, list[Any]]:
        if self._live is None:
            return "", []
        return f" AND {self._live}", [self.live_value(now)]

    def select(self, sid: str, now: float, *, lock: bool = False) -> Statement:
        """The row of ``sid`` if Node's ``get`` would return it; ``lock``: FOR UPDATE."""
        live, params = self._where_live(now)
        lock_clause = self.dialect.for_update if lock else ""
        sql = f"{self._select} WHERE {self.key} = {self.dialect.placeholder}{live}{lock_clause}"
        return sql, [sid, *params]

    def select_many(self, sids: Sequence[str], now: float) -> Statement:
        match, params = self.dialect.match_many(self.key, sids)
        live, more = self._where_live(now)
        return f"{self._select} WHERE {match}{live}", [*params, *more]

    def select_all(self, now: float) -> Statement:
        live, params = self._where_live(now)
        return f"{self._select} WHERE 1 = 1{live}", params

    def exists(self, sid: str, now: float) -> Statement:
        live, params = self._where_live(now)
        sql = f"SELECT 1 FROM {self.table} WHERE {self.key} = {self.dialect.placeholder}{live}"
        return sql, [sid, *params]

    def upsert(self, sid: str, session: Session, now: float) -> Statement:
        """Node's ``set``: insert, or overwrite the JSON and the expiry."""
        stamps = self.stamps(now)
        columns = [(self.data, self.dialect.placeholder), (self.expiry, self._expiry_write)]
        columns += [(column, expr) for column, expr, _ in stamps]
        sql = self.dialect.upsert(self.table, self.key, columns)
        values = [self.encode(session), self.expiry_value(session, now)]
        return sql, [sid, *values, *(value for _, _, value in stamps)]

    def _sets(self, now: float, *columns: tuple[str, str, Any]) -> tuple[str, list[Any]]:
        """``col = expr, ...`` of an UPDATE (``columns`` and the stamps), with its values."""
        pairs = [*columns, *self.stamps(now)]
        return ", ".join(f"{c} = {e}" for c, e, _ in pairs), [value for _, _, value in pairs]

    def write(self, sid: str, session: Session, now: float, *, if_live: bool) -> Statement:
        """An UPDATE of the JSON and the expiry of an existing row (``if_live``: only if
        Node's ``get`` would still return it)."""
        p = self.dialect.placeholder
        live, params = self._where_live(now) if if_live else ("", [])
        sets, values = self._sets(
            now,
            (self.data, p, self.encode(session)),
            (self.expiry, self._expiry_write, self.expiry_value(session, now)),
        )
        sql = f"UPDATE {self.table} SET {sets} WHERE {self.key} = {p}{live}"
        return sql, [*values, sid, *params]

    def touch(self, sid: str, session: Session, now: float) -> Statement | None:
        """Node's ``touch``: only the expiry column, and only on a live row; None when the
        Node package would write nothing."""
        value = self.touch_value(session, now)
        if self.disable_touch or value is None:
            return None
        live, params = self._where_live(now)
        sets, values = self._sets(now, (self.expiry, self._expiry_write, value))
        sql = f"UPDATE {self.table} SET {sets} WHERE {self.key} = {self.dialect.placeholder}{live}"
        return sql, [*values, sid, *params]

    def delete(self, sid: str) -> Statement:
        return f"DELETE FROM {self.table} WHERE {self.key} = {self.dialect.placeholder}", [sid]

    def count(self, now: float) -> Statement:
        live, params = self._where_live(now) if self.length_counts_live else ("", [])
        return f"SELECT COUNT(*) FROM {self.table} WHERE 1 = 1{live}", params

    def clear(self) -> Statement:
        return f"DELETE FROM {self.table}", []

    def prune(self, now: float) -> Statement:
        return f"DELETE FROM {self.table} WHERE {self._expired}", [self.live_value(now)]

    def create_table(self) -> list[Statement]:
        """The Node package's own DDL for this table (run only with ``create_table=True``)."""
        raise NotImplementedError

    def table_exists(self) -> Statement | None:
        """A query whose first column is falsy when the table is missing; None: the DDL
        itself says ``IF NOT EXISTS``."""
        return None

    # --- rows ------------------------------------------------------------------------------

    @staticmethod
    def encode(session: Session) -> str:
        """``JSON.stringify(session)``, as the Node package writes it."""
        from ... import jsjson

        return jsjson.dumps(session.to_json(), name="session")

    def session(self, sid: str, row: Row | None, now: float) -> Session | None:
        """The session a row holds, or None (no row, not ``sid``'s, no data, or expired).

        :class:`CorruptSessionError` (logged once) for JSON that is no session; the row is
        left as it is.
        """
        if row is None:
            return None
        found, text, expiry = row[0], row[1], row[2]
        if found != sid or text is None:
            # a PAD SPACE collation matches "abc " to "abc": not this session;
            # NULL data reads as no session (express-mysql-session's get)
            return None
        if isinstance(text, (bytes, bytearray, memoryview)):
            text = bytes(text).decode("utf-8", "replace")
        session = decode_session(self.store, sid, text)
        try:
            column_ms = self.expiry_ms(expiry)
        except (TypeError, ValueError) as error:
            raise corrupt(self.store, sid, f"the expiry column is no time ({error})") from error
        session = self._with_column_expiry(session, column_ms)
        return None if session.cookie.expired(now=now) else session

    def _with_column_expiry(self, session: Session, column_ms: float | None) -> Session:
        cookie_ms = session.cookie.expires_ms
        if column_ms is None or cookie_ms is None or column_ms <= self.written_ms(cookie_ms):
            return session
        # a touch moved the column past the stored cookie: the column wins (module notes)
        fields = session.cookie.to_json()
        fields["expires"] = date_to_json(column_ms)
        fresh = Session(session.id, Cookie.from_json(fields), session)
        fresh.mark_saved()  # what was read, as corrected: not a change of this side's
        return fresh
