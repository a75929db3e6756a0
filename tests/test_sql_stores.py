"""Every SQL store, sync and async, on every database its Node package supports: PGStore
(connect-pg-simple), MySQLStore (express-mysql-session), KnexStore (connect-session-knex on
PostgreSQL, MariaDB and SQLite), SequelizeStore (connect-session-sequelize on PostgreSQL and
MariaDB), on the real servers and a SQLite file (tests/sql_backends.py).

The store contract (tests/store_contract.py), sync and async; ids that SQL could
misread; the table's own rules (expiry column, prune, length/all/clear); a missing table;
corrupt rows; and faults: a server that refuses, one that never answers, a row or table
lock held elsewhere, a server that goes away and comes back.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session.changes import Changes
from engineio_session.drive import Call
from engineio_session.errors import CorruptSessionError, StoreError
from engineio_session.session import Session
from engineio_session.stores.sql import plans
from engineio_session.stores.sql.knex import AsyncKnexStore, KnexStore
from engineio_session.stores.sql.mysql import AsyncMySQLStore, MySQLStore
from engineio_session.stores.sql.pg import AsyncPGStore, PGStore
from engineio_session.stores.sql.sequelize import AsyncSequelizeStore, SequelizeStore

from .sql_backends import ALL, SERVERS, SQLBackend, module_backend
from .store_contract import AsyncDriver, SyncDriver, check_contract, check_method_kinds

MINUTE = 60_000


@pytest.fixture(scope="module", params=ALL)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SQLBackend]:
    yield from module_backend(request, tmp_path_factory)


def both(backend: SQLBackend, **options: Any) -> list[Any]:
    """A SyncDriver and an AsyncDriver-like caller on the backend's table."""
    return [SyncDriver(backend.store(**options)), _OnLoop(backend, backend.async_store(**options))]


class _OnLoop:
    """An async store's methods called as plain functions on the backend's loop."""

    def __init__(self, backend: SQLBackend, store: Any) -> None:
        self.backend, self.store = backend, store

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        return lambda *args: self.backend.run(method(*args))


def test_contract(backend: SQLBackend) -> None:
    check_method_kinds(backend.store(), is_async=False)
    check_contract(SyncDriver(backend.store()))
    check_method_kinds(backend.async_store(), is_async=True)
    with AsyncDriver(backend.async_store()) as store:
        check_contract(store)


@pytest.mark.parametrize("mode", [0, 1], ids=["sync", "async"])
def test_ids_only_as_parameters(backend: SQLBackend, mode: int) -> None:
    """Ids with quotes, LIKE wildcards, backslashes and NUL-free oddities match themselves only."""
    store = both(backend)[mode]
    tricky = ["a'b", 'a"b', "a%", "a_", "a\\", "a\\'", "'; DROP TABLE x; --", "é😀", "a b"]
    stamp = uuid.uuid4().hex[:10]  # sequelize's sid is a VARCHAR(36)
    for n, sid in enumerate(tricky):
        session = Session.new(sid + stamp, max_age=MINUTE)
        session["n"] = n
        store.set(sid + stamp, session)
    for n, sid in enumerate(tricky):
        found = store.get(sid + stamp)
        assert found is not None and found["n"] == n and found.id == sid + stamp
    assert store.get("a" + stamp) is None  # no wildcard matched
    many = store.get_many([sid + stamp for sid in reversed(tricky)] + ["a_" + stamp])
    assert [s["n"] if s else None for s in many] == [*range(len(tricky) - 1, -1, -1), 3]
    for sid in tricky:
        store.destroy(sid + stamp)
    assert all(s is None for s in store.get_many([sid + stamp for sid in tricky]))


def test_trailing_space_is_another_id(backend: SQLBackend) -> None:
    """MariaDB's utf8mb4_bin pads with spaces ('abc' = 'abc '): not the same session here."""
    store = backend.store()
    sid = "pad" + uuid.uuid4().hex[:10]
    store.set(sid, Session.new(sid, max_age=MINUTE))
    assert store.get(sid + " ") is None
    assert store.get_many([sid + " ", sid])[0] is None


