"""The Redis store: connect-redis's format without I/O, then every method on a real Redis.

The store tests run four ways: sync and async, on one Redis (``redis_url``) and on a real
three-master cluster (``redis_cluster``). Each test has its own key prefix and removes its
keys when it ends.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import os
import signal
import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from engineio_session import jsjson
from engineio_session._js import date_to_json
from engineio_session.changes import Changes
from engineio_session.errors import CorruptSessionError, StoreError
from engineio_session.session import Session
from engineio_session.stores import AsyncRedisStore, RedisFormat, RedisStore

from . import services
from .redis_target import RedisTarget
from .store_contract import check_contract, check_method_kinds

NOW = 1_780_000_000_123  # a JS time value (ms), 2026


def session_at(expires_ms: float | None, **data: Any) -> Session:
    """A session whose cookie expires at ``expires_ms`` (None: a browser-session cookie)."""
    cookie: dict[str, Any] = {"originalMaxAge": None, "expires": None, "httpOnly": True}
    if expires_ms is not None:
        cookie.update(originalMaxAge=60_000, expires=date_to_json(expires_ms))
    return Session.from_json("sid", {"cookie": cookie, **data})


# --- the format, no Redis --------------------------------------------------------------------


class TestFormat:
    def test_keys(self) -> None:
        fmt = RedisFormat()
        assert fmt.key("abc") == b"sess:abc"
        assert fmt.pattern == b"sess:*"
        assert RedisFormat(prefix=None).key("a") == b"sess:a"  # opts.prefix == null
        assert RedisFormat(prefix="").key("a") == b"a"  # "" is kept: not `||`
        assert RedisFormat(prefix="é:").key("\ud800") == "é:\ufffd".encode()  # Node's UTF-8

    def test_sid_of_cuts_js_length(self) -> None:
        fmt = RedisFormat(prefix="s:")
        assert fmt.sid_of(b"s:abc") == fmt.sid_of("s:abc") == "abc"
        # a glob prefix matches keys without the literal prefix: substring(prefix.length)
        assert RedisFormat(prefix="s?:").sid_of("sX:abc") == "abc"
        # "😀" is two UTF-16 code units, as JS counts them
        assert RedisFormat(prefix="😀").sid_of("ab" + "xyz") == "xyz"
        assert RedisFormat(prefix="😀?").sid_of("abc" + "xyz") == "xyz"

    def test_option_defaults_as_connect_redis_or(self) -> None:
        # `opts.ttl || 86400`, `opts.scanCount || 100`
        assert RedisFormat(ttl=0).ttl == 86400
        assert RedisFormat(ttl=math.nan).ttl == 86400
        assert RedisFormat(scan_count=0).scan_count == 100
        assert RedisFormat(ttl=5, scan_count=7).ttl == 5

    @pytest.mark.parametrize(
        ("left_ms", "ttl"),
        [
            (86_400_000, 86_400),
            (1, 1),  # Math.ceil(0.001)
            (999, 1),
            (1000, 1),
            (1001, 2),
            (1500, 2),
            (0, 0),  # exactly now: not positive
            (-1, 0),  # Math.ceil(-0.001) is -0
            (-999, 0),
            (-1000, -1),
            (-1500, -1),
            (-86_400_000, -86_400),
        ],
    )
    def test_ttl_from_expires(self, left_ms: int, ttl: int) -> None:
        assert RedisFormat(ttl=5).ttl_for(session_at(NOW + left_ms), now=NOW) == ttl

    def test_ttl_with_fractional_now(self) -> None:
        # (expires - now) / 1e3 in floating point, then Math.ceil
        fmt = RedisFormat()
        assert fmt.ttl_for(session_at(NOW + 1000), now=NOW + 0.5) == 1
        assert fmt.ttl_for(session_at(NOW + 1000), now=NOW - 0.5) == 2

    def test_ttl_without_expires_is_the_option(self) -> None:
        assert RedisFormat(ttl=1234).ttl_for(session_at(None), now=NOW) == 1234
        assert RedisFormat().ttl_for(session_at(None), now=NOW) == 86400

    def test_ttl_function_wins_over_expires(self) -> None:
        seen: list[Session] = []

        def ttl(session: Session) -> float:
            seen.append(session)
            return 42

        fmt = RedisFormat(ttl=ttl)
        session = session_at(NOW + 5000, user="ada")
        assert fmt.ttl_for(session, now=NOW) == 42
        assert seen == [session]

    def test_invalid_date_ttl_is_nan(self) -> None:
        # an Invalid Date is truthy in JS: Math.ceil(NaN / 1e3) is NaN, and NaN > 0 is false
        session = session_at(None)
        session.cookie.set_expires(math.inf)
        assert math.isnan(RedisFormat().ttl_for(session, now=NOW))
        assert RedisFormat().set_command("sid", session, now=NOW) is None
        assert RedisFormat().touch_command("sid", session, now=NOW) == (
            "EXPIRE",
            b"sess:sid",
            "NaN",
        )

    def test_set_command(self) -> None:
        session = session_at(NOW + 60_000, user="ada")
        value = jsjson.dumps(session).encode()
        assert RedisFormat().set_command("a", session, now=NOW) == (
            "SET",
            b"sess:a",
            value,
            "EX",
            "60",
        )
        assert RedisFormat(disable_ttl=True).set_command("a", session, now=NOW) == (
            "SET",
            b"sess:a",
            value,
        )

    @pytest.mark.parametrize("left_ms", [0, -1, -5000])
    @pytest.mark.parametrize("disable_ttl", [False, True])
    def test_set_of_an_expired_session_destroys(self, left_ms: int, disable_ttl: bool) -> None:
        fmt = RedisFormat(disable_ttl=disable_ttl)
        assert fmt.set_command("a", session_at(NOW + left_ms), now=NOW) is None

    @pytest.mark.parametrize(
        ("ttl", "text"), [(1.5, "1.5"), (3.0, "3"), (1e21, "1e+21"), (0, None), (-2, None)]
    )
    def test_ttl_function_value_is_sent_as_js_prints_it(self, ttl: float, text: str | None) -> None:
        command = RedisFormat(ttl=lambda _: ttl).set_command("a", session_at(None), now=NOW)
        assert (command[-1] if command else None) == text

    def test_touch_command(self) -> None:
        session = session_at(NOW + 10_500)
        assert RedisFormat().touch_command("a", session, now=NOW) == ("EXPIRE", b"sess:a", "11")
        # a TTL that is not positive is sent all the same: Redis then deletes the key
        expired = session_at(NOW - 3000)
        assert RedisFormat().touch_command("a", expired, now=NOW) == ("EXPIRE", b"sess:a", "-3")
        assert RedisFormat(disable_touch=True).touch_command("a", session, now=NOW) is None
        assert RedisFormat(disable_ttl=True).touch_command("a", session, now=NOW) is None

    def test_encode_with_a_custom_serializer(self) -> None:
        received: list[Any] = []

        class Upper:
            @staticmethod
            def stringify(value: Any) -> str:
                received.append(value)
                return "X" + jsjson.dumps(value) + "\ud800"

            @staticmethod
            def parse(text: str) -> Any:
                assert text.startswith("X")
                return jsjson.loads(text[1:].removesuffix("\ufffd"))

        fmt = RedisFormat(serializer=Upper)
        session = session_at(NOW + 60_000, user="ada")
        encoded = fmt.encode(session)
        assert received == [session.to_json()] and type(received[0]) is dict
        assert encoded.endswith(b"\xef\xbf\xbd")  # a lone surrogate, as Node encodes it
        back = fmt.decode("sid", encoded, now=NOW)
        assert back is not None and back.to_json() == session.to_json()

    @pytest.mark.parametrize("raw", [None, b"", ""])
    def test_decode_nothing(self, raw: bytes | str | None) -> None:
        assert RedisFormat().decode("sid", raw, now=NOW) is None  # connect-redis: `!data`

    @pytest.mark.parametrize("as_bytes", [False, True])
    def test_decode_bytes_and_str(self, as_bytes: bool) -> None:
        text = jsjson.dumps(session_at(NOW + 1, user="é😀"))
        session = RedisFormat().decode("id1", text.encode() if as_bytes else text, now=NOW)
        assert session is not None
        assert session.id == "id1" and session["user"] == "é😀"

    @pytest.mark.parametrize(("left_ms", "live"), [(1, True), (0, False), (-1, False)])
    def test_decode_expired_is_none(self, left_ms: int, live: bool) -> None:
        raw = jsjson.dumps(session_at(NOW + left_ms))
        assert (RedisFormat().decode("sid", raw, now=NOW) is not None) is live

    def test_decode_browser_session_never_expires(self) -> None:
        assert RedisFormat().decode("sid", jsjson.dumps(session_at(None)), now=NOW) is not None

    @pytest.mark.parametrize(
        ("raw", "reason"),
        [
            ("not json", "not JSON"),
            ('{"cookie": {}', "not JSON"),
            ("[1, 2]", "not an object"),
            ("42", "not an object"),
            ('"text"', "not an object"),
            ('{"user": "ada"}', "no cookie"),
            ('{"cookie": 5}', "cookie"),
            ('{"cookie": {"expires": "tomorrow"}}', "not a date"),
            ('{"cookie": {"expires": 5}}', "not a date string"),
        ],
    )
    def test_decode_corrupt(self, raw: str, reason: str) -> None:
        with pytest.raises(CorruptSessionError) as caught:
            RedisFormat(store="AsyncRedisStore").decode("the-sid", raw, now=NOW)
        error = caught.value
        assert (error.store, error.sid) == ("AsyncRedisStore", "the-sid")
        assert reason in error.reason

    def test_decode_all(self) -> None:
        fmt = RedisFormat()
        live = jsjson.dumps(session_at(None, n=1))
        expired = jsjson.dumps(session_at(1, n=2))
        sessions = fmt.decode_all(
            [b"sess:a", "sess:b", b"sess:c", b"sess:d"], [live, expired, None, ""]
        )
        assert [(s.id, s["n"]) for s in sessions] == [("a", 1)]


# --- the stores on a real Redis ---------------------------------------------------------------


class Blocking:
    """An async store's coroutines run on one event loop, so a test body serves both."""

    def __init__(self, store: Any, runner: asyncio.Runner) -> None:
        self.store = store
        self._runner = runner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.store, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute
        return lambda *args: self._runner.run(attribute(*args))


