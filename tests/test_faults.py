"""Faults that stay small: safe log lines, a bounded number of them, a store that goes
down and comes back, bounded work on big sessions.

- corrupt stored data never reaches the log: markers planted in every field a reason could
  quote are searched for in every captured line; lines are short;
- a store that fails 1,000 handshakes logs a handful of lines, each failure at most once;
- a Redis killed and restarted under a handshake load: once it answers PING no handshake
  fails; meanwhile handshakes answer in milliseconds (the breaker); a logout right after
  the restart closes its connection within one ``watch`` period;
- a session over ``max_session_bytes`` is refused without being decoded, and a big one
  under it is decoded off the event loop.
"""

from __future__ import annotations

import asyncio
import json
import logging
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import redis.asyncio

from engineio_session.errors import SessionTooLargeError
from engineio_session.session import Session
from engineio_session.stores import AsyncRedisStore, RedisStore
from tests.apps.harness import cookie_pair, saved_session, wait_for
from tests.apps.inprocess import AsyncFailing, Driver, Failing

from . import net, services

MARKER = "card=4111-1111-1111-1111"
COOKIE = {"originalMaxAge": 60_000, "expires": "2099-01-01T00:00:00.000Z", "path": "/"}


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


# --- what a log line may hold -------------------------------------------------------------------

CORRUPT = {
    "expires-holds-data": json.dumps({"cookie": {**COOKIE, "expires": MARKER}, "user": MARKER}),
    "expires-is-a-list": json.dumps({"cookie": {**COOKIE, "expires": [MARKER]}}),
    "max-age-holds-data": json.dumps({"cookie": {**COOKIE, "originalMaxAge": MARKER}}),
    "cookie-is-a-string": json.dumps({"cookie": MARKER, "user": MARKER}),
    "no-cookie": json.dumps({"user": MARKER}),
    "not-json": "{" + MARKER,
    "not-an-object": json.dumps([MARKER]),
    "megabytes": json.dumps({"cookie": COOKIE, "blob": MARKER * 100_000}),
}


