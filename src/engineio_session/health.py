"""Whether a store is known to be down, and a log of its failures that stays small.

A handle asks :meth:`StoreHealth.admit` before each store call. While the store answers,
or fails fast (a refused connection: the call cost milliseconds), every call goes through,
so the first call after the store comes back finds it. Once a call failed slowly for want
of the store (it took :data:`SLOW_FAILURE` seconds or more: a timeout, a client's retries
with backoff), the store counts as down: one call at a time goes through as a probe, and
every other call is refused at once, so handshakes during such an outage answer in
milliseconds, whatever the client's own timeouts and retries. The first call that
succeeds, or fails fast, closes the breaker; there is no timer.

Failures are logged one line per :data:`LOG_INTERVAL` at most, the lines in between
counted and the count given on the next line and when the store answers again. A line
names the store, what was under way and the kind of failure, never a session's data, a
cookie or a secret, and is cut at :data:`MAX_REASON` characters::

    >>> health = StoreHealth("RedisStore")
    >>> health.admit(), health.down
    (True, False)
"""

from __future__ import annotations

import logging
import threading
import time

from .errors import CorruptSessionError, SessionError, StoreError

__all__ = ["LOG_INTERVAL", "MAX_REASON", "SLOW_FAILURE", "StoreHealth", "describe", "is_outage"]

logger = logging.getLogger("engineio_session")

#: seconds between two log lines about the failures of one store
LOG_INTERVAL = 10.0
#: seconds a failed store call must have taken to open the breaker
SLOW_FAILURE = 0.1
#: the longest reason a log line gives (a driver's message could be long)
MAX_REASON = 300


def describe(error: BaseException) -> str:
    """A store failure for the log: what failed and why, never a cookie, data or a whole id.

    >>> describe(StoreError("RedisStore", ConnectionRefusedError(111, "Connection refused")))
    'RedisStore: ConnectionRefusedError: [Errno 111] Connection refused'
    """
    if isinstance(error, CorruptSessionError):
        text = error.log_line()
    elif isinstance(error, StoreError):
        cause = error.cause
        reason = cause if isinstance(cause, str) else f"{type(cause).__name__}: {cause}"
        text = f"{error.store}: {reason}"
    elif isinstance(error, SessionError):
        text = f"{type(error).__name__}: {error}"
    else:  # a store of the user's that raised something of its own
        text = f"{type(error).__name__}"
    return text if len(text) <= MAX_REASON else text[: MAX_REASON - 1] + "…"


def is_outage(error: BaseException) -> bool:
    """Whether ``error`` says the store cannot be reached (as opposed to bad data in it)."""
    return not isinstance(error, CorruptSessionError)


class StoreHealth:
    """The circuit breaker and the failure log of one store (thread-safe, no I/O)."""

    def __init__(self, store: str, *, interval: float = LOG_INTERVAL) -> None:
        self.store = store
        self.interval = interval
        self._lock = threading.Lock()
        self.down = False
        self._probing = False
        self._next_line = 0.0
        self._unlogged = 0
        #: the calls that failed since the store last answered (0: it is up)
        self.failures = 0
        self._down_since = 0.0
        #: when the breaker last opened: a call that began before it was no probe
        self._opened_at = 0.0

    def admit(self) -> bool:
        """Whether a call may go to the store now (False: it is down, and a probe is out)."""
        if not self.down:  # the common case, no lock
            return True
        with self._lock:
            if not self.down:
                return True
            if self._probing:
                self._unlogged += 1
                self.failures += 1
                return False
            self._probing = True
            return True

    def release(self, seconds: float = 0.0) -> None:
        """A call that was admitted ended with neither an answer nor a failure (cancelled)
        after ``seconds``."""
        with self._lock:
            if self._was_probe(time.monotonic() - seconds):
                self._probing = False

    def _was_probe(self, began: float) -> bool:
        """Whether a call that began at ``began`` can be the probe: only one admitted while
        the breaker was open. One admitted before it opened (its failure, a slow one, is
        what opened it, or came after) must not free the probe's place, or each straggler
        would let one more call wait the store's whole timeout."""
        return not self.down or began >= self._opened_at

    def succeeded(self) -> None:
        """The store answered: it is up."""
        if not self.failures:  # the common case, no lock
            return
        with self._lock:
            self.down, self._probing = False, False
            failures, self.failures = self.failures, 0
            unlogged, self._unlogged = self._unlogged, 0
            seconds = time.monotonic() - self._down_since
        if failures:
            logger.warning(
                "%s answers again, after %d failed calls in %.1f s%s",
                self.store,
                failures,
                seconds,
                f" ({unlogged} not logged one by one)" if unlogged else "",
            )

    def failed(self, error: BaseException, what: str, outcome: str, seconds: float = 0.0) -> None:
        """A call failed after ``seconds``: log it (or count it); a slow outage marks the
        store down, a fast failure closes the breaker (asking costs nothing)."""
        now = time.monotonic()
        with self._lock:
            if self._was_probe(now - seconds):
                self._probing = False
            if not self.down and self.failures == 0:
                self._down_since = now
            if is_outage(error):
                was_down = self.down
                self.down = seconds >= SLOW_FAILURE
                if not self.down or not was_down:  # closed, or opened now: no probe out
                    self._probing = False
                if self.down and not was_down:
                    self._opened_at = now
            self.failures += 1
            if now < self._next_line:
                self._unlogged += 1
                return
            self._next_line = now + self.interval
            unlogged, self._unlogged = self._unlogged, 0
        more = f" (and {unlogged} more failures since the last line)" if unlogged else ""
        logger.warning(
            "%s failed during %s, %s: %s%s", self.store, what, outcome, describe(error), more
        )

    def refused(self, what: str, outcome: str) -> None:
        """A call :meth:`admit` refused: counted, logged only at the interval."""
        now = time.monotonic()
        with self._lock:
            if now < self._next_line:
                return
            self._next_line = now + self.interval
            unlogged, self._unlogged = self._unlogged, 0
        logger.warning(
            "%s is down: %s %s without asking it (%d such calls since the last line)",
            self.store,
            what,
            outcome,
            unlogged,
        )
