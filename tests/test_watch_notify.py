"""attach(watch=...) with Redis keyspace notifications: a logout or an expiry in Redis closes
the connection at once, not at the next periodic reload.

Four layers: the parsing (no Redis); the store's subscription (``subscribe_ends``) on the
local Redis; the handle in process (tests/apps/inprocess.py's ``Driver``: a real server
driven through WSGI / ASGI); real servers (threading and uvicorn, tests/apps/serve.py) with
python-engineio's and python-socketio's clients. Every test has its own key prefix
(tests/redis_target.py).

Redis's ``notify-keyspace-events`` is server-wide: it is saved before this module and put
back after it, and after every test that changes it. The servers are started with
``watch=5`` and ``enable_notifications=True``, so a close within the first seconds can only
come from a notification; their log says which path saw each session end.

    notice time = from the DEL (or the end of the TTL) to the client's disconnect event
"""

from __future__ import annotations

import asyncio
import logging
import os
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from engineio_session.errors import NotificationsUnavailableError, StoreError
from engineio_session.stores import AsyncRedisStore, RedisFormat, RedisStore
from engineio_session.stores.redis import missing_notify_classes
from engineio_session.stores.redis.format import notify_setting
from engineio_session.stores.redis.notify import SessionEnds
from engineio_session.watch import (
    NOTIFY_POLL,
    RESUBSCRIBE_FIRST,
    RESUBSCRIBE_MAX,
    WatchClock,
)
from tests.apps.harness import (
    SECRETS,
    TIMEOUT,
    EngineIOClient,
    Serve,
    SocketIOClient,
    client,
    cookie_pair,
    saved_session,
    wait_for,
)
from tests.apps.inprocess import Driver
from tests.redis_target import RedisTarget
from tests.services import RedisCluster

NOTIFY = "notify-keyspace-events"
WATCH = 5.0  # the servers' periodic reload: far slower than any notification
#: the sync and the async shell; ``WATCH_NOTIFY_MODES=eventlet,gevent,aiohttp`` runs others
MODES = tuple(os.environ.get("WATCH_NOTIFY_MODES", "threading,asgi").split(","))
KINDS = ("engineio", "socketio")
PATH = {"engineio": "e", "socketio": "s"}
TRIALS = 5  # logouts per mode and kind: 10 per mode


# --- fixtures ---------------------------------------------------------------------------------

#: a database of its own: Redis's background expiry samples a few keys per cycle, so in a
#: database of thousands of day-long sessions (db 0 after the other tests) a short TTL can
#: end seconds late; here it ends within a cycle (100 ms). The periodic reload bounds the
#: other case: its GET expires the key at once.
DB = 9


@pytest.fixture(scope="module")
def url(redis_url: str) -> str:
    return redis_url.rsplit("/", 1)[0] + f"/{DB}"


@pytest.fixture(scope="module")
def raw(url: str) -> Iterator[redis.Redis]:
    """A plain client to look at Redis and act as the Node app does (connect-redis: DEL)."""
    client = redis.Redis.from_url(url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture(scope="module", autouse=True)
def saved_notify_config(raw: redis.Redis) -> Iterator[None]:
    """The server's notify-keyspace-events as it was, put back when the module ends."""
    before = raw.config_get(NOTIFY)[NOTIFY]
    yield
    raw.config_set(NOTIFY, before)


@pytest.fixture
def notify_config(raw: redis.Redis) -> Iterator[Callable[[str], None]]:
    """Set notify-keyspace-events for one test; put back as it was when the test ends."""
    before = raw.config_get(NOTIFY)[NOTIFY]
    yield lambda value: raw.config_set(NOTIFY, value)
    raw.config_set(NOTIFY, before)


@pytest.fixture
def target(url: str, raw: redis.Redis) -> Iterator[RedisTarget]:
    """The test's own key prefix on database DB; its keys are deleted at the end."""
    made = RedisTarget("notify", url=url, raw=raw)
    yield made
    made.close()


@pytest.fixture
def prefix(target: RedisTarget) -> str:
    return target.prefix


def subscriptions(raw: redis.Redis, name: str) -> list[dict[str, Any]]:
    """The pub/sub connections (CLIENT LIST) of the clients named ``name``."""
    return [c for c in raw.client_list() if c.get("name") == name and int(c.get("psub", 0))]


# --- the parsing, no Redis ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("prefix_", "pattern"),
    [
        ("sess:", "__keyspace@0__:sess:*"),
        ("", "__keyspace@0__:*"),
        ("a*b?", r"__keyspace@0__:a\*b\?*"),
        ("[x]\\", r"__keyspace@0__:\[x\]\\*"),
        ("é:", "__keyspace@0__:é:*"),
    ],
)
def test_keyspace_pattern_takes_the_prefix_literally(prefix_: str, pattern: str) -> None:
    assert RedisFormat(prefix=prefix_).keyspace_pattern() == pattern.encode()
    assert RedisFormat(prefix=prefix_).keyspace_pattern(7).startswith(b"__keyspace@7__:")


