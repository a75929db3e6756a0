"""attach() in process: real python-engineio / python-socketio servers driven through their
own WSGI (threading) and ASGI entry points, no network (tests/apps/inprocess.py).

Each scenario runs on a sync server (WSGI ``handle_request``, a sync FileStore) and an async
one (``ASGIApp`` on an event loop in a thread, an AsyncFileStore); the store is wrapped in a
recorder that lists every call, so "never reaches the store" is a list that stays empty.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import engineio
import pytest
import socketio

from engineio_session import (
    ENVIRON_SESSION,
    AsyncLiveSession,
    LiveSession,
    Session,
    SessionGoneError,
    attach,
    get_session_id,
    sign,
)
from engineio_session.core import Exchange
from engineio_session.hooks import engineio as hooks
from engineio_session.options import MAX_COOKIE_HEADER, MAX_COOKIE_VALUE, session_id_from_value
from engineio_session.signature import as_signer
from engineio_session.stores import AsyncFileStore, FileStore
from tests.apps.harness import SECRETS, cookie_pair, saved_session, signed_value, wait_for
from tests.apps.inprocess import AsyncFailing, Driver, Failing

# --- fixtures ---------------------------------------------------------------------------------


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def drivers(tmp_path: Path) -> Iterator[Callable[..., Driver]]:
    made: list[Driver] = []

    def make(is_async: bool, kind: str = "engineio", **options: Any) -> Driver:
        driver = Driver(is_async, kind, tmp_path / "sessions", **options)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


# --- HandlerSlots and attach's own checks -----------------------------------------------------


def test_handler_slots_keep_the_application_handlers_aside() -> None:
    def ours() -> None: ...

    def app_before() -> None: ...

    def app_after() -> None: ...

    slots = hooks.HandlerSlots({"connect": app_before, "message": print}, {"connect": ours})
    assert slots["connect"] is ours and slots.app["connect"] is app_before
    assert slots["message"] is print  # not pinned: as it was
    slots["connect"] = app_after
    assert slots["connect"] is ours and slots.app["connect"] is app_after
    del slots["connect"]
    assert slots["connect"] is ours and "connect" not in slots.app
    slots.update({"connect": app_before, "disconnect": app_after})
    assert slots.app["connect"] is app_before and slots["disconnect"] is app_after
    assert slots.pop("connect") is app_before and slots["connect"] is ours
    assert slots.setdefault("connect", app_after) is app_after


@pytest.mark.parametrize("register", ["before", "after", "dict"])
def test_application_connect_handler_keeps_working(
    drivers: Callable[..., Driver], is_async: bool, register: str
) -> None:
    """Registered before attach, after it, or written into ``handlers`` directly: the app's
    connect handler runs (and sees the session), and can still reject with 401."""
    seen: list[Any] = []

    def connect(sid: str, environ: dict[str, Any]) -> Any:
        seen.append(environ.get(ENVIRON_SESSION))
        return "reject=1" not in environ["QUERY_STRING"] or {"reason": "no"}

    def install(eio: Any) -> None:
        eio.on("connect", connect)

    driver = drivers(is_async, before=install if register == "before" else None)
    if register == "after":
        driver.eio.on("connect", connect)
    elif register == "dict":
        driver.eio.handlers["connect"] = connect
    session = saved_session(driver.files, user="ada")
    assert driver.handshake(cookie_pair(session.id)).status == 200
    assert isinstance(seen[-1], AsyncLiveSession if is_async else LiveSession)
    assert seen[-1].id == session.id and seen[-1]["user"] == "ada"
    rejected = driver.handshake(cookie_pair(session.id), query="&reject=1")
    assert rejected.status == 401 and json.loads(rejected.body) == {"reason": "no"}
    assert len(driver.handle._sessions) == 1  # the rejected one left nothing behind


def test_attach_twice_is_an_error(tmp_path: Path) -> None:
    eio = engineio.Server(async_mode="threading")
    attach(eio, store=FileStore(tmp_path), secret="s")
    with pytest.raises(RuntimeError, match="already"):
        attach(eio, store=FileStore(tmp_path), secret="s")


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"secret": []}, ValueError),
        ({"secret": None}, TypeError),
        ({"name": "bad name;"}, ValueError),
        ({"name": 7}, TypeError),
        ({"cookie": {"maxAge": 1}}, TypeError),
        ({"cookie": {"same_site": "sideways"}}, ValueError),
        ({"cookie": {"priority": "urgent"}}, ValueError),
        ({"cookie": {"domain": "bad domain"}}, ValueError),
        ({"cookie": "max_age=1"}, TypeError),
        ({"watch": 0}, ValueError),
        ({"watch": -1}, ValueError),
        ({"watch": True}, ValueError),
        ({"watch": "1"}, ValueError),
        ({"on_store_error": "ignore"}, ValueError),
        ({"header": ""}, TypeError),
        ({"header": "X Session"}, ValueError),
        ({"auth_key": 3}, TypeError),
        ({"auth_key": "session"}, TypeError),  # Engine.IO has no auth payload
    ],
)
def test_bad_options_fail_at_attach(tmp_path: Path, options: dict[str, Any], error: type) -> None:
    eio = engineio.Server(async_mode="threading")
    with pytest.raises(error):
        attach(eio, store=FileStore(tmp_path), **{"secret": "s", **options})
    assert not isinstance(eio.handlers, hooks.HandlerSlots)  # nothing half-done


def test_store_and_server_must_match(tmp_path: Path) -> None:
    sync_store, async_store = FileStore(tmp_path), AsyncFileStore(tmp_path)
    threading_servers = (engineio.Server, socketio.Server)
    for server in (cls(async_mode="threading") for cls in threading_servers):
        with pytest.raises(TypeError, match="AsyncFileStore cannot serve a sync server"):
            attach(server, store=async_store, secret="s")
    for server in (cls(async_mode="asgi") for cls in (engineio.AsyncServer, socketio.AsyncServer)):
        with pytest.raises(TypeError, match="FileStore cannot serve an async server"):
            attach(server, store=sync_store, secret="s")
    with pytest.raises(TypeError, match="no get"):
        attach(engineio.Server(async_mode="threading"), store=object(), secret="s")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="not dict"):
        attach({}, store=sync_store, secret="s")


# --- which cookies reach the store ------------------------------------------------------------


def cookie_cases(session_id: str) -> dict[str, dict[str, str]]:
    good = cookie_pair(session_id)
    value = good.split("=", 1)[1]
    mac = value.rsplit(".", 1)[1]
    long_id = "x" * MAX_COOKIE_VALUE  # signed with the real secret, but no cookie is that long
    return {
        "none": {},
        "forged": {"Cookie": cookie_pair(session_id, "not the secret")},
        "unsigned": {"Cookie": f"connect.sid={session_id}"},
        "unsigned-s": {"Cookie": f"connect.sid=s%3A{session_id}"},
        "truncated": {"Cookie": good[:-1]},
        "no-mac": {"Cookie": good[: -len(mac) - 1]},
        "padded-mac": {"Cookie": good + "%3D"},
        "recased-mac": {"Cookie": good[: -len(mac)] + mac.swapcase()},
        "other-name": {"Cookie": "sid=" + value},
        "proto-name": {"Cookie": "__proto__=" + value},
        "oversized-value": {"Cookie": cookie_pair(long_id)},
        "oversized-header": {"Cookie": f"pad={'y' * MAX_COOKIE_HEADER}; {good}"},
        "header-unsigned": {"X-Session": session_id},
        "header-forged": {"X-Session": signed_value(session_id, "not the secret")},
        "header-oversized": {"X-Session": signed_value(long_id)},
    }


def test_only_verified_cookies_reach_the_store(
    drivers: Callable[..., Driver], is_async: bool
) -> None:
    driver = drivers(is_async, header="X-Session")
    session = saved_session(driver.files, user="ada")
    for case, headers in cookie_cases(session.id).items():
        reply = driver.request("GET", "EIO=4&transport=polling", headers)
        assert reply.status == 200, case
        assert driver.store.calls == [], case
    assert driver.handle._sessions == {}
    driver.handshake(cookie_pair(session.id))
    driver.handshake(cookie_pair(session.id, SECRETS[1]))  # rotation: the old secret too
    driver.handshake(headers={"X-Session": signed_value(session.id)})
    driver.handshake("theme=dark; " + cookie_pair(session.id) + "; connect.sid=later")
    assert driver.store.calls == [("get", session.id)] * 4
    assert len(driver.handle._sessions) == 4


def test_required_without_a_valid_cookie_is_401(
    drivers: Callable[..., Driver], is_async: bool
) -> None:
    driver = drivers(is_async, required=True)
    session = saved_session(driver.files, user="ada")
    for case, headers in cookie_cases(session.id).items():
        reply = driver.request("GET", "EIO=4&transport=polling", headers)
        assert reply.status == 401 and reply.body == '"Unauthorized"', case
    assert driver.store.calls == []
    driver.files.destroy(session.id)
    assert driver.handshake(cookie_pair(session.id)).status == 401  # signed, but gone
    expired = Session.new(max_age=1)
    driver.files.set(expired.id, expired)
    time.sleep(0.01)
    assert driver.handshake(cookie_pair(expired.id)).status == 401  # signed, but expired
    assert driver.store.calls == [("get", session.id), ("get", expired.id)]
    assert driver.eio.sockets == {}


# --- the session event and the handle -----------------------------------------------------------


def test_session_event_and_handle(drivers: Callable[..., Driver], is_async: bool) -> None:
    fired: list[tuple[str, Any]] = []
    driver = drivers(is_async)
    driver.eio.on("session", lambda sid, session: fired.append((sid, session)))
    session = saved_session(driver.files, user="ada")
    sid = driver.handshake(cookie_pair(session.id)).sid
    assert [f[0] for f in fired] == [sid]
    live = fired[0][1]
    assert driver.handle.get(sid) is live and live["user"] == "ada"
    live["n"] = 1
    driver.run(live.save())
    assert driver.files.get(session.id)["n"] == 1  # type: ignore[index]
    driver.run(live.touch())
    driver.run(live.reload())
    driver.files.destroy(session.id)
    with pytest.raises(SessionGoneError):
        driver.run(live.reload())
    assert live.destroyed
    # no cookie: no event, nothing kept
    other = driver.handshake().sid
    assert driver.handle.get(other) is None and len(fired) == 1
    driver.close_connection(sid)
    assert driver.handle.get(sid) is None


def test_session_event_handler_failure_is_contained(
    drivers: Callable[..., Driver], is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    driver = drivers(is_async)

    def broken(sid: str, session: Any) -> None:
        raise RuntimeError("app bug")

    driver.eio.on("session", broken)
    session = saved_session(driver.files, user="ada")
    assert driver.handshake(cookie_pair(session.id)).status == 200
    assert "session handler error" in caplog.text


# --- create=True --------------------------------------------------------------------------


def test_create_sets_a_signed_cookie_and_saves(
    drivers: Callable[..., Driver], is_async: bool
) -> None:
    driver = drivers(
        is_async, create=True, cookie={"max_age": 60_000, "same_site": "lax", "secure": True}
    )
    reply = driver.handshake()
    (set_cookie,) = reply.header("Set-Cookie")
    pair, *attributes = [part.strip() for part in set_cookie.split(";")]
    assert attributes[0] == "Path=/" and attributes[1].startswith("Expires=")
    assert attributes[2:] == ["HttpOnly", "Secure", "SameSite=Lax"]
    session_id = get_session_id(pair, secrets=[SECRETS[0]])  # the first secret signs
    assert session_id is not None and driver.store.calls == [("set", session_id)]
    stored = driver.files.get(session_id)
    assert stored is not None and stored.cookie.original_max_age == 60_000
    assert driver.handle.get(reply.sid).id == session_id
    # the cookie brings the same session back, and no new one is made
    again = driver.handshake(pair)
    assert again.header("Set-Cookie") == [] and driver.handle.get(again.sid).id == session_id


def test_create_leaves_nothing_when_the_app_rejects(
    drivers: Callable[..., Driver], is_async: bool
) -> None:
    driver = drivers(is_async, create=True)
    driver.eio.on("connect", lambda sid, environ: False)
    reply = driver.handshake()
    assert reply.status == 401 and reply.header("Set-Cookie") == []
    (kind, created), destroyed = driver.store.calls
    assert kind == "set" and destroyed == ("destroy", created)
    assert driver.files.get(created) is None and driver.handle._sessions == {}


def test_create_not_when_the_store_failed(drivers: Callable[..., Driver], is_async: bool) -> None:
    """A valid cookie whose session the store could not read: a new session would log the
    user out of the Node app, so none is made."""
    store = AsyncFailing() if is_async else Failing()
    driver = drivers(is_async, store=store, create=True)
    reply = driver.handshake(cookie_pair("abc"))
    assert reply.status == 200 and reply.header("Set-Cookie") == []
    assert store.calls == [("get", "abc")]
    # no cookie at all: a new session is wanted, its save fails, the handshake goes on
    bare = driver.handshake()
    assert bare.status == 200 and bare.header("Set-Cookie") == []
    assert driver.handle._sessions == {}


def _wsgi_exchange(query: str, **environ: Any) -> Exchange:
    """The exchange the WSGI wrapper makes for a request with ``query``."""
    seen: list[Exchange | None] = []
    server = engineio.Server(async_mode="threading")
    server.handle_request = lambda environ, start: seen.append(hooks.current_exchange())
    hooks.wrap_handle_request(server, "X-Session")
    server.handle_request({"QUERY_STRING": query, **environ}, print)
    assert seen[0] is not None and hooks.current_exchange() is None  # only during the request
    return seen[0]


def test_can_send_cookie() -> None:
    """WSGI: a polling handshake's response takes a Set-Cookie, a websocket-only one does
    not (the server writes the 101 itself); the transport is read as python-engineio reads
    it: parse_qs, first value."""
    assert _wsgi_exchange("EIO=4&transport=polling").can_set_cookie
    assert not _wsgi_exchange("EIO=4&transport=websocket").can_set_cookie
    assert not _wsgi_exchange("transport=%77ebsocket").can_set_cookie
    assert _wsgi_exchange("x=transport=websocket").can_set_cookie
    assert _wsgi_exchange("").can_set_cookie
    # a handshake no wrapper saw (another async mode): no Set-Cookie
    assert not hooks.environ_exchange({"HTTP_COOKIE": "a=1"}, None).can_set_cookie


# --- store failures ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("options", "status"),
    [
        ({}, 200),
        ({"on_store_error": "admit"}, 200),
        ({"on_store_error": "reject"}, 401),
        ({"required": True}, 401),
    ],
)
def test_store_failure_policy(
    drivers: Callable[..., Driver],
    is_async: bool,
    options: dict[str, Any],
    status: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = AsyncFailing() if is_async else Failing()
    driver = drivers(is_async, store=store, **options)
    session_id = "Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ"
    cookie = cookie_pair(session_id)
    with caplog.at_level(logging.WARNING, logger="engineio_session"):
        reply = driver.handshake(cookie)
    assert reply.status == status
    assert driver.handle._sessions == {}
    text = caplog.text
    assert "FailingStore" in text and ("rejecting" in text) == (status == 401)
    for secret in (*SECRETS, session_id, cookie, cookie.rsplit(".", 1)[1]):
        assert secret not in text


def test_handshake_waits_no_longer_than_the_store_timeout(
    drivers: Callable[..., Driver], is_async: bool, black_hole: int
) -> None:
    import redis
    import redis.asyncio

    from engineio_session.stores import AsyncRedisStore, RedisStore

    url = f"redis://127.0.0.1:{black_hole}/0"
    store: Any = (
        AsyncRedisStore(redis.asyncio.Redis.from_url(url), timeout=0.3)
        if is_async
        else RedisStore(redis.Redis.from_url(url), timeout=0.3)
    )
    driver = drivers(is_async, store=store, on_store_error="reject")
    started = time.monotonic()
    assert driver.handshake(cookie_pair("abc")).status == 401
    assert time.monotonic() - started < 3  # the timeout is 0.3 s; generous for CI


# --- reload, auto_save, disconnect, watch -----------------------------------------------------


def test_reload_swaps_in_a_fresh_session_before_each_message(
    drivers: Callable[..., Driver], is_async: bool
) -> None:
    seen: list[Any] = []
    driver = drivers(is_async, reload=True)
    driver.eio.on("message", lambda sid, data: seen.append(driver.handle.get(sid)))
    session = saved_session(driver.files, n=1)
    sid = driver.handshake(cookie_pair(session.id)).sid
    first = driver.handle.get(sid)
    fresh = driver.files.get(session.id)
    assert fresh is not None
    fresh["n"] = 2
    driver.files.set(session.id, fresh)
    driver.post(sid, "4ping")
    assert seen[-1] is not first and seen[-1]["n"] == 2 and first["n"] == 1
    driver.files.destroy(session.id)
    driver.post(sid, "4ping")
    assert len(seen) == 1  # dropped: the session is gone, and so is the connection
    assert driver.handle.get(sid) is None
    driver.drain(sid)


def test_no_message_hook_without_reload(drivers: Callable[..., Driver], is_async: bool) -> None:
    driver = drivers(is_async)

    def message(sid: str, data: Any) -> None: ...

    driver.eio.on("message", message)
    assert driver.eio.handlers["message"] is message  # nothing of ours on the hot path


@pytest.mark.parametrize("change", ["put", "none", "destroy"])
def test_auto_save_on_disconnect(
    drivers: Callable[..., Driver], is_async: bool, change: str
) -> None:
    reasons: list[tuple[Any, ...]] = []

    def disconnect(sid: str) -> None:  # a legacy handler: no reason argument
        reasons.append((sid,))

    driver = drivers(is_async, auto_save=True)
    driver.eio.on("disconnect", disconnect)
    session = saved_session(driver.files, n=1)
    sid = driver.handshake(cookie_pair(session.id)).sid
    live = driver.handle.get(sid)
    if change == "put":
        live["n"] = 2
    elif change == "destroy":
        driver.run(live.destroy())
    driver.store.calls.clear()
    driver.close_connection(sid)
    assert reasons == [(sid,)] and driver.handle.get(sid) is None
    if change == "put":
        assert driver.store.calls == [("update", session.id)]  # this side's changes
        assert driver.files.get(session.id)["n"] == 2  # type: ignore[index]
    else:
        assert driver.store.calls == []


def test_disconnect_handler_failure_still_cleans_up(
    drivers: Callable[..., Driver], is_async: bool
) -> None:
    driver = drivers(is_async, auto_save=True)

    def disconnect(sid: str, reason: Any = None) -> None:
        raise RuntimeError("app bug")

    driver.eio.on("disconnect", disconnect)
    session = saved_session(driver.files, n=1)
    sid = driver.handshake(cookie_pair(session.id)).sid
    driver.handle.get(sid)["n"] = 2
    driver.close_connection(sid)
    assert driver.handle._sessions == {} and driver.files.get(session.id)["n"] == 2  # type: ignore[index]


def test_check_sessions_reads_each_session_once(
    drivers: Callable[..., Driver], is_async: bool
) -> None:
    driver = drivers(is_async)
    kept, gone = saved_session(driver.files, who="kept"), saved_session(driver.files, who="gone")
    sids = [driver.handshake(cookie_pair(s.id)).sid for s in (kept, gone, gone)]
    driver.store.calls.clear()
    driver.files.destroy(gone.id)
    ended = driver.run(driver.handle.check_sessions())
    assert sorted(ended) == sorted(sids[1:])
    # one read for all the live sessions, each id once (two connections share `gone`)
    assert len(driver.store.calls) == 1
    method, ids = driver.store.calls[0]
    assert method == "get_many" and sorted(ids) == sorted([kept.id, gone.id])
    assert set(driver.handle._sessions) == {sids[0]}
    for sid in sids[1:]:
        driver.drain(sid)
    assert set(driver.eio.sockets) == {sids[0]}


def test_watch_closes_the_connection(drivers: Callable[..., Driver], is_async: bool) -> None:
    driver = drivers(is_async, watch=0.05)
    session = saved_session(driver.files, who="watched")
    sid = driver.handshake(cookie_pair(session.id)).sid
    driver.files.destroy(session.id)
    driver.drain(sid)
    assert driver.handle._sessions == {}
    wait_for(lambda: not driver.handle._watching)  # the watcher stops with nothing to watch
    again = saved_session(driver.files, who="again")
    sid = driver.handshake(cookie_pair(again.id)).sid  # and starts again
    driver.files.destroy(again.id)
    driver.drain(sid)


# --- Socket.IO --------------------------------------------------------------------------------

FORGED_PACKETS = [
    '42["session",{"user":"admin"}]',
    '421-["session",{"user":"admin"}]',
    '42[ "session",{"user":"admin"}]',
    '42[\n"session",{"user":"admin"}]',
    '42["\\u0073ession",{"user":"admin"}]',
    '4217["session",{"user":"admin"}]',
    '42/chat,["session",{"user":"admin"}]',
    '42/chat?x=1,["session",{"user":"admin"}]',
    '42["connect",{"engineio_session.session":{"user":"admin"}},null]',
    '42["disconnect","forged"]',
]


def sio_app(driver: Driver) -> list[tuple[str, Any]]:
    """Handlers that record what reaches them (returned), and a ``get`` event."""
    record: list[tuple[str, Any]] = []
    sio = driver.server

    @sio.on("connect")
    def connect(sid: str, environ: Any, auth: Any = None) -> None:
        record.append(
            ("connect", environ.get(ENVIRON_SESSION) if isinstance(environ, dict) else environ)
        )

    @sio.on("connect", namespace="/chat")
    def connect_chat(sid: str, environ: Any, auth: Any = None) -> None:
        record.append(("connect /chat", environ))

    @sio.on("session")
    def session(sid: str, payload: Any) -> None:
        record.append(("session", payload))

    @sio.on("session", namespace="/chat")
    def session_chat(sid: str, payload: Any) -> None:
        record.append(("session /chat", payload))

    @sio.on("disconnect")
    def disconnect(sid: str, *reason: Any) -> None:
        record.append(("disconnect", reason))

    @sio.on("disconnect", namespace="/chat")
    def disconnect_chat(sid: str, *reason: Any) -> None:
        record.append(("disconnect /chat", reason))

    @sio.on("*")
    def catch_all(event: str, sid: str, *args: Any) -> None:
        record.append(("*", event))

    @sio.on("get")
    def get(sid: str, *args: Any) -> Any:
        live = driver.handle.get(sid)
        return None if live is None else dict(live)

    return record


@pytest.fixture
def sio_drivers(
    drivers: Callable[..., Driver], is_async: bool
) -> Callable[..., tuple[Driver, list[tuple[str, Any]]]]:
    """A Socket.IO Driver with ``sio_app``: (the driver, what its handlers record)."""

    def make(**options: Any) -> tuple[Driver, list[tuple[str, Any]]]:
        driver = drivers(is_async, "socketio", **options)
        return driver, sio_app(driver)

    return make


def sio_login(driver: Driver, **data: Any) -> tuple[Session, str, list[str]]:
    """A saved session and a Socket.IO connection with its cookie: (the session, the Engine.IO
    sid, the packets that answered the namespace CONNECT)."""
    session = saved_session(driver.files, **data)
    eio_sid, packets = driver.sio_connect(cookie_pair(session.id))
    return session, eio_sid, packets


def test_socketio_session_in_connect_event_and_handlers(sio_drivers: Callable[..., Any]) -> None:
    driver, record = sio_drivers()
    session, eio_sid, packets = sio_login(driver, user="ada")
    assert packets[0].startswith("40{")
    sid = json.loads(packets[0][2:])["sid"]
    (_, in_connect), (_, fired) = record
    assert in_connect is fired and fired.id == session.id
    assert driver.handle.get(sid) is fired and driver.handle.get(eio_sid) is fired
    assert driver.server.get_environ(sid)[ENVIRON_SESSION] is fired
    assert driver.sio_call(eio_sid, "get") == [
        {"user": "ada", "__lastAccess": _last(driver, session)}
    ]
    driver.sio_join(eio_sid, "/chat")
    assert record[-1] == ("session /chat", fired)  # once per namespace
    assert ("*", "session") not in record


def _last(driver: Driver, session: Session) -> Any:
    stored = driver.files.get(session.id)
    assert stored is not None
    return stored.get("__lastAccess")


def test_socketio_client_cannot_forge_reserved_events(
    sio_drivers: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    driver, record = sio_drivers()
    _, eio_sid, _ = sio_login(driver, user="honest")
    driver.sio_join(eio_sid, "/chat")
    before = list(record)
    for packet in FORGED_PACKETS:
        driver.post(eio_sid, packet)
    # a binary event named session: the text packet, then its attachment
    driver.post(eio_sid, '451-["session",{"_placeholder":true,"num":0}]', "bAQ==")
    assert driver.sio_call(eio_sid, "get") is not None  # events still flow
    assert record == before, record[len(before) :]
    assert caplog.text.count("dropped a") == len(FORGED_PACKETS) + 1


def test_socketio_auth_key(sio_drivers: Callable[..., Any]) -> None:
    driver, record = sio_drivers(auth_key="token")
    session = saved_session(driver.files, user="native")
    eio_sid, packets = driver.sio_connect(auth={"token": signed_value(session.id)})
    assert packets[0].startswith("40{") and record[-1][0] == "session"
    assert record[0] == ("connect", record[-1][1])  # loaded before the connect handler ran
    assert driver.store.calls == [("get", session.id)]
    for auth in ({"token": session.id}, {"token": signed_value(session.id, "x")}, {"other": 1}):
        eio_sid, packets = driver.sio_connect(auth=auth)
        assert packets[0].startswith("40{") and driver.handle.get(eio_sid) is None
    assert len(driver.store.calls) == 1


def test_socketio_required_with_auth_key(sio_drivers: Callable[..., Any]) -> None:
    """The handshake lets a cookie-less client through; its namespace CONNECT is refused
    unless the auth payload brings a valid session."""
    driver, _ = sio_drivers(auth_key="token", required=True)
    session = saved_session(driver.files, user="native")
    eio_sid, packets = driver.sio_connect()
    assert packets == ['44{"message":"Unauthorized"}']
    eio_sid, packets = driver.sio_connect(auth={"token": signed_value(session.id, "x")})
    assert packets == ['44{"message":"Unauthorized"}']
    eio_sid, packets = driver.sio_connect(auth={"token": signed_value(session.id)})
    assert packets[0].startswith("40{") and driver.handle.get(eio_sid).id == session.id


def test_socketio_store_failure_on_auth(sio_drivers: Callable[..., Any], is_async: bool) -> None:
    store = AsyncFailing() if is_async else Failing()
    for policy, expected in (("admit", "40{"), ("reject", '44{"message":"Unauthorized"}')):
        driver, _ = sio_drivers(store=store, auth_key="t", on_store_error=policy)
        _, packets = driver.sio_connect(auth={"t": signed_value("abc")})
        assert packets[0].startswith(expected), (policy, packets)


def test_socketio_reload_before_each_event(sio_drivers: Callable[..., Any]) -> None:
    driver, _ = sio_drivers(reload=True)
    session, eio_sid, _ = sio_login(driver, n=1)
    first = driver.handle.get(eio_sid)
    fresh = driver.files.get(session.id)
    assert fresh is not None
    fresh["n"] = 2
    driver.files.set(session.id, fresh)
    assert driver.sio_call(eio_sid, "get")[0]["n"] == 2
    current = driver.handle.get(eio_sid)
    assert current is not first and first["n"] == 1
    assert driver.server.environ[eio_sid][ENVIRON_SESSION] is current
    driver.files.destroy(session.id)
    driver.post(eio_sid, '421["get"]')
    packets = driver.drain(eio_sid)
    assert not [p for p in packets if p.startswith("43")], packets  # no answer: dropped
    assert driver.handle._sessions == {}


def test_socketio_watch_disconnects_every_namespace(sio_drivers: Callable[..., Any]) -> None:
    driver, record = sio_drivers()
    session, eio_sid, _ = sio_login(driver, who="watched")
    driver.sio_join(eio_sid, "/chat")
    driver.files.destroy(session.id)
    assert driver.run(driver.handle.check_sessions()) == [eio_sid]
    # a Socket.IO DISCONNECT per namespace ("server disconnect": the client does not
    # reconnect), then the Engine.IO close
    packets = driver.drain(eio_sid)
    assert set(packets) <= {"41", "41/chat,", "1"}, packets
    reasons = getattr(driver.server, "reason", None)  # python-socketio >= 5.12
    why = (reasons.SERVER_DISCONNECT,) if reasons is not None else ()
    assert [r for r in record if r[0].startswith("disconnect")] == [
        ("disconnect", why),
        ("disconnect /chat", why),
    ]
    assert driver.server.environ.get(eio_sid) is None


# --- the pieces ---------------------------------------------------------------------------------


def test_session_id_from_value() -> None:
    signer = as_signer(SECRETS)
    good = signed_value("abc")
    assert session_id_from_value(good, signer) == "abc"
    assert session_id_from_value(good.replace(":", "%3A"), signer) == "abc"
    assert session_id_from_value("s:" + sign("abc", SECRETS[1]), signer) == "abc"
    for bad in (None, "", "abc", "s:abc", good[:-1], "%E0%A4%A", good + "x", "s%3" + good[1:]):
        assert session_id_from_value(bad, signer) is None, bad
    long = "s:" + sign("x" * MAX_COOKIE_VALUE, SECRETS[0])
    assert session_id_from_value(long, signer) is None


def test_cookie_header_as_node_sees_it() -> None:
    """Node joins repeated Cookie headers with "; " and reads bytes as latin-1; the ASGI
    and aiohttp drivers of python-engineio join them with "," (which hides cookies), so
    the raw headers are read."""
    scope = {
        "type": "http",
        "headers": [(b"cookie", b"a=1"), (b"x-session", b"y"), (b"Cookie", b"b=\xe9")],
    }
    seen: list[Exchange | None] = []

    async def handle_request(scope: Any, receive: Any, send: Any) -> None:
        seen.append(hooks.current_exchange())

    server = engineio.AsyncServer(async_mode="asgi")
    server.handle_request = handle_request
    hooks.wrap_handle_request(server, "X-Session")
    asyncio.run(server.handle_request(scope, None, print))
    exchange = seen[0]
    assert exchange is not None
    assert (exchange.cookie_header, exchange.header_value) == ("a=1; b=\xe9", "y")
    assert hooks.environ_exchange({"HTTP_COOKIE": "a=1"}, None).cookie_header == "a=1"
    assert hooks.environ_exchange({}, None).cookie_header is None
    assert hooks.environ_exchange({"HTTP_X_SESSION": "v"}, "X-Session").header_value == "v"

    from aiohttp.test_utils import make_mocked_request

    request = make_mocked_request("GET", "/", headers=[("Cookie", "a=1"), ("Cookie", "b=2")])
    assert hooks.environ_exchange({"aiohttp.request": request}, None).cookie_header == "a=1; b=2"


def test_asgi_websocket_rejection_becomes_401() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def handle_request(scope: Any, receive: Any, send: Any) -> None:
        exchange = hooks.current_exchange()
        assert exchange is not None
        exchange.rejected = True  # what the connect wrapper marks
        await send({"type": "websocket.close"})

    for extensions, statuses in (({"websocket.http.response": {}}, [401]), ({}, [])):
        sent.clear()
        server = engineio.AsyncServer(async_mode="asgi")
        server.handle_request = handle_request
        hooks.wrap_handle_request(server, None)
        scope = {"type": "websocket", "headers": [], "extensions": extensions}
        asyncio.run(server.handle_request(scope, None, send))
        assert [m.get("status") for m in sent if "status" in m] == statuses
        if not statuses:  # without the extension the server's own answer (403) stays
            assert sent == [{"type": "websocket.close"}]


def test_live_session_methods(tmp_path: Path) -> None:
    files = FileStore(tmp_path)
    session = saved_session(files, n=1)
    live = LiveSession(files.get(session.id), files)  # type: ignore[arg-type]
    assert not live.modified
    live["n"] = 2
    assert live.modified
    live.save()
    assert not live.modified and files.get(session.id)["n"] == 2  # type: ignore[index]
    live.destroy()
    assert live.destroyed and files.get(session.id) is None
    with pytest.raises(SessionGoneError):
        live.reload()

    async def run() -> None:
        store = AsyncFileStore(tmp_path)
        other = saved_session(files, n=1)
        alive = AsyncLiveSession(await store.get(other.id), store)  # type: ignore[arg-type]
        before = alive.cookie.expires_ms
        await asyncio.sleep(0.01)
        await alive.touch()
        assert alive.cookie.expires_ms > before  # type: ignore[operator]
        changed = files.get(other.id)
        assert changed is not None
        changed["n"] = 3
        files.set(other.id, changed)
        await alive.reload()
        assert alive["n"] == 3 and not alive.modified

    asyncio.run(run())
