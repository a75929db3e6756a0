"""The watcher: notice a logout or an expiry while the connection is open, and close it.

``attach(watch=seconds)`` runs :func:`watch_loop` in the background while any session is
live. Every ``watch`` seconds it reads every live session again (one ``get_many`` per
batch) and closes the connections whose session is gone; where the store reports ends
(``RedisStore.subscribe_ends``: Redis keyspace notifications) it also listens, and
reloads at once each session reported ended. The loop is a plan (no I/O of its own): the
sync handle runs it in a thread or greenlet, the async one in an asyncio task.
"""

from __future__ import annotations

import functools
import logging
import math
import time
from typing import TYPE_CHECKING, Any

from .changes import Changes
from .drive import Call, Plan, call
from .errors import NotificationsUnavailableError
from .health import describe

if TYPE_CHECKING:
    from .core import SessionCore

__all__ = [
    "NOTIFY_POLL",
    "RESUBSCRIBE_FIRST",
    "RESUBSCRIBE_MAX",
    "WatchClock",
    "keepalive_loop",
    "watch_loop",
]

logger = logging.getLogger("engineio_session")

#: seconds a watcher waits on its keyspace subscription before it looks whether any session
#: is still live: an idle watcher stops (and unsubscribes) within this
NOTIFY_POLL = 1.0
#: seconds before subscribing again after a failure, doubled after each one, up to the max:
#: the periodic reload goes on meanwhile, so a Redis that is down costs a few log lines only
RESUBSCRIBE_FIRST = 0.5
RESUBSCRIBE_MAX = 30.0
#: seconds between tries of the reload that must follow a (re)subscription, while it fails
RELOAD_RETRY = 0.5
NOTIFIED = "a keyspace notification"
AFTER_SUBSCRIBING = "the reload after subscribing"


class WatchClock:
    """When the watcher reloads every session and may subscribe (again); no I/O.

    The periodic reload runs every ``watch`` seconds whether or not notifications come: it
    bounds the notice time when a notification is lost, and sees what sends none (a cookie
    that expires before its Redis key, a store with no notifications). Right after each
    subscription every session is reloaded once: what ended before it was not notified.
    That reload is tried again every :data:`RELOAD_RETRY` seconds until it succeeds (a store
    that just came back may fail the first read), never later than the next period.
    """

    def __init__(self, interval: float, notifies: bool) -> None:
        self.interval = interval
        self.reload_at = time.monotonic() + interval
        self.subscribe_at = 0.0 if notifies else math.inf
        self.failures = 0
        self._after_subscribing = False

    def subscribed(self) -> None:
        self.failures = 0
        self.reload_at = 0.0
        self._after_subscribing = True

    def lost(self) -> float:
        """A subscription failed or broke: the seconds until the next attempt."""
        delay = min(RESUBSCRIBE_MAX, RESUBSCRIBE_FIRST * 2.0**self.failures)
        self.failures += 1
        self.subscribe_at = time.monotonic() + delay
        return delay

    def unavailable(self) -> None:
        self.subscribe_at = math.inf

    def may_subscribe(self) -> bool:
        return time.monotonic() >= self.subscribe_at

    def wait(self, subscribed: bool) -> float:
        """How long to poll the subscription (or, without one, to sleep) now."""
        until = self.reload_at if subscribed else min(self.reload_at, self.subscribe_at)
        left = max(0.0, until - time.monotonic())
        return min(left, NOTIFY_POLL) if subscribed else left

    def reload_due(self) -> str | None:
        """Whether to reload every session now: why (for the log), or None."""
        now = time.monotonic()
        if now < self.reload_at:
            return None
        why = AFTER_SUBSCRIBING if self._after_subscribing else "the periodic reload"
        self._after_subscribing = False
        self.reload_at = now + self.interval
        return why

    def reload_failed(self, why: str) -> None:
        """The reload ``why`` could not read the store: the one after subscribing is tried
        again soon (the periodic one waits for its next period)."""
        if why == AFTER_SUBSCRIBING:
            self._after_subscribing = True
            self.reload_at = min(self.reload_at, time.monotonic() + RELOAD_RETRY)


