"""Reading sessions from SQL: PGStore / MySQLStore (and async twins) beside the Node packages.

The same 1,000 realistic sessions as the Redis benchmark (about 400 bytes of JSON each)
are written once to a fresh table per database. Python reads them one after another, sync
and async (each ``await`` finished before the next); Node reads the same rows with
connect-pg-simple 10 (pg 8) and express-mysql-session 3 (mysql2 3), in the same run
(``node-fixtures/bench-sql.js``). A read is one SELECT plus the decoding each side does:
``JSON.parse`` in Node; JSON, the ``Session`` model and its expiry checks here.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from tests.node import run_json
from tests.sql_backends import SQLBackend

from .conftest import record
from .test_bench_redis import make_session

COUNT = 1000


@pytest.fixture(scope="module", params=["pg", "mysql"])
def table(request: pytest.FixtureRequest) -> Iterator[tuple[SQLBackend, list[str]]]:
    with SQLBackend.open(request.param) as backend:
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
    names = {
        "pg": ("PGStore", "connect-pg-simple"),
        "mysql": ("MySQLStore", "express-mysql-session"),
    }
    ours, theirs = names[backend.kind]
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
