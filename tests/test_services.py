"""The service harness itself: every service answers, and the Redis Cluster really shards.

On redis-py's ``RedisCluster.scan_iter`` (checked against redis-py 8.1's source and run here
on a real three-master cluster): SCAN carries the PRIMARIES node flag, so
``scan_iter(match=...)`` sends ``SCAN 0`` to every primary and then follows each primary's
own cursor until it is 0. It does find the keys of every master; it never asks a replica.
Code that wants one node at a time scans each primary itself: ``client.get_primaries()``
and ``client.scan(cursor, match=..., target_nodes=node)``, which answers
``({node.name: next_cursor}, keys)``; ``test_cluster_scan_each_primary`` shows the loop.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import redis
import redis.asyncio.cluster
import redis.cluster

from . import services
from .services import MySQLParams, RedisCluster


def test_require_service_fails_under_ci_and_skips_elsewhere(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(services, "IN_CI", True)
    with pytest.raises(pytest.fail.Exception, match="CI=true and Redis is unavailable: down"):
        services.require_service("Redis", "down")
    monkeypatch.setattr(services, "IN_CI", False)
    with pytest.raises(pytest.skip.Exception, match="Redis is unavailable: down"):
        services.require_service("Redis", "down")


def test_redis_answers_ping(redis_url: str) -> None:
    client = redis.Redis.from_url(redis_url)
    try:
        assert client.ping() is True
    finally:
        client.close()


def keys_on_every_primary(client: redis.cluster.RedisCluster, prefix: str) -> dict[str, str]:
    """One key per primary: {key: name of the primary that owns its slot}."""
    owners: dict[str, str] = {}
    for n in range(1000):
        key = f"{prefix}{n}"
        owner = client.get_node_from_key(key).name
        if owner not in owners.values():
            owners[key] = owner
        if len(owners) == RedisCluster.MASTERS:
            return owners
    raise AssertionError(f"no key of {prefix!r} lands on every primary")


@pytest.fixture
def client(redis_cluster: RedisCluster) -> Iterator[redis.cluster.RedisCluster]:
    """A sync client of the session's cluster (strings, not bytes), closed at the end."""
    made = redis.cluster.RedisCluster(
        startup_nodes=redis_cluster.startup_nodes, decode_responses=True
    )
    yield made
    made.close()


def test_cluster_has_three_masters(
    redis_cluster: RedisCluster, client: redis.cluster.RedisCluster
) -> None:
    primaries = {(node.host, node.port) for node in client.get_primaries()}
    assert primaries == set(redis_cluster.nodes)
    assert len(primaries) == 3


def test_cluster_set_get_on_every_slot_owner(client: redis.cluster.RedisCluster) -> None:
    prefix = f"harness:{uuid.uuid4().hex}:"
    owners = keys_on_every_primary(client, prefix)
    for key in owners:
        assert client.set(key, f"value of {key}", ex=60) is True
    for key, owner in owners.items():
        assert client.get(key) == f"value of {key}"
        # the key really lives on that master, not behind a redirect
        host, port = owner.rsplit(":", 1)
        node = redis.Redis(host=host, port=int(port), decode_responses=True)
        try:
            assert node.get(key) == f"value of {key}"
        finally:
            node.close()
    assert len({client.keyslot(key) for key in owners}) == 3


def fill(client: redis.cluster.RedisCluster, prefix: str, count: int = 300) -> set[str]:
    keys = {f"{prefix}{n}" for n in range(count)}
    client.mset_nonatomic(dict.fromkeys(keys, "x"))
    return keys


def test_cluster_scan_iter_finds_keys_of_every_master(client: redis.cluster.RedisCluster) -> None:
    prefix = f"scan:{uuid.uuid4().hex}:"
    keys = fill(client, prefix)
    owners = {client.get_node_from_key(key).name for key in keys}
    assert len(owners) == 3
    # count=10 makes every primary answer in several rounds, so the cursors are followed
    assert set(client.scan_iter(match=prefix + "*", count=10)) == keys


