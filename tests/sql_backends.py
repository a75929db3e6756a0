"""The SQL stores' test backends: one Node package's table on one database, fresh per test
module, dropped at the end.

A backend is named ``<package>-<database>``, or by its package alone where the package has
one database::

    pg                connect-pg-simple on PostgreSQL      PGStore
    mysql             express-mysql-session on MariaDB     MySQLStore
    knex-pg           connect-session-knex on PostgreSQL   KnexStore
    knex-mysql        connect-session-knex on MariaDB      KnexStore
    knex-sqlite       connect-session-knex on SQLite       KnexStore
    sequelize-pg      connect-session-sequelize on PostgreSQL   SequelizeStore
    sequelize-mysql   connect-session-sequelize on MariaDB      SequelizeStore

Other worktrees run their tests against the same PostgreSQL and MariaDB at the same time,
so every backend works in names of its own: connect-pg-simple's in a fresh schema (its DDL
names its index ``IDX_session_expire`` whatever the table is called), the others in a
fresh table name (knex names its index and key after the table); SQLite in a file of its
own (in the test's ``tmp_path`` when given one, else a temporary directory)::

    with SQLBackend.open("knex-sqlite") as backend:
        store = backend.store()                  # KnexStore on the backend's table
        backend.node_config()                    # {"type": "knex", ...} for session-server.js
"""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest

from engineio_session._js import date_to_json, datetime_to_ms, parse_date
from engineio_session.stores.sql.knex import AsyncKnexStore, KnexStore
from engineio_session.stores.sql.mysql import AsyncMySQLStore, MySQLStore
from engineio_session.stores.sql.pg import AsyncPGStore, PGStore
from engineio_session.stores.sql.sequelize import AsyncSequelizeStore, SequelizeStore
from engineio_session.stores.sql.times import DATETIME
from tests import services

#: every backend, in the order the tests run them
ALL = ("pg", "mysql", "knex-pg", "knex-mysql", "knex-sqlite", "sequelize-pg", "sequelize-mysql")
#: the backends on a database server (SQLite has none to stop or cut off)
SERVERS = tuple(name for name in ALL if not name.endswith("sqlite"))

_STORES: dict[str, tuple[type[Any], type[Any]]] = {
    "connect-pg-simple": (PGStore, AsyncPGStore),
    "express-mysql-session": (MySQLStore, AsyncMySQLStore),
    "knex": (KnexStore, AsyncKnexStore),
    "sequelize": (SequelizeStore, AsyncSequelizeStore),
}
_PACKAGES = {"pg": "connect-pg-simple", "mysql": "express-mysql-session"}


def server_url(kind: str) -> str:
    """The URL of the local server of ``kind`` ("pg", "mysql")."""
    if kind == "pg":
        return services.postgres_dsn()
    params = services.mysql_params()
    return f"mysql://{params['user']}@{params['host']}:{params['port']}/{params['database']}"


def module_backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SQLBackend]:
    """The body of a module-scoped fixture parametrized by backend names."""
    with SQLBackend.open(request.param, directory=tmp_path_factory.mktemp("sql")) as made:
        yield made


