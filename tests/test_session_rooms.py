"""The connections of one session: rooms, emit_to_session / send_to_session,
disconnect_session, across processes; and the keep-alive touch (``touch_interval``).

- in process (sync and async): every tab of a session gets what is emitted to it, and
  disconnect_session closes them all; without rooms, the same over local connections;
- two Python Socket.IO processes sharing a Redis client manager and a Redis store: an emit
  from one reaches the tab in the other; disconnect_session in one closes the other's tab
  (through the store's announcement to its watcher); a logout on Express closes every tab
  in both processes;
- touch_interval extends the Redis TTL (and the stored cookie) once an interval per session,
  whatever the number of tabs, and a session found gone closes its tabs.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from engineio_session import get_session_id
from engineio_session.stores import AsyncRedisStore, RedisStore
from tests.apps.harness import SECRETS, Serve, client, cookie_pair, saved_session, wait_for
from tests.apps.inprocess import Driver

from .node_session import NodeSessionServer
from .redis_target import RedisTarget


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def target(request: pytest.FixtureRequest) -> Iterator[RedisTarget]:
    made = RedisTarget.of(request, "single", "rooms")
    yield made
    made.close()


def redis_store(target: RedisTarget, is_async: bool) -> Any:
    if is_async:
        return AsyncRedisStore(target.async_client(), prefix=target.prefix)
    return RedisStore(target.sync_client(), prefix=target.prefix)


@pytest.fixture
def drivers(tmp_path: Path) -> Iterator[Callable[..., Driver]]:
    made: list[Driver] = []

    def make(is_async: bool, kind: str, **options: Any) -> Driver:
        driver = Driver(is_async, kind, tmp_path / "sessions", **options)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


@pytest.mark.parametrize("rooms", ["session:", None])
def test_socketio_emit_and_disconnect_reach_every_tab(
    drivers: Callable[..., Driver], is_async: bool, rooms: str | None
) -> None:
    driver = drivers(is_async, "socketio", session_rooms=rooms)
    got: dict[str, list[Any]] = {}
    session = saved_session(driver.files, user="ada")
    other = saved_session(driver.files, user="bob")
    tabs = [driver.sio_connect(cookie_pair(session.id))[0] for _ in range(2)]
    stranger = driver.sio_connect(cookie_pair(other.id))[0]
    driver.run(driver.handle.emit_to_session(session.id, "hello", {"n": 1}))
    driver.run(driver.handle.emit_to_session(other.id, "marker"))  # the stranger's only one
    for eio_sid in (*tabs, stranger):
        got[eio_sid] = [p for p in driver.poll(eio_sid) if p.startswith("42")]
    assert all(got[t] == ['42["hello",{"n":1}]'] for t in tabs)
    assert got[stranger] == ['42["marker"]']
    closed = driver.run(driver.handle.disconnect_session(session.id))
    assert sorted(closed) == sorted(tabs)
    for eio_sid in tabs:
        driver.drain(eio_sid)
    assert set(driver.eio.sockets) == {stranger}
    with pytest.raises(TypeError):
        driver.handle.send_to_session(session.id, "raw")  # Socket.IO sends events


def test_engineio_send_and_disconnect_reach_every_tab(
    drivers: Callable[..., Driver], is_async: bool
) -> None:
    driver = drivers(is_async, "engineio")
    session = saved_session(driver.files, user="ada")
    tabs = [driver.handshake(cookie_pair(session.id)).sid for _ in range(3)]
    assert driver.run(driver.handle.send_to_session(session.id, "hi")) == 3
    for sid in tabs:
        assert "4hi" in driver.poll(sid)
    assert sorted(driver.run(driver.handle.disconnect_session(session.id))) == sorted(tabs)
    for sid in tabs:
        driver.drain(sid)
    assert driver.eio.sockets == {}


def test_keepalive_touch_once_an_interval_per_session(
    drivers: Callable[..., Driver], is_async: bool, target: RedisTarget
) -> None:
    seed = RedisStore(target.sync_client(), prefix=target.prefix)
    session = saved_session(seed, user="ada")
    target.raw.pexpire(target.key(session.id), 1500)  # a short life left, unless touched
    store = redis_store(target, is_async)
    updates: list[str] = []
    real = store.update

    if is_async:

        async def counted(sid: str, changes: Any) -> Any:
            updates.append(sid)
            return await real(sid, changes)
    else:

        def counted(sid: str, changes: Any) -> Any:  # type: ignore[misc]
            updates.append(sid)
            return real(sid, changes)

    store.update = counted
    driver = drivers(is_async, "engineio", store=store, touch_interval=0.3)
    tabs = [driver.handshake(cookie_pair(session.id)).sid for _ in range(4)]
    time.sleep(1.45)
    assert 3 <= len(updates) <= 5, updates  # about one a 0.3 s, for 4 tabs
    assert target.raw.pttl(target.key(session.id)) > 3_000_000  # the hour of its cookie again
    time.sleep(2.0)
    assert target.raw.exists(target.key(session.id))  # alive past its 1.5 s thanks to them
    target.raw.delete(target.key(session.id))  # logged out: the next touch finds it gone
    wait_for(lambda: all(sid not in driver.handle._sessions for sid in tabs), timeout=2)
    assert not target.raw.exists(target.key(session.id))  # and did not bring it back
    seed.close()


def test_two_processes_share_rooms_and_logouts(tmp_path: Path, target: RedisTarget) -> None:
    config = {
        "mode": "asgi",
        "store": {
            "type": "redis",
            "url": target.url,
            "prefix": target.prefix,
            "enable_notifications": True,
        },
        "apps": {
            "s": {
                "kind": "socketio",
                "attach": {"secret": SECRETS, "watch": 5},
                "manager": target.url,
            }
        },
    }
    node_config = {"store": target.node_store(), "session": {"secret": SECRETS}}
    with (
        Serve(config, tmp_path / "a.log") as first,
        Serve(config, tmp_path / "b.log") as second,
        NodeSessionServer(node_config) as node,
    ):
        cookie = node.login({"user": "ada"})
        session_id = get_session_id(cookie, secrets=SECRETS)
        with (
            client("socketio", first.url, "/s/", "websocket", cookie=cookie) as here,
            client("socketio", second.url, "/s/", "websocket", cookie=cookie) as there,
        ):
            assert here.session()["data"]["user"] == "ada" and there.session()["id"] == session_id
            here.command("emit_to_session", text="from the first process")
            for tab in (here, there):
                assert tab.inbox.expect("to_session") == {"text": "from the first process"}
            here.client.emit("disconnect_session")  # no ack: it closes this tab too
            for tab in (here, there):
                tab.inbox.expect("disconnect", timeout=3)
        # a logout on Express: every tab in both processes closed (each watcher sees it)
        cookie = node.login({"user": "bob"})
        with (
            client("socketio", first.url, "/s/", "websocket", cookie=cookie) as here,
            client("socketio", second.url, "/s/", "websocket", cookie=cookie) as there,
        ):
            here.session()
            there.session()
            assert node.request("POST", "/logout", cookie=cookie)[0] == 200
            for tab in (here, there):
                tab.inbox.expect("disconnect", timeout=3)
    assert redis.Redis.from_url(target.url).ping()


def test_keepalive_moves_the_sql_expiry_forward(
    drivers: Callable[..., Driver], postgres_dsn: str
) -> None:
    """connect-pg-simple's ``expire`` column moves forward once an interval, for 3 tabs."""
    import uuid

    import psycopg

    from engineio_session.session import Session
    from engineio_session.stores import PGStore

    schema = f"keepalive_{uuid.uuid4().hex[:10]}"  # connect-pg-simple's index names are fixed
    with psycopg.connect(postgres_dsn, autocommit=True) as connection:
        connection.execute(f'CREATE SCHEMA "{schema}"')
    store = PGStore(postgres_dsn, schema_name=schema, create_table=True)
    try:
        session = Session.new(max_age=4_000)  # 4 s to live, unless kept alive
        session["user"] = "ada"
        store.set(session.id, session)
        updates: list[str] = []
        real = store.update

        def counted(sid: str, changes: Any) -> Any:
            updates.append(sid)
            return real(sid, changes)

        store.update = counted  # type: ignore[method-assign]

        def expire() -> float:
            with psycopg.connect(postgres_dsn) as connection:
                row = connection.execute(
                    f'SELECT extract(epoch FROM expire) FROM "{schema}".session WHERE sid = %s',
                    (session.id,),
                ).fetchone()
            return float(row[0]) if row else 0.0

        first = expire()
        driver = drivers(False, "engineio", store=store, touch_interval=1.0)
        tabs = [driver.handshake(cookie_pair(session.id)).sid for _ in range(3)]
        time.sleep(5.5)  # past the 4 s the session had
        assert 4 <= len(updates) <= 6, updates
        assert expire() >= first + 4  # moved on with each touch
        assert all(sid in driver.handle._sessions for sid in tabs)
        assert store.get(session.id) is not None
    finally:
        with psycopg.connect(postgres_dsn, autocommit=True) as connection:
            connection.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
        store.close()
