"""attach() on the SQL stores: the handshake reads the Node package's row, and ``watch``
sees a logout (the row deleted) with one batched query per sweep (``get_many``).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session.stores import AsyncKnexStore, AsyncPGStore, KnexStore, PGStore
from tests.apps.harness import cookie_pair, saved_session, wait_for
from tests.apps.inprocess import Driver


@pytest.fixture(params=["sqlite-sync", "sqlite-async", "postgres-sync", "postgres-async"])
def stores(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[Any, Any, bool]]:
    """(the store attach uses, a sync store on the same table to act as Node, is_async)."""
    kind, mode = str(request.param).split("-")
    is_async = mode == "async"
    if kind == "sqlite":
        url = "sqlite:///" + str(tmp_path / "sessions.db")
        seed = KnexStore(url, create_table=True)
        seed.get("none")  # creates the table
        yield (AsyncKnexStore if is_async else KnexStore)(url), seed, is_async
        seed.close()
        return
    import psycopg

    dsn = request.getfixturevalue("postgres_dsn")
    schema = f"attach_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    seed = PGStore(dsn, schema_name=schema, create_table=True)
    seed.get("none")
    try:
        yield (AsyncPGStore if is_async else PGStore)(dsn, schema_name=schema), seed, is_async
    finally:
        seed.close()
        with psycopg.connect(dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA "{schema}" CASCADE')


def test_the_handshake_and_the_watch_on_a_sql_store(
    stores: tuple[Any, Any, bool], tmp_path: Path
) -> None:
    store, node, is_async = stores
    sweeps: list[int] = []
    real = store.get_many

    if is_async:

        async def counted(sids: Any) -> Any:
            sweeps.append(len(sids))
            return await real(sids)
    else:

        def counted(sids: Any) -> Any:  # type: ignore[misc]
            sweeps.append(len(sids))
            return real(sids)

    store.get_many = counted
    driver = Driver(is_async, "engineio", tmp_path / "unused", store=store, watch=0.2)
    try:
        ada, bob = saved_session(node, user="ada"), saved_session(node, user="bob")
        sids = [driver.handshake(cookie_pair(s.id)).sid for s in (ada, ada, bob)]
        assert [driver.handle.get(sid)["user"] for sid in sids] == ["ada", "ada", "bob"]
        wait_for(lambda: len(sweeps) >= 2)
        assert all(count == 2 for count in sweeps)  # one query for the two sessions
        node.destroy(ada.id)  # the Node app's logout: the row is gone
        wait_for(lambda: sids[0] not in driver.handle._sessions, timeout=3)
        assert sids[1] not in driver.handle._sessions and sids[2] in driver.handle._sessions
    finally:
        if is_async:
            driver.run(store.aclose())
        else:
            store.close()
        driver.close()
