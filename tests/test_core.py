"""The decisions of attach(), stepped by hand: every branch of a handshake, a namespace
connect's cousin (the reload before an event), a disconnect and a watcher sweep, with no
server and no store (src/engineio_session/core.py).

A plan yields the calls it needs; here each call is answered from a table (a result, or
an exception to throw in), and the test reads which calls were asked for, in order.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from engineio_session import sign
from engineio_session.core import ENVIRON_SESSION, Exchange, SessionCore
from engineio_session.drive import Call, Plan, steps
from engineio_session.errors import CorruptSessionError, SessionGoneError, StoreError
from engineio_session.health import StoreHealth
from engineio_session.live import LiveSession
from engineio_session.options import AttachOptions
from engineio_session.session import Session

SECRET = "core secret"
DOWN = StoreError("FakeStore", ConnectionRefusedError(111, "Connection refused"))


class FakeStore:
    """A store whose methods are never called here: only named in the plans' calls."""

    name = "FakeStore"

    def get(self, sid: str) -> Any: ...
    def get_many(self, sids: list[str]) -> Any: ...
    def set(self, sid: str, session: Session) -> Any: ...
    def update(self, sid: str, changes: Any) -> Any: ...
    def replace(self, sid: str, session: Session) -> Any: ...
    def touch(self, sid: str, session: Session) -> Any: ...
    def destroy(self, sid: str) -> Any: ...


class Core(SessionCore):
    """The core with a recording adapter: handlers by event, and what it was asked to do."""

    def __init__(self, store: FakeStore | None = None, **options: Any) -> None:
        options.setdefault("secret", SECRET)
        self.store = FakeStore() if store is None else store
        super().__init__(self.store, AttachOptions(**options))
        self.handlers: dict[str, Callable[..., Any]] = {}
        self.closed: list[str] = []
        self.published: list[tuple[str, Any]] = []
        self.spawned: list[Plan[Any]] = []

    def _app(self, event: str) -> Any:
        return self.handlers.get(event)

    def _fire_plan(self, sid: str, session: Any) -> Plan[None]:
        yield from self._fire_handler(self.handlers.get("session"), sid, session)

    def _close_plan(self, sid: str) -> Plan[None]:
        self.closed.append(sid)
        return
        yield

    def _publish(self, sid: str, session: Any) -> None:
        self.published.append((sid, session))

    def _spawn(self, plan: Plan[Any]) -> None:
        """Record the plan; run a close at once (the watch loop is the watch tests')."""
        self.spawned.append(plan)
        if getattr(plan, "__name__", "") != "watch_loop":
            steps(plan, lambda call: None)

    def _sleep(self, seconds: float) -> Any:
        return None


def stored(sid: str = "abc", max_age: float = 60_000, **data: Any) -> Session:
    session = Session.new(sid, max_age=max_age)
    session.update(data)
    session.mark_saved()
    return session


def cookie(sid: str = "abc", secret: str = SECRET) -> str:
    return "connect.sid=s%3A" + sign(sid, secret)


def answer(table: dict[Any, Any]) -> Callable[[Call], Any]:
    """Answer a store call by its method's name from ``table``: a value, or an exception
    (thrown into the plan); any other call (the application's handlers) is made."""

    def respond(call: Call) -> Any:
        name = getattr(call.function, "__name__", None)
        if getattr(call.function, "__self__", None) is not None and isinstance(
            call.function.__self__, FakeStore
        ):
            return table.get(name)
        return call.function(*call.args)

    return respond


def handshake(core: Core, exchange: Exchange, table: dict[Any, Any], sid: str = "eio1") -> Any:
    environ: dict[str, Any] = {}
    made = steps(core._handshake(sid, environ, (), exchange), answer(table))
    return made, made.result, environ


# --- which cookie, verify, load ---------------------------------------------------------------


def test_no_cookie_no_store_call() -> None:
    core = Core()
    made, result, environ = handshake(core, Exchange(None), {})
    assert made == [] and result is None and environ[ENVIRON_SESSION] is None