class SQLBackend:
    """One table of one Node package on one database (see the module's table), created
    with the Python store's ``create_table=True`` (the Node package's DDL) unless
    ``create=False``, and dropped on ``close()``.

    ``package``: the Node package; ``kind``: the database ("pg", "mysql", "sqlite").
    """

    def __init__(self, backend: str, *, create: bool = True, directory: Path | None = None) -> None:
        package, _, kind = backend.partition("-")
        self.id = backend
        self.package = _PACKAGES.get(backend, package)
        self.kind = kind or backend
        tag = uuid.uuid4().hex[:10]
        self._own_directory: Path | None = None
        self.path: Path | None = None  # the SQLite file
        if self.kind == "sqlite":
            if directory is None:
                directory = self._own_directory = Path(tempfile.mkdtemp(prefix="eio-sqlite-"))
            self.path = directory / f"sessions-{tag}.db"
            self.url = f"sqlite:///{self.path}"  # an absolute path: four slashes
        else:
            self.url = server_url(self.kind)
        self.schema = f"eio_{tag}" if self.package == "connect-pg-simple" else None
        self.table = {
            "connect-pg-simple": "session",
            "express-mysql-session": f"eio_sessions_{tag}",
            "knex": f"eio_knex_{tag}",
            "sequelize": f"Sessions_{tag}",  # sequelize's own default is mixed case too
        }[self.package]
        self.runner = asyncio.Runner()
        self._stores: list[Any] = []
        if self.schema is not None:
            self.sql(f'CREATE SCHEMA "{self.schema}"')
        if create:
            with self.store(create_table=True, timeout=10) as store:
                store.get("x")  # the first call creates the table

    @classmethod
    def open(cls, backend: str, **options: Any) -> SQLBackend:
        return cls(backend, **options)

    @property
    def name(self) -> str:
        return {"pg": "PostgreSQL", "mysql": "MariaDB", "sqlite": "SQLite"}[self.kind]

    @property
    def store_names(self) -> tuple[str, str]:
        sync, aio = _STORES[self.package]
        return sync.__name__, aio.__name__

    # --- what the table's package does ---------------------------------------------------------

    @property
    def json_checked(self) -> bool:
        """The data column refuses text that is no JSON (PostgreSQL ``json``, MariaDB
        ``JSON``'s ``json_valid`` check)."""
        return self.id in ("pg", "knex-pg", "knex-mysql")

    @property
    def data_nullable(self) -> bool:
        return self.package in ("express-mysql-session", "sequelize")

    @property
    def has_disable_touch(self) -> bool:
        return self.package != "knex"

    def options(self, **options: Any) -> dict[str, Any]:
        placed: dict[str, Any] = {"table_name": self.table}
        if self.schema is not None:
            placed["schema_name"] = self.schema
        return {**placed, **options}

    def store(self, **options: Any) -> Any:
        store = _STORES[self.package][0](self.url, **self.options(**options))
        self._stores.append(store)
        return store

    def async_store(self, **options: Any) -> Any:
        store = _STORES[self.package][1](self.url, **self.options(**options))
        self._stores.append(store)
        return store

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine on this backend's event loop (where its async stores live)."""
        return self.runner.run(coroutine)

    def node_config(self, **options: Any) -> dict[str, Any]:
        """The ``store`` config of session-server.js on this table."""
        if self.package == "connect-pg-simple":
            config = {"type": "pg", "url": self.url, "tableName": self.table}
            return {**config, "schemaName": self.schema, **options}
        if self.package == "express-mysql-session":
            params = services.mysql_params()
            return {"type": "mysql", **params, "schema": {"tableName": self.table}, **options}
        if self.package == "sequelize":
            dialect = "postgres" if self.kind == "pg" else "mysql"
            config = {"type": "sequelize", "dialect": dialect, "url": self.url}
            return {**config, "tableName": self.table, **options}
        if self.kind == "pg":
            where: dict[str, Any] = {"client": "pg", "url": self.url}
        elif self.kind == "mysql":
            where = {"client": "mysql2", **services.mysql_params()}
        else:
            where = {"client": "better-sqlite3", "filename": str(self.path)}
        return {"type": "knex", **where, "tableName": self.table, **options}

    # --- the table, directly -----------------------------------------------------------------

    @property
    def quoted(self) -> str:
        if self.schema is not None:
            return f'"{self.schema}"."{self.table}"'
        return f"`{self.table}`" if self.kind == "mysql" else f'"{self.table}"'

    @property
    def columns(self) -> tuple[str, str, str]:
        """(id, data, expiry) column names."""
        return {
            "connect-pg-simple": ("sid", "sess", "expire"),
            "express-mysql-session": ("session_id", "data", "expires"),
            "knex": ("sid", "sess", "expired"),
            "sequelize": ("sid", "data", "expires"),
        }[self.package]

    def q(self, name: str) -> str:
        """A column name quoted for this database."""
        return f"`{name}`" if self.kind == "mysql" else f'"{name}"'

    def sql(self, statement: str, params: Any = None) -> list[Any]:
        """Run one statement on a connection of its own (autocommit; ``%s`` placeholders on
        every database); its rows, if any."""
        if self.kind == "pg":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                cursor = conn.execute(statement, params)
                return list(cursor.fetchall()) if cursor.description else []
        if self.kind == "sqlite":
            conn = self.sqlite_connect()
            try:
                return list(conn.execute(statement.replace("%s", "?"), params or ()).fetchall())
            finally:
                conn.close()
        import pymysql

        conn = pymysql.connect(**services.mysql_params(), autocommit=True)
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement, params)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def sqlite_connect(self, **options: Any) -> sqlite3.Connection:
        assert self.path is not None
        return sqlite3.connect(self.path, isolation_level=None, **options)

    def _expiry_sql(self) -> str:
        """SQL of the expiry column as something :meth:`_seconds` takes."""
        expiry = self.q(self.columns[2])
        if self.kind == "pg":
            return f"extract(epoch FROM {expiry}::timestamptz)::float8"
        return expiry

    @staticmethod
    def _seconds(value: Any) -> float:
        if isinstance(value, datetime):  # a DATETIME: UTC wall-clock time
            return datetime_to_ms(value) / 1000
        if isinstance(value, str):  # SQLite: the ISO text as written
            return parse_date(value) / 1000
        return float(value)

    def raw_row(self, sid: str) -> tuple[str | None, float] | None:
        """(the JSON as stored, the expiry column in Unix seconds), or None."""
        key, data, _ = self.columns
        read = f"{self.q(data)}::text" if self.kind == "pg" else self.q(data)
        rows = self.sql(
            f"SELECT {read}, {self._expiry_sql()} FROM {self.quoted} WHERE {self.q(key)} = %s",
            [sid],
        )
        return (rows[0][0], self._seconds(rows[0][1])) if rows else None

    def row_text(self, sid: str) -> dict[str, str | None] | None:
        """Every column of the row as the database prints it (dates too), or None."""
        if self.kind == "pg":
            key = self.q(self.columns[0])
            rows = self.sql(
                f"SELECT row_to_json(t)::text FROM {self.quoted} t WHERE {key} = %s", [sid]
            )
            import json

            return json.loads(rows[0][0]) if rows else None
        names = [row[1] if self.kind == "sqlite" else row[0] for row in self._column_rows()]
        cast = "CAST({} AS CHAR)" if self.kind == "mysql" else "{}"
        reads = ", ".join(cast.format(self.q(name)) for name in names)
        rows = self.sql(
            f"SELECT {reads} FROM {self.quoted} WHERE {self.q(self.columns[0])} = %s", [sid]
        )
        return dict(zip(names, rows[0], strict=True)) if rows else None

    def _column_rows(self) -> list[Any]:
        if self.kind == "sqlite":
            return self.sql(f"PRAGMA table_info({self.quoted})")
        return self.sql(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() "
            "AND table_name = %s ORDER BY ordinal_position",
            [self.table],
        )

    def plant(self, sid: str, data: str | None, expiry_s: float | None) -> None:
        """Write a row by hand: the data as it is, the expiry (Unix seconds) in the form
        the package's column holds; sequelize's timestamps at now."""
        key, column, expiry = (self.q(name) for name in self.columns)
        names, marks = [key, column, expiry], ["%s", "%s", "%s"]
        value: Any = expiry_s
        if expiry_s is None:
            pass
        elif self.kind == "pg":
            marks[2] = "to_timestamp(%s)"
        elif self.package == "express-mysql-session":
            value = int(expiry_s)
        elif self.kind == "mysql":
            value = DATETIME.text(expiry_s * 1000)
        else:  # SQLite: the ISO text knex writes
            value = date_to_json(expiry_s * 1000)
        params = [sid, data, value]
        if self.package == "sequelize":
            names += [self.q("createdAt"), self.q("updatedAt")]
            now = "now()" if self.kind == "pg" else "UTC_TIMESTAMP()"
            marks += [now, now]
        self.sql(
            f"INSERT INTO {self.quoted} ({', '.join(names)}) VALUES ({', '.join(marks)})", params
        )

    def close(self) -> None:
        for store in self._stores:
            if hasattr(store, "aclose"):
                self.run(store.aclose())
            else:
                store.close()
        self.runner.close()
        if self.schema is not None:
            self.sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        elif self._own_directory is not None:
            shutil.rmtree(self._own_directory, ignore_errors=True)
        elif self.path is None:
            self.sql(f"DROP TABLE IF EXISTS {self.quoted}")

    def __enter__(self) -> SQLBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
