"""``RedisStore`` and ``AsyncRedisStore``: connect-redis 10.0.0 on redis-py, sync and async.

What a method does is written once, as a plan (:mod:`engineio_session.drive`) over the
pure :class:`~.format.RedisFormat`; the two shells only hold their client and drive the
plans, each client call bounded by ``timeout``.
"""

from __future__ import annotations

import asyncio
import functools
import random
import threading
import time
from collections.abc import Sequence
from typing import Any, Literal, Unpack

from ... import jsjson
from ..._js import utf8
from ...changes import Changes
from ...drive import Call, Plan, arun, run
from ...errors import StoreError
from ...session import Session
from ..base import (
    DECODE_OFF_LOOP_BYTES,
    DEFAULT_TIMEOUT,
    async_deadline,
    failed,
    store_errors,
    timed_out,
)
from ..batch import ReadBatch
from .client import bounded_async_client, bounded_client, is_cluster
from .format import RedisFormat, RedisFormatKeywords
from .notify import AsyncSessionEnds, SessionEnds, subscribe_plan
from .reads import PipelinedReads

__all__ = ["AsyncRedisStore", "RedisStore"]

#: how often an update reads and tries its compare-and-set again when the session keeps
#: changing under it (each try is one GET and one EVAL)
UPDATE_ATTEMPTS = 32