@pytest.mark.parametrize(
    "header",
    [
        "connect.sid=abc",  # unsigned
        "connect.sid=s%3Aabc",  # no mac
        cookie(secret="another secret"),  # forged
        cookie() + "x",  # tampered
        "other=" + cookie()[len("connect.sid=") :],  # another cookie's name
        "connect.sid=s%3A" + sign("x" * 5000, SECRET),  # oversized value
        "a=" + "b" * 20_000 + "; " + cookie(),  # oversized header
    ],
)
def test_only_a_verified_cookie_reaches_the_store(header: str) -> None:
    made, result, _ = handshake(Core(), Exchange(header), {})
    assert made == [] and result is None


def test_a_verified_cookie_is_loaded_fired_and_watched() -> None:
    core = Core(watch=5)
    fired: list[tuple[str, Any]] = []
    core.handlers["session"] = lambda sid, session: fired.append((sid, session))
    connected: list[Any] = []
    core.handlers["connect"] = lambda sid, environ: connected.append(environ[ENVIRON_SESSION])
    made, result, environ = handshake(core, Exchange(cookie()), {"get": stored(user="ada")})
    assert [c.function for c in made][:1] == [core.store.get] and made[0].args == ("abc",)
    live = environ[ENVIRON_SESSION]
    assert isinstance(live, LiveSession) and live["user"] == "ada" and live.store is core.store
    assert connected == [live]  # the app's connect handler sees it in the environ
    assert fired == [("eio1", live)] and core._sessions == {"eio1": live}
    assert result is None and core._watching and len(core.spawned) == 1


def test_the_header_is_read_when_the_cookie_is_not_there() -> None:
    core = Core(header="X-Session")
    value = "s%3A" + sign("abc", SECRET)
    made, _, _ = handshake(core, Exchange(None, value), {"get": stored()})
    assert [c.args for c in made] == [("abc",)]
    made, _, _ = handshake(Core(), Exchange(None, value), {"get": stored()})
    assert made == []  # no header option: the header is not read


@pytest.mark.parametrize("found", [None, "expired"])
def test_no_stored_session(found: Any) -> None:
    value = stored(max_age=-1) if found == "expired" else None
    core = Core()
    _, result, environ = handshake(core, Exchange(cookie()), {"get": value})
    assert result is None and environ[ENVIRON_SESSION] is None and core._sessions == {}
    _, result, _ = handshake(Core(required=True), Exchange(cookie()), {"get": value})
    assert result is False


class TrustedStore(FakeStore):
    drops_expired = True


def test_a_store_that_drops_expired_sessions_is_not_checked_twice() -> None:
    # what such a store's get returns is taken as it is: an expired one, which a store
    # keeping its word never returns, shows that no second check is made
    trusting = Core(TrustedStore())
    expired = stored(max_age=-1)
    _, _, environ = handshake(trusting, Exchange(cookie()), {"get": expired})
    assert environ[ENVIRON_SESSION] is not None
    _, _, environ = handshake(Core(), Exchange(cookie()), {"get": expired})
    assert environ[ENVIRON_SESSION] is None


def test_every_store_here_says_it_drops_expired_sessions() -> None:
    from engineio_session import stores

    names = [n for n in stores.__all__ if n.endswith("Store") and n not in ("Store", "AsyncStore")]
    assert len(names) >= 8
    for name in names:
        assert getattr(stores, name).drops_expired is True, name
        assert getattr(stores, name).fresh_sessions is True, name


class FreshStore(FakeStore):
    fresh_sessions = True


def test_a_session_a_store_decoded_for_the_read_becomes_live_in_place() -> None:
    # what such a store's get returns is nobody else's: the live session is that object
    core = Core(FreshStore())
    found = stored(user="ada")
    _, _, environ = handshake(core, Exchange(cookie()), {"get": found})
    live = environ[ENVIRON_SESSION]
    assert live is found and type(live) is LiveSession and core._sessions == {"eio1": live}
    assert live.store is core.store and not live.destroyed and not live.is_new
    assert live.saves == 0 and live["user"] == "ada"


def test_a_session_a_store_may_keep_is_copied() -> None:
    # a store that does not say its reads are fresh may hand the same object out again:
    # the connection gets a copy, and what the store holds stays a plain Session
    found = stored(user="ada")
    _, _, environ = handshake(Core(), Exchange(cookie()), {"get": found})
    live = environ[ENVIRON_SESSION]
    assert type(live) is LiveSession and live is not found and type(found) is Session
    live["user"] = "bob"
    assert found["user"] == "ada"