class Target(RedisTarget):
    """A RedisTarget with store factories: sync stores, or async ones behind ``Blocking``."""

    def __init__(self, label: str, *, mode: str, **where: Any) -> None:
        super().__init__(label, **where)
        self.mode = mode
        self._runner = asyncio.Runner()
        self._closers: list[Callable[[], Any]] = []

    def store(self, *, decode_responses: bool = False, **options: Any) -> Any:
        options.setdefault("prefix", self.prefix)
        if self.mode == "sync":
            sync_store = RedisStore(self.sync_client(decode_responses=decode_responses), **options)
            self._closers.append(sync_store.close)
            return sync_store
        client = self.async_client(decode_responses=decode_responses)
        self._closers.append(lambda: self._runner.run(client.aclose()))
        return Blocking(AsyncRedisStore(client, **options), self._runner)

    def close(self) -> None:
        for close in self._closers:
            close()
        super().close()
        self._runner.close()


@pytest.fixture(params=["single", "cluster"])
def kind(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(params=["sync", "async"])
def target(request: pytest.FixtureRequest, kind: str) -> Iterator[Target]:
    made = Target.of(request, kind, "test", mode=str(request.param))
    yield made
    made.close()


def new_session(max_age: float | None = 60_000, **data: Any) -> Session:
    session = Session.new(max_age=max_age)
    session.update(data)
    return session


def test_protocols(target: Target) -> None:
    store = target.store()
    if target.mode == "sync":
        check_method_kinds(store, is_async=False)
    else:
        check_method_kinds(store.store, is_async=True)


@pytest.mark.parametrize("decode_responses", [False, True])
def test_store_contract(target: Target, decode_responses: bool) -> None:
    check_contract(target.store(decode_responses=decode_responses))


def test_update_is_a_compare_and_set(request: pytest.FixtureRequest, kind: str) -> None:
    """A write that lands between the update's read and its write makes it read again and
    apply its changes on top: the plan is stepped by hand, the Node app writing in between."""
    target = Target.of(request, kind, "test", mode="sync")
    try:
        store = target.store()
        sid = "cas-" + uuid.uuid4().hex
        store.set(sid, new_session(user="ada"))
        mine = store.get(sid)
        assert mine is not None
        mine["theme"] = "dark"
        plan = store._update(store._redis(), sid, Changes.of(mine))
        step = plan.send(None)
        assert step.args[0].__name__ == "eval"  # first onto what was loaded, with no read
        stored = json.loads(target.raw.get(target.key(sid)))
        stored["user"] = "node"  # the Node app saves before it
        target.raw.set(target.key(sid), json.dumps(stored), keepttl=True)
        written = step.function(*step.args)
        assert written == 0  # not what was loaded any more: nothing written, read it
        step = plan.send(written)
        for n in range(3):
            assert step.args[0].__name__ == "get"
            step = plan.send(step.function(*step.args))  # the read, then the EVAL
            stored = json.loads(target.raw.get(target.key(sid)))
            stored[f"node{n}"] = n  # the Node app saves meanwhile
            target.raw.set(target.key(sid), json.dumps(stored), keepttl=True)
            assert step.args[0].__name__ == "eval"
            written = step.function(*step.args)
            assert written == 0  # the key changed since the read: nothing written
            step = plan.send(written)
            assert step.function == store._pause and 0 <= step.args[0] < 0.05  # a random wait
            step = plan.send(None)
        step = plan.send(step.function(*step.args))
        written = step.function(*step.args)
        assert written == 1
        with pytest.raises(StopIteration) as done:
            plan.send(written)
        merged = done.value.value
        expected = {"user": "node", "node0": 0, "node1": 1, "node2": 2, "theme": "dark"}
        assert dict(merged) == expected
        assert json.loads(target.raw.get(target.key(sid))) == {
            "cookie": merged.cookie.to_json(),
            **expected,
        }
        assert 0 < target.raw.ttl(target.key(sid)) <= 60  # the TTL follows the cookie
    finally:
        target.close()


@pytest.mark.parametrize("decode_responses", [False, True])
def test_an_update_onto_what_was_loaded_needs_no_read(
    request: pytest.FixtureRequest, kind: str, decode_responses: bool
) -> None:
    """Where Redis still holds what the session was loaded from (or last saved as), the
    update is one compare-and-set and no read; the second save of the same session too.
    A session the store no longer holds is not brought back by it."""
    target = Target.of(request, kind, "test", mode="sync")
    try:
        store = target.store(decode_responses=decode_responses)
        sid = "cas-" + uuid.uuid4().hex
        store.set(sid, new_session(user="ada", n=1))
        mine = store.get(sid)
        assert mine is not None
        for n in (2, 3):  # the second update goes onto what the first wrote
            mine["n"] = n
            changes = Changes.of(mine)
            assert changes.read is not None
            plan = store._update(store._redis(), sid, changes)
            step = plan.send(None)
            assert step.args[0].__name__ == "eval"
            written = step.function(*step.args)
            assert written == 1
            with pytest.raises(StopIteration) as done:
                plan.send(written)
            mine.copy_from(done.value.value)
            mine.mark_saved()
            assert json.loads(target.raw.get(target.key(sid)))["n"] == n
        assert 0 < target.raw.ttl(target.key(sid)) <= 60  # the TTL follows the cookie
        target.raw.delete(target.key(sid))  # a logout on Node
        mine["n"] = 4
        assert store.update(sid, Changes.of(mine)) is None
        assert target.raw.get(target.key(sid)) is None
    finally:
        target.close()


@pytest.mark.parametrize("decode_responses", [False, True])
def test_set_get_roundtrip(target: Target, decode_responses: bool) -> None:
    store = target.store(decode_responses=decode_responses)
    session = new_session(user={"id": 7, "name": "Ada é😀"}, n=1.5, flags=[True, None])
    store.set(session.id, session)
    assert target.raw.get(target.key(session.id)) == jsjson.dumps(session).encode()
    loaded = store.get(session.id)
    assert loaded == session and loaded.id == session.id
    assert not loaded.modified
    assert 59 <= target.raw.ttl(target.key(session.id)) <= 60


def test_get_missing_and_empty(target: Target) -> None:
    store = target.store()
    assert store.get("nobody") is None
    target.raw.set(target.key("empty"), b"")
    assert store.get("empty") is None  # `if (!data) return null`


def test_set_without_max_age_uses_ttl(target: Target) -> None:
    session = new_session(max_age=None, n=1)
    target.store(ttl=1234).set(session.id, session)
    assert 1233 <= target.raw.ttl(target.key(session.id)) <= 1234


def test_ttl_function(target: Target) -> None:
    seen: list[str] = []

    def ttl(session: Session) -> float:
        seen.append(session.id)
        return 777

    session = new_session(max_age=60_000)
    target.store(ttl=ttl).set(session.id, session)
    assert seen == [session.id]
    assert 776 <= target.raw.ttl(target.key(session.id)) <= 777


def test_set_expired_deletes(target: Target) -> None:
    store = target.store()
    session = new_session(n=1)
    store.set(session.id, session)
    session.cookie.set_max_age(-1)
    store.set(session.id, session)
    assert target.raw.exists(target.key(session.id)) == 0


def test_disable_ttl(target: Target) -> None:
    store = target.store(disable_ttl=True)
    session = new_session(n=1)
    store.set(session.id, session)
    assert target.raw.ttl(target.key(session.id)) == -1
    store.touch(session.id, session)
    assert target.raw.ttl(target.key(session.id)) == -1


def test_expired_session_in_redis_reads_as_none_and_stays(target: Target) -> None:
    # what Redis still holds with disableTTL: connect-redis would return it
    stale = session_at(time.time() * 1000 - 10_000, user="ada")
    raw = jsjson.dumps(stale).encode()
    target.raw.set(target.key("stale"), raw)
    store = target.store(disable_ttl=True)
    assert store.get("stale") is None
    assert store.all() == []
    assert store.ids() == ["stale"] and store.length() == 1  # keys, as connect-redis counts
    assert target.raw.get(target.key("stale")) == raw


def test_touch(target: Target) -> None:
    store = target.store()
    session = new_session(max_age=60_000)
    store.set(session.id, session)
    session.cookie.set_max_age(600_000)
    store.touch(session.id, session)
    assert 599 <= target.raw.ttl(target.key(session.id)) <= 600
    target.store(disable_touch=True).touch(session.id, new_session(max_age=5_000_000))
    assert 599 <= target.raw.ttl(target.key(session.id)) <= 600
    store.touch("nobody", session)  # EXPIRE on no key: nothing
    assert target.raw.exists(target.key("nobody")) == 0


def test_touch_with_an_expired_cookie_lets_redis_delete(target: Target) -> None:
    store = target.store()
    session = new_session()
    store.set(session.id, session)
    session.cookie.set_max_age(-5000)
    store.touch(session.id, session)  # EXPIRE key -5
    assert target.raw.exists(target.key(session.id)) == 0


def test_destroy(target: Target) -> None:
    store = target.store()
    session = new_session()
    store.set(session.id, session)
    store.destroy(session.id)
    assert store.get(session.id) is None
    store.destroy(session.id)  # twice: no error


@pytest.mark.parametrize("decode_responses", [False, True])
def test_ids_length_all_clear(target: Target, decode_responses: bool) -> None:
    store = target.store(scan_count=7, decode_responses=decode_responses)
    sessions = {}
    for n in range(120):  # many SCAN pages, spread over every master of the cluster
        session = new_session(n=n)
        store.set(session.id, session)
        sessions[session.id] = session
    other = target.store(prefix=target.prefix + "other:")
    outsider = new_session()
    other.set(outsider.id, outsider)
    # the prefix is a glob: "<prefix>*" matches the other prefix's keys as well, as in Node
    assert sorted(store.ids()) == sorted([*sessions, "other:" + outsider.id])
    assert store.length() == 121
    found = {session.id: session for session in store.all()}
    assert found.keys() == {*sessions, "other:" + outsider.id}
    for sid, session in sessions.items():
        assert found[sid].to_json() == session.to_json()
    store.clear()
    assert store.length() == 0 and store.ids() == [] and store.all() == []
    store.clear()  # nothing to clear: no DEL


def test_all_skips_expired_and_empty(target: Target) -> None:
    store = target.store()
    live = new_session(n=1)
    store.set(live.id, live)
    target.raw.set(target.key("empty"), b"")
    target.raw.set(target.key("old"), jsjson.dumps(session_at(1000.0)))
    assert [session.id for session in store.all()] == [live.id]


@pytest.mark.parametrize(
    "raw",
    [b"not json", b"[1,2]", b'{"user":"ada"}', b'{"cookie":{"expires":"soon"}}', b"\xff\xfe"],
)
def test_corrupt_data_raises_and_stays(target: Target, raw: bytes) -> None:
    target.raw.set(target.key("bad"), raw)
    store = target.store()
    with pytest.raises(CorruptSessionError) as caught:
        store.get("bad")
    assert caught.value.sid == "bad"
    assert caught.value.store == ("RedisStore" if target.mode == "sync" else "AsyncRedisStore")
    with pytest.raises(CorruptSessionError):
        store.all()  # connect-redis's all() throws the parse error too
    assert target.raw.get(target.key("bad")) == raw


def test_serializer_error_is_not_a_store_error(target: Target) -> None:
    store = target.store()
    session = new_session(bad={1, 2})
    with pytest.raises(TypeError, match="session"):
        store.set(session.id, session)


def test_sync_store_leaves_the_users_client_alone(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url, socket_timeout=30)
    before = dict(client.connection_pool.connection_kwargs)
    store = RedisStore(client, prefix=f"test:{uuid.uuid4().hex}:", timeout=0.5)
    assert store.get("x") is None
    assert client.connection_pool.connection_kwargs == before
    own = store._redis().connection_pool.connection_kwargs
    assert own["socket_timeout"] == own["socket_connect_timeout"] == 0.5
    assert own["host"] == "127.0.0.1" and own["db"] == 0
    store.close()
    # timeout=None: the user's client, as it is
    assert RedisStore(client, timeout=None)._redis() is client
    client.close()


# --- an unreachable Redis, and one that never answers ---------------------------------------

TIMEOUT = 0.2
# how long a bounded call may take on a loaded CI machine: this checks that nothing hangs,
# it does not measure speed
LIMIT = TIMEOUT + 1.5

OPERATIONS: list[tuple[str, tuple[Any, ...]]] = [
    ("get", ("sid",)),
    ("set", ("sid", session_at(None))),
    ("touch", ("sid", session_at(None))),
    ("destroy", ("sid",)),
    ("ids", ()),
    ("length", ()),
    ("all", ()),
    ("clear", ()),
]


def check_bounded(call: Callable[[], Any], store: str) -> StoreError:
    start = time.monotonic()
    with pytest.raises(StoreError) as caught:
        call()
    assert time.monotonic() - start < LIMIT
    assert caught.value.store == store
    assert str(caught.value).startswith(store + ": ")
    return caught.value


@pytest.mark.parametrize(("method", "args"), OPERATIONS, ids=[op for op, _ in OPERATIONS])
def test_sync_black_hole(black_hole: int, method: str, args: tuple[Any, ...]) -> None:
    store = RedisStore(redis.Redis(port=black_hole), timeout=TIMEOUT)
    error = check_bounded(lambda: getattr(store, method)(*args), "RedisStore")
    assert isinstance(error.cause, redis.TimeoutError)
    store.close()


@pytest.mark.parametrize(("method", "args"), OPERATIONS, ids=[op for op, _ in OPERATIONS])
def test_sync_closed_port(closed_port: int, method: str, args: tuple[Any, ...]) -> None:
    store = RedisStore(redis.Redis(port=closed_port), timeout=TIMEOUT)
    error = check_bounded(lambda: getattr(store, method)(*args), "RedisStore")
    assert isinstance(error.cause, redis.ConnectionError)
    assert "refused" in str(error)


@pytest.mark.parametrize(("method", "args"), OPERATIONS, ids=[op for op, _ in OPERATIONS])
@pytest.mark.parametrize("where", ["black_hole", "closed_port"])
def test_async_unreachable(
    request: pytest.FixtureRequest, where: str, method: str, args: tuple[Any, ...]
) -> None:
    port = request.getfixturevalue(where)

    async def run() -> None:
        client = redis.asyncio.Redis(port=port)
        store = AsyncRedisStore(client, timeout=TIMEOUT)
        check_bounded_async = getattr(store, method)
        start = time.monotonic()
        with pytest.raises(StoreError) as caught:
            await check_bounded_async(*args)
        assert time.monotonic() - start < LIMIT
        assert caught.value.store == "AsyncRedisStore"
        await client.aclose()

    asyncio.run(run())


def test_cluster_node_stops_answering_then_dies() -> None:
    """A private cluster: SIGSTOP the master of a key (no answer), SIGCONT, then kill it."""
    with services.RedisCluster() as cluster:
        client = redis.cluster.RedisCluster(startup_nodes=cluster.startup_nodes)
        store = RedisStore(client, prefix="c:", timeout=TIMEOUT)
        session = new_session(n=1)
        store.set(session.id, session)
        node = client.get_node_from_key(store.format.key(session.id))
        host, port = node.host, int(node.port)
        process = cluster._processes[cluster.nodes.index((host, port))]

        async def async_get() -> None:
            async_client = redis.asyncio.cluster.RedisCluster(
                startup_nodes=[redis.asyncio.cluster.ClusterNode(host, port)]
            )
            await async_client.initialize()
            async_store = AsyncRedisStore(async_client, prefix="c:", timeout=TIMEOUT)
            os.kill(process.pid, signal.SIGSTOP)
            try:
                start = time.monotonic()
                with pytest.raises(StoreError) as caught:
                    await async_store.get(session.id)
                assert time.monotonic() - start < LIMIT
                assert caught.value.store == "AsyncRedisStore"
            finally:
                os.kill(process.pid, signal.SIGCONT)
            await async_client.aclose()

        assert store.get(session.id) == session
        os.kill(process.pid, signal.SIGSTOP)
        try:
            error = check_bounded(lambda: store.get(session.id), "RedisStore")
            assert isinstance(error.cause, redis.TimeoutError)
        finally:
            os.kill(process.pid, signal.SIGCONT)
        assert store.get(session.id) == session  # it answers again: so does the store
        asyncio.run(async_get())

        process.kill()
        process.wait()
        check_bounded(lambda: store.get(session.id), "RedisStore")
        store.close()
        client.close()