@pytest.mark.parametrize(
    ("channel", "event", "ended"),
    [
        (b"__keyspace@0__:sess:abc", b"del", "abc"),  # connect-redis destroy, UNLINK, GETDEL
        (b"__keyspace@0__:sess:abc", b"expired", "abc"),
        (b"__keyspace@0__:sess:abc", b"evicted", "abc"),
        (b"__keyspace@12__:sess:abc", b"rename_from", "abc"),
        (b"__keyspace@0__:sess:abc", b"move_from", "abc"),
        ("__keyspace@0__:sess:abc", "del", "abc"),  # decode_responses=True
        (b"__keyspace@0__:sess:a__:b", b"del", "a__:b"),
        (b"__keyspace@0__:sess:abc", b"set", None),  # a save
        (b"__keyspace@0__:sess:abc", b"expire", None),  # a touch
        (b"__keyspace@0__:sess:abc", b"rename_to", None),
        (b"__keyspace@0__:other:abc", b"del", None),  # another prefix
        (b"__keyevent@0__:del", b"sess:abc", None),  # the other kind of channel
        (b"sess:abc", b"del", None),
    ],
)
def test_ended_id(channel: bytes | str, event: bytes | str, ended: str | None) -> None:
    assert RedisFormat().ended_id(channel, event) == ended


@pytest.mark.parametrize(
    ("value", "missing", "missing_enabled"),
    [
        ("", "Kgx", "Kgxe"),
        ("AKE", "", ""),  # A is g$lshzxetd
        ("KA", "", ""),
        ("Ex", "Kg", "Kge"),  # keyevent channels only
        ("gxK", "", "e"),  # what CONFIG GET answers after CONFIG SET Kgx
        ("Kg$", "x", "xe"),
    ],
)
def test_missing_notify_classes(value: str, missing: str, missing_enabled: str) -> None:
    assert missing_notify_classes(value) == missing
    assert missing_notify_classes(value, "Kgxe") == missing_enabled


def test_notify_setting_changes_nothing_unless_told() -> None:
    assert notify_setting("RedisStore", "AKE", False) is None
    assert notify_setting("RedisStore", None, False) is None  # CONFIG GET refused: try anyway
    assert notify_setting("RedisStore", "Ex", True) == "ExKge"  # added to what is there
    with pytest.raises(NotificationsUnavailableError) as caught:
        notify_setting("RedisStore", "Ex", False)
    assert caught.value.store == "RedisStore"
    assert "'Kg'" in caught.value.reason and "enable_notifications=True" in caught.value.reason


def test_a_second_confirmation_means_events_were_lost() -> None:
    ends = SessionEnds(None, RedisFormat(), "RedisStore", timeout=1.0, keepalive=30.0)
    ended: list[str] = []
    confirmation = {"type": "psubscribe", "channel": b"__keyspace@0__:sess:*", "data": 1}
    ends._take(confirmation, ended)
    ends._take({"type": "pmessage", "channel": b"__keyspace@0__:sess:x", "data": b"del"}, ended)
    assert ended == ["x"]
    with pytest.raises(StoreError, match="re-established"):
        ends._take(confirmation, ended)  # redis-py reconnected and subscribed again


