"""What connect-session-knex 5.0.0 and connect-session-sequelize 8.0.6 really do, pinned
against the packages themselves (node-fixtures/session-server.js on each backend), beside
what KnexStore and SequelizeStore do on the same rows.

Each test names the Node source line the quirk comes from. Where this side deliberately
differs (never serving an expired session, never reviving one), the test shows Node's
behaviour and ours side by side.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session import get_session_id, jsjson
from engineio_session.errors import StoreError
from engineio_session.session import Session

from .node_session import NodeError, NodeSessionServer
from .sql_backends import SQLBackend, module_backend

SECRETS = ["quirk secret"]
HOUR = 3_600_000
DAY_S = 86_400
KNEX = ("knex-pg", "knex-mysql", "knex-sqlite")
SEQUELIZE = ("sequelize-pg", "sequelize-mysql")


class Node:
    """A session-server.js on a backend's table, closed with the block."""

    def __init__(self, backend: SQLBackend, cookie: dict[str, Any] | None = None, **store: Any):
        session = {"secret": SECRETS, "cookie": {"maxAge": HOUR} if cookie is None else cookie}
        self.server = NodeSessionServer({"store": backend.node_config(**store), "session": session})

    def __enter__(self) -> NodeSessionServer:
        return self.server

    def __exit__(self, *exc_info: object) -> None:
        self.server.close()


@pytest.fixture(scope="module", params=[*KNEX, *SEQUELIZE])
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SQLBackend]:
    yield from module_backend(request, tmp_path_factory)


@pytest.fixture(scope="module", params=KNEX)
def knex(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SQLBackend]:
    yield from module_backend(request, tmp_path_factory)


