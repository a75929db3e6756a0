"""The async handles read a handshake's session ahead with one await, not through the
core's ``_read_ahead`` plan (src/engineio_session/engineio.py): for every answer of the
store (a session, none, an expired one, a failure, a cancellation, a store known to be
down) it must decide exactly as the plan does, which tests/test_core.py steps by hand."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import engineio
import pytest

from engineio_session import attach, sign
from engineio_session.core import Exchange
from engineio_session.drive import steps
from engineio_session.errors import StoreError
from engineio_session.health import StoreHealth
from engineio_session.session import Session

SECRET = "read ahead secret"
DOWN = StoreError("TableStore", ConnectionRefusedError(111, "Connection refused"))


class TableStore:
    """An async store whose ``get`` answers from ``answer`` (raised if an exception) and
    counts its calls; the rest of the store contract is never reached here."""

    name = "TableStore"

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.reads: list[str] = []

    async def get(self, sid: str) -> Any:
        self.reads.append(sid)
        await asyncio.sleep(0)
        if isinstance(self.answer, BaseException):
            raise self.answer
        return self.answer

    async def get_many(self, sids: list[str]) -> Any: ...
    async def set(self, sid: str, session: Session) -> Any: ...
    async def update(self, sid: str, changes: Any) -> Any: ...
    async def replace(self, sid: str, session: Session) -> Any: ...
    async def touch(self, sid: str, session: Session) -> Any: ...
    async def destroy(self, sid: str) -> Any: ...


def stored(max_age: float = 60_000, **data: Any) -> Session:
    session = Session.new("abc", max_age=max_age)
    session.update(data)
    return session


def health_state(health: StoreHealth) -> tuple[Any, ...]:
    return health.down, health._probing, health.failures, health._unlogged


def handle_of(answer: Any, down: bool, create: bool = False) -> tuple[Any, TableStore]:
    store = TableStore(answer)
    server = engineio.AsyncServer(async_mode="asgi")
    handle = attach(server, store=store, secret=SECRET, create=create)
    if down:  # the breaker open and its probe out: the store is not asked
        handle._health.down = handle._health._probing = True
    return handle, store


def outcome(exchange: Exchange) -> tuple[Any, ...]:
    assert exchange.loaded is not None
    session_id, (session, failed) = exchange.loaded
    user = None if session is None else session.get("user")
    return session_id, session is not None, user, failed, exchange.writes


CASES = [
    pytest.param(stored(user="ada"), False, id="a session"),
    pytest.param(None, False, id="none"),
    pytest.param(stored(max_age=-1, user="ada"), False, id="expired"),
    pytest.param(DOWN, False, id="a failure"),
    pytest.param(stored(user="ada"), True, id="known to be down"),
]


@pytest.mark.parametrize("create", [False, True], ids=["", "create"])
@pytest.mark.parametrize(("answer", "down"), CASES)
def test_the_direct_read_decides_as_the_plan(
    answer: Any, down: bool, create: bool, caplog: pytest.LogCaptureFixture
) -> None:
    cookie = "connect.sid=s%3A" + sign("abc", SECRET)
    caplog.set_level(logging.INFO, logger="engineio_session")

    planned, plan_store = handle_of(answer, down, create)
    by_plan = Exchange(cookie)

    async def table(call: Any) -> Any:
        return await call.function(*call.args)

    def answer_of(call: Any) -> Any:
        try:
            return asyncio.run(table(call))
        except Exception as error:
            return error

    steps(planned._read_ahead(by_plan), answer_of)
    plan_lines = [r.getMessage() for r in caplog.records]
    caplog.clear()

    direct, direct_store = handle_of(answer, down, create)
    by_await = Exchange(cookie)
    asyncio.run(direct._read_ahead_now(by_await))
    direct_lines = [r.getMessage() for r in caplog.records]

    assert outcome(by_await) == outcome(by_plan)
    assert direct_store.reads == plan_store.reads == ([] if down else ["abc"])
    assert health_state(direct._health) == health_state(planned._health)
    assert direct_lines == plan_lines
    if answer is DOWN:  # no session, and none created where the store failed
        assert outcome(by_await) == ("abc", False, None, True, False) and direct_lines
    elif answer is not None and not down and not answer.expired():
        assert outcome(by_await) == ("abc", True, "ada", False, False)
    elif not down:  # none stored: only create writes on the response (a Set-Cookie)
        assert outcome(by_await) == ("abc", False, None, False, create)


def test_a_cancelled_read_is_let_go_and_frees_the_breakers_probe() -> None:
    handle, store = handle_of(asyncio.CancelledError(), down=False)
    handle._health.down = True  # the store was down: this read is the probe
    handle._health._opened_at = 0.0
    exchange = Exchange("connect.sid=s%3A" + sign("abc", SECRET))
    with pytest.raises(asyncio.CancelledError):
        asyncio.run(handle._read_ahead_now(exchange))
    assert store.reads == ["abc"] and exchange.loaded is None
    assert handle._health._probing is False  # the next read may probe again


@pytest.mark.parametrize("create", [False, True], ids=["", "create"])
@pytest.mark.parametrize("cookie", [None, "a=b", "connect.sid=s%3A" + sign("abc", "forged")])
def test_nothing_unverified_is_read(cookie: str | None, create: bool) -> None:
    handle, store = handle_of(stored(), down=False, create=create)
    exchange = Exchange(cookie)
    asyncio.run(handle._read_ahead_now(exchange))
    assert store.reads == [] and exchange.loaded == (None, (None, False))
    assert exchange.writes is create  # only a new session's Set-Cookie can come
