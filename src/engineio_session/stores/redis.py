"""The Redis store: connect-redis 10.0.0's layout, so Node and Python share one Redis.

connect-redis keeps each session as one string key, ``<prefix><sid>``, holding
``serializer.stringify(session)`` (JSON by default) with a TTL that follows the cookie.
``RedisStore`` takes a sync redis-py client (``redis.Redis`` or
``redis.cluster.RedisCluster``), ``AsyncRedisStore`` an asyncio one (``redis.asyncio.Redis``
or ``redis.asyncio.cluster.RedisCluster``)::

    import redis
    from engineio_session.stores import RedisStore

    store = RedisStore(redis.Redis(), prefix="sess:", ttl=86400)
    session = store.get(sid)        # what express-session + connect-redis stored, or None

Options, and the connect-redis option each one is:

=================  ==================  ===================================================
Python             connect-redis       meaning
=================  ==================  ===================================================
``prefix``         ``prefix``          key prefix, default ``"sess:"`` (None: the default)
``ttl``            ``ttl``             seconds when the cookie has no ``expires``, or a
                                       function of the Session giving the seconds
                                       (default 86400; ``0`` means 86400, as ``||`` does)
``serializer``     ``serializer``      an object with ``parse(str)`` / ``stringify(obj)``
``disable_ttl``    ``disableTTL``      SET without ``EX``; ``touch`` does nothing
``disable_touch``  ``disableTouch``    ``touch`` does nothing
``scan_count``     ``scanCount``       SCAN's COUNT hint (default 100; ``0`` means 100)
``timeout``        (none)              seconds a call may take before StoreError
=================  ==================  ===================================================

The rules, as connect-redis has them (``index.ts``):

- TTL (``getTTL``): ``ttl(session)`` when ``ttl`` is a function; else, when the cookie has
  ``expires``, ``Math.ceil((expires - Date.now()) / 1000)``; else ``ttl``.
- ``set``: ``SET key value EX ttl`` (no ``EX`` with ``disable_ttl``). A TTL that is not
  positive deletes the key instead (``return this.destroy(sid)``), even with
  ``disable_ttl``.
- ``touch``: ``EXPIRE key ttl``, unless ``disable_touch`` or ``disable_ttl``. A TTL that is
  not positive makes Redis delete the key, as it does for connect-redis.
- ``get``: ``GET`` then ``serializer.parse``; an empty value reads as no session (``!data``).
- ``destroy``: ``DEL``. ``ids``, ``length``, ``all``, ``clear``: ``SCAN MATCH <prefix>*
  COUNT scan_count`` on every master of a cluster, keys deduplicated; the prefix is a glob
  pattern there, as in connect-redis. ``ids`` and ``length`` count keys, whatever they hold.

Deliberate differences, all safer:

- An expired session (``cookie.expires <= now``) reads as None, from ``get`` and ``all``,
  even while Redis still holds it (with ``disable_ttl``, or a TTL set by hand);
  connect-redis returns it and leaves the check to express-session. It is not deleted.
- Corrupt data (not JSON, not an object, no cookie, a bad ``expires``) raises
  :class:`~engineio_session.errors.CorruptSessionError` naming the store and the sid, and
  the key is left as it is; connect-redis throws the parse error.
- On a cluster, ``all`` and ``clear`` split MGET and DEL by hash slot; connect-redis sends
  one MGET / DEL with every key and fails with CROSSSLOT.
- Every call is bounded by ``timeout`` (see :class:`RedisStore` for how, in sync code).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from .._js import now_ms, number_to_string, utf8
from ..session import Session
from .base import (
    DEFAULT_TIMEOUT,
    JSONSerializer,
    Serializer,
    async_deadline,
    decode_session,
    store_errors,
)

if TYPE_CHECKING:
    import redis
    import redis.asyncio
    import redis.asyncio.cluster
    import redis.cluster

__all__ = ["AsyncRedisStore", "RedisFormat", "RedisStore"]

#: ``ttl=``: seconds, or a function of the session giving the seconds (connect-redis ``ttl``)
TTL: TypeAlias = "float | Callable[[Session], float]"
#: a Redis command as ``execute_command`` takes it
Command: TypeAlias = tuple[str | bytes, ...]


class RedisFormat:
    """connect-redis's keys, TTLs and serialisation, with no I/O: what both shells share.

    >>> fmt = RedisFormat(prefix="sess:", ttl=3600)
    >>> fmt.key("abc")
    b'sess:abc'
    >>> session = Session.from_json("abc", {"cookie": {"originalMaxAge": 5000,
    ...     "expires": "1970-01-01T00:00:05.000Z"}, "user": "ada"})
    >>> fmt.ttl_for(session, now=1), fmt.ttl_for(session, now=5000)
    (5, 0)
    >>> command = fmt.set_command("abc", session, now=1)
    >>> command[:2], command[3:]
    (('SET', b'sess:abc'), ('EX', '5'))
    >>> command[2]
    b'{"cookie":{"originalMaxAge":5000,"expires":"1970-01-01T00:00:05.000Z"},"user":"ada"}'
    >>> fmt.set_command("abc", session, now=5000) is None   # not positive: destroy instead
    True
    >>> fmt.decode("abc", b'{"cookie":{"expires":null},"n":1}', now=0)["n"]
    1
    """

    __slots__ = (
        "_prefix_units",
        "disable_touch",
        "disable_ttl",
        "prefix",
        "scan_count",
        "serializer",
        "store",
        "ttl",
    )

    def __init__(
        self,
        *,
        prefix: str | None = "sess:",
        ttl: TTL = 86400,
        serializer: Serializer = JSONSerializer,
        disable_ttl: bool = False,
        disable_touch: bool = False,
        scan_count: int = 100,
        store: str = "RedisStore",
    ) -> None:
        # the constructor of connect-redis: `opts.prefix == null ? "sess:" : opts.prefix`,
        # `opts.ttl || 86400`, `opts.scanCount || 100` (so 0 and NaN take the default too)
        self.prefix = "sess:" if prefix is None else prefix
        self.ttl: TTL = ttl if callable(ttl) or _truthy(ttl) else 86400
        self.scan_count = scan_count if _truthy(scan_count) else 100
        self.serializer = serializer
        self.disable_ttl = disable_ttl
        self.disable_touch = disable_touch
        self.store = store
        # JS String.prototype.length: UTF-16 code units
        self._prefix_units = len(self.prefix.encode("utf-16-le", "surrogatepass")) // 2

    def key(self, sid: str) -> bytes:
        """The Redis key of ``sid``: ``prefix + sid``, as UTF-8 (as Node writes it)."""
        return utf8(self.prefix + sid)

    @property
    def pattern(self) -> bytes:
        """SCAN's MATCH pattern: ``prefix + "*"`` (the prefix is a glob pattern here)."""
        return utf8(self.prefix + "*")

    def sid_of(self, key: bytes | str) -> str:
        """The sid in a key SCAN found: ``key.substring(prefix.length)``, as connect-redis."""
        text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        if text.startswith(self.prefix):
            return text[len(self.prefix) :]
        # the pattern matched without the literal prefix (it holds a glob character): cut
        # the same number of UTF-16 code units that JS cuts
        units = text.encode("utf-16-le", "surrogatepass")[2 * self._prefix_units :]
        return units.decode("utf-16-le", "surrogatepass")

    def ttl_for(self, session: Session, *, now: float | None = None) -> float:
        """connect-redis ``getTTL(sess)``: the TTL in seconds (may be zero, negative, NaN)."""
        if callable(self.ttl):
            return self.ttl(session)
        expires = session.cookie.expires_ms
        if expires is None:
            return self.ttl
        ms = expires - (now_ms() if now is None else now)
        return math.nan if math.isnan(ms) else math.ceil(ms / 1e3)

    def encode(self, session: Session) -> bytes:
        """``serializer.stringify(session)`` as the bytes Node would send."""
        return utf8(self.serializer.stringify(session.to_json()))

    def set_command(
        self, sid: str, session: Session, *, now: float | None = None
    ) -> Command | None:
        """The command ``set`` sends, or None when the TTL is not positive (then: destroy)."""
        ttl = self.ttl_for(session, now=now)
        if not ttl > 0:
            return None
        value = self.encode(session)
        if self.disable_ttl:
            return ("SET", self.key(sid), value)
        return ("SET", self.key(sid), value, "EX", number_to_string(ttl))

    def touch_command(
        self, sid: str, session: Session, *, now: float | None = None
    ) -> Command | None:
        """The command ``touch`` sends (``EXPIRE key ttl``), or None when touch is disabled."""
        if self.disable_touch or self.disable_ttl:
            return None
        return ("EXPIRE", self.key(sid), number_to_string(self.ttl_for(session, now=now)))

    def decode(
        self, sid: str, raw: bytes | str | None, *, now: float | None = None
    ) -> Session | None:
        """The session GET returned, or None (no value, or expired); CorruptSessionError."""
        if not raw:
            return None
        session = decode_session(self.store, sid, raw, self.serializer.parse)
        return None if session.expired(now=now) else session

    def decode_all(
        self, keys: Sequence[bytes | str], values: Iterable[bytes | str | None]
    ) -> list[Session]:
        """``all()``: the sessions MGET returned for ``keys``, expired ones left out."""
        now = now_ms()
        sessions = []
        for key, raw in zip(keys, values, strict=True):
            session = self.decode(self.sid_of(key), raw, now=now)
            if session is not None:
                sessions.append(session)
        return sessions