@pytest.mark.parametrize("name", ["", "a\x00b"])
def test_bad_table_names_refused(name: str) -> None:
    with pytest.raises(ValueError, match="cannot be a"):
        PGStore("postgresql://u@127.0.0.1/db", table_name="x", schema_name=name or "\x00")
    with pytest.raises(ValueError, match="cannot be a"):
        MySQLStore("mysql://u@127.0.0.1/db", table_name=name or ".")
    with pytest.raises(ValueError, match="unknown column"):
        MySQLStore("mysql://u@127.0.0.1/db", column_names={"sid": "x"})
    for url in ("postgresql://u@127.0.0.1/db", "mysql://u@127.0.0.1/db", "sqlite:///x.db"):
        with pytest.raises(ValueError, match="cannot be a"):
            KnexStore(url, table_name=name or "app..sessions")
        with pytest.raises(ValueError, match="cannot be a"):
            KnexStore(url, sid_field_name=name or "\x00")
    with pytest.raises(ValueError, match="cannot be a"):
        SequelizeStore("mysql://u@127.0.0.1/db", table_name=name + "\x00")


def test_the_url_or_connection_picks_the_dialect(tmp_path: Path) -> None:
    """A URL's scheme, or the module of a driver's connection class, says the database; a
    package's store refuses one its Node package does not support."""
    import sqlite3

    assert KnexStore("postgresql://u@h/db").format.dialect.name == "PostgreSQL"
    assert AsyncKnexStore("mariadb://u@h/db").format.dialect.name == "MySQL"
    assert KnexStore(f"sqlite:///{tmp_path}/s.db").format.dialect.name == "SQLite"
    assert SequelizeStore("postgres://u@h/db").format.dialect.name == "PostgreSQL"
    with pytest.raises(ValueError, match=r"postgresql:// or mysql:// URL, not sqlite://"):
        SequelizeStore(f"sqlite:///{tmp_path}/s.db")
    with pytest.raises(ValueError, match="not redis://"):
        AsyncKnexStore("redis://127.0.0.1")
    conn = sqlite3.connect(tmp_path / "c.db", isolation_level=None)
    assert KnexStore(conn).format.dialect.name == "SQLite"
    with pytest.raises(TypeError, match="not Connection"):
        SequelizeStore(conn)
    with pytest.raises(TypeError, match="not dict"):
        KnexStore({"client": "pg"})
    legacy = sqlite3.connect(tmp_path / "c.db")  # implicit transactions: refused
    with pytest.raises(ValueError, match="autocommit mode"):
        KnexStore(legacy)
    with pytest.raises(ValueError, match="a database of its own"):
        KnexStore("sqlite:///:memory:")
    conn.close()
    legacy.close()


def test_quoted_names_work(backend: SQLBackend) -> None:
    """A table name with both quote characters and a space (no dot: knex and MySQL read a
    dot as schema.table): quoted, it works, DDL included."""
    odd = f'we"ird `name {uuid.uuid4().hex[:8]}'
    options: dict[str, Any] = {"table_name": odd, "create_table": True}
    if backend.schema is not None:  # connect-pg-simple's DDL: one such table per schema
        options["schema_name"] = odd
        backend.sql('CREATE SCHEMA "' + odd.replace('"', '""') + '"')
    store = backend.store(**options)
    try:
        sid = "q" + uuid.uuid4().hex[:8]
        store.set(sid, Session.new(sid, max_age=MINUTE))
        assert store.get(sid) is not None
        doubled = "``" if backend.kind == "mysql" else '""'
        assert doubled in store.format.table
    finally:
        store.close()
        if backend.schema is not None:
            backend.sql('DROP SCHEMA "' + odd.replace('"', '""') + '" CASCADE')
        else:
            backend.sql(f"DROP TABLE {store.format.table}")


def test_missing_table_names_it(backend: SQLBackend) -> None:
    for store in both(backend, table_name="no_such_table_here"):
        with pytest.raises(StoreError, match=r"no_such_table_here.*does not exist"):
            store.get("x")


