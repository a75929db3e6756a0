"""The redis-py client a store calls through: bounded in time, and what kind it is.

redis-py's sync client has no per-call deadline, and its own settings cannot bound one
(redis-py 8 waits 5 s per socket operation and retries a timed-out command 10 times, with
backoff). So a sync store makes its calls through a client of its own, made from the
user's settings (:func:`bounded_client`); the asyncio client is bounded by
``asyncio.timeout`` instead, and used as it is.
"""

from __future__ import annotations

from typing import Any

__all__ = ["bounded_async_client", "bounded_client", "db_of", "is_cluster"]


# The connection settings a store's own client copies from the user's: where Redis is,
# who we are, TLS, the database, how replies are decoded. Pool internals are not copied.
_SETTINGS = frozenset(
    {
        "host",
        "port",
        "path",
        "db",
        "username",
        "password",
        "credential_provider",
        "client_name",
        "lib_name",
        "lib_version",
        "driver_info",
        "encoding",
        "encoding_errors",
        "decode_responses",
        "protocol",
        "legacy_responses",
        "socket_keepalive",
        "socket_keepalive_options",
        "socket_read_size",
        "socket_timeout",
        "socket_connect_timeout",
        "socket_type",
        "health_check_interval",
    }
)


def _settings(kwargs: dict[str, Any], timeout: float) -> dict[str, Any]:
    settings = {
        key: value for key, value in kwargs.items() if key in _SETTINGS or key.startswith("ssl_")
    }
    for key in ("socket_timeout", "socket_connect_timeout"):
        current = settings.get(key)
        settings[key] = timeout if current is None else min(current, timeout)
    return settings


def bounded_client(client: Any, timeout: float | None) -> Any:
    """A client for the store's own calls, whose every call ends within about ``timeout``.

    See :class:`RedisStore`. Returns ``client`` itself when it cannot be copied safely.
    """
    if timeout is None:
        return client
    import redis
    import redis.cluster
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    if isinstance(client, redis.cluster.RedisCluster):
        cluster: Any = client
        manager = cluster.nodes_manager
        settings = _settings(manager.connection_kwargs, timeout)
        settings.pop("host", None)
        settings.pop("port", None)
        nodes = cluster.get_nodes() or list(manager.startup_nodes.values())
        return redis.cluster.RedisCluster(
            startup_nodes=[redis.cluster.ClusterNode(node.host, node.port) for node in nodes],  # type: ignore[no-untyped-call]
            # one attempt: a node that times out has spent the whole budget
            retry=Retry(NoBackoff(), 0),
            require_full_coverage=getattr(manager, "_require_full_coverage", True),
            address_remap=getattr(manager, "address_remap", None),
            **settings,
        )
    pool = client.connection_pool
    if type(pool) not in (redis.ConnectionPool, redis.BlockingConnectionPool):
        return client  # a Sentinel or custom pool: its own timeouts and retries apply
    settings = _settings(pool.connection_kwargs, timeout)
    # a refused or reset connection is retried once at once (a pooled connection the
    # server closed); a timeout is not retried: it has spent the whole budget
    settings["retry"] = Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
    settings["retry_on_error"] = []
    own_pool = redis.ConnectionPool(
        connection_class=pool.connection_class,
        max_connections=pool.max_connections,
        **settings,
    )
    return redis.Redis(connection_pool=own_pool)


def bounded_async_client(client: Any, timeout: float | None) -> Any:
    """:func:`bounded_client` for ``redis.asyncio.Redis``: its own pool made from the
    user's settings, whose connections fail a refused or reset connection after one more
    try at once instead of redis-py's retries with backoff, so a Redis that is down costs a
    handshake milliseconds, not the whole ``timeout``. The user's client itself when it
    cannot be copied safely (a cluster, a Sentinel or custom pool): its own retries apply.
    """
    if timeout is None or is_cluster(client):
        return client
    import redis
    import redis.asyncio
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    pool = client.connection_pool
    if type(pool) not in (redis.asyncio.ConnectionPool, redis.asyncio.BlockingConnectionPool):
        return client
    settings = _settings(pool.connection_kwargs, timeout)
    # the store bounds every call with asyncio.timeout already: a socket timeout too would
    # make redis-py wrap each read in a timeout of its own, for nothing
    settings["socket_timeout"] = None
    settings["retry"] = Retry(NoBackoff(), 1, supported_errors=(redis.ConnectionError,))
    settings["retry_on_error"] = []
    own_pool = redis.asyncio.ConnectionPool(
        connection_class=pool.connection_class,
        max_connections=pool.max_connections,
        **settings,
    )
    return redis.asyncio.Redis(connection_pool=own_pool)


def is_cluster(client: Any) -> bool:
    return hasattr(client, "get_primaries")


def db_of(client: Any) -> int:
    """The database a (non-cluster) client talks to: its keyspace channel's number."""
    kwargs = getattr(client.connection_pool, "connection_kwargs", {})
    return int(kwargs.get("db") or 0)
