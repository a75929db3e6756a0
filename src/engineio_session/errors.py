"""The exceptions of engineio-session: one base, ``SessionError``.

A rejected cookie is never an exception (it is ``None``). These are for stores and data:

    >>> err = StoreError("RedisStore", ConnectionRefusedError(111, "Connection refused"))
    >>> str(err)
    'RedisStore: [Errno 111] Connection refused'
    >>> str(CorruptSessionError("FileStore", "abc", "not JSON"))
    "FileStore: session 'abc' is corrupt: not JSON"
"""

from __future__ import annotations

__all__ = [
    "CorruptSessionError",
    "KrupteinError",
    "NotificationsUnavailableError",
    "SessionError",
    "SessionGoneError",
    "SessionTooLargeError",
    "StoreError",
    "short_id",
]


def short_id(sid: str) -> str:
    """A session id for a log line: at most its first 6 characters (an id is half a
    credential; 6 characters follow a session through the logs, and cannot be used).

    >>> short_id("Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ"), short_id("abc")
    ('Xq1dQm…', 'abc')
    """
    return sid if len(sid) <= 6 else sid[:6] + "…"


class SessionError(Exception):
    """Base class of every error this library raises on purpose."""


class StoreError(SessionError):
    """A store could not be reached, failed, or did not answer in time.

    ``store`` names the store (its class name), ``cause`` is the underlying exception.
    """

    def __init__(self, store: str, cause: BaseException | str) -> None:
        self.store = store
        self.cause = cause
        super().__init__(f"{store}: {cause}")


class CorruptSessionError(SessionError):
    """A store holds something under a session id that is not a session.

    Not JSON, not an object, no ``cookie``, a bad ``expires``, or (encrypted files) a
    payload that does not decrypt. The data is left where it is: nothing is deleted.
    """

    def __init__(self, store: str, sid: str, reason: str) -> None:
        self.store = store
        self.sid = sid
        self.reason = reason
        super().__init__(f"{store}: session {sid!r} is corrupt: {reason}")

    def log_line(self) -> str:
        """The message for a log: the id cut by :func:`short_id`."""
        return f"{self.store}: session {short_id(self.sid)!r} is corrupt: {self.reason}"


class SessionTooLargeError(CorruptSessionError):
    """A store holds more under a session id than ``max_session_bytes``: not read.

    Decoding a session of megabytes takes a fraction of a second of CPU; on an event loop
    that stalls every other connection. The data is left where it is.
    """

    def __init__(self, store: str, sid: str, size: int, limit: int) -> None:
        self.size = size
        self.limit = limit
        super().__init__(
            store, sid, f"it is {size:,} bytes, over max_session_bytes ({limit:,}): not read"
        )


class NotificationsUnavailableError(SessionError):
    """A store cannot tell when a session ends; ``reason`` says why.

    ``RedisStore.subscribe_ends`` raises it when Redis's ``notify-keyspace-events`` lacks
    K, g or x and the store was not told ``enable_notifications=True``, when Redis refused
    CONFIG SET, or on a Redis Cluster. ``attach(watch=...)`` then relies on its periodic
    reload.
    """

    def __init__(self, store: str, reason: str) -> None:
        self.store = store
        self.reason = reason
        super().__init__(f"{store}: {reason}")


class SessionGoneError(SessionError):
    """The store no longer holds the session: destroyed (a logout) or expired.

    ``reload()`` raises it, as express-session's ``reload`` fails; so do ``save()`` and
    ``touch()`` of a live session whose session is gone: they write nothing (a write back
    never brings back a session the Node app destroyed), and the connections of that
    session are closed, as a logout noticed by ``watch`` is.
    """

    def __init__(self, sid: str) -> None:
        self.sid = sid
        super().__init__("failed to load session")  # express-session's message


class KrupteinError(SessionError, ValueError):
    """An envelope that kruptein.get would refuse: tampered, wrong secret, or not an envelope.

    The message never contains the secret. (A ``ValueError`` too, as it was first.)
    """