def test_corrupt_rows_raise_and_stay(backend: SQLBackend, caplog: pytest.LogCaptureFixture) -> None:
    far = time.time() + 3600
    cases = {
        "not-json": "{nope",
        "array": "[1,2]",
        "no-cookie": '{"user":"x"}',
        "bad-date": '{"cookie":{"expires":"card=4111-1111-1111-1111"}}',
    }
    if backend.json_checked:  # the json column refuses what is not JSON
        del cases["not-json"]
    stamp = uuid.uuid4().hex[:10]
    for name, data in cases.items():
        backend.plant(name + stamp, data, far)
    for store in both(backend):
        for name, data in cases.items():
            with pytest.raises(CorruptSessionError) as caught:
                store.get(name + stamp)
            assert caught.value.store in backend.store_names
            with pytest.raises(CorruptSessionError):
                store.update(name + stamp, Changes({"x": 1}))
            raw = backend.raw_row(name + stamp)
            assert raw is not None and raw[0] == data  # left as it was
    assert stamp not in caplog.text  # ids cut to 6 characters (stored values: issue 9)


def test_null_data_reads_as_none(backend: SQLBackend) -> None:
    sid = "null" + uuid.uuid4().hex[:10]
    if not backend.data_nullable:  # connect-pg-simple's sess, knex's sess: NOT NULL
        with pytest.raises(Exception, match=r"(?i)null"):
            backend.plant(sid, None, time.time() + 3600)
        return
    backend.plant(sid, None, time.time() + 3600)
    for store in both(backend):
        assert store.get(sid) is None
        assert store.update(sid, Changes({"x": 1})) is None


def test_expiry_column_rules(backend: SQLBackend) -> None:
    """A row whose column has passed is gone (Node's filter) whatever its cookie says; a row
    whose column is later than its stale cookie reads with the column's time."""
    store = backend.store()
    stamp = uuid.uuid4().hex[:10]
    session = Session.new("x", max_age=MINUTE)
    text = store.format.encode(session)
    backend.plant("past" + stamp, text, time.time() - 5)
    assert store.get("past" + stamp) is None
    assert store.touch("past" + stamp, session) is False  # never revived
    assert store.replace("past" + stamp, session) is False
    later = int(time.time()) + 7200  # as a Node touch leaves it: the column moved on
    stale = Session.new("x", max_age=1000, now=int(time.time() - 10) * 1000)  # expired cookie
    backend.plant("stale" + stamp, store.format.encode(stale), later)
    for caller in both(backend):
        found = caller.get("stale" + stamp)
        assert found is not None and found.cookie.expires_ms == later * 1000
        assert not found.modified and found.cookie.original_max_age == 1000
        merged = caller.update("stale" + stamp, Changes({"n": 1}))
        assert merged is not None and merged["n"] == 1
        raw = backend.raw_row("stale" + stamp)
        assert raw is not None and raw[1] == later  # the update kept the column's time
    assert store.prune() >= 1
    assert backend.raw_row("past" + stamp) is None and backend.raw_row("stale" + stamp)


def test_disable_touch_writes_nothing(backend: SQLBackend) -> None:
    if not backend.has_disable_touch:  # connect-session-knex has no such option
        with pytest.raises(TypeError, match="disable_touch"):
            backend.store(disable_touch=True)
        return
    for caller in both(backend, disable_touch=True):
        sid = "dt" + uuid.uuid4().hex[:10]
        session = Session.new(sid, max_age=MINUTE)
        caller.set(sid, session)
        before = backend.row_text(sid) if backend.kind != "pg" else backend.raw_row(sid)
        session.cookie.set_max_age(10 * MINUTE)
        assert caller.touch(sid, session) is True
        after = backend.row_text(sid) if backend.kind != "pg" else backend.raw_row(sid)
        assert after == before  # sequelize's updatedAt too
        caller.destroy(sid)
        assert caller.touch(sid, session) is False


