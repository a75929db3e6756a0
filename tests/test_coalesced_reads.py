"""Coalesced reads: the handshakes of one event-loop tick share one MGET, and each still gets
its own session, never one destroyed before it began (src/engineio_session/stores/
batch.py), against real Redis and a real Express app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio

from engineio_session import get_session_id
from engineio_session.errors import StoreError
from engineio_session.stores import AsyncRedisStore
from tests.apps.inprocess import Driver

from .node_session import NodeSessionServer
from .redis_target import RedisTarget

SECRETS = ["coalesce secret"]


@pytest.fixture(params=["single", "cluster"])
def target(request: pytest.FixtureRequest) -> Iterator[RedisTarget]:
    made = RedisTarget.of(request, str(request.param), "coalesce")
    yield made
    made.close()


def counted(store: AsyncRedisStore) -> list[list[bytes]]:
    """Record the keys of each MGET the store sends (before its first read: the batch takes
    both of the store's ways to read when it is made)."""
    calls: list[list[bytes]] = []
    real, real_start = store._mget, store._start_mget

    async def mget(keys: list[bytes]) -> list[Any]:
        calls.append(list(keys))
        return await real(keys)

    def start(keys: list[bytes]) -> Any:
        started = real_start(keys)
        if started is not None:  # else the batch awaits _mget: counted there
            calls.append(list(keys))
        return started

    store._mget = mget  # type: ignore[method-assign]
    store._start_mget = start  # type: ignore[method-assign]
    return calls


def test_one_mget_a_tick_each_reader_its_own_session(target: RedisTarget) -> None:
    from engineio_session.stores import RedisStore
    from tests.apps.harness import saved_session

    seed = RedisStore(target.sync_client(), prefix=target.prefix)
    kept = [saved_session(seed, n=n) for n in range(20)]
    gone = [saved_session(seed, n=100 + n) for n in range(5)]
    for session in gone:
        target.raw.delete(target.key(session.id))  # destroyed before the reads begin
    seed.close()

    async def main() -> tuple[list[Any], list[list[bytes]]]:
        client = (
            redis.asyncio.Redis.from_url(target.url)
            if target.cluster is None
            else target.async_client()
        )
        store = AsyncRedisStore(client, prefix=target.prefix)
        calls = counted(store)
        ids = [s.id for s in kept] + [s.id for s in gone] + [kept[0].id]
        found = await asyncio.gather(*(store.get(sid) for sid in ids))
        await store.aclose()
        await client.aclose()
        return list(zip(ids, found, strict=True)), calls

    results, calls = asyncio.run(main())
    assert len(calls) == 1 and len(calls[0]) == 25  # one MGET, each key once
    gone_ids = {s.id for s in gone}
    for sid, session in results:
        if sid in gone_ids:
            assert session is None
        else:
            assert session is not None and session.id == sid
    first, last = results[0][1], results[-1][1]
    assert first is not last and first == last  # the same key twice: two objects


def test_a_failed_mget_fails_each_reader(closed_port: int) -> None:
    async def main() -> list[Any]:
        client = redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{closed_port}")
        store = AsyncRedisStore(client)
        found = await asyncio.gather(
            *(store.get(f"s{n}") for n in range(3)), return_exceptions=True
        )
        await client.aclose()
        return found

    assert all(isinstance(error, StoreError) for error in asyncio.run(main()))


def test_two_handshakes_in_one_tick_one_logged_out_on_node(
    target: RedisTarget, tmp_path: Path
) -> None:
    config = {"store": target.node_store(), "session": {"secret": SECRETS}}
    with NodeSessionServer(config) as node:
        cookies = [node.login({"user": "ada"}), node.login({"user": "bob"})]
        sids = [get_session_id(c, secrets=SECRETS) for c in cookies]
        node.request("POST", "/logout", cookie=cookies[1])  # bob logs out a moment before
        store = AsyncRedisStore(target.async_client(), prefix=target.prefix)
        calls = counted(store)
        driver = Driver(True, "engineio", tmp_path / "unused", store=store, secret=SECRETS)
        try:

            async def both() -> list[Any]:
                return list(
                    await asyncio.gather(
                        *(
                            driver._asgi("GET", "EIO=4&transport=polling", {"Cookie": c}, b"")
                            for c in cookies
                        )
                    )
                )

            responses = driver.run(both())
            assert [r.status for r in responses] == [200, 200]
            ada, bob = (driver.handle.get(r.sid) for r in responses)
            assert ada is not None and ada.id == sids[0] and ada["user"] == "ada"
            assert bob is None
            assert len(calls) == 1 and len(calls[0]) == 2  # both reads in one MGET
        finally:
            driver.run(store.aclose())
            driver.run(store.client.aclose())
            driver.close()


def test_a_batch_its_loop_never_sent_does_not_hold_the_next_loops_reads() -> None:
    from engineio_session.stores.batch import ReadBatch

    sent: list[list[Any]] = []

    async def fetch(keys: list[Any]) -> list[Any]:
        sent.append(keys)
        return [f"value of {key}" for key in keys]

    batch = ReadBatch(fetch, lambda error: error, timeout=2)
    first = asyncio.new_event_loop()

    async def ask_and_leave() -> Any:
        return batch.get("a")  # asked, never awaited; the loop stops before its next turn

    first.run_until_complete(ask_and_leave())
    # the read the first loop left pending is cancelled before the loop is closed (else
    # its coroutine, never started, warns when it is collected, in whatever test runs then)
    left = asyncio.all_tasks(first)
    for task in left:
        task.cancel()
    first.run_until_complete(asyncio.gather(*left, return_exceptions=True))
    first.close()

    async def ask(key: str) -> Any:
        return await asyncio.wait_for(batch.get(key), 2)

    assert asyncio.run(ask("b")) == "value of b"
    assert sent[-1] == ["b"]


def test_loops_running_in_two_threads_each_batch_their_own_reads() -> None:
    """The batch finds the running loop without asking asyncio (its last loop, running in
    this thread): two loops in two threads at once still never share a batch."""
    import threading

    from engineio_session.stores.batch import ReadBatch

    sent: list[tuple[int, list[Any]]] = []

    async def fetch(keys: list[Any]) -> list[Any]:
        sent.append((threading.get_ident(), keys))
        await asyncio.sleep(0.001)
        return [f"{key} in {threading.get_ident()}" for key in keys]

    batch = ReadBatch(fetch, lambda error: error, timeout=2)
    answers: dict[int, list[Any]] = {}

    async def reads(name: str) -> list[Any]:
        got: list[Any] = []
        for turn in range(30):
            keys = [f"{name}{turn}-{n}" for n in range(3)]
            got += await asyncio.gather(*(batch.get(key) for key in keys))
        return got

    def run(name: str) -> None:
        answers[threading.get_ident()] = asyncio.run(reads(name))

    threads = [threading.Thread(target=run, args=(name,)) for name in "ab"]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(answers) == 2
    for ident, got in answers.items():
        assert len(got) == 90 and all(value.endswith(f" in {ident}") for value in got)
    for _, keys in sent:  # each batch holds the keys of its own thread's loop only
        assert len({key[0] for key in keys}) == 1


def test_started_reads_each_time_out_at_their_own_deadline_under_one_timer() -> None:
    from engineio_session.stores.batch import ReadBatch

    started: list[tuple[list[Any], asyncio.Future[list[Any]]]] = []

    def start(keys: list[Any]) -> asyncio.Future[list[Any]]:
        future: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        started.append((keys, future))
        return future

    async def fetch(keys: list[Any]) -> list[Any]:
        raise AssertionError("every read here is started, none fetched")

    batch = ReadBatch(fetch, lambda error: error, timeout=0.3, start=start)

    async def main() -> tuple[list[Any], dict[str, float], int, int]:
        loop = asyncio.get_running_loop()
        began = loop.time()
        ended: dict[str, float] = {}

        async def read(key: str) -> Any:
            try:
                return await batch.get(key)
            except TimeoutError:
                return "timed out"
            finally:
                ended[key] = loop.time() - began

        first = asyncio.ensure_future(read("a"))  # never answered
        await asyncio.sleep(0.1)
        second = asyncio.ensure_future(read("b"))  # answered at once
        while len(started) < 2:
            await asyncio.sleep(0)
        started[1][1].set_result(["value of b"])
        await asyncio.sleep(0.05)
        third = asyncio.ensure_future(read("c"))  # never answered
        while len(started) < 3:
            await asyncio.sleep(0)
        timers = sum(1 for timer in loop._scheduled if not timer.cancelled())  # type: ignore[attr-defined]
        results = list(await asyncio.gather(first, second, third))
        return results, ended, timers, len(batch._deadlines)

    results, ended, timers, left = asyncio.run(main())
    assert [keys for keys, _ in started] == [["a"], ["b"], ["c"]]
    assert results == ["timed out", "value of b", "timed out"]
    # "b" first, then "a" at its deadline, then "c" at its own, later one
    assert ended["b"] < ended["a"] < ended["c"] and ended["a"] >= 0.3 and ended["c"] >= 0.45
    assert timers == 1 and left == 0  # one timer for three reads in flight; nothing kept
