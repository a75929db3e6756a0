"""The SQL stores' test backends: a fresh table per test module on the real servers.

Other worktrees run their tests against the same PostgreSQL and MariaDB at the same time,
so every backend works in names of its own: on PostgreSQL a fresh schema (connect-pg-simple's
DDL names its index ``IDX_session_expire`` whatever the table is called, so two tables
cannot share a schema), on MariaDB a fresh table name. Both are dropped at the end::

    with SQLBackend.open("pg", postgres_dsn) as backend:
        store = backend.store()                  # PGStore on the backend's table
        backend.node_config()                    # {"type": "pg", ...} for session-server.js
"""

from __future__ import annotations

import asyncio
import uuid
from types import TracebackType
from typing import Any

from engineio_session.stores.sql.mysql import AsyncMySQLStore, MySQLStore
from engineio_session.stores.sql.pg import AsyncPGStore, PGStore
from tests import services


class SQLBackend:
    """One table on one server (``kind`` "pg" or "mysql"), created with the Python store's
    ``create_table=True`` (the Node package's DDL) and dropped on ``close()``."""

    def __init__(self, kind: str, url: str, *, create: bool = True) -> None:
        self.kind = kind
        self.url = url
        tag = uuid.uuid4().hex[:10]
        self.schema = f"eio_{tag}" if kind == "pg" else None
        self.table = "session" if kind == "pg" else f"eio_sessions_{tag}"
        self.runner = asyncio.Runner()
        self._stores: list[Any] = []
        if kind == "pg":
            self.sql(f'CREATE SCHEMA "{self.schema}"')
        if create:
            with self.store(create_table=True) as store:
                store.get("x")  # the first call creates the table

    @classmethod
    def open(cls, kind: str, **options: Any) -> SQLBackend:
        if kind == "pg":
            url = services.postgres_dsn()
        else:
            params = services.mysql_params()
            url = f"mysql://{params['user']}@{params['host']}:{params['port']}/{params['database']}"
        return cls(kind, url, **options)

    @property
    def name(self) -> str:
        return "PostgreSQL" if self.kind == "pg" else "MariaDB"

    def options(self, **options: Any) -> dict[str, Any]:
        placed = {"table_name": self.table}
        if self.schema is not None:
            placed["schema_name"] = self.schema
        return {**placed, **options}

    def store(self, **options: Any) -> Any:
        kind = PGStore if self.kind == "pg" else MySQLStore
        store = kind(self.url, **self.options(**options))
        self._stores.append(store)
        return store

    def async_store(self, **options: Any) -> Any:
        kind = AsyncPGStore if self.kind == "pg" else AsyncMySQLStore
        store = kind(self.url, **self.options(**options))
        self._stores.append(store)
        return store

    def run(self, coroutine: Any) -> Any:
        """Run a coroutine on this backend's event loop (where its async stores live)."""
        return self.runner.run(coroutine)

    def node_config(self, **options: Any) -> dict[str, Any]:
        """The ``store`` config of session-server.js on this table."""
        if self.kind == "pg":
            return {
                "type": "pg",
                "url": self.url,
                "tableName": self.table,
                "schemaName": self.schema,
                **options,
            }
        params = services.mysql_params()
        schema = {"tableName": self.table}
        return {"type": "mysql", **params, "schema": schema, **options}

    # --- the table, directly -----------------------------------------------------------------

    @property
    def quoted(self) -> str:
        if self.kind == "pg":
            return f'"{self.schema}"."{self.table}"'
        return f"`{self.table}`"

    @property
    def columns(self) -> tuple[str, str, str]:
        """(id, data, expiry) column names."""
        return ("sid", "sess", "expire") if self.kind == "pg" else ("session_id", "data", "expires")

    def sql(self, statement: str, params: Any = None) -> list[Any]:
        """Run one statement on a connection of its own (autocommit); its rows, if any."""
        if self.kind == "pg":
            import psycopg

            with psycopg.connect(self.url, autocommit=True) as conn:
                cursor = conn.execute(statement, params)
                return list(cursor.fetchall()) if cursor.description else []
        import pymysql

        conn = pymysql.connect(**services.mysql_params(), autocommit=True)
        try:
            with conn.cursor() as cursor:
                cursor.execute(statement, params)
                return list(cursor.fetchall())
        finally:
            conn.close()

    def raw_row(self, sid: str) -> tuple[str | None, float] | None:
        """(the JSON as stored, the expiry column in Unix seconds), or None."""
        key, data, expiry = self.columns
        if self.kind == "pg":
            read = f"{data}::text, extract(epoch FROM {expiry}::timestamptz)::float8"
        else:
            read = f"{data}, {expiry}"
        rows = self.sql(f"SELECT {read} FROM {self.quoted} WHERE {key} = %s", [sid])
        return (rows[0][0], float(rows[0][1])) if rows else None

    def plant(self, sid: str, data: str | None, expiry_s: float) -> None:
        """Write a row by hand (data as it is, the expiry in Unix seconds)."""
        key, column, expiry = self.columns
        value = "to_timestamp(%s)" if self.kind == "pg" else "%s"
        self.sql(
            f"INSERT INTO {self.quoted} ({key}, {column}, {expiry}) VALUES (%s, %s, {value})",
            [sid, data, expiry_s],
        )

    def close(self) -> None:
        for store in self._stores:
            if hasattr(store, "aclose"):
                self.run(store.aclose())
            else:
                store.close()
        self.runner.close()
        if self.kind == "pg":
            self.sql(f'DROP SCHEMA IF EXISTS "{self.schema}" CASCADE')
        else:
            self.sql(f"DROP TABLE IF EXISTS `{self.table}`")

    def __enter__(self) -> SQLBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