def test_touch_same_second_is_found(backend: SQLBackend) -> None:
    """MySQL reports an UPDATE that changes nothing as 0 rows: still a live row."""
    for caller in both(backend):
        sid = "ts" + uuid.uuid4().hex[:10]
        session = Session.new(sid, max_age=MINUTE)
        caller.set(sid, session)
        assert caller.touch(sid, session) is True
        assert caller.touch(sid, session) is True
        assert caller.replace(sid, session) is True


def test_all_length_clear(backend: SQLBackend) -> None:
    """Each package's own extras: express-mysql-session counts and lists live rows ({id:
    session}); connect-session-knex counts every row and lists the live sessions; sequelize
    counts every row and has no all() or clear(); connect-pg-simple has none of them."""
    extras = {
        "connect-pg-simple": (),
        "express-mysql-session": ("all", "length", "clear"),
        "knex": ("all", "length", "clear"),
        "sequelize": ("length",),
    }[backend.package]
    for store in (backend.store(), backend.async_store()):
        present = tuple(name for name in ("all", "length", "clear") if hasattr(store, name))
        assert present == extras
    if "clear" not in extras:
        return
    for caller in both(backend):
        caller.clear()
        assert caller.length() == 0 and len(caller.all()) == 0
        ids = []
        for n in range(3):
            session = Session.new(max_age=MINUTE)
            session["n"] = n
            caller.set(session.id, session)
            ids.append(session.id)
        old = "old" + ids[0][:20]
        backend.plant(old, '{"cookie":{}}', time.time() - 10)
        listed = caller.all()
        if backend.package == "knex":  # every row; a list of sessions
            assert caller.length() == 4
            assert sorted(s["n"] for s in listed) == [0, 1, 2]
        else:  # express-mysql-session: live rows only; {id: session}
            assert caller.length() == 3
            assert {sid: s["n"] for sid, s in listed.items()} == {
                sid: n for n, sid in enumerate(ids)
            }
        caller.clear()
        assert caller.length() == 0 and backend.raw_row(old) is None


def test_sequelize_length_counts_every_row() -> None:
    with SQLBackend.open("sequelize-pg") as backend:
        for caller in both(backend):
            base = caller.length()
            sid = "len" + uuid.uuid4().hex[:10]
            backend.plant(sid, '{"cookie":{}}', time.time() - 10)
            assert caller.length() == base + 1
            caller.destroy(sid)


def test_pg_time_zone_pitfall() -> None:
    """Connections in another TimeZone misread connect-pg-simple's `timestamp` column by
    hours; ``time_zone=`` names the zone the Node side's connections use."""
    with SQLBackend.open("pg") as backend:
        node_zone = backend.sql("SHOW TimeZone")[0][0]
        sid = "tz" + str(time.monotonic_ns())
        session = Session.new(sid, max_age=30 * MINUTE)
        backend.store().set(sid, session)  # written as Node's pg would: the server's zone
        ahead = backend.url + "?options=-c%20TimeZone%3DAsia/Tokyo"  # UTC+9 everywhere
        assert PGStore(ahead, **backend.options()).get(sid) is None  # read as 9 hours ago
        fixed = PGStore(ahead, **backend.options(time_zone=node_zone))
        assert fixed.get(sid) is not None
        assert fixed.touch(sid, session) is True
        assert backend.store().get(sid) is not None
        fixed.close()


# --- faults -----------------------------------------------------------------------------------


def _url(kind: str, port: int) -> str:
    return (
        f"postgresql://postgres@127.0.0.1:{port}/test"
        if kind == "pg"
        else (f"mysql://root@127.0.0.1:{port}/test")
    )


def _elapsed(call: Any) -> float:
    start = time.monotonic()
    with pytest.raises(StoreError):
        call()
    return time.monotonic() - start


STORES = {
    "pg": (PGStore, AsyncPGStore),
    "mysql": (MySQLStore, AsyncMySQLStore),
    "knex": (KnexStore, AsyncKnexStore),
    "sequelize": (SequelizeStore, AsyncSequelizeStore),
}