def _truthy(value: float) -> bool:
    """JS truthiness of a number: not 0 and not NaN."""
    return bool(value) and not (isinstance(value, float) and math.isnan(value))


# --- sync -----------------------------------------------------------------------------------

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


def _bounded_client(client: Any, timeout: float | None) -> Any:
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


def _is_cluster(client: Any) -> bool:
    return hasattr(client, "get_primaries")


class RedisStore:
    """A sync connect-redis store on a redis-py client: ``redis.Redis`` or ``RedisCluster``.

    ::

        store = RedisStore(redis.Redis(), prefix="sess:", ttl=86400)
        session = store.get(sid)            # Session | None
        session["views"] = session.get("views", 0) + 1
        store.set(sid, session)             # SET sess:<sid> <json> EX <seconds left>
        store.touch(sid, session)           # EXPIRE
        store.destroy(sid)                  # DEL
        store.ids(), store.length(), store.all(), store.clear()

    Every failure of Redis raises :class:`~engineio_session.errors.StoreError` naming
    ``RedisStore`` and the cause, within about ``timeout`` seconds.

    How a sync call is bounded: redis-py's sync client has no per-call deadline, and its
    own settings cannot bound one (redis-py 8 waits 5 s per socket operation and retries a
    timed-out command 10 times, with backoff). So the store makes its calls through a
    client of its own, made on first use from your client's settings (address, database,
    credentials, TLS, how replies are decoded: the same connection class and keyword
    arguments), with its own connections whose ``socket_timeout`` and
    ``socket_connect_timeout`` are at most ``timeout``, and which retries only a refused or
    reset connection, once, at once. A call therefore ends within about ``timeout``, and
    your client is left exactly as it was. For a cluster the store's client is a
    ``RedisCluster`` on the nodes yours knows, with one attempt per call. A Sentinel or
    other custom pool is used as it is (its own timeouts and retries apply), and so is your
    client with ``timeout=None``. ``close()`` closes the store's connections.
    """

    name = "RedisStore"

    def __init__(
        self,
        client: redis.Redis | redis.cluster.RedisCluster,
        *,
        prefix: str | None = "sess:",
        ttl: TTL = 86400,
        serializer: Serializer = JSONSerializer,
        disable_ttl: bool = False,
        disable_touch: bool = False,
        scan_count: int = 100,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self.client = client
        self.timeout = timeout
        self.format = RedisFormat(
            prefix=prefix,
            ttl=ttl,
            serializer=serializer,
            disable_ttl=disable_ttl,
            disable_touch=disable_touch,
            scan_count=scan_count,
            store=self.name,
        )
        self._calls: Any = None
        self._lock = threading.Lock()

    def _redis(self) -> Any:
        calls = self._calls
        if calls is None:
            with self._lock:
                if self._calls is None:
                    with store_errors(self.name):
                        self._calls = _bounded_client(self.client, self.timeout)
                calls = self._calls
        return calls

    def close(self) -> None:
        """Close the connections of the store's own client (not yours)."""
        with self._lock:
            calls, self._calls = self._calls, None
        if calls is not None and calls is not self.client:
            if _is_cluster(calls):
                calls.close()
            else:
                calls.connection_pool.disconnect()

    def get(self, sid: str) -> Session | None:
        """The session stored under ``sid``, or None (none, empty, or expired)."""
        with store_errors(self.name):
            raw = self._redis().get(self.format.key(sid))
        return self.format.decode(sid, raw)

    def set(self, sid: str, session: Session) -> None:
        """Store ``session`` under ``sid`` with its TTL (or delete it if already expired)."""
        command = self.format.set_command(sid, session)
        if command is None:
            self.destroy(sid)
            return
        with store_errors(self.name):
            self._redis().execute_command(*command)

    def touch(self, sid: str, session: Session) -> None:
        """Reset the key's TTL from the session's cookie (nothing with disable_touch/ttl)."""
        command = self.format.touch_command(sid, session)
        if command is not None:
            with store_errors(self.name):
                self._redis().execute_command(*command)

    def destroy(self, sid: str) -> None:
        """Delete the session (DEL); no error if there is none."""
        with store_errors(self.name):
            self._redis().delete(self.format.key(sid))

    def _keys(self) -> list[bytes | str]:
        """connect-redis ``getAllKeys``: SCAN every master, deduplicated, in scan order."""
        client = self._redis()
        found: dict[bytes | str, None] = {}
        with store_errors(self.name):
            if _is_cluster(client):
                for node in client.get_primaries():
                    cursor = 0
                    while True:
                        cursors, keys = client.scan(
                            cursor,
                            match=self.format.pattern,
                            count=self.format.scan_count,
                            target_nodes=node,
                        )
                        found.update(dict.fromkeys(keys))
                        cursor = cursors[node.name]
                        if not cursor:
                            break
            else:
                cursor = 0
                while True:
                    cursor, keys = client.scan(
                        cursor, match=self.format.pattern, count=self.format.scan_count
                    )
                    found.update(dict.fromkeys(keys))
                    if not cursor:
                        break
        return list(found)

    def ids(self) -> list[str]:
        """Every session id under the prefix (expired ones still in Redis included)."""
        return [self.format.sid_of(key) for key in self._keys()]

    def length(self) -> int:
        """How many keys the prefix has (connect-redis counts keys, not live sessions)."""
        return len(self._keys())

    def all(self) -> list[Session]:
        """Every live session under the prefix, each with its ``.id``."""
        keys = self._keys()
        if not keys:
            return []
        client = self._redis()
        with store_errors(self.name):
            values = client.mget_nonatomic(keys) if _is_cluster(client) else client.mget(keys)
        return self.format.decode_all(keys, values)

    def clear(self) -> None:
        """Delete every key under the prefix."""
        keys = self._keys()
        if keys:
            with store_errors(self.name):
                self._redis().delete(*keys)


# --- async ----------------------------------------------------------------------------------


class AsyncRedisStore:
    """An asyncio connect-redis store on ``redis.asyncio.Redis`` or its ``RedisCluster``.

    ::

        store = AsyncRedisStore(redis.asyncio.Redis(), prefix="sess:", ttl=86400)
        session = await store.get(sid)
        await store.set(sid, session)

    The same options and rules as :class:`RedisStore`. Each client call runs under an
    ``asyncio.timeout(timeout)``: past it, or on any failure, StoreError naming
    ``AsyncRedisStore``. Your client is used as it is.
    """

    name = "AsyncRedisStore"

    def __init__(
        self,
        client: redis.asyncio.Redis | redis.asyncio.cluster.RedisCluster,
        *,
        prefix: str | None = "sess:",
        ttl: TTL = 86400,
        serializer: Serializer = JSONSerializer,
        disable_ttl: bool = False,
        disable_touch: bool = False,
        scan_count: int = 100,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self.client: Any = client
        self.timeout = timeout
        self.format = RedisFormat(
            prefix=prefix,
            ttl=ttl,
            serializer=serializer,
            disable_ttl=disable_ttl,
            disable_touch=disable_touch,
            scan_count=scan_count,
            store=self.name,
        )

    async def get(self, sid: str) -> Session | None:
        """The session stored under ``sid``, or None (none, empty, or expired)."""
        async with async_deadline(self.name, self.timeout):
            raw = await self.client.get(self.format.key(sid))
        return self.format.decode(sid, raw)

    async def set(self, sid: str, session: Session) -> None:
        """Store ``session`` under ``sid`` with its TTL (or delete it if already expired)."""
        command = self.format.set_command(sid, session)
        if command is None:
            await self.destroy(sid)
            return
        async with async_deadline(self.name, self.timeout):
            await self.client.execute_command(*command)

    async def touch(self, sid: str, session: Session) -> None:
        """Reset the key's TTL from the session's cookie (nothing with disable_touch/ttl)."""
        command = self.format.touch_command(sid, session)
        if command is not None:
            async with async_deadline(self.name, self.timeout):
                await self.client.execute_command(*command)

    async def destroy(self, sid: str) -> None:
        """Delete the session (DEL); no error if there is none."""
        async with async_deadline(self.name, self.timeout):
            await self.client.delete(self.format.key(sid))

    async def _keys(self) -> list[bytes | str]:
        """connect-redis ``getAllKeys``: SCAN every master, each page under the deadline."""
        client = self.client
        found: dict[bytes | str, None] = {}
        if _is_cluster(client):
            async with async_deadline(self.name, self.timeout):
                await client.initialize()
            for node in client.get_primaries():
                cursor = 0
                while True:
                    async with async_deadline(self.name, self.timeout):
                        cursors, keys = await client.scan(
                            cursor,
                            match=self.format.pattern,
                            count=self.format.scan_count,
                            target_nodes=node,
                        )
                    found.update(dict.fromkeys(keys))
                    cursor = cursors[node.name]
                    if not cursor:
                        break
        else:
            cursor = 0
            while True:
                async with async_deadline(self.name, self.timeout):
                    cursor, keys = await client.scan(
                        cursor, match=self.format.pattern, count=self.format.scan_count
                    )
                found.update(dict.fromkeys(keys))
                if not cursor:
                    break
        return list(found)

    async def ids(self) -> list[str]:
        """Every session id under the prefix (expired ones still in Redis included)."""
        return [self.format.sid_of(key) for key in await self._keys()]

    async def length(self) -> int:
        """How many keys the prefix has (connect-redis counts keys, not live sessions)."""
        return len(await self._keys())

    async def all(self) -> list[Session]:
        """Every live session under the prefix, each with its ``.id``."""
        keys = await self._keys()
        if not keys:
            return []
        client = self.client
        async with async_deadline(self.name, self.timeout):
            if _is_cluster(client):
                values = await client.mget_nonatomic(keys)
            else:
                values = await client.mget(keys)
        return self.format.decode_all(keys, values)

    async def clear(self) -> None:
        """Delete every key under the prefix."""
        keys = await self._keys()
        if keys:
            async with async_deadline(self.name, self.timeout):
                await self.client.delete(*keys)
