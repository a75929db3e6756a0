"""The async handles make a handshake from what was read ahead (a session, or none where
``create`` and ``required`` have nothing to do) with awaits
(``AsyncSessionHandle._admitted``), not through the core's ``_handshake`` plan
(src/engineio_session/engineio.py): whatever the application's ``connect`` and
``session`` handlers do (none, accept, reject, raise; sync or async), on Engine.IO and on
Socket.IO, it must end as the plan ends, which tests/test_core.py steps by hand."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import engineio
import pytest
import socketio

from engineio_session import attach
from engineio_session.core import ENVIRON_SESSION, PLAN, Exchange
from engineio_session.drive import arun
from engineio_session.live import AsyncLiveSession
from engineio_session.session import Session

SECRET = "admitted secret"


class TableStore:
    """An async store that is never called here: the session was read ahead."""

    name = "TableStore"

    async def get(self, sid: str) -> Any:
        raise AssertionError("a session read ahead is not read again")

    async def get_many(self, sids: list[str]) -> Any: ...
    async def set(self, sid: str, session: Session) -> Any: ...
    async def update(self, sid: str, changes: Any) -> Any: ...
    async def replace(self, sid: str, session: Session) -> Any: ...
    async def touch(self, sid: str, session: Session) -> Any: ...
    async def destroy(self, sid: str) -> Any:
        raise AssertionError("a session that was read is never destroyed by a rejection")


def handler(kind: str | None, calls: list[Any], name: str) -> Any:
    if kind is None:
        return None
    asynchronous = kind.startswith("async ")
    kind = kind.removeprefix("async ")

    def act(*args: Any) -> Any:
        calls.append((name, args[0]))
        if kind == "raises":
            raise RuntimeError(f"{name} failed")
        if kind == "cancelled":
            raise asyncio.CancelledError()
        return {"accepts": None, "true": True, "rejects": False, "says": "no"}[kind]

    async def act_async(*args: Any) -> Any:
        await asyncio.sleep(0)
        return act(*args)

    return act_async if asynchronous else act


CONNECTS = [None, "accepts", "true", "rejects", "says", "raises", "cancelled"]
CONNECTS += ["async accepts", "async rejects", "async raises"]
SESSIONS = [None, "accepts", "raises", "async accepts", "async raises"]


def handle_on(server_kind: str, connect: str | None, on_session: str | None) -> Any:
    calls: list[Any] = []
    if server_kind == "engineio":
        server: Any = engineio.AsyncServer(async_mode="asgi")
        eio = server
    else:
        server = socketio.AsyncServer(async_mode="asgi")
        eio = server.eio
    handle = attach(server, store=TableStore(), secret=SECRET, watch=30)
    app = handler(connect, calls, "connect")
    if app is not None:
        handle._slots.app["connect"] = app
    fired = handler(on_session, calls, "session")
    if fired is not None:
        dict.__setitem__(handle._slots, "session", fired)
    spawned: list[str] = []
    handle._spawn = lambda plan: (spawned.append(plan.__name__), plan.close())
    assert eio is not None
    return handle, calls, spawned


#: what the read ahead found: a session; no cookie (or an unverified one); a verified
#: cookie whose session the store no longer holds
READS = ["a session", "no cookie", "no session stored"]


def read_ahead(handle: Any, read: str = "a session") -> tuple[Exchange, Any]:
    exchange = Exchange("connect.sid=whatever")
    if read == "no cookie":
        exchange.loaded = (None, (None, False))
        return exchange, None
    if read == "no session stored":
        exchange.loaded = ("abc", (None, False))
        return exchange, None
    stored = Session.new("abc", max_age=60_000)
    stored["user"] = "ada"
    live = handle.live_class.bind(stored, handle._store, on_gone=handle._on_gone)
    exchange.loaded = ("abc", (live, False))
    exchange.writes = False
    return exchange, live


def ending(handle: Any, how: Any) -> tuple[Any, ...]:
    """What a handshake leaves: its answer, the sessions kept, the environ's session."""
    sessions = {sid: session.id for sid, session in handle._sessions.items()}
    return how, sessions


async def handshake(lane: str, handle: Any, environ: dict[str, Any], exchange: Exchange) -> Any:
    if lane == "plan":
        return await arun(handle._handshake("eio-sid", environ, (), exchange))
    session = handle._take_read_ahead(exchange)
    assert session is not PLAN and exchange.loaded is None
    return await handle._admitted("eio-sid", environ, (), session)


