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
``enable_notif…``  (none)              ``enable_notifications``: let ``subscribe_ends``
                                       add the keyspace-event classes it needs to the
                                       server's ``notify-keyspace-events`` (default False)
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

When a session ends. ``subscribe_ends()`` tells, within milliseconds, which sessions the
Node app destroyed (connect-redis ``destroy``: DEL) or Redis expired or evicted: it
PSUBSCRIBEs, on a connection of its own, to ``__keyspace@<db>__:<prefix>*`` and reports the
ids whose key got ``del``, ``expired``, ``evicted``, ``rename_from`` or ``move_from`` (a
``set`` is a save: ignored). An ``expired`` event comes when Redis deletes the key: at once
when something reads it, otherwise when its background expiry (a few keys per 100 ms)
reaches it, which among many keys can take seconds or more: keep a periodic reload as the
bound. Redis sends those events only when its ``notify-keyspace-events``
has the classes K (keyspace channels), g (DEL, RENAME, MOVE) and x (expired); e (evicted)
is used when present. The setting is read with CONFIG GET, never changed unless
``enable_notifications=True`` (then CONFIG SET adds K, g, x and e to what is there; it is
server-wide and lasts until Redis restarts, so it is checked again at every subscribe).
Without them, or on a Redis Cluster (each node notifies only its own keys),
``subscribe_ends`` raises :class:`NotificationsUnavailableError` and ``attach(watch=...)``
relies on its periodic reload. Pub/sub delivers at most once: a subscription that broke or
was re-established raises StoreError from ``poll``; subscribe again, then reload what you
hold (``attach`` does).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

from .._js import now_ms, number_to_string, utf8
from ..errors import NotificationsUnavailableError, StoreError
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

__all__ = [
    "AsyncRedisStore",
    "AsyncSessionEnds",
    "NotificationsUnavailableError",
    "RedisFormat",
    "RedisStore",
    "SessionEnds",
    "missing_notify_classes",
]

logger = logging.getLogger("engineio_session")

#: ``ttl=``: seconds, or a function of the session giving the seconds (connect-redis ``ttl``)
TTL: TypeAlias = "float | Callable[[Session], float]"
#: a Redis command as ``execute_command`` takes it
Command: TypeAlias = tuple[str | bytes, ...]

#: the keyspace events after which a session's key no longer holds it: DEL, UNLINK and
#: GETDEL (and EXPIRE with a TTL that is not positive: connect-redis ``touch``) send
#: ``del``; the TTL ran out, ``expired``; maxmemory, ``evicted``; RENAME / MOVE away
ENDED_EVENTS = frozenset({"del", "expired", "evicted", "rename_from", "move_from"})
#: the ``notify-keyspace-events`` classes they need: K keyspace channels, g generic, x expired
NOTIFY_NEEDED = "Kgx"
#: what ``enable_notifications=True`` adds: those and e (evicted)
NOTIFY_ENABLED = "Kgxe"
#: the classes Redis's ``A`` stands for (keyspace-events.md: "Alias for g$lshzxetd")
_NOTIFY_ALL = "g$lshzxetd"
_NOTIFY_CONFIG = "notify-keyspace-events"
#: at most this many notifications are taken in one ``poll``
_BATCH = 1000
_CLUSTER = (
    "keyspace notifications are per node on a Redis Cluster (each master notifies only its "
    "own keys), which this store does not subscribe to"
)


def missing_notify_classes(value: str, wanted: str = NOTIFY_NEEDED) -> str:
    """The classes of ``wanted`` that a ``notify-keyspace-events`` value lacks.

    >>> missing_notify_classes("")
    'Kgx'
    >>> missing_notify_classes("AKE"), missing_notify_classes("Ex"), missing_notify_classes("xgK")
    ('', 'Kg', '')
    >>> missing_notify_classes("gxK", NOTIFY_ENABLED)
    'e'
    """
    have = set(value)
    if "A" in have:
        have.update(_NOTIFY_ALL)
    return "".join(flag for flag in wanted if flag not in have)