def test_cluster_scan_each_primary(client: redis.cluster.RedisCluster) -> None:
    prefix = f"scan:{uuid.uuid4().hex}:"
    keys = fill(client, prefix)
    found: dict[str, set[str]] = {}
    for node in client.get_primaries():
        cursor, found[node.name] = 0, set()
        while True:
            cursors, batch = client.scan(cursor, match=prefix + "*", count=10, target_nodes=node)
            found[node.name].update(batch)
            cursor = cursors[node.name]
            if cursor == 0:
                break
    assert all(found.values()), "every primary holds some of the keys"
    assert set().union(*found.values()) == keys
    for name, on_node in found.items():
        assert {client.get_node_from_key(key).name for key in on_node} == {name}


def test_async_cluster_set_get_and_scan_iter(redis_cluster: RedisCluster) -> None:
    prefix = f"async:{uuid.uuid4().hex}:"
    keys = {f"{prefix}{n}" for n in range(300)}

    async def main() -> None:
        client = redis.asyncio.cluster.RedisCluster(
            startup_nodes=redis_cluster.async_startup_nodes, decode_responses=True
        )
        try:
            for key in keys:
                await client.set(key, key, ex=60)
            assert {client.get_node_from_key(key).name for key in keys} == {
                node.name for node in client.get_primaries()
            }
            for key in sorted(keys)[:10]:
                assert await client.get(key) == key
            found = {key async for key in client.scan_iter(match=prefix + "*", count=10)}
            assert found == keys
        finally:
            await client.aclose()

    asyncio.run(main())


def test_cluster_stop_ends_the_servers_and_removes_their_dirs() -> None:
    cluster = RedisCluster()
    with cluster:
        processes, dirs = list(cluster._processes), list(cluster._dirs)
        assert all(process.poll() is None for process in processes)
        assert all(Path(directory, "nodes.conf").exists() for directory in dirs)
        port = cluster.nodes[0][1]
    assert all(process.poll() is not None for process in processes)
    assert not any(directory.exists() for directory in dirs)
    assert cluster.nodes == []
    with pytest.raises(OSError):
        services.redis_command(port, "PING", timeout=0.5)
    cluster.stop()  # a second stop is harmless


# The harness logs in over each server's wire protocol (no driver needed); the stores for
# PostgreSQL and MySQL, and the driver round trips with them, come with those stores. Its
# checks dial fixed ports; ``dial`` sends that one dial elsewhere, to a real socket, to show
# that a check fails (fails the test under CI) unless the right server answers there.


@pytest.fixture
def dial(monkeypatch: pytest.MonkeyPatch) -> Callable[[int, int], None]:
    """``dial(port, instead)``: the checks in tests/services.py connect to ``instead`` when they
    mean ``port``, as under CI (a failure, not a skip), and wait 0.3 s for an answer."""
    monkeypatch.setattr(services, "IN_CI", True)
    monkeypatch.setattr(services, "TIMEOUT", 0.3)

    def redirect(port: int, instead: int) -> None:
        def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> Any:
            host, wanted = address
            return socket.create_connection(
                (host, instead if wanted == port else wanted), *args, **kwargs
            )

        monkeypatch.setattr(
            services, "socket", SimpleNamespace(create_connection=create_connection)
        )

    return redirect


def fails(check: Callable[[], Any], service: str) -> str:
    with pytest.raises(
        pytest.fail.Exception, match=f"CI=true and {service} is unavailable: "
    ) as caught:
        check()
    return str(caught.value)


def test_postgres_accepts_the_dsn(
    postgres_dsn: str, dial: Callable[[int, int], None], closed_port: int, black_hole: int
) -> None:
    assert postgres_dsn == "postgresql://postgres@127.0.0.1:5432/test"
    for instead, why in ((closed_port, "refused"), (black_hole, "timed out")):
        dial(5432, instead)
        assert why in fails(services.postgres_dsn, "PostgreSQL")
    dial(5432, 3306)  # a server there, but MariaDB: the login is what is checked
    fails(services.postgres_dsn, "PostgreSQL")


def test_mysql_accepts_the_params(
    mysql_params: MySQLParams, dial: Callable[[int, int], None], closed_port: int, black_hole: int
) -> None:
    assert mysql_params["database"] == "test"
    for instead, why in ((closed_port, "refused"), (black_hole, "timed out")):
        dial(3306, instead)
        assert why in fails(services.mysql_params, "MariaDB")
    dial(3306, 5432)  # PostgreSQL: it waits for the client to speak first, no greeting comes
    assert "timed out" in fails(services.mysql_params, "MariaDB")