def test_a_session_of_a_subclass_is_copied_even_where_owned() -> None:
    class Kept(Session):
        __slots__ = ("extra",)

    kept = Kept("abc")
    live = LiveSession.bind(kept, FakeStore(), owned=True)
    assert live is not kept and type(kept) is Kept and live.id == "abc"


# --- read ahead: the session read before the server handles the request (ASGI) ------------


def read_ahead(core: Core, exchange: Exchange, table: dict[Any, Any]) -> list[Call]:
    return steps(core._read_ahead(exchange), answer(table))


def store_calls(made: list[Call]) -> list[Call]:
    return [c for c in made if isinstance(getattr(c.function, "__self__", None), FakeStore)]


def test_a_session_read_ahead_is_the_handshakes_and_is_not_read_again() -> None:
    core = Core()
    fired: list[Any] = []
    core.handlers["session"] = lambda sid, session: fired.append(session)
    exchange = Exchange(cookie())
    read = read_ahead(core, exchange, {"get": stored(user="ada")})
    assert [(c.function, c.args) for c in read] == [(core.store.get, ("abc",))]
    made, result, environ = handshake(core, exchange, {"get": "never asked"})
    assert store_calls(made) == [] and result is None  # no second read
    live = environ[ENVIRON_SESSION]
    assert isinstance(live, LiveSession) and live["user"] == "ada" and fired == [live]
    assert exchange.loaded is None  # taken once


def test_what_a_read_ahead_found_decides_as_a_read_would() -> None:
    for found, options, expected in [
        (None, {}, None),
        (None, {"required": True}, False),
        (DOWN, {}, None),
        (DOWN, {"on_store_error": "reject"}, False),
    ]:
        core = Core(**options)
        exchange = Exchange(cookie())
        read_ahead(core, exchange, {"get": found})
        made, result, environ = handshake(core, exchange, {"get": stored()})
        assert store_calls(made) == [] and result is expected
        assert environ.get(ENVIRON_SESSION) is None


def test_a_read_ahead_reads_nothing_unverified() -> None:
    for exchange in (Exchange(None), Exchange(cookie(secret="forged")), Exchange("a=b")):
        core = Core()
        assert read_ahead(core, exchange, {"get": stored()}) == []
        made, _, environ = handshake(core, exchange, {"get": stored()})
        assert store_calls(made) == [] and environ[ENVIRON_SESSION] is None


def test_cookie_session_has_nothing_to_read_ahead() -> None:
    from engineio_session.cookie_session import CookieSession

    core = Core(cookie_session=CookieSession(["k1"]), secret=None)
    exchange = Exchange(cookie())
    assert read_ahead(core, exchange, {}) == [] and exchange.loaded is None


# --- store failures and the breaker -------------------------------------------------------


def test_store_failure_admits_or_rejects() -> None:
    app_calls: list[str] = []
    core = Core()
    core.handlers["connect"] = lambda sid, environ: app_calls.append(sid)
    _, result, environ = handshake(core, Exchange(cookie()), {"get": DOWN})
    assert result is None and environ[ENVIRON_SESSION] is None and app_calls == ["eio1"]
    for options in ({"on_store_error": "reject"}, {"required": True}):
        rejecting = Core(**options)
        rejecting.handlers["connect"] = lambda sid, environ: app_calls.append("never")
        _, result, _ = handshake(rejecting, Exchange(cookie()), {"get": DOWN})
        assert result is False and "never" not in app_calls


def test_a_fast_failure_leaves_the_store_open_to_calls() -> None:
    core = Core()
    handshake(core, Exchange(cookie()), {"get": DOWN})  # refused at once: asking is cheap
    made, _, _ = handshake(core, Exchange(cookie()), {"get": stored()}, sid="eio2")
    assert len(made) == 1 and "eio2" in core._sessions


