"""Reading sessions from SQL: every SQL store (and its async twin) beside its Node package.

The same 1,000 realistic sessions as the Redis benchmark (about 400 bytes of JSON each)
are written once to a fresh table per backend (tests/sql_backends.py: connect-pg-simple,
express-mysql-session, knex on PostgreSQL/MariaDB/SQLite, sequelize on PostgreSQL/MariaDB).
Python reads them one after another, sync and async (each ``await`` finished before the
next); Node reads the same rows with the package's own ``get`` in the same run
(``node-fixtures/bench-sql.js``): connect-pg-simple 10 (pg 8), express-mysql-session 3
(mysql2 3), connect-session-knex 5 (knex 3 on pg, mysql2, better-sqlite3 12),
connect-session-sequelize 8 (sequelize 6 on pg, mysql2). A read is one SELECT plus the
decoding each side does: ``JSON.parse`` (and the ORM's row objects) in Node; JSON, the
``Session`` model and its expiry checks here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.node import run_json
from tests.sql_backends import ALL, SQLBackend

from .conftest import record
from .test_bench_redis import make_session

COUNT = 1000


NAMES = {
    "connect-pg-simple": ("PGStore", "connect-pg-simple"),
    "express-mysql-session": ("MySQLStore", "express-mysql-session"),
    "knex": ("KnexStore", "connect-session-knex"),
    "sequelize": ("SequelizeStore", "connect-session-sequelize"),
}


@pytest.fixture(scope="module", params=ALL)
def table(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[SQLBackend, list[str]]]:
    with SQLBackend.open(request.param, directory=tmp_path_factory.mktemp("sql")) as backend:
        store = backend.store()
        sids = []
        for n in range(COUNT):
            session = make_session(n)
            store.set(session.id, session)
            sids.append(session.id)
        yield backend, sids


@pytest.fixture(scope="module")
def node_times(table: tuple[SQLBackend, list[str]]) -> dict[str, Any]:
    backend, sids = table
    times: dict[str, Any] = run_json(
        "bench-sql.js", {"store": backend.node_config(), "sids": sids}, timeout=300
    )
    return times


@pytest.mark.parametrize("awaited", [False, True], ids=["sync", "async"])
def test_sql_get(
    awaited: bool,
    benchmark: Any,
    table: tuple[SQLBackend, list[str]],
    node_times: dict[str, Any],
) -> None:
    backend, sids = table
    ours, theirs = NAMES[backend.package]
    if backend.package in ("knex", "sequelize"):
        theirs += f" ({backend.name})"
    if awaited:
        store = backend.async_store()
        loop = asyncio.new_event_loop()

        async def read_all() -> int:
            found = 0
            for sid in sids:
                if await store.get(sid) is not None:
                    found += 1
            return found

        def run() -> int:
            return loop.run_until_complete(read_all())

        row = f"Async{ours}.get (awaited in turn) vs {theirs} get"
    else:
        store = backend.store()
        loop = None

        def run() -> int:
            return sum(1 for sid in sids if store.get(sid) is not None)

        row = f"{ours}.get (sync) vs {theirs} get"
    try:
        assert benchmark.pedantic(run, rounds=10, warmup_rounds=2) == COUNT
        record(row, benchmark, COUNT, node_times["get_us"])
    finally:
        if loop is not None:
            loop.run_until_complete(store.aclose())
            loop.close()