def _notify_setting(store: str, current: str | None, enable: bool) -> str | None:
    """What to CONFIG SET ``notify-keyspace-events`` to before subscribing, or None for
    nothing; NotificationsUnavailableError when it lacks classes and ``enable`` is off.
    ``current`` None: CONFIG GET was refused (a managed Redis): subscribe anyway."""
    if current is None:
        return None
    missing = missing_notify_classes(current, NOTIFY_ENABLED if enable else NOTIFY_NEEDED)
    if not missing:
        return None
    if not enable:
        raise NotificationsUnavailableError(
            store,
            f"Redis's notify-keyspace-events is {current!r}, without {missing!r}, so it sends "
            "no notification when a session's key is deleted or expires; add K, g and x to it "
            f"(CONFIG SET notify-keyspace-events {current + NOTIFY_ENABLED!r}, or redis.conf), "
            "or pass enable_notifications=True to the store to let it do that",
        )
    return current + missing


def _config_value(reply: Any) -> str:
    """``notify-keyspace-events`` in a CONFIG GET reply (a dict; bytes or str keys)."""
    for key, value in dict(reply or {}).items():
        name = key.decode() if isinstance(key, bytes) else key
        if name == _NOTIFY_CONFIG:
            return value.decode() if isinstance(value, bytes) else str(value)
    return ""


def _db(client: Any) -> int:
    """The database a (non-cluster) client talks to: its keyspace channel's number."""
    kwargs = getattr(client.connection_pool, "connection_kwargs", {})
    return int(kwargs.get("db") or 0)


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

    def keyspace_pattern(self, db: int = 0) -> bytes:
        """The PSUBSCRIBE pattern of this prefix's keyspace channels.

        The prefix is literal here (its glob characters escaped): a key is ``prefix + sid``.

        >>> RedisFormat().keyspace_pattern(2)
        b'__keyspace@2__:sess:*'
        >>> RedisFormat(prefix="a*b:").keyspace_pattern().decode() == r"__keyspace@0__:a\\*b:*"
        True
        """
        escaped = "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix)
        return utf8(f"__keyspace@{int(db)}__:{escaped}*")

    def ended_id(self, channel: bytes | str, event: bytes | str) -> str | None:
        """The session id a keyspace notification says has ended, or None.

        ``channel`` is ``__keyspace@<db>__:<key>`` and ``event`` the event's name; only the
        :data:`ENDED_EVENTS` of keys under the prefix count (a ``set`` is a save).

        >>> fmt = RedisFormat()
        >>> fmt.ended_id(b"__keyspace@0__:sess:abc", b"del")
        'abc'
        >>> fmt.ended_id("__keyspace@3__:sess:abc", "expired")
        'abc'
        >>> fmt.ended_id(b"__keyspace@0__:sess:abc", b"set") is None
        True
        >>> fmt.ended_id(b"__keyspace@0__:other:abc", b"del") is None
        True
        """
        text = channel.decode("utf-8", "replace") if isinstance(channel, bytes) else channel
        name = event.decode("utf-8", "replace") if isinstance(event, bytes) else event
        if name not in ENDED_EVENTS or not text.startswith("__keyspace@"):
            return None
        _, found, key = text.partition("__:")  # the db is digits: the first "__:" ends it
        if not found or not key.startswith(self.prefix):
            return None
        return key[len(self.prefix) :]

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


def _warn_config_unreadable(store: RedisStore | AsyncRedisStore, error: BaseException) -> None:
    """CONFIG GET refused (renamed or denied, as on some managed Redis): say so once."""
    if not store._config_warned:
        store._config_warned = True
        logger.warning(
            "%s: cannot read notify-keyspace-events (%s); subscribing anyway: unless it has "
            "K, g and x no notification comes, and only a periodic reload sees a session end",
            store.name,
            error,
        )