def test_a_store_known_down_is_not_asked_while_a_probe_is_out() -> None:
    core = Core()
    core._health.failed(DOWN, "the handshake", "going on", 2.0)  # a timeout: it is down now
    probe = core._handshake("eio2", {}, (), Exchange(cookie()))
    assert probe.send(None) == Call(core.store.get, "abc")  # one call goes, as a probe...
    made, result, _ = handshake(core, Exchange(cookie()), {}, sid="eio3")
    assert made == [] and result is None  # ...the others fail at once
    with pytest.raises(StopIteration):
        probe.send(stored())  # the probe's answer: the store is up again
    made, _, _ = handshake(core, Exchange(cookie()), {"get": stored()}, sid="eio4")
    assert len(made) == 1 and "eio4" in core._sessions


def test_a_call_admitted_before_the_breaker_opened_does_not_free_the_probe() -> None:
    """Calls in flight when the store hung time out one after another: the first opens the
    breaker, and the later ones must not each let one more call wait the whole timeout
    (with four threads a few ms apart, every handshake waited it)."""
    health = StoreHealth("FakeStore")
    assert health.admit() and health.admit()  # two handshakes out when the store hangs
    health.failed(DOWN, "the handshake", "going on", 0.5)  # the first times out: down
    assert health.admit()  # one probe goes...
    assert not health.admit()  # ...the others are refused
    health.failed(DOWN, "the handshake", "going on", 0.5)  # the second one times out
    assert not health.admit()  # the probe is still out: still refused
    time.sleep(0.15)
    health.failed(DOWN, "the handshake", "going on", 0.12)  # the probe times out
    assert health.down and health.admit()  # the next probe goes
    assert not health.admit()


def test_corrupt_data_is_no_outage() -> None:
    core = Core()
    corrupt = CorruptSessionError("FakeStore", "abc", "not JSON")
    handshake(core, Exchange(cookie()), {"get": corrupt})
    assert not core._health.down
    made, _, _ = handshake(core, Exchange(cookie()), {"get": stored()}, sid="eio2")
    assert len(made) == 1


# --- create ------------------------------------------------------------------------------------


def test_create_saves_first_then_sets_the_cookie_once_accepted() -> None:
    core = Core(create=True, cookie={"max_age": 60_000})
    exchange = Exchange(None)
    made, result, environ = handshake(core, exchange, {"set": None})
    assert [c.function for c in made] == [core.store.set]
    live = environ[ENVIRON_SESSION]
    assert made[0].args == (live.id, live) and result is None
    assert len(exchange.set_cookie) == 1
    assert exchange.set_cookie[0].startswith("connect.sid=s%3A" + live.id + ".")


def test_no_create_where_no_cookie_can_be_set_or_the_store_failed() -> None:
    core = Core(create=True)
    made, _, environ = handshake(core, Exchange(None, can_set_cookie=False), {})
    assert made == [] and environ[ENVIRON_SESSION] is None
    made, _, environ = handshake(core, Exchange(cookie()), {"get": DOWN})
    assert [c.function for c in made] == [core.store.get]  # no set: it may hold the user
    assert environ[ENVIRON_SESSION] is None


def test_create_whose_save_fails() -> None:
    exchange = Exchange(None)
    _, result, environ = handshake(Core(create=True), exchange, {"set": DOWN})
    assert result is None and environ[ENVIRON_SESSION] is None and exchange.set_cookie == []
    _, result, _ = handshake(
        Core(create=True, on_store_error="reject"), Exchange(None), {"set": DOWN}
    )
    assert result is False


@pytest.mark.parametrize("app", ["rejects", "raises"])
def test_a_rejected_connection_leaves_nothing(app: str) -> None:
    core = Core(create=True)

    def connect(sid: str, environ: dict[str, Any]) -> Any:
        if app == "raises":
            raise RuntimeError("app bug")
        return False

    core.handlers["connect"] = connect
    exchange = Exchange(None)
    environ: dict[str, Any] = {}
    plan = core._handshake("eio1", environ, (), exchange)
    calls = []
    step = plan.send(None)
    calls.append(step)  # set
    step = plan.send(None)
    calls.append(step)  # the app's connect
    step = plan.throw(RuntimeError("app bug")) if app == "raises" else plan.send(False)
    assert step.function == core.store.destroy and step.args == (environ[ENVIRON_SESSION].id,)
    with pytest.raises(StopIteration if app == "rejects" else RuntimeError):
        plan.send(None)
    assert core._sessions == {} and exchange.set_cookie == []


