"""One Redis, a single server or a Cluster, under a key prefix of its own.

The Redis tests (tests/test_redis_store.py, test_interop_redis.py, test_watch_notify.py,
test_attach_interop.py) make their clients and their prefixes here, and clean up the same
way: every key under the prefix is deleted at the end::

    target = RedisTarget.of(request, "cluster", "test")   # or RedisTarget("test", url=...)
    store = RedisStore(target.sync_client(), prefix=target.prefix)
    target.raw.ttl(target.key(sid))
    target.close()                                         # deletes <prefix>*
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
import redis
import redis.asyncio
import redis.asyncio.cluster
import redis.cluster

from .services import RedisCluster


class RedisTarget:
    """A prefix ``<label>:<random>:`` on the Redis at ``url`` or on ``cluster``, and ``raw``, a
    sync client to look at it and to act as the Node app does (``raw`` given: shared, not
    closed here)."""

    def __init__(
        self,
        label: str,
        *,
        url: str | None = None,
        cluster: RedisCluster | None = None,
        raw: Any = None,
    ) -> None:
        assert (url is None) != (cluster is None), "a url or a cluster"
        self.url = url
        self.cluster = cluster
        self.kind = "single" if cluster is None else "cluster"
        self.prefix = f"{label}:{uuid.uuid4().hex[:12]}:"
        self._owns_raw = raw is None
        self.raw = self.sync_client() if raw is None else raw

    @classmethod
    def of(cls, request: pytest.FixtureRequest, kind: str, label: str, **more: Any) -> RedisTarget:
        """On the local Redis (``kind`` "single": the ``redis_url`` fixture) or on the
        session's three-master cluster ("cluster": ``redis_cluster``)."""
        if kind == "single":
            return cls(label, url=request.getfixturevalue("redis_url"), **more)
        return cls(label, cluster=request.getfixturevalue("redis_cluster"), **more)

    def sync_client(self, **options: Any) -> Any:
        """A new ``redis.Redis`` or ``redis.cluster.RedisCluster`` (redis-py ``options``)."""
        if self.cluster is None:
            return redis.Redis.from_url(self.url, **options)
        return redis.cluster.RedisCluster(startup_nodes=self.cluster.startup_nodes, **options)

    def async_client(self, **options: Any) -> Any:
        """A new ``redis.asyncio.Redis`` or ``redis.asyncio.cluster.RedisCluster``."""
        if self.cluster is None:
            return redis.asyncio.Redis.from_url(self.url, **options)
        nodes = self.cluster.async_startup_nodes
        return redis.asyncio.cluster.RedisCluster(startup_nodes=nodes, **options)

    def node_store(self, **options: Any) -> dict[str, Any]:
        """The store config of node-fixtures/session-server.js and tests.apps.serve (connect-redis
        on the same Redis, the same prefix)."""
        if self.cluster is None:
            where: dict[str, Any] = {"type": "redis", "url": self.url}
        else:
            nodes = [f"redis://{host}:{port}" for host, port in self.cluster.nodes]
            where = {"type": "redis-cluster", "nodes": nodes}
        return {**where, "prefix": self.prefix, **options}

    def key(self, sid: str) -> str:
        return self.prefix + sid

    def keys(self) -> list[Any]:
        """Every key under the prefix (SCAN; on a cluster, every primary's)."""
        return sorted(self.raw.scan_iter(match=self.prefix + "*", count=1000))

    def cleanup(self) -> None:
        """Delete every key under the prefix."""
        keys = self.keys()
        if keys:
            self.raw.delete(*keys)

    def close(self) -> None:
        self.cleanup()
        if self._owns_raw:
            self.raw.close()
