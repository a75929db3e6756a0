"""Reading sessions from Redis: ``RedisStore.get`` / ``AsyncRedisStore.get`` beside connect-redis.

The same 1,000 realistic sessions (an express-session cookie, a passport user and a few
fields, about 400 bytes of JSON each) are written to Redis once, under a bench prefix.
Python reads them one after another, sync and async (each ``await`` finished before the
next), and Node reads the same keys with connect-redis 10 on a node-redis 5 client
(``node-fixtures/bench-redis.js``), in the same run. A read is a GET plus the decoding each
side does: ``JSON.parse`` in Node; JSON, the ``Session`` model and its expiry check here.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from engineio_session.live import AsyncLiveSession, LiveSession
from engineio_session.session import Session
from engineio_session.stores import AsyncRedisStore, RedisStore
from tests import services
from tests.node import run_json

from .conftest import record

COUNT = 1000


def make_session(n: int) -> Session:
    session = Session.new(max_age=86_400_000, same_site="lax")
    session["passport"] = {"user": f"{100_000 + n}"}
    session["user"] = {
        "id": 100_000 + n,
        "name": f"User Number {n}",
        "email": f"user{n}@example.com",
        "roles": ["member", "beta"] if n % 3 else ["member"],
        "locale": "en-US",
    }
    session["csrfSecret"] = "q9Vh3kS1-xYp0LwZ" + f"{n:08d}"
    session["flash"] = {}
    session["lastSeen"] = 1_780_000_000_000 + n
    session["cart"] = [{"sku": f"SKU-{n % 97}", "qty": 1 + n % 3, "price": 19.99}]
    return session


@pytest.fixture(scope="module")
def sessions() -> Iterator[tuple[str, str, list[str]]]:
    """(url, prefix, sids): the 1,000 sessions, in Redis for the module, removed after."""
    url = services.redis_url()
    prefix = f"bench:{uuid.uuid4().hex[:8]}:"
    client = redis.Redis.from_url(url)
    store = RedisStore(client, prefix=prefix)
    sids = []
    for n in range(COUNT):
        session = make_session(n)
        store.set(session.id, session)
        sids.append(session.id)
    size = sum(len(client.get(prefix + sid) or b"") for sid in sids) / COUNT
    assert 300 < size < 600, size
    yield url, prefix, sids
    client.delete(*(prefix + sid for sid in sids))
    store.close()
    client.close()


@pytest.fixture(scope="module")
def node_times(sessions: tuple[str, str, list[str]]) -> dict[str, Any]:
    url, prefix, sids = sessions
    times: dict[str, Any] = run_json(
        "bench-redis.js", {"url": url, "prefix": prefix, "sids": sids}, timeout=300
    )
    return times


Reader = tuple[Callable[[], int], Callable[[], None]]  # (read them all: how many found, close)


def sync_reader(url: str, prefix: str, keys: list[Any], through_store: bool) -> Reader:
    client = redis.Redis.from_url(url)
    store = RedisStore(client, prefix=prefix) if through_store else None
    get = store.get if store is not None else client.get

    def close() -> None:
        if store is not None:
            store.close()
        client.close()

    return (lambda: sum(1 for key in keys if get(key) is not None)), close


def async_reader(url: str, prefix: str, keys: list[Any], through_store: bool) -> Reader:
    """Each ``await`` finished before the next."""
    loop = asyncio.new_event_loop()
    client = redis.asyncio.Redis.from_url(url)
    get = AsyncRedisStore(client, prefix=prefix).get if through_store else client.get

    async def read_all() -> int:
        found = 0
        for key in keys:
            if await get(key) is not None:
                found += 1
        return found

    def close() -> None:
        loop.run_until_complete(client.aclose())
        loop.close()

    return (lambda: loop.run_until_complete(read_all())), close


# (awaited, through the store): the table row, and Node's time beside it. The stores decode
# (JSON, the Session model, its expiry check); the client's GET alone is the floor under them
ROWS = {
    (False, True): ("RedisStore.get (sync) vs connect-redis get", "get_us"),
    (True, True): ("AsyncRedisStore.get (awaited in turn) vs connect-redis get", "get_us"),
    (False, False): ("client GET alone: redis-py vs node-redis", "client_get_us"),
    (True, False): ("client GET alone: redis.asyncio vs node-redis", "client_get_us"),
}


@pytest.mark.parametrize(
    ("awaited", "through_store"),
    list(ROWS),
    ids=["store-sync", "store-async", "client-sync", "client-async"],
)
def test_redis_get(
    awaited: bool,
    through_store: bool,
    benchmark: Any,
    sessions: tuple[str, str, list[str]],
    node_times: dict[str, Any],
) -> None:
    row, node_key = ROWS[awaited, through_store]
    url, prefix, sids = sessions
    keys: list[Any] = sids if through_store else [(prefix + sid).encode() for sid in sids]
    run, close = (async_reader if awaited else sync_reader)(url, prefix, keys, through_store)
    try:
        assert benchmark.pedantic(run, rounds=10, warmup_rounds=2) == COUNT
        record(row, benchmark, COUNT, node_times[node_key])
    finally:
        close()


@pytest.mark.parametrize("replace", [False, True], ids=["merge", "replace"])
@pytest.mark.parametrize("awaited", [False, True], ids=["sync", "async"])
def test_redis_save(
    replace: bool,
    awaited: bool,
    benchmark: Any,
    sessions: tuple[str, str, list[str]],
    node_times: dict[str, Any],
) -> None:
    """What a save costs: ``save()`` sends this side's changes (one EVAL of the
    compare-and-set script onto what was loaded; a GET and another EVAL only where the key
    changed meanwhile, never here), ``save(replace=True)`` the whole session (``SET ...
    XX``), beside connect-redis's ``set`` (the whole session, as express-session saves)."""
    url, prefix, sids = sessions
    kind = "async" if awaited else "sync"
    how = "save(replace=True): SET XX" if replace else "save(): compare-and-set"
    row = f"{kind} {how} vs connect-redis set"
    if awaited:
        loop = asyncio.new_event_loop()
        client: Any = redis.asyncio.Redis.from_url(url)
        store: Any = AsyncRedisStore(client, prefix=prefix)
        lives = [AsyncLiveSession(loop.run_until_complete(store.get(sid)), store) for sid in sids]

        async def save_all() -> int:
            for n, live in enumerate(lives):
                live["lastSeen"] = n + 1
                await live.save(replace=replace)
            return len(lives)

        def run() -> int:
            return loop.run_until_complete(save_all())

        def close() -> None:
            loop.run_until_complete(store.aclose())
            loop.run_until_complete(client.aclose())
            loop.close()
    else:
        client = redis.Redis.from_url(url)
        store = RedisStore(client, prefix=prefix)
        sync_lives = [LiveSession(store.get(sid), store) for sid in sids]

        def run() -> int:
            for n, live in enumerate(sync_lives):
                live["lastSeen"] = n + 1
                live.save(replace=replace)
            return len(sync_lives)

        def close() -> None:
            store.close()
            client.close()

    try:
        assert benchmark.pedantic(run, rounds=10, warmup_rounds=2) == COUNT
        record(row, benchmark, COUNT, node_times["set_us"])
    finally:
        close()