def test_required_with_auth_key_waits_for_the_namespace_connect() -> None:
    _, result, _ = handshake(Core(required=True, auth_key="session"), Exchange(None), {})
    assert result is None


# --- events, disconnect, the sweep ----------------------------------------------------------


def connected(core: Core, session: Session | None = None) -> Any:
    handshake(core, Exchange(cookie()), {"get": session or stored(n=1)})
    return core._sessions["eio1"]


def test_reload_before_an_event() -> None:
    core = Core(reload=True)
    first = connected(core)
    made = steps(core._refresh("eio1"), answer({"get": stored(n=2)}))
    assert made.result is True and core._sessions["eio1"] is not first
    assert core._sessions["eio1"]["n"] == 2 and core.published[-1][1]["n"] == 2
    made = steps(core._refresh("eio1"), answer({"get": DOWN}))
    assert made.result is True and core._sessions["eio1"]["n"] == 2  # kept
    made = steps(core._refresh("eio1"), answer({"get": None}))
    assert made.result is False and core._sessions == {} and core.closed == ["eio1"]


def test_disconnect_saves_only_a_changed_session_and_never_brings_one_back() -> None:
    core = Core(auto_save=True)
    connected(core)["n"] = 2
    made = steps(
        core._disconnection("eio1", ("client disconnect",)), answer({"update": stored(n=2)})
    )
    assert [c.function for c in made] == [core.store.update] and core._sessions == {}
    # unchanged: no write
    connected(core)
    made = steps(core._disconnection("eio1", ()), answer({}))
    assert made == []
    # gone meanwhile (a logout): the update writes nothing and nothing more is tried
    connected(core)["n"] = 3
    made = steps(core._disconnection("eio1", ()), answer({"update": None}))
    assert [c.function for c in made] == [core.store.update, core._end_session]


def test_disconnect_handler_arguments() -> None:
    core = Core()
    seen: list[tuple[Any, ...]] = []
    core.handlers["disconnect"] = lambda sid: seen.append((sid,))  # a legacy handler
    steps(core._disconnection("eio1", ("reason",)), lambda call: call.function(*call.args))
    core.handlers["disconnect"] = lambda sid, reason: seen.append((sid, reason))
    steps(core._disconnection("eio1", ("reason",)), lambda call: call.function(*call.args))
    assert seen == [("eio1",), ("eio1", "reason")]


def test_sweep_reads_in_batches_and_ends_what_is_gone() -> None:
    core = Core()
    for n in range(3):
        handshake(core, Exchange(cookie(f"s{n}")), {"get": stored(f"s{n}")}, sid=f"eio{n}")
    handshake(core, Exchange(cookie("s0")), {"get": stored("s0")}, sid="tab2")  # a second tab
    by_id = core._live_by_id()
    assert by_id == {"s0": ["eio0", "tab2"], "s1": ["eio1"], "s2": ["eio2"]}
    found = {"s0": None, "s1": stored("s1"), "s2": stored("s2", max_age=-1)}
    made = steps(core._reload(by_id, "test"), lambda call: [found[s] for s in call.args[0]])
    assert len(made) == 1 and made[0].function == core.store.get_many
    assert sorted(made.result) == ["eio0", "eio2", "tab2"] and set(core._sessions) == {"eio1"}
    made = steps(core._reload(core._live_by_id(), "test"), answer({"get_many": DOWN}))
    assert made.result is None and set(core._sessions) == {"eio1"}


def test_a_save_that_finds_the_session_gone_closes_every_tab() -> None:
    core = Core()
    live = connected(core)
    handshake(core, Exchange(cookie()), {"get": stored()}, sid="tab2")
    live["x"] = 1
    with pytest.raises(SessionGoneError):
        steps(
            live._save(False),
            lambda call: call.function(*call.args) if call.function == core._end_session else None,
        )
    assert live.destroyed and core._sessions == {} and sorted(core.closed) == ["eio1", "tab2"]