def test_an_unanswered_ping_breaks_the_subscription() -> None:
    ends = SessionEnds(None, RedisFormat(), "RedisStore", timeout=0.02, keepalive=0.02)
    assert not ends._ping_due()  # nothing silent yet
    time.sleep(0.03)
    assert ends._ping_due() and not ends._ping_due()  # one PING, then wait for it
    ends._take({"type": "pong", "channel": None, "data": b""}, [])
    time.sleep(0.03)
    assert ends._ping_due()
    time.sleep(0.03)
    with pytest.raises(StoreError, match="no answer to PING"):
        ends._ping_due()


def test_watch_clock_backs_off_and_reloads_after_each_subscription() -> None:
    clock = WatchClock(60.0, notifies=True)
    assert clock.may_subscribe() and not clock.reload_due()
    delays = [clock.lost() for _ in range(10)]
    assert delays[:3] == [RESUBSCRIBE_FIRST, 2 * RESUBSCRIBE_FIRST, 4 * RESUBSCRIBE_FIRST]
    assert delays[-1] == RESUBSCRIBE_MAX and not clock.may_subscribe()
    clock.subscribed()
    assert clock.wait(True) == 0.0  # at once: reload what ended before the subscription
    assert clock.reload_due() == "the reload after subscribing"
    assert clock.reload_due() is None and clock.wait(True) == NOTIFY_POLL
    assert clock.lost() == RESUBSCRIBE_FIRST  # the back-off starts over
    assert not WatchClock(1.0, notifies=False).may_subscribe()


# --- the store's subscription, on the local Redis ------------------------------------------------


def _collect(ends: Any, count: int, timeout: float = 3.0) -> list[str]:
    found: list[str] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        found += ends.poll(0.1)
    return found


async def _collect_async(ends: Any, count: int, timeout: float = 3.0) -> list[str]:
    found: list[str] = []
    deadline = time.monotonic() + timeout
    while len(found) < count and time.monotonic() < deadline:
        found += await ends.poll(0.1)
    return found


def _logout_and_expiry(raw: redis.Redis, prefix: str) -> None:
    """What the Node app and Redis do: saves (ignored), DELs, a TTL that ends, a touch
    with a TTL that is not positive (connect-redis: EXPIRE key 0, which deletes)."""
    raw.set(prefix + "saved", "{}", ex=60)
    raw.set("other-" + prefix + "gone", "{}")
    raw.delete("other-" + prefix + "gone")  # another prefix
    raw.set(prefix + "gone", "{}")
    raw.delete(prefix + "gone")
    raw.set(prefix + "short", "{}", px=50)
    raw.set(prefix + "touched", "{}")
    raw.expire(prefix + "touched", 0)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_del_and_an_expiry_report_the_session(
    url: str, raw: redis.Redis, prefix: str, notify_config: Any, is_async: bool
) -> None:
    notify_config("")
    if not is_async:
        store = RedisStore(redis.Redis.from_url(url), prefix=prefix, enable_notifications=True)
        with store.subscribe_ends() as ends:
            _logout_and_expiry(raw, prefix)
            found = _collect(ends, 3)
            found += ends.poll(0.2)  # nothing more comes
        store.close()
    else:

        async def run() -> list[str]:
            client = redis.asyncio.Redis.from_url(url)
            store = AsyncRedisStore(client, prefix=prefix, enable_notifications=True)
            async with await store.subscribe_ends() as ends:
                _logout_and_expiry(raw, prefix)
                found = await _collect_async(ends, 3)
                found += await ends.poll(0.2)
            await client.aclose()
            return found

        found = asyncio.run(run())
    assert sorted(found) == ["gone", "short", "touched"]
    assert missing_notify_classes(raw.config_get(NOTIFY)[NOTIFY], "Kgxe") == ""