class _RedisStoreBase:
    """The options, and every multi-call method as a plan; ``_call`` bounds one client call.

    ``client`` is a ``redis.Redis`` / ``redis.cluster.RedisCluster`` (:class:`RedisStore`)
    or a ``redis.asyncio.Redis`` / ``redis.asyncio.cluster.RedisCluster``
    (:class:`AsyncRedisStore`). The options and the connect-redis option each one is are
    listed in :mod:`engineio_session.stores.redis`.
    """

    name = "RedisStore"
    #: ``get`` returns None for an expired session (Store's contract)
    drops_expired = True
    #: ``get`` decodes a new Session for every read, which the caller may keep (Store's)
    fresh_sessions = True

    def __init__(
        self,
        client: Any,
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        enable_notifications: bool = False,
        **options: Unpack[RedisFormatKeywords],
    ) -> None:
        self.client: Any = client
        self.timeout = timeout
        self._calls: Any = None  # RedisStore: the bounded client made from yours
        self._lock = threading.Lock()
        #: let ``subscribe_ends`` CONFIG SET the keyspace-event classes it needs
        self.enable_notifications = enable_notifications
        self._config_warned = False
        self.format = RedisFormat(**options, store=self.name)

    def __repr__(self) -> str:
        return f"{self.name}(prefix={self.format.prefix!r})"

    # --- plans: the logic of each method, with no I/O of its own ------------------------

    def _get_many(self, client: Any, sids: Sequence[str]) -> Plan[list[Session | None]]:
        if not sids:
            return []
        keys = [self.format.key(sid) for sid in sids]
        mget = client.mget_nonatomic if is_cluster(client) else client.mget
        values = yield Call(self._call, mget, keys)
        return self.format.decode_many(sids, values)

    def _set(self, client: Any, sid: str, session: Session) -> Plan[None]:
        command = self.format.set_command(sid, session)
        if command is None:  # connect-redis: a TTL that is not positive destroys
            yield Call(self._call, client.delete, self.format.key(sid))
        else:
            yield Call(self._call, client.execute_command, *command)

    def _update(self, client: Any, sid: str, changes: Changes) -> Plan[Session | None]:
        """Read, apply ``changes``, write only if the key still holds what was read. First,
        where ``changes`` know the text they were computed against, with no read: written
        only if the key still holds that text, the same write a read would have led to."""
        key = self.format.key(sid)
        known = changes.read if self.format.serializer.parse is jsjson.loads else None
        if known is not None:
            merged = yield from self._write_onto(client, sid, known, changes)
            if isinstance(merged, Session):
                return merged  # else what the key holds now decides, read below
        for attempt in range(UPDATE_ATTEMPTS):
            if attempt:  # lost a race: wait a random moment, so two writers cannot lock-step
                yield Call(self._pause, random.uniform(0, 0.0005 * 2 ** min(attempt, 6)))
            raw = yield self._read_call(client, key)
            merged = yield from self._write_onto(client, sid, raw, changes)
            if merged is not False:
                return merged
        raise StoreError(self.name, f"the session changed {UPDATE_ATTEMPTS} times while saving")

    def _write_onto(
        self, client: Any, sid: str, raw: bytes | str | None, changes: Changes
    ) -> Plan[Session | Literal[False] | None]:
        """``changes`` applied to the session stored as ``raw``, written only if the key
        still holds ``raw``: the result; None where ``raw`` holds no session (gone: a logout,
        or expired) or the change expires it (connect-redis would delete it): nothing is
        written; False where the key holds something else now."""
        if raw is None:
            return None
        stored = self.format.decode(sid, raw)
        if stored is None:
            return None
        merged = changes.apply(stored)
        args = self.format.cas_args(sid, raw, merged)
        if args is None:
            return None
        return merged if (yield Call(self._call, client.eval, *args)) else False

    def _replace(self, client: Any, sid: str, session: Session) -> Plan[bool]:
        command = self.format.replace_command(sid, session)
        if command is None:
            return bool((yield Call(self._call, client.delete, self.format.key(sid))))
        return bool((yield Call(self._call, client.execute_command, *command)))

    def _touch(self, client: Any, sid: str, session: Session) -> Plan[bool]:
        command = self.format.touch_command(sid, session)
        if command is None:  # touch disabled: tell only whether the session is still there
            return bool((yield Call(self._call, client.exists, self.format.key(sid))))
        return bool((yield Call(self._call, client.execute_command, *command)))

    def _keys(self, client: Any) -> Plan[list[bytes | str]]:
        """connect-redis ``getAllKeys``: SCAN every master, deduplicated, in scan order."""
        found: dict[bytes | str, None] = {}
        fmt = self.format
        if is_cluster(client):
            initialize = getattr(client, "initialize", None)  # the asyncio cluster client
            if initialize is not None:
                yield Call(self._call, initialize)
            for node in client.get_primaries():
                cursor = 0
                while True:
                    cursors, keys = yield Call(
                        self._call, _scan_node, client, cursor, fmt.pattern, fmt.scan_count, node
                    )
                    found.update(dict.fromkeys(keys))
                    cursor = cursors[node.name]
                    if not cursor:
                        break
        else:
            cursor = 0
            while True:
                cursor, keys = yield Call(
                    self._call, client.scan, cursor, fmt.pattern, fmt.scan_count
                )
                found.update(dict.fromkeys(keys))
                if not cursor:
                    break
        return list(found)

    def _ids(self, client: Any) -> Plan[list[str]]:
        return [self.format.sid_of(key) for key in (yield from self._keys(client))]

    def _length(self, client: Any) -> Plan[int]:
        return len((yield from self._keys(client)))

    def _all(self, client: Any) -> Plan[list[Session]]:
        keys = yield from self._keys(client)
        if not keys:
            return []
        mget = client.mget_nonatomic if is_cluster(client) else client.mget
        values = yield Call(self._call, mget, keys)
        return self.format.decode_all(keys, values)

    def _clear(self, client: Any) -> Plan[None]:
        keys = yield from self._keys(client)
        if keys:
            yield Call(self._call, client.delete, *keys)

    def _call(self, function: Any, *args: Any) -> Any:
        raise NotImplementedError

    def _read_call(self, client: Any, key: bytes) -> Call:
        """The call that reads the value under ``key`` before a compare-and-set."""
        return Call(self._call, client.get, key)

    def _pause(self, seconds: float) -> Any:
        raise NotImplementedError