@pytest.fixture(scope="module", params=SEQUELIZE)
def sequelize(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[SQLBackend]:
    yield from module_backend(request, tmp_path_factory)


def knex_only(backend: SQLBackend) -> bool:
    return backend.package == "knex"


def new_sid() -> str:
    return "qk" + uuid.uuid4().hex[:16]


def test_a_plain_json_cookie_writes_one_day(backend: SQLBackend) -> None:
    """Node: a session whose cookie is plain JSON (not express-session's Cookie) is written
    to expire in one day, whatever its ``expires``: knex reads ``cookie.maxAge`` (a Cookie
    getter: undefined on JSON; index.ts set), sequelize tests ``!isNaN(cookie.expires)``
    (NaN for a string; expiration()). express-session always hands a Cookie, and so does the
    fixture unless ``plain``; Python writes the cookie's time."""
    session = Session.new(new_sid(), max_age=HOUR)
    expires = session.cookie.expires_ms
    assert expires is not None
    with Node(backend, plain=True) as node:
        before = time.time()
        node.call("set", sid=session.id, session=session.to_json())
        column = node.call("ttl", sid=session.id)
        assert before + DAY_S - 1 <= column <= time.time() + DAY_S + 1
    with Node(backend) as node:  # a Cookie, as express-session hands it
        node.call("set", sid=session.id, session=session.to_json())
        assert abs(node.call("ttl", sid=session.id) - expires / 1000) < 1
    backend.store().set(session.id, session)
    raw = backend.raw_row(session.id)
    assert raw is not None and abs(raw[1] - expires / 1000) < 1


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_a_browser_session_cookie(backend: SQLBackend, mode: str) -> None:
    """A cookie with no maxAge (a browser-session cookie): both packages write now + one
    day (knex: ``maxAge`` is null, falsy; sequelize: ``expiration``). A touch: knex writes
    nothing without ``cookie.expires`` (index.ts touch); sequelize writes now + one day
    again. Python does each the same."""
    with Node(backend, cookie={}) as node:
        pair = node.login({"user": "ada"})
        sid = get_session_id(pair, secrets=SECRETS)
        assert sid is not None
        column = node.call("ttl", sid=sid)
        assert abs(column - (time.time() + DAY_S)) < 5
        store = backend.store() if mode == "sync" else backend.async_store()

        def call(method: str, *args: Any) -> Any:
            result = getattr(store, method)(*args)
            return backend.run(result) if mode == "async" else result

        session = call("get", sid)
        assert session is not None and session.cookie.expires_ms is None
        time.sleep(1.1)  # so that "now + one day" moves on
        status, _, _ = node.request("GET", "/touch", cookie=pair)  # express-session's touch
        assert status == 200
        after_node = node.call("ttl", sid=sid)
        assert call("touch", sid, session) is True
        after_python = node.call("ttl", sid=sid)
        if knex_only(backend):
            assert after_node == column and after_python == column  # nothing written
        else:
            assert after_node > column and after_python >= after_node


def test_knex_length_and_all_as_node(knex: SQLBackend) -> None:
    """knex's length() counts every row, expired ones too; all() lists the live sessions,
    without their ids (index.ts length, all). Python's answer is Node's."""
    store = knex.store()
    store.clear()
    for n in range(3):
        session = Session.new(new_sid(), max_age=HOUR)
        session["n"] = n
        store.set(session.id, session)
    knex.plant(new_sid(), '{"cookie":{},"n":9}', time.time() - 5)
    with Node(knex) as node:
        assert node.call("length") == store.length() == 4
        listed = node.call("all")
        assert isinstance(listed, list)
        assert sorted(jsjson.dumps(s) for s in listed) == sorted(
            jsjson.dumps(s) for s in store.all()
        )
        assert sorted(s["n"] for s in listed) == [0, 1, 2]
        node.call("clear")
        assert store.length() == 0


def test_sequelize_length_as_node(sequelize: SQLBackend) -> None:
    """sequelize's length() is ``count()``: every row, expired ones too."""
    sequelize.plant(new_sid(), '{"cookie":{}}', time.time() - 5)
    with Node(sequelize) as node:
        assert node.call("length") == sequelize.store().length() >= 1


def test_knex_keeps_the_second_where_the_column_does(knex: SQLBackend) -> None:
    """knex compares ``datetime(now) <= datetime(expired)`` on SQLite (``datetime()`` drops
    the milliseconds) and a DATETIME on MySQL (whole seconds): Node serves a session to the
    end of the second it expires in. On PostgreSQL it compares milliseconds. Python never
    serves a session past its cookie."""
    backend = knex
    with Node(backend) as node:
        for _ in range(5):  # a try that crosses a second boundary says nothing: again
            start = time.time()
            time.sleep(1.1 - start % 1)  # 0.1 s into a second
            session = Session.new(new_sid(), max_age=200)  # expires 0.3 s into it
            node.call("set", sid=session.id, session=session.to_json())
            time.sleep(0.3)
            second = int(time.time())
            node_sees = node.call("get", sid=session.id)
            python_sees = backend.store().get(session.id)
            if int(time.time()) == second:
                break
        else:
            pytest.fail("no try stayed within one second")
    assert python_sees is None
    assert (node_sees is not None) == (backend.kind != "pg")


def test_the_own_pruning_deletes_what_prune_deletes(backend: SQLBackend) -> None:
    """Node's cleanup (knex's dbCleanup, sequelize's clearExpiredSessions) deletes the rows
    whose expiry has passed; ``prune()`` deletes the same ones, and a row stays a session
    here exactly while that pruning keeps it (sequelize: a NULL expires too)."""
    past, future, null = new_sid(), new_sid(), new_sid()
    data = '{"cookie":{"originalMaxAge":null,"expires":null},"n":1}'
    backend.plant(past, data, time.time() - 5)
    backend.plant(future, data, time.time() + 3600)
    if backend.package == "sequelize":  # the model's expires may be NULL
        backend.plant(null, data, None)
    store = backend.store()
    assert store.get(past) is None and store.get(future) is not None
    interval = {"cleanupInterval": 100} if knex_only(backend) else {"checkExpirationInterval": 100}
    with Node(backend, **interval) as node:
        deadline = time.time() + 5
        while backend.raw_row(past) is not None and time.time() < deadline:
            time.sleep(0.1)
        assert backend.raw_row(past) is None and backend.raw_row(future) is not None
        if backend.package == "sequelize":
            assert node.call("get", sid=null) is not None and store.get(null) is not None
    backend.plant(past, data, time.time() - 5)
    assert store.prune() == 1 and backend.raw_row(past) is None


def test_sequelize_serves_and_revives_expired_rows(backend: SQLBackend) -> None:
    """sequelize's get reads the row whatever its expires (``findOne({where: {sid}})``), and
    its touch updates any row (``update({expires}, {where: {sid}})``): a session whose
    cookie and column have passed comes back in Node. Python reads None and its touch writes
    nothing. knex filters both (expiredCondition)."""
    sid = new_sid()
    stale = Session.new(sid, max_age=1000, now=(time.time() - 60) * 1000)
    backend.store().set(sid, stale)  # Python writes it as Node would
    fresh = Session.from_json(sid, stale.to_json())
    fresh.cookie.set_max_age(HOUR)
    assert backend.store().get(sid) is None
    assert backend.store().touch(sid, fresh) is False
    with Node(backend) as node:
        served = node.call("get", sid=sid)
        assert (served is not None) == (backend.package == "sequelize")
        node.call("touch", sid=sid, session=fresh.to_json())
        revived = backend.store().get(sid)
        assert (revived is not None) == (backend.package == "sequelize")
    if revived is not None:  # the column came back to life; the JSON's cookie is stale
        assert revived.cookie.expires_ms == fresh.cookie.expires_ms - (
            fresh.cookie.expires_ms % backend.store().format.time.step
        )


def test_sequelize_set_writes_only_changes_as_node(sequelize: SQLBackend) -> None:
    """sequelize's set (findCreateFind, then save() of what changed): Node's second set of
    the same session and Python's write the same thing: nothing on PostgreSQL (the column
    keeps the milliseconds, so nothing changed); on MySQL a new updatedAt (the DATETIME
    read back lost the milliseconds, so expires "changed"), unless the cookie expires on a
    whole second."""
    backend = sequelize
    whole = 1000 * (int(time.time()) + 3600)
    for expires in (whole + 123, whole):
        sid = new_sid()
        session = Session.new(sid, max_age=HOUR)  # express-session's cookie, as Node's is
        session.cookie.set_expires(expires)
        session["n"] = 1
        with Node(backend) as node:
            node.call("set", sid=sid, session=session.to_json())
            first = backend.row_text(sid)
            time.sleep(1.05)
            node.call("set", sid=sid, session=session.to_json())
            second = backend.row_text(sid)
            time.sleep(1.05)
            backend.store().set(sid, session)
            third = backend.row_text(sid)
        assert first is not None and second is not None and third is not None
        node_wrote = second != first
        assert node_wrote == (backend.kind == "mysql" and expires % 1000 != 0)
        assert (third != second) == node_wrote
        assert first["createdAt"] == second["createdAt"] == third["createdAt"]


def test_what_each_database_refuses(backend: SQLBackend) -> None:
    """Both sides store the same bytes, so both are refused the same way: sequelize's
    ``data TEXT`` holds at most 65,535 bytes on MySQL (strict mode); knex's ``json`` column
    on MariaDB checks ``json_valid``, which refuses the ``\\udfff`` escape JSON.stringify
    writes for a lone surrogate. PostgreSQL's ``json``/``text`` and SQLite take both."""
    big = Session.new(new_sid(), max_age=HOUR)
    big["blob"] = "x" * 70_000
    lone = Session.new(new_sid(), max_age=HOUR)
    lone["name"] = "a\udfffb"
    refused = {
        big.id: backend.id == "sequelize-mysql",
        lone.id: backend.id == "knex-mysql",
    }
    with Node(backend) as node:
        for session in (big, lone):
            try:
                node.call("set", sid=session.id, session=session.to_json())
                node_refused = False
            except NodeError:
                node_refused = True
            try:
                backend.store().set("py" + session.id, session)
                python_refused = False
            except StoreError:
                python_refused = True
            assert node_refused == python_refused == refused[session.id], session.id
            if not node_refused:
                assert backend.raw_row(session.id) is not None
                assert backend.raw_row(session.id)[0] == backend.raw_row("py" + session.id)[0]


def test_mariadb_ids_ignore_case_in_node(backend: SQLBackend) -> None:
    """knex's and sequelize's tables take the database's default collation
    (utf8mb4_general_ci here): Node finds a session under its id in other case. Python reads
    only the row of the very id it was asked for."""
    sid = new_sid()
    backend.store().set(sid, Session.new(sid, max_age=HOUR))
    with Node(backend) as node:
        node_finds = node.call("get", sid=sid.upper()) is not None
    assert node_finds == (backend.kind == "mysql")
    assert backend.store().get(sid.upper()) is None and backend.store().get(sid) is not None


def test_knex_failures_end_the_node_process(knex: SQLBackend, tmp_path: Path) -> None:
    """connect-session-knex calls back with the error *and* rethrows it from the promise it
    returns (index.ts get/set/destroy: ``callback?.(err); throw err``); express-session
    ignores that promise, so Node (>= 15) ends the process at the first failed query. The
    fixture handles those promises unless ``rejections``."""
    with SQLBackend.open(knex.id, directory=tmp_path) as doomed:
        with Node(doomed) as node:
            doomed.sql(f"DROP TABLE {doomed.quoted}")
            with pytest.raises(NodeError, match=r"no such table|doesn't exist|does not exist"):
                node.call("get", sid="x")
            assert node.call("now") > 0  # still running: the fixture handled the promise
        doomed.store(create_table=True).get("x")
        with Node(doomed, rejections=True) as node:
            doomed.sql(f"DROP TABLE {doomed.quoted}")
            with pytest.raises((NodeError, RuntimeError)):
                node.call("get", sid="x")
            with pytest.raises((RuntimeError, OSError)):  # exited: no answer, a broken pipe
                node.call("now")
            assert node.process.wait(timeout=5) != 0
        doomed.store(create_table=True).get("x")
