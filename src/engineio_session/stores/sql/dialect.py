"""What differs between SQL databases, and nothing else: quoting, placeholders, the upsert
form, row locks, and how a driver's error says "no such table".

A :class:`Dialect` is pure text rules; the session layout of each Node package lives in its
format (``pg.py``, ``mysql.py``), which builds its statements with one of these::

    >>> POSTGRES.quote("session"), POSTGRES.quote('odd"name')
    ('"session"', '"odd""name"')
    >>> MYSQL.quote("sessions"), MYSQL.quote("app.sessions")   # mysql2's escapeId
    ('`sessions`', '`app`.`sessions`')
    >>> MYSQL.match_many("`id`", ["a", "b"])
    ('`id` IN (%s, %s)', ['a', 'b'])
    >>> POSTGRES.match_many('"sid"', ["a", "b"])
    ('"sid" = ANY(%s)', [['a', 'b']])
    >>> POSTGRES.quote("")
    Traceback (most recent call last):
    ...
    ValueError: '' cannot be a PostgreSQL identifier: it is empty

Ids and data only ever travel as bound parameters (``%s`` for psycopg and PyMySQL, ``?``
for sqlite3); names of tables and columns are quoted identifiers, refused with
``ValueError`` when they cannot be one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = ["MYSQL", "POSTGRES", "SQLITE", "Dialect"]


class Dialect:
    """The SQL of one database family; see the module's examples.

    ``placeholder``: the driver's parameter marker. ``for_update``: what makes a SELECT
    lock its row for the rest of the transaction (SQLite has none: its transaction is
    begun with ``begin`` = ``BEGIN IMMEDIATE``, which takes the write lock at once).
    ``counts_changed_rows``: an UPDATE reports the rows it *changed*, not the rows it
    matched (MySQL without ``CLIENT_FOUND_ROWS``), so 0 does not mean "no such row".
    """

    def __init__(
        self,
        name: str,
        *,
        quote_char: str,
        placeholder: str = "%s",
        for_update: str = " FOR UPDATE",
        begin: str = "BEGIN",
        array_match: bool = False,
        upsert: str = "on_conflict",
        counts_changed_rows: bool = False,
        split_dots: bool = False,
        max_identifier: int | None = None,
        missing_table_codes: tuple[object, ...] = (),
    ) -> None:
        self.name = name
        self.placeholder = placeholder
        self.for_update = for_update
        self.begin = begin
        self.counts_changed_rows = counts_changed_rows
        self._quote_char = quote_char
        self._array_match = array_match
        self._upsert = upsert
        self._split_dots = split_dots
        self._max_identifier = max_identifier
        self._missing_table_codes = missing_table_codes

    def __repr__(self) -> str:
        return f"<Dialect {self.name}>"

    # --- names ------------------------------------------------------------------------------

    def check_identifier(self, name: object) -> str:
        """``name`` if it can be an identifier of this database, else ``ValueError``."""
        if not isinstance(name, str):
            raise ValueError(f"{name!r} cannot be a {self.name} identifier: not a str")
        problem = None
        if not name:
            problem = "it is empty"
        elif "\x00" in name:
            problem = "it contains NUL"
        elif self._max_identifier is not None and len(name) > self._max_identifier:
            problem = f"it is longer than {self._max_identifier} characters"
        elif self._split_dots and name != name.rstrip(" "):
            problem = "it ends with a space"
        if problem is not None:
            raise ValueError(f"{name!r} cannot be a {self.name} identifier: {problem}")
        return name

    def quote(self, name: str) -> str:
        """The quoted identifier; with ``split_dots`` (MySQL, as mysql2's ``escapeId``) each
        dot-separated part is quoted on its own, so ``db.table`` names a table of db."""
        q = self._quote_char
        parts = name.split(".") if self._split_dots and isinstance(name, str) else [name]
        if len(parts) > 1:
            for part in parts:
                if not part:
                    raise ValueError(f"{name!r} cannot be a {self.name} name: an empty part")
        quoted = (q + self.check_identifier(part).replace(q, q + q) + q for part in parts)
        return ".".join(quoted)

    def quote_one(self, name: str) -> str:
        """``name`` quoted as one identifier, dots and all (sequelize's ``quoteIdentifier``).

        >>> MYSQL.quote_one("app.sessions")
        '`app.sessions`'
        """
        q = self._quote_char
        return q + self.check_identifier(name).replace(q, q + q) + q

    def qualified(self, table: str, schema: str | None = None) -> str:
        """``schema.table`` quoted, or just the table."""
        quoted = self.quote(table)
        return quoted if schema is None else self.quote(schema) + "." + quoted

    # --- statements -------------------------------------------------------------------------

    def match_many(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """A predicate "column is one of values", with its parameters (values not empty)."""
        if self._array_match:
            return f"{column} = ANY({self.placeholder})", [list(values)]
        marks = ", ".join([self.placeholder] * len(values))
        return f"{column} IN ({marks})", list(values)

    def upsert(self, table: str, key: str, columns: Sequence[tuple[str, str]]) -> str:
        """INSERT of ``key`` and ``columns`` ((column, value expression) pairs, in the order
        of their parameters, after the key's), updating those columns when the key exists."""
        names = ", ".join([key, *(column for column, _ in columns)])
        values = ", ".join([self.placeholder, *(expr for _, expr in columns)])
        insert = f"INSERT INTO {table} ({names}) VALUES ({values})"
        if self._upsert == "duplicate_key":
            sets = ", ".join(f"{column} = VALUES({column})" for column, _ in columns)
            return f"{insert} ON DUPLICATE KEY UPDATE {sets}"
        sets = ", ".join(f"{column} = EXCLUDED.{column}" for column, _ in columns)
        return f"{insert} ON CONFLICT ({key}) DO UPDATE SET {sets}"

    # --- errors -----------------------------------------------------------------------------

    def missing_table(self, error: BaseException) -> bool:
        """Whether a driver's error says the table (or its schema) does not exist."""
        codes = {getattr(error, "sqlstate", None)}  # psycopg (PyMySQL sets one too)
        if error.args and isinstance(error.args[0], int):
            codes.add(error.args[0])  # PyMySQL / aiomysql: (errno, message)
        if not codes.isdisjoint(self._missing_table_codes):
            return True
        # sqlite3: OperationalError("no such table: sessions")
        return self.name == "SQLite" and str(error).startswith("no such table")


#: PostgreSQL (psycopg 3): 42P01 undefined_table, 3F000 invalid_schema_name
POSTGRES = Dialect(
    "PostgreSQL",
    quote_char='"',
    array_match=True,
    missing_table_codes=("42P01", "3F000"),
)

#: MySQL and MariaDB (PyMySQL, aiomysql): 1146 ER_NO_SUCH_TABLE, 1049 ER_BAD_DB_ERROR
MYSQL = Dialect(
    "MySQL",
    quote_char="`",
    begin="START TRANSACTION",
    upsert="duplicate_key",
    counts_changed_rows=True,
    split_dots=True,
    max_identifier=64,
    missing_table_codes=(1146, 1049),
)

#: SQLite (the standard library's sqlite3, in autocommit mode: isolation_level=None)
SQLITE = Dialect(
    "SQLite",
    quote_char='"',
    placeholder="?",
    for_update="",
    begin="BEGIN IMMEDIATE",
)