async def _once_more_if_stale(function: Any, args: tuple[Any, ...]) -> Any:
    """``await function(*args)``, made once more at once if the connection failed: a pooled
    connection that Redis closed (a restart, an idle timeout) fails its first use, and
    redis-py drops it, so the second try runs on a fresh one. A Redis that is down fails
    again at once; the caller's deadline bounds both."""
    import redis

    try:
        return await function(*args)
    except redis.ConnectionError:
        return await function(*args)


def _scan_node(client: Any, cursor: int, pattern: bytes, count: int, node: Any) -> Any:
    return client.scan(cursor, match=pattern, count=count, target_nodes=node)


class RedisStore(_RedisStoreBase):
    """A sync connect-redis store on a redis-py client: ``redis.Redis`` or ``RedisCluster``.

    ::

        store = RedisStore(redis.Redis(), prefix="sess:", ttl=86400)
        session = store.get(sid)            # Session | None
        session["views"] = session.get("views", 0) + 1
        store.update(sid, Changes.of(session))  # this side's changes, on what Redis holds now
        store.set(sid, session)             # SET sess:<sid> <json> EX <seconds left>
        store.touch(sid, session)           # EXPIRE
        store.destroy(sid)                  # DEL
        store.ids(), store.length(), store.all(), store.clear()

    Every failure of Redis raises :class:`~engineio_session.errors.StoreError` naming
    ``RedisStore`` and the cause, within about ``timeout`` seconds.

    How a sync call is bounded: redis-py's sync client has no per-call deadline, and its
    own settings cannot bound one. So the store makes its calls through a client of its
    own, made on first use from your client's settings (address, database, credentials,
    TLS, how replies are decoded: the same connection class and keyword arguments), with
    its own connections whose ``socket_timeout`` and ``socket_connect_timeout`` are at most
    ``timeout``, and which retries only a refused or reset connection (a pooled connection
    the server closed), once, at once. A call therefore ends within about ``timeout``, and
    your client is left exactly as it was. For a cluster the store's client is a
    ``RedisCluster`` on the nodes yours knows, with one attempt per call. A Sentinel or
    other custom pool is used as it is (its own timeouts and retries apply), and so is your
    client with ``timeout=None``. ``close()`` closes the store's connections.
    """

    name = "RedisStore"

    def _redis(self) -> Any:
        calls = self._calls
        if calls is None:
            with self._lock:
                if self._calls is None:
                    with store_errors(self.name):
                        self._calls = bounded_client(self.client, self.timeout)
                calls = self._calls
        return calls

    def _call(self, function: Any, *args: Any) -> Any:
        with store_errors(self.name):
            return function(*args)

    def _pause(self, seconds: float) -> None:
        time.sleep(seconds)

    def close(self) -> None:
        """Close the connections of the store's own client (not yours)."""
        with self._lock:
            calls, self._calls = self._calls, None
        if calls is not None and calls is not self.client:
            if is_cluster(calls):
                calls.close()
            else:
                calls.connection_pool.disconnect()

    def get(self, sid: str) -> Session | None:
        """The session stored under ``sid``, or None (none, empty, or expired)."""
        return self.format.decode(sid, self._call(self._redis().get, self.format.key(sid)))

    def get_many(self, sids: Sequence[str]) -> list[Session | None]:
        """The sessions of ``sids`` in one MGET, in order (None where there is none)."""
        return run(self._get_many(self._redis(), sids))

    def set(self, sid: str, session: Session) -> None:
        """Store ``session`` under ``sid`` with its TTL (or delete it if already expired)."""
        run(self._set(self._redis(), sid, session))

    def update(self, sid: str, changes: Changes) -> Session | None:
        """Apply ``changes`` to the session Redis holds now (a compare-and-set, retried while
        it keeps changing); the result, or None when it is gone (nothing is written)."""
        return run(self._update(self._redis(), sid, changes))

    def replace(self, sid: str, session: Session) -> bool:
        """Write the whole session, only where Redis still holds it (``SET ... XX``)."""
        return run(self._replace(self._redis(), sid, session))

    def touch(self, sid: str, session: Session) -> bool:
        """Reset the key's TTL from the session's cookie (``EXPIRE``; nothing with
        disable_touch/ttl); False when the session is gone."""
        return run(self._touch(self._redis(), sid, session))

    def destroy(self, sid: str) -> None:
        """Delete the session (DEL); no error if there is none."""
        self._call(self._redis().delete, self.format.key(sid))

    def ids(self) -> list[str]:
        """Every session id under the prefix (expired ones still in Redis included)."""
        return run(self._ids(self._redis()))

    def length(self) -> int:
        """How many keys the prefix has (connect-redis counts keys, not live sessions)."""
        return run(self._length(self._redis()))

    def all(self) -> list[Session]:
        """Every live session under the prefix, each with its ``.id``."""
        return run(self._all(self._redis()))

    def clear(self) -> None:
        """Delete every key under the prefix."""
        run(self._clear(self._redis()))

    def announce_end(self, sid: str) -> None:
        """Tell the processes whose watchers subscribe to this prefix (``subscribe_ends``) to
        close their connections of ``sid`` (``attach``'s ``disconnect_session``)."""
        self._call(self._redis().publish, self.format.announce_channel, utf8(sid))

    def subscribe_ends(self, *, keepalive: float = 30.0) -> SessionEnds:
        """Subscribe to the ends of this prefix's sessions (see :mod:`.notify`).

        ::

            ends = store.subscribe_ends()   # NotificationsUnavailableError, StoreError
            try:
                for sid in ends.poll(1.0):
                    ...                     # sid was destroyed, expired or evicted
            finally:
                ends.close()

        A PING goes out after ``keepalive`` silent seconds.
        """
        with store_errors(self.name):
            ends: SessionEnds = run(subscribe_plan(self, self._redis(), SessionEnds, keepalive))
        return ends