def test_corrupt_data_never_reaches_the_log(
    tmp_path: Path, is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    driver = Driver(is_async, "engineio", tmp_path / "sessions")
    try:
        with caplog.at_level(logging.DEBUG, "engineio_session"):
            for name, content in CORRUPT.items():
                (tmp_path / "sessions" / f"{name}.json").write_text(content)
                response = driver.handshake(cookie_pair(name))
                assert response.status == 200, name  # admitted without a session
                assert driver.handle.get(response.sid) is None
        lines = [record.getMessage() for record in caplog.records]
        assert lines, "the first failure is logged"
        for line in lines:
            assert MARKER not in line and "4111" not in line, line
            assert len(line) < 600, line
    finally:
        driver.close()


def test_reasons_name_the_field_and_its_kind(caplog: pytest.LogCaptureFixture) -> None:
    """Each corrupt case, read from Redis, raises a reason that says what was wrong."""
    client = redis.Redis.from_url(services.redis_url())
    prefix = f"faults:{time.monotonic_ns()}:"
    store = RedisStore(client, prefix=prefix)
    expected = {
        "expires-holds-data": "cookie.expires is a string of 24 characters that is not a date",
        "expires-is-a-list": "cookie.expires is an array, not a date string",
        "max-age-holds-data": "cookie.originalMaxAge is a string of 24 characters, not a number",
        "cookie-is-a-string": "the cookie is a str, not an object",
        "no-cookie": "the stored session has no cookie",
        "not-json": "not JSON (Expecting property name enclosed in double quotes at character 1)",
        "not-an-object": "the stored session is a list, not an object",
        "megabytes": "over max_session_bytes (1,048,576): not read",
    }
    try:
        for name, content in CORRUPT.items():
            client.set(prefix + name, content)
            with pytest.raises(Exception) as caught:
                store.get(name)
            assert expected[name] in str(caught.value), (name, str(caught.value))
            assert MARKER not in str(caught.value)
        # a store raises; it logs nothing itself (another test's client thread may log)
        assert [r for r in caplog.records if r.name.startswith("engineio_session")] == []
    finally:
        client.delete(*[prefix + name for name in CORRUPT])
        store.close()
        client.close()


def test_an_outage_of_1000_handshakes_logs_a_few_lines(
    tmp_path: Path, is_async: bool, caplog: pytest.LogCaptureFixture
) -> None:
    store = AsyncFailing() if is_async else Failing()
    driver = Driver(is_async, "engineio", tmp_path / "sessions", store=store)
    try:
        with caplog.at_level(logging.INFO, "engineio_session"):
            driver.handshake(cookie_pair("first"))
            assert len(caplog.records) == 1  # the first failure: once, not twice
            for n in range(999):
                assert driver.handshake(cookie_pair(f"s{n}")).status == 200
        warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
        assert 1 <= len(warnings) <= 3, [r.getMessage() for r in warnings]
        # the store known down: one call at a time goes to it, the rest fail at once
        assert len(store.calls) <= 1000
    finally:
        driver.close()
    print(
        f"\n1,000 failing handshakes: {len(warnings)} log line(s), {len(store.calls)} store calls"
    )


# --- a Redis that goes down and comes back ------------------------------------------------------


class PrivateRedis:
    """A redis-server of this test's own, persisting every write (appendfsync always), so it
    can be killed (SIGKILL) and started again on the same port with its data."""

    def __init__(self, directory: Path) -> None:
        if shutil.which("redis-server") is None:
            services.require_service("redis-server", "not installed")
        self.directory = directory
        self.port = net.free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--dir",
                str(self.directory),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(self.answers, timeout=10)

    def answers(self) -> bool:
        try:
            return services.redis_command(self.port, "PING", timeout=0.2) == "PONG"
        except OSError:
            return False

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill()


@pytest.fixture
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def _store(is_async: bool, url: str, construction: str) -> Any:
    if is_async:
        client: Any = (
            redis.asyncio.Redis.from_url(url)
            if construction == "from_url"
            else redis.asyncio.Redis(host="127.0.0.1", port=int(url.split(":")[2].split("/")[0]))
        )
        return AsyncRedisStore(client)
    client = (
        redis.Redis.from_url(url)
        if construction == "from_url"
        else redis.Redis(host="127.0.0.1", port=int(url.split(":")[2].split("/")[0]))
    )
    return RedisStore(client)


@pytest.mark.parametrize("construction", ["from_url", "host_port"])
def test_a_redis_restart_under_load(
    private_redis: PrivateRedis, tmp_path: Path, is_async: bool, construction: str
) -> None:
    """Handshakes (required=True: a 401 is a failure) run from 4 threads while Redis is
    killed and started again: none fails once it answers PING; during the outage each is
    answered in milliseconds."""
    files = RedisStore(redis.Redis.from_url(private_redis.url))
    cookies = [cookie_pair(saved_session(files, n=n).id) for n in range(20)]
    files.close()
    store = _store(is_async, private_redis.url, construction)
    driver = Driver(is_async, "engineio", tmp_path / "unused", store=store, required=True)
    results: list[tuple[float, float, int]] = []  # (start, end, status)
    running = threading.Event()
    running.set()

    def load(offset: int) -> None:
        n = offset
        while running.is_set():
            began = time.monotonic()
            status = driver.handshake(cookies[n % len(cookies)]).status
            results.append((began, time.monotonic(), status))
            n += 1

    threads = [threading.Thread(target=load, args=(i,)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        wait_for(lambda: len(results) > 50)
        private_redis.kill()
        down = time.monotonic()
        time.sleep(1.5)
        private_redis.start()  # returns once it answers PING
        up = time.monotonic()
        time.sleep(1.5)
        running.clear()
        for thread in threads:
            thread.join()
    finally:
        running.clear()
        if isinstance(store, AsyncRedisStore):
            driver.run(store.aclose())
            driver.run(store.client.aclose())
        else:
            store.close()
        driver.close()
    after = [status for began, _, status in results if began >= up]
    during = [end - began for began, end, _ in results if down + 0.1 < began < up - 0.1]
    assert after and all(status == 200 for status in after), after.count(401)
    assert during, "handshakes went on during the outage"
    during.sort()
    median = during[len(during) // 2]
    assert median < 0.1, median
    print(
        f"\n{'async' if is_async else 'sync'} {construction}: {len(during)} handshakes during "
        f"the outage, median {median * 1000:.1f} ms, max {during[-1] * 1000:.1f} ms; "
        f"{len(after)} after the restart, all with their session"
    )


def test_a_hung_redis_answers_handshakes_in_milliseconds(
    black_hole: int, tmp_path: Path, is_async: bool
) -> None:
    """A Redis that accepts connections and never answers: the first handshake waits the
    store's timeout, then (the breaker open) the others are answered at once while one
    call at a time probes it."""
    url = f"redis://127.0.0.1:{black_hole}/0"
    if is_async:
        store: Any = AsyncRedisStore(redis.asyncio.Redis.from_url(url), timeout=0.5)
    else:
        store = RedisStore(redis.Redis.from_url(url), timeout=0.5)
    driver = Driver(is_async, "engineio", tmp_path / "unused", store=store)
    times: list[float] = []
    running = threading.Event()
    running.set()

    def load(n: int) -> None:
        while running.is_set():
            began = time.monotonic()
            assert driver.handshake(cookie_pair(f"s{n}")).status == 200
            times.append(time.monotonic() - began)

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    try:
        for thread in threads:
            thread.start()
        time.sleep(2.0)
        running.clear()
        for thread in threads:
            thread.join()
    finally:
        if isinstance(store, AsyncRedisStore):
            driver.run(store.aclose())
            driver.run(store.client.aclose())
        else:
            store.close()
        driver.close()
    times.sort()
    median = times[len(times) // 2]
    slow = sum(1 for t in times if t >= 0.4)
    # waiting: the 4 calls in flight when it hung, then about one probe per timeout
    assert median < 0.05 and slow <= 4 * (1 + 2.0 / 0.5), (median, slow, len(times))
    print(
        f"\nhung Redis: {len(times)} handshakes in 2 s, median {median * 1000:.1f} ms, "
        f"{slow} waited the 0.5 s timeout"
    )


def test_a_logout_right_after_a_restart_is_noticed_within_one_watch_period(
    private_redis: PrivateRedis, tmp_path: Path, is_async: bool
) -> None:
    raw = redis.Redis.from_url(private_redis.url)
    seed = RedisStore(raw)
    session = saved_session(seed, user="ada")
    watch = 1.0
    store = _store(is_async, private_redis.url, "from_url")
    store.enable_notifications = True
    driver = Driver(is_async, "engineio", tmp_path / "unused", store=store, watch=watch)
    try:
        sid = driver.handshake(cookie_pair(session.id)).sid
        wait_for(lambda: driver.handle._watching)
        time.sleep(0.3)
        private_redis.kill()
        time.sleep(1.0)
        private_redis.start()
        raw.delete("sess:" + session.id)  # the Node app's logout, at once
        logged_out = time.monotonic()
        wait_for(lambda: sid not in driver.handle._sessions, timeout=watch + 1.0)
        print(f"\nnoticed {time.monotonic() - logged_out:.2f} s after the logout (watch={watch})")
    finally:
        if isinstance(store, AsyncRedisStore):
            driver.run(store.aclose())
            driver.run(store.client.aclose())
        else:
            store.close()
        driver.close()
        seed.close()
        raw.close()


# --- bounded work -------------------------------------------------------------------------------


def test_a_big_session_is_refused_before_decoding_and_a_large_one_decoded_off_the_loop(
    redis_url: str,
) -> None:
    prefix = f"faults-big:{time.monotonic_ns()}:"
    raw = redis.Redis.from_url(redis_url)
    big = {"cookie": COOKIE, "blob": "x" * 2_000_000}
    large = {"cookie": COOKIE, "items": list(range(40_000))}  # ~250 KB: decoded in a thread
    raw.set(prefix + "big", json.dumps(big))
    raw.set(prefix + "large", json.dumps(large))

    async def main() -> tuple[Any, int]:
        client = redis.asyncio.Redis.from_url(redis_url)
        store = AsyncRedisStore(client, prefix=prefix)
        with pytest.raises(SessionTooLargeError):
            await store.get("big")
        ticks = 0
        stop = False

        async def ticker() -> None:
            nonlocal ticks
            while not stop:
                ticks += 1
                await asyncio.sleep(0)

        task = asyncio.create_task(ticker())
        session = await store.get("large")
        stop = True
        await task
        await store.aclose()
        await client.aclose()
        return session, ticks

    try:
        session, ticks = asyncio.run(main())
        assert isinstance(session, Session) and len(session["items"]) == 40_000
        assert ticks > 1  # the loop ran other tasks while it was decoded
    finally:
        raw.delete(prefix + "big", prefix + "large")
        raw.close()