@pytest.mark.parametrize("backend_id", SERVERS)
@pytest.mark.parametrize("where", ["closed_port", "black_hole"])
def test_server_down_or_silent(backend_id: str, where: str, request: pytest.FixtureRequest) -> None:
    port = request.getfixturevalue(where)
    package, _, kind = backend_id.partition("-")
    sync_kind, async_kind = STORES[package]
    url = _url(kind or backend_id, port)
    sync, aio = sync_kind(url, timeout=0.5), async_kind(url, timeout=0.5)
    for call in (lambda: sync.get("x"), lambda: asyncio.run(aio.get("x"))):
        assert _elapsed(call) < 1.5
        assert _elapsed(call) < 1.5  # and again: nothing stuck


def test_sqlite_file_missing_or_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite has no server to be down: a missing file is a StoreError (and is not created
    unless create_table=True), so is a file that is no database; sqlite:///relative.db is
    relative to the working directory."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="unable to open"):
        KnexStore("sqlite:///missing.db").get("x")
    with pytest.raises(StoreError, match="unable to open"):
        asyncio.run(AsyncKnexStore("sqlite:///missing.db").get("x"))
    assert not (tmp_path / "missing.db").exists()
    (tmp_path / "junk.db").write_bytes(b"this is no SQLite file, not at all" * 100)
    with pytest.raises(StoreError, match="not a database"):
        KnexStore("sqlite:///junk.db").get("x")
    with KnexStore("sqlite:///made.db", create_table=True) as store:
        sid = "f" + uuid.uuid4().hex
        store.set(sid, Session.new(sid, max_age=MINUTE))
        assert store.get(sid) is not None
    assert (tmp_path / "made.db").exists()
    absolute = f"sqlite:///{tmp_path / 'made.db'}"
    assert absolute.startswith("sqlite:////")
    with KnexStore(absolute) as store:
        assert store.get(sid) is not None


@pytest.mark.parametrize("mode", [0, 1], ids=["sync", "async"])
def test_lock_held_elsewhere_times_out_then_works(backend: SQLBackend, mode: int) -> None:
    """A row lock (update) and a table lock (get) held by another session: StoreError within
    timeout; once released, the same store answers."""
    caller = both(backend, timeout=0.5)[mode]
    sid = "lock" + uuid.uuid4().hex[:10]
    caller.set(sid, Session.new(sid, max_age=MINUTE))
    key = backend.q(backend.columns[0])
    lock_row = f"SELECT 1 FROM {backend.quoted} WHERE {key} = %s FOR UPDATE"
    if backend.kind == "pg":
        lock_table = f"LOCK TABLE {backend.quoted} IN ACCESS EXCLUSIVE MODE"
    elif backend.kind == "mysql":
        lock_table = f"LOCK TABLES {backend.quoted} WRITE"
    else:  # SQLite locks the file: a writer's RESERVED lock, then an EXCLUSIVE one
        lock_row = "BEGIN IMMEDIATE"
        lock_table = "BEGIN EXCLUSIVE"
    for lock, params, call in (
        (lock_row, [sid], lambda: caller.update(sid, Changes({"n": 1}))),
        (lock_table, None, lambda: caller.get(sid)),
    ):
        with _Holding(backend, lock, params):
            assert _elapsed(call) < 1.5
        assert caller.get(sid) is not None
        assert caller.update(sid, Changes({"n": 2})) is not None


