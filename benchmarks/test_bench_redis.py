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
import json
import subprocess
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from engineio_session.session import Session
from engineio_session.stores import AsyncRedisStore, RedisStore
from tests import services
from tests.node import FIXTURES, require_node

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
def node_times(
    sessions: tuple[str, str, list[str]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    node = require_node()
    url, prefix, sids = sessions
    data = tmp_path_factory.mktemp("bench") / "sessions.json"
    data.write_text(json.dumps({"url": url, "prefix": prefix, "sids": sids}))
    out = subprocess.run(
        [node, "bench-redis.js", str(data)],
        cwd=FIXTURES,
        check=True,
        capture_output=True,
        text=True,
    )
    times: dict[str, Any] = json.loads(out.stdout)
    return times


def test_redis_get_sync(
    benchmark: Any, sessions: tuple[str, str, list[str]], node_times: dict[str, Any]
) -> None:
    url, prefix, sids = sessions
    store = RedisStore(redis.Redis.from_url(url), prefix=prefix)

    def run() -> int:
        return sum(1 for sid in sids if store.get(sid) is not None)

    assert benchmark.pedantic(run, rounds=10, warmup_rounds=2) == COUNT
    record("RedisStore.get (sync) vs connect-redis get", benchmark, COUNT, node_times["get_us"])
    store.close()


def test_redis_get_async(
    benchmark: Any, sessions: tuple[str, str, list[str]], node_times: dict[str, Any]
) -> None:
    url, prefix, sids = sessions
    loop = asyncio.new_event_loop()
    client = redis.asyncio.Redis.from_url(url)
    store = AsyncRedisStore(client, prefix=prefix)

    async def read_all() -> int:
        found = 0
        for sid in sids:
            if await store.get(sid) is not None:
                found += 1
        return found

    def run() -> int:
        return loop.run_until_complete(read_all())

    assert benchmark.pedantic(run, rounds=10, warmup_rounds=2) == COUNT
    record(
        "AsyncRedisStore.get (awaited in turn) vs connect-redis get",
        benchmark,
        COUNT,
        node_times["get_us"],
    )
    loop.run_until_complete(client.aclose())
    loop.close()


def test_redis_client_get_alone(
    benchmark: Any, sessions: tuple[str, str, list[str]], node_times: dict[str, Any]
) -> None:
    """The floor under both: redis-py's sync GET beside node-redis's, no decoding."""
    url, prefix, sids = sessions
    client = redis.Redis.from_url(url)
    keys = [(prefix + sid).encode() for sid in sids]

    def run() -> int:
        return sum(1 for key in keys if client.get(key))

    assert benchmark.pedantic(run, rounds=10, warmup_rounds=2) == COUNT
    record(
        "client GET alone: redis-py vs node-redis", benchmark, COUNT, node_times["client_get_us"]
    )
    client.close()


def test_redis_async_client_get_alone(
    benchmark: Any, sessions: tuple[str, str, list[str]], node_times: dict[str, Any]
) -> None:
    """The floor under the async store: redis.asyncio's GET, awaited in turn."""
    url, prefix, sids = sessions
    loop = asyncio.new_event_loop()
    client = redis.asyncio.Redis.from_url(url)
    keys = [(prefix + sid).encode() for sid in sids]

    async def read_all() -> int:
        found = 0
        for key in keys:
            if await client.get(key):
                found += 1
        return found

    def run() -> int:
        return loop.run_until_complete(read_all())

    assert benchmark.pedantic(run, rounds=10, warmup_rounds=2) == COUNT
    record(
        "client GET alone: redis.asyncio vs node-redis",
        benchmark,
        COUNT,
        node_times["client_get_us"],
    )
    loop.run_until_complete(client.aclose())
    loop.close()