class AsyncRedisStore(_RedisStoreBase):
    """An asyncio connect-redis store on ``redis.asyncio.Redis`` or its ``RedisCluster``.

    ::

        store = AsyncRedisStore(redis.asyncio.Redis(), prefix="sess:", ttl=86400)
        session = await store.get(sid)
        await store.update(sid, Changes.of(session))

    The same options and rules as :class:`RedisStore`. Each client call runs under an
    ``asyncio.timeout(timeout)``: past it, or on any failure, StoreError naming
    ``AsyncRedisStore``. As :class:`RedisStore` does, the store calls through a client of
    its own made from your client's settings on first use (your client is left as it
    is): a refused or reset connection is tried once more at once, never with redis-py's
    backoff, so while Redis is down a call fails in milliseconds. A cluster, Sentinel or
    custom pool is used as it is. ``aclose()`` closes the store's connections.
    """

    name = "AsyncRedisStore"

    def _redis(self) -> Any:
        calls = self._calls
        if calls is None:
            calls = self._calls = bounded_async_client(self.client, self.timeout)
        return calls

    @functools.cached_property
    def _reads(self) -> ReadBatch:
        def wrap(error: BaseException) -> BaseException:
            if isinstance(error, TimeoutError):
                return timed_out(self.name, self.timeout)
            return failed(self.name, error)

        return ReadBatch(self._mget, wrap, self.timeout, self._start_mget)

    def _start_mget(self, keys: list[bytes]) -> asyncio.Future[list[Any]] | None:
        pipelined = self._pipelined
        return None if pipelined is None else pipelined.start(keys)

    @functools.cached_property
    def _pipelined(self) -> PipelinedReads | None:
        return PipelinedReads.of(self.client)  # None for a cluster: it has no connection_pool

    def _read_call(self, client: Any, key: bytes) -> Call:
        # the read of a save joins the coalesced reads (one deadline, the pipelined
        # connection): the compare-and-set that follows checks what it read, whatever
        # connection brought it
        return Call(self._reads.get, key)

    async def _mget(self, keys: list[bytes]) -> list[Any]:
        pipelined = self._pipelined
        if pipelined is not None:
            return await pipelined.mget(keys)
        client = self._redis()
        mget = client.mget_nonatomic if is_cluster(client) else client.mget
        values: list[Any] = await _once_more_if_stale(mget, (keys,))
        return values

    async def aclose(self) -> None:
        """Close the connections of the store's own client (not yours)."""
        calls, self._calls = self._calls, None
        if calls is not None and calls is not self.client:
            await calls.aclose()
        pipelined = self.__dict__.get("_pipelined")
        if pipelined is not None:
            await pipelined.aclose()

    async def _call(self, function: Any, *args: Any) -> Any:
        async with async_deadline(self.name, self.timeout):
            return await _once_more_if_stale(function, args)

    async def _pause(self, seconds: float) -> None:
        await asyncio.sleep(seconds)

    async def get(self, sid: str) -> Session | None:
        """The session stored under ``sid``, or None (none, empty, or expired).

        The reads of concurrent calls made during one turn of the event loop go to Redis
        together, as one MGET (:mod:`.batch`). ``timeout`` bounds the whole read, decoding
        included; a value over ``DECODE_OFF_LOOP_BYTES`` is decoded in a worker thread, so a
        big session does not stall the event loop (one over ``max_session_bytes`` is not
        read at all).
        """
        raw = await self._reads.get(self.format.key(sid))  # the batch's deadline bounds it
        if raw is not None and len(raw) > DECODE_OFF_LOOP_BYTES:
            try:
                async with asyncio.timeout(self.timeout):
                    return await asyncio.to_thread(self.format.decode, sid, raw)
            except TimeoutError as error:
                raise timed_out(self.name, self.timeout) from error
        return self.format.decode(sid, raw)

    async def get_many(self, sids: Sequence[str]) -> list[Session | None]:
        """See :meth:`RedisStore.get_many`."""
        return await arun(self._get_many(self._redis(), sids))

    async def set(self, sid: str, session: Session) -> None:
        """See :meth:`RedisStore.set`."""
        await arun(self._set(self._redis(), sid, session))

    async def update(self, sid: str, changes: Changes) -> Session | None:
        """See :meth:`RedisStore.update`."""
        return await arun(self._update(self._redis(), sid, changes))

    async def replace(self, sid: str, session: Session) -> bool:
        """See :meth:`RedisStore.replace`."""
        return await arun(self._replace(self._redis(), sid, session))

    async def touch(self, sid: str, session: Session) -> bool:
        """See :meth:`RedisStore.touch`."""
        return await arun(self._touch(self._redis(), sid, session))

    async def destroy(self, sid: str) -> None:
        """See :meth:`RedisStore.destroy`."""
        await self._call(self._redis().delete, self.format.key(sid))

    async def ids(self) -> list[str]:
        """See :meth:`RedisStore.ids`."""
        return await arun(self._ids(self._redis()))

    async def length(self) -> int:
        """See :meth:`RedisStore.length`."""
        return await arun(self._length(self._redis()))

    async def all(self) -> list[Session]:
        """See :meth:`RedisStore.all`."""
        return await arun(self._all(self._redis()))

    async def clear(self) -> None:
        """See :meth:`RedisStore.clear`."""
        await arun(self._clear(self._redis()))

    async def announce_end(self, sid: str) -> None:
        """See :meth:`RedisStore.announce_end`."""
        await self._call(self._redis().publish, self.format.announce_channel, utf8(sid))

    async def subscribe_ends(self, *, keepalive: float = 30.0) -> AsyncSessionEnds:
        """:meth:`RedisStore.subscribe_ends`, on a connection of your client's pool."""
        async with async_deadline(self.name, self.timeout):
            plan = subscribe_plan(self, self._redis(), AsyncSessionEnds, keepalive)
            ends: AsyncSessionEnds = await arun(plan)
        return ends
