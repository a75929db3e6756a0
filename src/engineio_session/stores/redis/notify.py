"""Keyspace notifications: which sessions Redis reports ended (a logout, an expiry).

``subscribe_ends()`` on a store PSUBSCRIBEs, on a connection of its own, to
``__keyspace@<db>__:<prefix>*`` and reports the ids whose key got ``del``, ``expired``,
``evicted``, ``rename_from`` or ``move_from`` (a ``set`` is a save: ignored). The
subscribing and the reading are written once here as plans (see :mod:`engineio_session.drive`);
:class:`SessionEnds` and :class:`AsyncSessionEnds` only drive them.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from ...drive import Call, Plan, arun, run
from ...errors import NotificationsUnavailableError, StoreError
from ..base import async_deadline, store_errors
from .client import db_of, is_cluster
from .format import NOTIFY_CONFIG, RedisFormat, config_value, notify_setting

__all__ = ["AsyncSessionEnds", "SessionEnds", "subscribe_plan"]

logger = logging.getLogger("engineio_session")

#: at most this many notifications are taken in one ``poll``
BATCH = 1000
CLUSTER = (
    "keyspace notifications are per node on a Redis Cluster (each master notifies only its "
    "own keys), which this store does not subscribe to"
)


class _Ends:
    """What both subscription shells share: reading pub/sub messages, written once."""

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
        #: session ids another process's disconnect_session announced (announce_end)
        self._announced: list[str] = []

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
        elif kind == "message":  # the announce channel: a disconnect_session elsewhere
            data = message["data"]
            self._announced.append(
                data.decode("utf-8", "replace") if isinstance(data, bytes) else str(data)
            )

    def take_announced(self) -> list[str]:
        """The session ids announced (``announce_end``) since the last call."""
        announced, self._announced = self._announced, []
        return announced

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

    def _confirm(self) -> Plan[None]:
        """Wait for Redis's confirmation of the PSUBSCRIBE: from then on no event is lost."""
        deadline = None if self.timeout is None else time.monotonic() + self.timeout
        while not self._confirmations:
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                raise StoreError(self.store, TimeoutError("PSUBSCRIBE was not confirmed"))
            message = yield Call(self._pubsub.get_message, False, left)
            if message is not None:
                self._take(message, [])

    def _poll(self, timeout: float) -> Plan[list[str]]:
        ended: list[str] = []
        if self._ping_due():
            yield Call(self._pubsub.ping)
        message = yield Call(self._pubsub.get_message, False, timeout)
        taken = 0
        while message is not None:
            self._take(message, ended)
            taken += 1
            if taken == BATCH:
                break
            message = yield Call(self._pubsub.get_message, False, 0.0)
        return ended

    def _close_plan(self) -> Plan[None]:
        # redis-py 5.0.0's asyncio PubSub has no aclose() yet: reset() is the same there
        close = getattr(self._pubsub, "aclose", None) or self._pubsub.close
        try:
            yield Call(close)
        except Exception as error:  # a connection already gone: nothing left to close
            logger.debug("%s: closing a subscription: %s", self.store, error)


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

    def poll(self, timeout: float) -> list[str]:
        """The ids of the sessions that ended, waiting up to ``timeout`` seconds for one."""
        with store_errors(self.store):
            return run(self._poll(timeout))

    def close(self) -> None:
        """Unsubscribe: close the subscription's connection."""
        run(self._close_plan())

    def __enter__(self) -> SessionEnds:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncSessionEnds(_Ends):
    """:class:`SessionEnds` for asyncio: what ``AsyncRedisStore.subscribe_ends`` returns.

    ::

        async with await store.subscribe_ends() as ends:
            while running:
                for sid in await ends.poll(1.0):
                    print("logged out or expired:", sid)
    """

    async def poll(self, timeout: float) -> list[str]:
        """The ids of the sessions that ended, waiting up to ``timeout`` seconds for one."""
        bound = None if self.timeout is None else timeout + self.timeout
        async with async_deadline(self.store, bound):
            return await arun(self._poll(timeout))

    async def close(self) -> None:
        """Unsubscribe: close the subscription's connection."""
        await arun(self._close_plan())

    aclose = close

    async def __aenter__(self) -> AsyncSessionEnds:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()


def _warn_config_unreadable(store: Any, error: BaseException) -> None:
    """CONFIG GET refused (renamed or denied, as on some managed Redis): say so once."""
    if not store._config_warned:
        store._config_warned = True
        logger.warning(
            "%s: cannot read notify-keyspace-events (%s); subscribing anyway: unless it has "
            "K, g and x no notification comes, and only a periodic reload sees a session end",
            store.name,
            error,
        )


def subscribe_plan(store: Any, client: Any, ends_class: type[_Ends], keepalive: float) -> Plan[Any]:
    """Subscribe ``store`` (a Redis store shell) to the ends of its sessions on ``client``.

    Reads ``notify-keyspace-events`` (CONFIG GET), adds the classes it needs when the store
    has ``enable_notifications`` (CONFIG SET), then PSUBSCRIBEs on a connection of its own
    and waits for Redis's confirmation. The shell bounds the whole plan by its ``timeout``.
    """
    import redis

    if is_cluster(client):
        raise NotificationsUnavailableError(store.name, CLUSTER)
    try:
        current: str | None = config_value((yield Call(client.config_get, NOTIFY_CONFIG)))
    except redis.ResponseError as error:
        current = None
        _warn_config_unreadable(store, error)
    setting = notify_setting(store.name, current, store.enable_notifications)
    if setting is not None:
        try:
            yield Call(client.config_set, NOTIFY_CONFIG, setting)
        except redis.ResponseError as error:
            raise NotificationsUnavailableError(
                store.name, f"CONFIG SET notify-keyspace-events {setting!r}: {error}"
            ) from error
        logger.info("%s: set notify-keyspace-events to %r", store.name, setting)
    pubsub = client.pubsub()
    ends = ends_class(pubsub, store.format, store.name, store.timeout, keepalive)
    try:
        yield Call(pubsub.subscribe, store.format.announce_channel)
        yield Call(pubsub.psubscribe, store.format.keyspace_pattern(db_of(client)))
        yield from ends._confirm()
    except BaseException:
        yield from ends._close_plan()
        raise
    return ends