def _subscribed(
    core: SessionCore, ends: Any, error: BaseException | None, clock: WatchClock
) -> Any:
    """The outcome of a subscribe: the subscription, or None (logged; when to retry)."""
    if error is None:
        clock.subscribed()
        return ends
    watch = core._options.watch
    if isinstance(error, NotificationsUnavailableError):
        core._notifies = False
        clock.unavailable()
        logger.warning(
            "watch: %s. A logout or an expiry is noticed by the reload every %s s only",
            error,
            watch,
        )
    else:
        delay = clock.lost()
        logger.warning(
            "watch: no keyspace notifications (%s); subscribing again in %s s, the reload "
            "every %s s goes on",
            describe(error),
            delay,
            watch,
        )
    return None


def _subscribe(core: SessionCore, clock: WatchClock) -> Plan[Any]:
    try:
        subscribe = functools.partial(core._store.subscribe_ends, keepalive=core._options.watch)
        ends = yield Call(subscribe)
    except Exception as error:
        return _subscribed(core, None, error, clock)
    return _subscribed(core, ends, None, clock)


def _sweep(core: SessionCore, by_id: dict[str, list[str]], why: str) -> Plan[bool]:
    """Reload ``by_id``; False when the store could not be read. A bug is logged: it must
    not stop the watch."""
    try:
        return (yield from core._reload(by_id, why)) is not None
    except Exception:
        logger.exception("session watch error")
        return False


def watch_loop(core: SessionCore) -> Plan[None]:
    """Reload every live session each ``watch`` seconds; where the store notifies (Redis
    keyspace events), also reload at once each session it reports ended. Runs while any
    session is live."""
    interval = core._options.watch
    assert interval is not None
    clock = WatchClock(interval, core._notifies)
    ends: Any = None
    try:
        while True:
            if ends is None and core._notifies and clock.may_subscribe():
                ends = yield from _subscribe(core, clock)
            if ends is None:
                yield Call(core._sleep, clock.wait(False))
            else:
                try:
                    ended = yield Call(ends.poll, clock.wait(True))
                except Exception as error:
                    yield Call(ends.close)
                    ends = _subscribed(core, None, error, clock)
                else:
                    if ended:
                        yield from _sweep(core, core._live_by_id(ended), NOTIFIED)
                    for session_id in ends.take_announced():  # disconnect_session elsewhere
                        for sid in core._sids_of(session_id):
                            core._end(sid, "disconnect_session in another process")
            if not core._keep_watching():
                return
            why = clock.reload_due()
            if why is not None and not (yield from _sweep(core, core._live_by_id(), why)):
                clock.reload_failed(why)
    finally:
        if ends is not None:
            yield Call(ends.close)


def keepalive_loop(core: SessionCore) -> Plan[None]:
    """``touch_interval``: every interval, extend each live session once in the store (its
    cookie's expiry from its max age again, written back with ``update``: the session
    as the store holds it, only its cookie changed), whatever the number of its
    connections; a session found gone ends them. Runs while any session is live."""
    interval = core._options.touch_interval
    assert interval is not None
    while True:
        yield Call(core._sleep, interval)
        if not core._keep_running("keepalive"):
            return
        for session_id, sids in core._live_by_id().items():
            live = core._sessions.get(sids[0])
            if live is None or live.destroyed:
                continue
            cookie = live.cookie.copy()
            cookie.touch()
            update = call(core._store.update, session_id, Changes(cookie=cookie))
            merged, failed = yield from core._guarded("the keep-alive touch", False, update)
            if failed:
                continue
            if merged is None:
                for sid in sids:
                    core._end(sid, "the keep-alive touch")
                continue
            for sid in sids:  # each tab's session holds the new expiry
                tab = core._sessions.get(sid)
                if tab is not None:
                    tab.cookie = merged.cookie.copy()