class _Holding:
    """Hold a lock on a connection of its own while the block runs."""

    def __init__(self, backend: SQLBackend, statement: str, params: Any) -> None:
        self.backend, self.statement, self.params = backend, statement, params

    def __enter__(self) -> None:
        if self.backend.kind == "sqlite":
            self.conn: Any = self.backend.sqlite_connect()
            self.conn.execute(self.statement)
            return
        if self.backend.kind == "pg":
            import psycopg

            self.conn = psycopg.connect(self.backend.url)
            self.conn.execute(self.statement, self.params)  # opens a transaction
        else:
            import pymysql

            from tests import services

            self.conn = pymysql.connect(**services.mysql_params())
            cursor = self.conn.cursor()
            if "LOCK TABLES" not in self.statement:
                cursor.execute("START TRANSACTION")
            cursor.execute(self.statement, self.params)

    def __exit__(self, *exc_info: object) -> None:
        if self.backend.kind == "sqlite":
            self.conn.execute("ROLLBACK")
            self.conn.close()
            return
        if self.backend.kind == "mysql":
            self.conn.cursor().execute("UNLOCK TABLES")
        self.conn.rollback()
        self.conn.close()


class _Switch:
    """A loopback TCP proxy to a real server that can be cut (connections reset) and
    restored: a server that goes away and comes back, for the stores' pools."""

    def __init__(self, port: int) -> None:
        self.target = port
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.up = True
        self.pairs: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client = self.listener.accept()[0]
            except OSError:
                return
            if not self.up:
                client.close()
                continue
            server = socket.create_connection(("127.0.0.1", self.target))
            self.pairs += [client, server]
            for a, b in ((client, server), (server, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        try:
            while data := source.recv(65536):
                sink.sendall(data)
        except OSError:
            pass
        for end in (source, sink):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)

    def cut(self) -> None:
        self.up = False
        for sock in self.pairs:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.pairs = []

    def close(self) -> None:
        self.cut()
        self.listener.close()


@pytest.mark.parametrize("mode", [0, 1], ids=["sync", "async"])
@pytest.mark.parametrize("backend_id", SERVERS)
def test_server_restart_recovers(backend_id: str, mode: int) -> None:
    """The pooled connections die with the server: while it is down a call fails with
    StoreError; the first call after it is back works (a dead idle connection is retried
    once on a fresh one)."""
    with SQLBackend.open(backend_id) as backend:
        switch = _Switch(5432 if backend.kind == "pg" else 3306)
        package = backend_id.partition("-")[0]
        store = STORES[package][mode](
            _url(backend.kind, switch.port), timeout=1.0, **backend.options()
        )
        try:
            caller = SyncDriver(store) if mode == 0 else _OnLoop(backend, store)
            sid = "rs" + uuid.uuid4().hex[:10]
            caller.set(sid, Session.new(sid, max_age=MINUTE))
            assert caller.get(sid) is not None
            switch.cut()
            with pytest.raises(StoreError):
                caller.get(sid)
            switch.up = True
            assert caller.get(sid) is not None  # the idle connections are dead: retried
            switch.cut()
            switch.up = True
            assert caller.get(sid) is not None
        finally:
            switch.close()
            store.close() if mode == 0 else backend.run(store.aclose())


def test_cli_shows_sql_sessions(backend: SQLBackend, capsys: pytest.CaptureFixture[str]) -> None:
    """``engineio-session show <sid> --store <url>``: the database from the URL, the Node
    package from ``?package=`` (connect-pg-simple for postgresql://, express-mysql-session
    for mysql://, knex for sqlite:// when none is named), the table from ``?table=``."""
    from engineio_session.cli import main

    session = Session.new(max_age=MINUTE)
    session["user"] = "ada"
    backend.store().set(session.id, session)
    where = {
        "connect-pg-simple": f"?schema={backend.schema}",
        "express-mysql-session": f"?table={backend.table}",
        "knex": f"?package=knex&table={backend.table}",
        "sequelize": f"?package=connect-session-sequelize&table={backend.table}",
    }[backend.package]
    if backend.kind == "sqlite":
        where = f"?table={backend.table}"  # knex: the one SQLite package
    # "--": an id may start with "-" (uid-safe's alphabet), which argparse takes for an option
    assert main(["show", "--store", backend.url + where, "--json", "--", session.id]) == 0
    assert '"user": "ada"' in capsys.readouterr().out
    assert main(["show", "nope", "--store", backend.url + where]) == 1
    # a package that did not write this table: a missing table (exit 2), named
    other = "sequelize" if backend.package != "sequelize" else "knex"
    if backend.kind != "sqlite":
        assert main(["show", "nope", "--store", f"{backend.url}?package={other}"]) == 2
        assert "does not exist" in capsys.readouterr().out


def test_cli_refuses_packages_that_do_not_fit(capsys: pytest.CaptureFixture[str]) -> None:
    from engineio_session.cli import main

    for url, why in (
        ("sqlite:///x.db?package=sequelize", "does not run on sqlite://"),
        ("mysql://u@h/db?package=connect-pg-simple", "does not run on mysql://"),
        ("postgresql://u@h/db?package=redis", "unknown ?package=redis"),
        ("postgresql://u@h/db?package=knex&schema=auth", "?schema= is connect-pg-simple's"),
        ("sqlite:///:memory:", "a database of its own"),
    ):
        assert main(["show", "abc", "--store", url]) == 2
        assert why in capsys.readouterr().err


def test_silent_server_connects_do_not_hold_up_others(black_hole: int) -> None:
    """Each bounded sync connect runs on a thread of its own and libpq bounds it too: calls
    to a server that never answers leave later connects to a live one free."""
    for _ in range(8):
        with pytest.raises(StoreError):
            PGStore(_url("pg", black_hole), timeout=0.2).get("x")
    with SQLBackend.open("knex-pg") as backend:
        assert backend.store(timeout=1.0).get("x") is None


# --- SQLite: no server, one file, the standard library's driver ------------------------------

RUNAWAY = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def _runaway(fmt: Any, q: Any) -> Any:
    """A plan whose one query never ends by itself."""
    row = yield Call(q.one, RUNAWAY, [])
    return row


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_sqlite_runaway_query_is_interrupted(mode: str, tmp_path: Path) -> None:
    """sqlite3 has no socket to shut: the watchdog interrupts the connection at the
    deadline; the connection serves the next call."""
    with SQLBackend.open("knex-sqlite", directory=tmp_path) as backend:
        if mode == "sync":
            store = backend.store(timeout=0.3)
            call: Any = store._call
        else:
            store = backend.async_store(timeout=0.3)
            call = lambda *args: backend.run(store._call(*args))  # noqa: E731
        for _ in range(2):
            start = time.monotonic()
            with pytest.raises(StoreError, match=r"no answer within 0\.3"):
                call(_runaway)
            assert time.monotonic() - start < 1.0
        assert call(plans.get, "x", time.time() * 1000) is None


def test_async_sqlite_leaves_the_loop_free(tmp_path: Path) -> None:
    """While sqlite3 waits for a lock (the Node app writing) or runs a query, the event loop
    keeps running: the async store's calls run on a worker thread. A call cancelled there
    interrupts its query, so the connection is free at once."""
    with SQLBackend.open("knex-sqlite", directory=tmp_path) as backend:
        sid = "loop" + uuid.uuid4().hex[:8]
        backend.store().set(sid, Session.new(sid, max_age=MINUTE))
        own = backend.sqlite_connect(check_same_thread=False)  # one connection: its lock shows
        store = AsyncKnexStore(own, table_name=backend.table, timeout=5.0)

        async def ticking(work: Any) -> int:
            ticks = 0

            async def tick() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1

            ticker = asyncio.create_task(tick())
            try:
                await work
            finally:
                ticker.cancel()
            return ticks

        async def locked() -> None:
            with pytest.raises(StoreError):  # the busy timeout or the watchdog: 0.5 s
                await AsyncKnexStore(backend.url, table_name=backend.table, timeout=0.5).get(sid)

        with _Holding(backend, "BEGIN EXCLUSIVE", None):
            assert backend.run(ticking(locked())) >= 10  # 0.5 s of lock wait, the loop ran

        async def cancelled() -> float:
            task = asyncio.create_task(store._call(_runaway))
            await asyncio.sleep(0.2)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            start = time.monotonic()
            assert await store.get(sid) is not None  # the one connection is free again
            return time.monotonic() - start

        assert backend.run(ticking(asyncio.sleep(0.3))) >= 10
        assert backend.run(cancelled()) < 2.0  # not the 5 s the runaway query had left
        own.close()


def test_sqlite_connections_you_pass(tmp_path: Path) -> None:
    """A connection of yours serves one call at a time; the async store needs one made with
    check_same_thread=False (else a StoreError says so); yours stay open."""
    with SQLBackend.open("knex-sqlite", directory=tmp_path) as backend:
        mine = backend.sqlite_connect()
        store = KnexStore(mine, table_name=backend.table)
        sid = "mine" + uuid.uuid4().hex[:8]
        store.set(sid, Session.new(sid, max_age=MINUTE))
        assert store.get(sid) is not None
        with pytest.raises(StoreError, match="same thread"):
            backend.run(AsyncKnexStore(mine, table_name=backend.table).get(sid))
        store.close()
        assert mine.execute("SELECT count(*) FROM " + backend.quoted).fetchone() == (1,)
        mine.close()


@pytest.mark.parametrize("backend_id", ["knex-pg", "sequelize-pg"])
def test_timestamptz_needs_no_time_zone(backend_id: str) -> None:
    """knex's and sequelize's expiry is a timestamptz: a connection in another TimeZone
    reads and writes the same instants (unlike connect-pg-simple's timestamp)."""
    with SQLBackend.open(backend_id) as backend:
        sid = "tz" + uuid.uuid4().hex[:8]
        session = Session.new(sid, max_age=30 * MINUTE)
        backend.store().set(sid, session)
        ahead = backend.url + "?options=-c%20TimeZone%3DAsia/Tokyo"
        kind = type(backend.store())
        tokyo = kind(ahead, table_name=backend.table)
        found = tokyo.get(sid)
        assert found is not None and found.cookie.expires_ms == session.cookie.expires_ms
        session.cookie.set_max_age(60 * MINUTE)
        assert tokyo.touch(sid, session) is True
        raw = backend.raw_row(sid)
        assert raw is not None and backend.store().get(sid) is not None
        expires = session.cookie.expires_ms
        assert expires is not None and round(raw[1] * 1000) == expires
        tokyo.close()


@pytest.mark.parametrize("backend_id", ["sequelize-pg", "sequelize-mysql"])
def test_sequelize_set_writes_what_changed(backend_id: str) -> None:
    """sequelize's set: an insert stamps createdAt and updatedAt; a set that changes
    neither data nor expires (to the millisecond: MySQL keeps whole seconds, so only a
    cookie expiring on a whole second) writes nothing; any change moves updatedAt only."""
    with SQLBackend.open(backend_id) as backend:
        store = backend.store()
        sid = "ch" + uuid.uuid4().hex[:8]
        whole = 1000 * (int(time.time()) + 3600)  # expires on a whole second
        session = Session.from_json(sid, {"cookie": {"expires": _iso(whole)}, "n": 1})
        store.set(sid, session)
        first = backend.row_text(sid)
        assert first is not None and first["createdAt"] == first["updatedAt"]
        time.sleep(1.05)  # MySQL's DATETIME: a second later
        store.set(sid, session)
        assert backend.row_text(sid) == first  # nothing changed: nothing written
        fraction = Session.from_json(sid, {"cookie": {"expires": _iso(whole + 5)}, "n": 1})
        store.set(sid, fraction)
        second = backend.row_text(sid)
        assert second is not None and second["createdAt"] == first["createdAt"]
        # PostgreSQL keeps the milliseconds: a change; MySQL keeps the same second, but
        # sequelize compares the Date it would write with the whole second it read: a change
        assert second["updatedAt"] != first["updatedAt"]
        time.sleep(1.05)
        session["n"] = 2
        assert store.replace(sid, session) is True
        third = backend.row_text(sid)
        assert third is not None and third["createdAt"] == first["createdAt"]
        assert third["updatedAt"] != second["updatedAt"] and '"n":2' in str(third["data"])


def _iso(ms: float) -> str:
    from engineio_session._js import date_to_json

    return date_to_json(ms)