def one_lane(
    lane: str,
    server_kind: str,
    read: str,
    connect: str | None,
    on_session: str | None,
    caplog: pytest.LogCaptureFixture,
) -> tuple[Any, ...]:
    caplog.clear()
    handle, calls, spawned = handle_on(server_kind, connect, on_session)
    exchange, live = read_ahead(handle, read)
    environ: dict[str, Any] = {}
    try:
        how: Any = ("returned", asyncio.run(handshake(lane, handle, environ, exchange)))
    except BaseException as error:  # the outcome is compared, whatever it is
        how = ("raised", type(error).__name__)
    lines = [(r.levelname, r.getMessage()) for r in caplog.records]
    in_environ = environ.get(ENVIRON_SESSION, "absent")
    return (
        *ending(handle, how),
        in_environ is live,
        calls,
        spawned,
        lines,
        exchange.set_cookie,
        exchange.rejected,
    )


@pytest.mark.parametrize("server_kind", ["engineio", "socketio"])
@pytest.mark.parametrize("read", READS)
@pytest.mark.parametrize("on_session", SESSIONS)
@pytest.mark.parametrize("connect", CONNECTS)
def test_the_awaited_handshake_ends_as_the_plan(
    server_kind: str,
    read: str,
    connect: str | None,
    on_session: str | None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="engineio_session")
    by_plan = one_lane("plan", server_kind, read, connect, on_session, caplog)
    by_awaits = one_lane("awaits", server_kind, read, connect, on_session, caplog)
    assert by_awaits == by_plan
    how, sessions, in_environ, calls, spawned, lines = by_awaits[:6]
    does = None if connect is None else connect.removeprefix("async ")
    accepted = does in (None, "accepts", "true")
    answers = {None: None, "accepts": None, "true": True, "rejects": False, "says": "no"}
    if does in ("raises", "cancelled"):
        assert how == ("raised", "RuntimeError" if does == "raises" else "CancelledError")
    else:
        assert how == ("returned", answers[does])
    with_session = read == "a session"
    assert in_environ  # the connect handler saw it (None: none), whatever it answered
    assert sessions == ({"eio-sid": "abc"} if accepted and with_session else {})
    fires = accepted and with_session and on_session is not None and server_kind == "engineio"
    assert (("session", "eio-sid") in calls) is fires
    assert (("connect", "eio-sid") in calls) is (connect is not None)
    assert spawned == (["watch_loop"] if accepted and with_session else [])
    if fires and on_session is not None and on_session.endswith("raises"):
        assert lines == [("ERROR", "session handler error")]


def plan_recorder(handle: Any, monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The handle's handshake plan replaced by one that records its call and asks for
    nothing: which handshakes still take the plan."""
    planned: list[Any] = []

    def plan(*args: Any) -> Any:
        planned.append(args)
        return None
        yield  # a plan that asks for nothing

    monkeypatch.setattr(handle, "_handshake", plan)
    return planned


def test_connect_takes_the_awaits_for_what_needs_no_decision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    handle, calls, _ = handle_on("engineio", "accepts", "accepts")
    planned = plan_recorder(handle, monkeypatch)
    for read in READS:
        exchange, live = read_ahead(handle, read)
        monkeypatch.setattr(handle, "_exchange", lambda environ, exchange=exchange: exchange)
        assert asyncio.run(handle._connect(read, {})) is None
        assert planned == [] and handle.get(read) is live and exchange.loaded is None
    assert calls == [("connect", "a session"), ("session", "a session")] + [
        ("connect", read) for read in READS[1:]
    ]


@pytest.mark.parametrize(
    ("loaded", "options"),
    [
        pytest.param(None, {}, id="nothing read ahead"),
        pytest.param(("abc", (None, True)), {}, id="the store failed"),
        pytest.param((None, (None, False)), {"create": True}, id="create"),
        pytest.param(("abc", (None, False)), {"create": True}, id="create, none stored"),
        pytest.param((None, (None, False)), {"required": True}, id="required"),
    ],
)
def test_connect_leaves_every_decision_to_the_plan(
    loaded: Any, options: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    server = engineio.AsyncServer(async_mode="asgi")
    handle = attach(server, store=TableStore(), secret=SECRET, **options)
    planned = plan_recorder(handle, monkeypatch)
    exchange = Exchange(None)
    exchange.loaded = loaded
    monkeypatch.setattr(handle, "_exchange", lambda environ: exchange)
    asyncio.run(handle._connect("two", {}))
    assert len(planned) == 1 and planned.pop()[3] is exchange
    assert exchange.loaded == loaded  # left for the plan, which takes it


def test_the_awaited_session_is_the_live_session_handed_out() -> None:
    handle, _, _ = handle_on("engineio", None, "accepts")
    exchange, live = read_ahead(handle)
    session = handle._take_read_ahead(exchange)
    asyncio.run(handle._admitted("eio-sid", {}, (), session))
    assert isinstance(handle.get("eio-sid"), AsyncLiveSession)
    assert handle.get("eio-sid") is live and live["user"] == "ada"