def test_a_glob_prefix_is_taken_literally(url: str, raw: redis.Redis, prefix: str) -> None:
    glob = prefix + "?*:"
    store = RedisStore(redis.Redis.from_url(url), prefix=glob, enable_notifications=True)
    with store.subscribe_ends() as ends:
        raw.set(prefix + "ab:x", "{}")  # the unescaped pattern would match this key
        raw.delete(prefix + "ab:x")
        raw.set(glob + "y", "{}")
        raw.delete(glob + "y")
        assert _collect(ends, 1) == ["y"] and ends.poll(0.1) == []
    raw.delete(glob + "y")
    store.close()


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
@pytest.mark.parametrize("config", ["", "Ex", "Kg"])
def test_without_notifications_the_store_says_so_and_changes_nothing(
    url: str,
    raw: redis.Redis,
    prefix: str,
    notify_config: Any,
    is_async: bool,
    config: str,
) -> None:
    notify_config(config)
    name = prefix + "client"
    if not is_async:
        store = RedisStore(redis.Redis.from_url(url, client_name=name), prefix=prefix)
        with pytest.raises(NotificationsUnavailableError) as caught:
            store.subscribe_ends()
        store.close()
    else:

        async def run() -> None:
            client = redis.asyncio.Redis.from_url(url, client_name=name)
            with pytest.raises(NotificationsUnavailableError) as caught:
                await AsyncRedisStore(client, prefix=prefix).subscribe_ends()
            assert "enable_notifications" in str(caught.value)
            await client.aclose()

        asyncio.run(run())
    if not is_async:
        assert "enable_notifications" in str(caught.value)
    assert sorted(raw.config_get(NOTIFY)[NOTIFY]) == sorted(config)  # read, never changed
    assert subscriptions(raw, name) == []


def test_enable_notifications_adds_to_what_is_there(
    url: str, raw: redis.Redis, prefix: str, notify_config: Any
) -> None:
    notify_config("El")  # keyevent channels for lists: someone else's setting
    store = RedisStore(redis.Redis.from_url(url), prefix=prefix, enable_notifications=True)
    store.subscribe_ends().close()
    store.close()
    value = raw.config_get(NOTIFY)[NOTIFY]
    assert set("ElKgxe") <= set(value), value


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_a_dropped_subscription_is_reported(
    url: str, raw: redis.Redis, prefix: str, is_async: bool
) -> None:
    """CLIENT KILL the subscription's connection: redis-py reconnects it by itself (or
    fails), and either way ``poll`` raises StoreError: events may have been lost."""
    name = prefix + "client"

    def kill() -> None:
        (connection,) = wait_for(lambda: subscriptions(raw, name))
        raw.client_kill_filter(_id=connection["id"])

    if not is_async:
        store = RedisStore(
            redis.Redis.from_url(url, client_name=name),
            prefix=prefix,
            enable_notifications=True,
        )
        with store.subscribe_ends() as ends:
            kill()
            with pytest.raises(StoreError):
                _collect(ends, 1, timeout=3.0)
        store.close()
    else:

        async def run() -> None:
            client = redis.asyncio.Redis.from_url(url, client_name=name)
            store = AsyncRedisStore(client, prefix=prefix, enable_notifications=True)
            async with await store.subscribe_ends() as ends:
                await asyncio.to_thread(kill)
                with pytest.raises(StoreError):
                    await _collect_async(ends, 1, timeout=3.0)
            await client.aclose()

        asyncio.run(run())
    wait_for(lambda: not subscriptions(raw, name))  # closed: nothing left subscribed


def test_a_cluster_cannot_notify(redis_cluster: RedisCluster) -> None:
    store = RedisStore(redis.cluster.RedisCluster(startup_nodes=redis_cluster.startup_nodes))
    with pytest.raises(NotificationsUnavailableError, match="Redis Cluster"):
        store.subscribe_ends()
    store.close()

    async def run() -> None:
        client = redis.asyncio.cluster.RedisCluster(startup_nodes=redis_cluster.async_startup_nodes)
        with pytest.raises(NotificationsUnavailableError, match="Redis Cluster"):
            await AsyncRedisStore(client).subscribe_ends()
        await client.aclose()

    asyncio.run(run())