class _Ends:
    """What both subscription shells share: reading pub/sub messages, with no I/O."""

    def __init__(
        self, pubsub: Any, fmt: RedisFormat, store: str, timeout: float | None, keepalive: float
    ) -> None:
        self._pubsub = pubsub
        self.format = fmt
        self.store = store
        self.timeout = timeout
        self.keepalive = keepalive
        #: seconds a PING may wait for its PONG before the subscription counts as broken
        self.pong_timeout = keepalive if timeout is None else timeout
        self._confirmations = 0
        self._heard = time.monotonic()
        self._ping_sent: float | None = None

    def _take(self, message: dict[str, Any], ended: list[str]) -> None:
        self._heard = time.monotonic()
        kind = message["type"]
        if kind == "pmessage":
            sid = self.format.ended_id(message["channel"], message["data"])
            if sid is not None:
                ended.append(sid)
        elif kind == "psubscribe":
            self._confirmations += 1
            # redis-py reconnects a pub/sub connection by itself and subscribes again: a
            # second confirmation means the connection dropped, and what Redis published
            # in between is lost
            if self._confirmations > 1:
                raise StoreError(
                    self.store,
                    ConnectionError(
                        "the pub/sub connection was re-established: keyspace notifications "
                        "sent in between are lost"
                    ),
                )
        elif kind == "pong":
            self._ping_sent = None

    def _ping_due(self) -> bool:
        """Whether to PING now; StoreError when the last PING went unanswered (a connection
        that died silently raises nothing by itself: it only stays quiet)."""
        now = time.monotonic()
        if self._ping_sent is not None:
            if now - self._ping_sent > self.pong_timeout:
                raise StoreError(
                    self.store, TimeoutError(f"no answer to PING within {self.pong_timeout} s")
                )
            return False
        if now - self._heard >= self.keepalive:
            self._ping_sent = now
            return True
        return False


class SessionEnds(_Ends):
    """The ids of the sessions Redis reports ended: what ``RedisStore.subscribe_ends`` returns.

    ::

        with store.subscribe_ends() as ends:    # NotificationsUnavailableError, StoreError
            while running:
                for sid in ends.poll(1.0):      # waits up to 1 s; [] when nothing ended
                    print("logged out or expired:", sid)

    ``poll`` raises StoreError when the subscription broke, was re-established (what Redis
    published in between is lost) or left a PING unanswered (one goes out after
    ``keepalive`` silent seconds): close it, subscribe again, then reload the sessions you
    hold.
    """

    def _confirm(self) -> None:
        """Wait for Redis's confirmation of the PSUBSCRIBE: from then on no event is lost."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while not self._confirmations:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise StoreError(self.store, TimeoutError("PSUBSCRIBE was not confirmed"))
            message = self._pubsub.get_message(timeout=left)
            if message is not None:
                self._take(message, [])

    def poll(self, timeout: float) -> list[str]:
        """The ids of the sessions that ended, waiting up to ``timeout`` seconds for one."""
        ended: list[str] = []
        with store_errors(self.store):
            if self._ping_due():
                self._pubsub.ping()
            message = self._pubsub.get_message(timeout=timeout)
            taken = 0
            while message is not None:
                self._take(message, ended)
                taken += 1
                if taken == _BATCH:
                    break
                message = self._pubsub.get_message(timeout=0)
        return ended

    def close(self) -> None:
        """Unsubscribe: close the subscription's connection."""
        try:
            self._pubsub.close()
        except Exception as error:  # a connection already gone: nothing left to close
            logger.debug("%s: closing a subscription: %s", self.store, error)

    def __enter__(self) -> SessionEnds:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


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

    ``subscribe_ends()`` reports the sessions that end (DEL, expiry, eviction) as Redis
    publishes them; see :meth:`subscribe_ends` and ``enable_notifications``.
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
        enable_notifications: bool = False,
    ) -> None:
        self.client = client
        self.timeout = timeout
        #: let ``subscribe_ends`` CONFIG SET the keyspace-event classes it needs
        self.enable_notifications = enable_notifications
        self._config_warned = False
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

    def subscribe_ends(self, *, keepalive: float = 30.0) -> SessionEnds:
        """Subscribe to the ends of this prefix's sessions (see the module's notes).

        ::

            ends = store.subscribe_ends()   # NotificationsUnavailableError, StoreError
            try:
                for sid in ends.poll(1.0):
                    ...                     # sid was destroyed, expired or evicted
            finally:
                ends.close()

        Reads ``notify-keyspace-events`` (CONFIG GET), adds the classes it needs with
        ``enable_notifications=True`` (CONFIG SET), then PSUBSCRIBEs on a connection of
        its own and waits for Redis's confirmation, each step within ``timeout``. A PING
        goes out after ``keepalive`` silent seconds.
        """
        import redis

        client = self._redis()
        if _is_cluster(client):
            raise NotificationsUnavailableError(self.name, _CLUSTER)
        with store_errors(self.name):
            try:
                current: str | None = _config_value(client.config_get(_NOTIFY_CONFIG))
            except redis.ResponseError as error:
                current = None
                _warn_config_unreadable(self, error)
            setting = _notify_setting(self.name, current, self.enable_notifications)
            if setting is not None:
                try:
                    client.config_set(_NOTIFY_CONFIG, setting)
                except redis.ResponseError as error:
                    raise NotificationsUnavailableError(
                        self.name, f"CONFIG SET notify-keyspace-events {setting!r}: {error}"
                    ) from error
                logger.info("%s: set notify-keyspace-events to %r", self.name, setting)
            pubsub = client.pubsub()
            try:
                pubsub.psubscribe(self.format.keyspace_pattern(_db(client)))
                ends = SessionEnds(pubsub, self.format, self.name, self.timeout, keepalive)
                ends._confirm()
            except BaseException:
                pubsub.close()
                raise
        return ends


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
        enable_notifications: bool = False,
    ) -> None:
        self.client: Any = client
        self.timeout = timeout
        #: let ``subscribe_ends`` CONFIG SET the keyspace-event classes it needs
        self.enable_notifications = enable_notifications
        self._config_warned = False
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

    async def subscribe_ends(self, *, keepalive: float = 30.0) -> AsyncSessionEnds:
        """:meth:`RedisStore.subscribe_ends`, on a connection of your client's pool.

        ::

            ends = await store.subscribe_ends()
            try:
                for sid in await ends.poll(1.0):
                    ...
            finally:
                await ends.aclose()
        """
        import redis

        client = self.client
        if _is_cluster(client):
            raise NotificationsUnavailableError(self.name, _CLUSTER)
        async with async_deadline(self.name, self.timeout):
            try:
                current: str | None = _config_value(await client.config_get(_NOTIFY_CONFIG))
            except redis.ResponseError as error:
                current = None
                _warn_config_unreadable(self, error)
            setting = _notify_setting(self.name, current, self.enable_notifications)
            if setting is not None:
                try:
                    await client.config_set(_NOTIFY_CONFIG, setting)
                except redis.ResponseError as error:
                    raise NotificationsUnavailableError(
                        self.name, f"CONFIG SET notify-keyspace-events {setting!r}: {error}"
                    ) from error
                logger.info("%s: set notify-keyspace-events to %r", self.name, setting)
        pubsub = client.pubsub()
        try:
            async with async_deadline(self.name, self.timeout):
                await pubsub.psubscribe(self.format.keyspace_pattern(_db(client)))
                ends = AsyncSessionEnds(pubsub, self.format, self.name, self.timeout, keepalive)
                await ends._confirm()
        except BaseException:
            await AsyncSessionEnds(pubsub, self.format, self.name, None, keepalive).aclose()
            raise
        return ends


