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

Writes back (not in connect-redis, whose ``set`` overwrites whatever is there): ``update``
applies this side's :class:`~engineio_session.changes.Changes` to the value Redis holds now
with a compare-and-set script (one GET and one EVAL, tried again while another writer
changes the key in between), and writes nothing once the key is gone; ``replace`` is
``SET ... XX``; ``touch`` is ``EXPIRE``, which does nothing to a missing key. A logout on
the Node app (``DEL``) therefore stays a logout.

The package: :mod:`.format` (connect-redis's rules, no I/O), :mod:`.client` (how a sync
call is bounded), :mod:`.notify` (keyspace notifications), :mod:`.store` (the two shells).

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

from .format import RedisFormat, missing_notify_classes
from .notify import AsyncSessionEnds, SessionEnds
from .store import AsyncRedisStore, RedisStore

__all__ = [
    "AsyncRedisStore",
    "AsyncSessionEnds",
    "RedisFormat",
    "RedisStore",
    "SessionEnds",
    "missing_notify_classes",
]