# --- the handle, in process -------------------------------------------------------------------


class InProcess:
    """A Driver on a Redis store (sync or async) named ``name`` in CLIENT LIST, whose log is
    ``caplog``'s; ``polls`` counts the watcher's polls of each of its subscriptions."""

    def __init__(
        self,
        is_async: bool,
        target: RedisTarget,
        tmp_path: Path,
        caplog: pytest.LogCaptureFixture,
        notify: bool,
        **attach: Any,
    ) -> None:
        self.name = target.prefix + ("async" if is_async else "sync")
        self.caplog = caplog
        self.saver = RedisStore(target.sync_client(), prefix=target.prefix)
        self.client: Any
        if is_async:
            self.client = target.async_client(client_name=self.name)
            store: Any = AsyncRedisStore(
                self.client, prefix=target.prefix, enable_notifications=notify
            )
        else:
            self.client = target.sync_client(client_name=self.name)
            store = RedisStore(self.client, prefix=target.prefix, enable_notifications=notify)
        self.store = store
        self.polls: list[int] = []
        _count_polls(store, self.polls)
        self.driver = Driver(is_async, "engineio", tmp_path / "unused", store=store, **attach)

    def connect(self, session_id: str) -> str:
        sid: str = self.driver.handshake(cookie_pair(session_id)).sid
        return sid

    def subscribed(self, raw: redis.Redis, count: int = 1) -> dict[str, Any]:
        """Once the watcher's ``count``-th subscription is up and the reload that follows it
        is done (the watcher polls it at once, reloads every session, then polls again): its
        connection in CLIENT LIST."""
        wait_for(lambda: len(self.polls) >= count and self.polls[count - 1] >= 2)

        def the_one() -> dict[str, Any] | None:  # a closed one may linger a moment
            found = subscriptions(raw, self.name)
            return found[0] if len(found) == 1 else None

        return wait_for(the_one)  # type: ignore[no-any-return]

    def ended(self, session: Any, *sids: str) -> list[str]:
        """Once every connection in ``sids`` is closed: how the handle saw ``session`` end."""
        for sid in sids:
            self.driver.drain(sid)
        return _gone(self.caplog.records, session.id)

    def close(self, raw: redis.Redis) -> None:
        """Close what is open; the watcher then stops and unsubscribes (no leak)."""
        for sid in list(self.driver.handle._sessions):
            self.driver.close_connection(sid)
        wait_for(lambda: not self.driver.handle._watching)
        wait_for(lambda: not subscriptions(raw, self.name))
        if self.driver.is_async:
            self.driver.run(self.client.aclose())
        else:
            self.store.close()
        self.driver.close()
        self.saver.close()


def _count_polls(store: Any, polls: list[int]) -> None:
    """Count, in ``polls``, the polls of each subscription ``store.subscribe_ends`` makes."""
    subscribe = store.subscribe_ends
    is_async = asyncio.iscoroutinefunction(subscribe)

    def counted(ends: Any) -> Any:
        polls.append(0)
        index, poll = len(polls) - 1, ends.poll

        def poll_counted(timeout: float) -> Any:
            polls[index] += 1
            return poll(timeout)  # a coroutine for an async store: awaited by the caller

        ends.poll = poll_counted
        return ends

    async def subscribe_async(**options: Any) -> Any:
        return counted(await subscribe(**options))

    store.subscribe_ends = (
        subscribe_async if is_async else lambda **options: counted(subscribe(**options))
    )