class AsyncSessionEnds(_Ends):
    """:class:`SessionEnds` for asyncio: what ``AsyncRedisStore.subscribe_ends`` returns.

    ::

        async with await store.subscribe_ends() as ends:
            while running:
                for sid in await ends.poll(1.0):
                    print("logged out or expired:", sid)
    """

    async def _confirm(self) -> None:
        while not self._confirmations:  # the caller bounds this by the store's timeout
            message = await self._pubsub.get_message(timeout=None)
            if message is not None:
                self._take(message, [])

    async def poll(self, timeout: float) -> list[str]:
        """The ids of the sessions that ended, waiting up to ``timeout`` seconds for one."""
        ended: list[str] = []
        bound = None if self.timeout is None else timeout + self.timeout
        async with async_deadline(self.store, bound):
            if self._ping_due():
                await self._pubsub.ping()
            message = await self._pubsub.get_message(timeout=timeout)
            taken = 0
            while message is not None:
                self._take(message, ended)
                taken += 1
                if taken == _BATCH:
                    break
                message = await self._pubsub.get_message(timeout=0)
        return ended

    async def aclose(self) -> None:
        """Unsubscribe: close the subscription's connection."""
        # redis-py 5.0.0 has no aclose() yet: reset() is the same there
        close = getattr(self._pubsub, "aclose", None) or self._pubsub.reset
        try:
            await close()
        except Exception as error:
            logger.debug("%s: closing a subscription: %s", self.store, error)

    async def __aenter__(self) -> AsyncSessionEnds:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