@pytest.fixture
def in_process(
    target: RedisTarget, raw: redis.Redis, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> Iterator[Callable[..., InProcess]]:
    """InProcess servers (closed at the end); the engineio_session log captured at INFO."""
    caplog.set_level(logging.INFO, logger="engineio_session")
    made: list[InProcess] = []

    def make(is_async: bool, notify: bool = True, **attach: Any) -> InProcess:
        made.append(InProcess(is_async, target, tmp_path, caplog, notify, secret=SECRETS, **attach))
        return made[-1]

    yield make
    for each in made:
        each.close(raw)


@pytest.fixture
def notified(in_process: Callable[..., InProcess], is_async: bool) -> InProcess:
    """An InProcess server with watch=60: only a notification, or the reload that follows a
    subscription, can end a session within a test."""
    return in_process(is_async, watch=60)


def _gone(records: list[logging.LogRecord], session_id: str) -> list[str]:
    """How the handle saw ``session_id`` end: the "(seen by ...)" of its log lines."""
    lines = [r.getMessage() for r in records if r.getMessage().startswith("session ")]
    return [
        line.split("(seen by ")[1].split(")")[0]
        for line in lines
        if line.startswith(f"session {session_id[:6]}… is gone")
    ]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_handle_ends_every_connection_of_a_notified_session(
    notified: InProcess, raw: redis.Redis, prefix: str
) -> None:
    shared, other = saved_session(notified.saver), saved_session(notified.saver)
    tabs = [notified.connect(shared.id), notified.connect(shared.id)]
    kept = notified.connect(other.id)
    notified.subscribed(raw)
    raw.delete(prefix + shared.id)  # connect-redis destroy: a logout in the Node app
    assert notified.ended(shared, *tabs) == ["a keyspace notification"] * 2
    assert set(notified.driver.handle._sessions) == {kept}
    raw.pexpire(prefix + other.id, 100)  # the TTL runs out
    assert notified.ended(other, kept) == ["a keyspace notification"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_handle_subscribes_again_and_reloads_after_a_dropped_subscription(
    notified: InProcess, raw: redis.Redis, prefix: str
) -> None:
    """A logout while the subscription is down is not lost: the reload that follows the
    new subscription sees it (watch=60: nothing else could)."""
    first, second = saved_session(notified.saver), saved_session(notified.saver)
    sid, other = notified.connect(first.id), notified.connect(second.id)
    connection = notified.subscribed(raw)
    raw.client_kill_filter(_id=connection["id"])
    raw.delete(prefix + first.id)  # most likely while no subscription listens
    assert notified.ended(first, sid) in (
        ["a keyspace notification"],  # redis-py had reconnected before the DEL
        ["the reload after subscribing"],  # the new subscription's reload saw it
    )
    again = notified.subscribed(raw, 2)
    assert again["id"] != connection["id"]
    raw.delete(prefix + second.id)
    assert notified.ended(second, other) == ["a keyspace notification"]


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_handle_falls_back_to_the_periodic_reload(
    in_process: Callable[..., InProcess],
    raw: redis.Redis,
    prefix: str,
    notify_config: Any,
    is_async: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Redis without K/g/x and no enable_notifications: one warning, then watch alone."""
    notify_config("")
    server = in_process(is_async, notify=False, watch=0.2)
    for _ in range(2):  # the watcher stops and starts again: still one warning
        session = saved_session(server.saver)
        sid = server.connect(session.id)
        raw.delete(prefix + session.id)
        assert server.ended(session, sid) == ["the periodic reload"]
        wait_for(lambda: not server.driver.handle._watching)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "enable_notifications=True" in warnings[0], warnings
    assert raw.config_get(NOTIFY)[NOTIFY] == ""  # not changed behind anyone's back


@pytest.mark.parametrize("is_async", [False, True], ids=["sync", "async"])
def test_handle_on_a_cluster_uses_the_periodic_reload(
    redis_cluster: RedisCluster,
    tmp_path: Path,
    is_async: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="engineio_session")
    saver = RedisStore(redis.cluster.RedisCluster(startup_nodes=redis_cluster.startup_nodes))
    client: Any
    if is_async:
        client = redis.asyncio.cluster.RedisCluster(startup_nodes=redis_cluster.async_startup_nodes)
        store: Any = AsyncRedisStore(client, enable_notifications=True)
    else:
        store = saver
    driver = Driver(is_async, "engineio", tmp_path, store=store, secret=SECRETS, watch=0.2)
    try:
        session = saved_session(saver)
        sid = driver.handshake(cookie_pair(session.id)).sid
        saver.destroy(session.id)
        driver.drain(sid)
        assert _gone(caplog.records, session.id) == ["the periodic reload"]
        warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1 and "Redis Cluster" in warnings[0], warnings
        wait_for(lambda: not driver.handle._watching)
    finally:
        if is_async:
            driver.run(client.aclose())
        driver.close()
        saver.close()


# --- real servers, real clients -----------------------------------------------------------------


@contextmanager
def command_log(url: str) -> Iterator[Any]:
    """Redis's MONITOR from now on: every command the server runs, in order
    (``next_command()``; a Redis that stays silent for long fails the read)."""
    connection = redis.Redis.from_url(url, decode_responses=True, socket_timeout=2 * TIMEOUT)
    try:
        with connection.monitor() as monitor:
            yield monitor
    finally:
        connection.close()


def wait_for_reloads(monitor: Any, keys: dict[str, str]) -> None:
    """Read ``monitor`` until, for each pub/sub connection (address: key) in ``keys``, its
    PSUBSCRIBE and after it a read of the key (the watcher's MGET) have run: the reload that
    follows a watcher's subscription, when the key's session is the only one it has."""
    waiting = dict(keys)
    subscribed: set[str] = set()
    while waiting:
        entry = monitor.next_command()
        command, _, argument = entry["command"].partition(" ")
        address = f"{entry['client_address']}:{entry['client_port']}"
        if command.upper() == "PSUBSCRIBE" and address in waiting:
            subscribed.add(waiting[address])
        elif command.upper() in ("GET", "MGET"):
            for key in argument.split(" "):
                if key in subscribed:
                    subscribed.discard(key)
                    waiting = {a: k for a, k in waiting.items() if k != key}


@pytest.fixture(scope="module")
def served(
    url: str, raw: redis.Redis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[dict[str, Serve], RedisStore, str]]:
    """A threading and an ASGI server, each with an Engine.IO and a Socket.IO app on one
    prefix; one client per app stays connected throughout (its watcher stays subscribed).
    Yielded once each watcher has done the reload that follows its subscription, so a test's
    logout can only be seen by a notification."""
    root = tmp_path_factory.mktemp("watch-notify")
    target = RedisTarget("notify-e2e", url=url, raw=raw)
    names = {(mode, kind): f"{target.prefix}{mode}-{kind}" for mode in MODES for kind in KINDS}
    app = {"secret": SECRETS, "watch": WATCH}
    servers = {
        mode: Serve(
            {
                "mode": mode,
                "log_level": "INFO",
                "apps": {
                    PATH[kind]: {
                        "kind": kind,
                        "attach": app,
                        "store": target.node_store(
                            enable_notifications=True, client_name=names[mode, kind]
                        ),
                    }
                    for kind in KINDS
                },
            },
            root / f"serve-{mode}.log",
        )
        for mode in MODES
    }
    store = RedisStore(target.sync_client(), prefix=target.prefix)
    keepers: list[EngineIOClient | SocketIOClient] = []
    try:
        with ExitStack() as connected:
            with command_log(url) as monitor:
                subscribed: dict[str, str] = {}  # pub/sub connection address: keeper's key
                for (mode, kind), name in names.items():
                    session = saved_session(store, user="keeper")
                    cookie = cookie_pair(session.id)
                    keeper = client(kind, servers[mode].url, PATH[kind], "websocket", cookie=cookie)
                    keepers.append(connected.enter_context(keeper))
                    keepers[-1].session()
                    (pubsub,) = wait_for(lambda name=name: subscriptions(raw, name))
                    subscribed[pubsub["addr"]] = target.key(session.id)
                wait_for_reloads(monitor, subscribed)
            yield servers, store, target.prefix
            for keeper in keepers:  # nobody else's connection was closed
                assert "disconnect" not in keeper.inbox.kinds()
    finally:
        for server in servers.values():
            server.stop()
        store.close()
        target.close()


def notice_logout(
    servers: dict[str, Serve],
    raw: redis.Redis,
    prefix: str,
    mode: str,
    kind: str,
    store: RedisStore,
) -> tuple[str, float, Any]:
    """One logout on the Node side (connect-redis destroy: DEL) of a connected session:
    (its id, the seconds until the client saw its disconnect, the disconnect's reason)."""
    session = saved_session(store, user="logout")
    cookie = cookie_pair(session.id)
    with client(kind, servers[mode].url, PATH[kind], "websocket", cookie=cookie) as c:
        c.session()
        started = time.perf_counter()
        raw.delete(prefix + session.id)
        reason = c.inbox.expect("disconnect", timeout=WATCH - 1)
        return session.id, time.perf_counter() - started, reason


def notice_expiry(
    servers: dict[str, Serve],
    raw: redis.Redis,
    prefix: str,
    mode: str,
    kind: str,
    store: RedisStore,
) -> tuple[str, float]:
    """One expiry (a Redis TTL running out) of a connected session: (its id, the seconds
    from the expiry until the client saw its disconnect)."""
    session = saved_session(store, user="short")
    cookie = cookie_pair(session.id)
    ttl = 0.3
    with client(kind, servers[mode].url, PATH[kind], "websocket", cookie=cookie) as c:
        c.session()
        raw.pexpire(prefix + session.id, int(ttl * 1000))
        expires = time.perf_counter() + ttl
        c.inbox.expect("disconnect", timeout=WATCH - 1)
        return session.id, time.perf_counter() - expires


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_a_logout_closes_the_connection_at_once(
    served: tuple[dict[str, Serve], RedisStore, str], raw: redis.Redis, mode: str, kind: str
) -> None:
    """The Node app's logout (connect-redis destroy: DEL) closes the connection long before
    the periodic reload (watch=5) could; the server's log says a notification saw it."""
    servers, store, prefix = served
    ids = []
    for _ in range(TRIALS):
        session_id, _, reason = notice_logout(servers, raw, prefix, mode, kind, store)
        ids.append(session_id)
        if kind == "socketio" and reason:  # python-socketio >= 5.12 passes the reason
            import socketio

            assert reason[0] == socketio.Client.reason.SERVER_DISCONNECT, reason
    for session_id in ids:
        line = f"session {session_id[:6]}… is gone (seen by a keyspace notification)"
        wait_for(lambda line=line: line in servers[mode].logs())


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_an_expiry_closes_the_connection_at_once(
    served: tuple[dict[str, Serve], RedisStore, str], raw: redis.Redis, mode: str, kind: str
) -> None:
    servers, store, prefix = served
    session_id, _ = notice_expiry(servers, raw, prefix, mode, kind, store)
    line = f"session {session_id[:6]}… is gone (seen by a keyspace notification)"
    wait_for(lambda: line in servers[mode].logs())


#: the median notice time each path must beat, far below the periodic reload (watch=5 s):
#: a DEL's notification comes at once; a TTL's when Redis's expiry cycle (every 100 ms)
#: finds the key
MEDIAN_BOUND = {"logout": 0.1, "expiry": 0.5}


@pytest.mark.parametrize("mode", MODES)
def test_report_notice_times(
    served: tuple[dict[str, Serve], RedisStore, str], raw: redis.Redis, mode: str
) -> None:
    """The median notice times, for the README (run with -s to see them), measured here
    (TRIALS logouts and expiries each, Engine.IO over websocket), within MEDIAN_BOUND."""
    servers, store, prefix = served
    noticed = {
        "logout": [
            notice_logout(servers, raw, prefix, mode, "engineio", store)[1] for _ in range(TRIALS)
        ],
        "expiry": [
            notice_expiry(servers, raw, prefix, mode, "engineio", store)[1] for _ in range(TRIALS)
        ],
    }
    for what, times in noticed.items():
        median = statistics.median(times)
        print(
            f"\n{what} {mode}: median {median * 1000:.1f} ms, "
            f"max {max(times) * 1000:.1f} ms over {len(times)}"
        )
        assert 0 < median < MEDIAN_BOUND[what], (what, times)
        assert max(times) < WATCH - 1, (what, times)  # as each test's own wait already says
