"""What every store shares: the store contract, decoding, expiry and error mapping.

A store is a pure format plus a thin shell. The format (keys, rows, file names,
serialisation, TTL and expiry rules) is plain code with no I/O; the sync and async shells
make only the client calls and share the format. Every store has::

    get(sid) -> Session | None      set(sid, session)
    touch(sid, session)             destroy(sid)

and, where the Node store has them, ``all()``, ``ids()``, ``length()``, ``clear()``. An
async store has the same methods as coroutines. An expired session reads as None whatever
the store still holds.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from .. import jsjson
from .._accel import speedups
from ..errors import CorruptSessionError, SessionError, SessionTooLargeError, StoreError
from ..session import STORED_COOKIE, Session

if TYPE_CHECKING:
    from ..changes import Changes

__all__ = [
    "DECODE_OFF_LOOP_BYTES",
    "DEFAULT_MAX_SESSION_BYTES",
    "DEFAULT_TIMEOUT",
    "AsyncStore",
    "JSONSerializer",
    "Serializer",
    "Store",
    "async_deadline",
    "check_size",
    "corrupt",
    "decode_session",
    "failed",
    "store_errors",
    "timed_out",
]

logger = logging.getLogger("engineio_session")

#: seconds a store call may take before it raises StoreError
DEFAULT_TIMEOUT = 2.0
#: the largest stored session a store reads (bytes); a larger one is SessionTooLargeError
DEFAULT_MAX_SESSION_BYTES = 1024 * 1024
#: an async store decodes a stored session larger than this (bytes) in a worker thread
DECODE_OFF_LOOP_BYTES = 64 * 1024


def check_size(store: str, sid: str, raw: str | bytes, limit: int | None) -> None:
    """:class:`SessionTooLargeError` when ``raw`` is over ``limit`` bytes (None: no limit).

    >>> check_size("RedisStore", "abc", b"x" * 10, 5)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    engineio_session.errors.SessionTooLargeError: ... it is 10 bytes, over max_session_bytes (5)...
    """
    if limit is not None and len(raw) > limit:
        is_bytes = isinstance(raw, (bytes, bytearray))
        size = len(raw) if is_bytes else len(str(raw).encode("utf-8", "replace"))
        if size > limit:
            raise SessionTooLargeError(store, sid, size, limit)


class Serializer(Protocol):
    """connect-redis's ``serializer`` option: an object with ``parse`` and ``stringify``."""

    def parse(self, text: str) -> Any: ...

    def stringify(self, value: Any) -> str: ...


class JSONSerializer:
    """The default serializer: JSON exactly as Node's ``JSON`` global writes and reads it."""

    #: jsjson.loads itself: decode_session knows it and parses a session lazily
    parse = staticmethod(jsjson.loads)

    @staticmethod
    def stringify(value: Any) -> str:
        return jsjson.dumps(value, name="session")


class Store(Protocol):
    """A sync session store: express-session's store contract, plus safe writes back.

    ``get``, ``set``, ``touch`` and ``destroy`` are express-session's (``set`` writes the
    whole session, an upsert: what a session created on this side needs). The writes back
    of a session that Node may have changed or destroyed meanwhile never bring it back and
    never lose Node's change (the store contract of issue 9):

    - ``update(sid, changes)`` applies :class:`~engineio_session.changes.Changes` to the
      session as the store holds it now, atomically (a compare-and-set, a row lock, a file
      lock), and returns the result; None when the store no longer holds the session (or
      it expired): then nothing is written.
    - ``replace(sid, session)`` writes the whole session, express-session's last writer
      wins, but only where the store still holds it; False (nothing written) when not.
    - ``touch(sid, session)`` resets the expiry as the Node store does, only where the
      session still is; False when it is gone.
    - ``get_many(sids)`` reads several sessions at once (one round trip where the store
      can), in the order asked: what a watcher sweep and coalesced handshakes use.

    A store whose ``get`` never returns an expired session (every store here) says so with
    a class attribute ``drops_expired = True``: ``attach`` then does not check the expiry
    of what it read a second time. Without it, ``attach`` checks.

    A store whose ``get`` returns a :class:`Session` nobody else holds (decoded for that
    read: every store here) says so with ``fresh_sessions = True``: ``attach`` then makes
    that object the connection's live session rather than a copy of it. Without it (a
    store that hands out a session it keeps), ``attach`` copies.
    """

    def get(self, sid: str) -> Session | None: ...

    def get_many(self, sids: Sequence[str]) -> list[Session | None]: ...

    def set(self, sid: str, session: Session) -> None: ...

    def update(self, sid: str, changes: Changes) -> Session | None: ...

    def replace(self, sid: str, session: Session) -> bool: ...

    def touch(self, sid: str, session: Session) -> bool: ...

    def destroy(self, sid: str) -> None: ...


class AsyncStore(Protocol):
    """An async session store: the same methods as :class:`Store`, as coroutines."""

    async def get(self, sid: str) -> Session | None: ...

    async def get_many(self, sids: Sequence[str]) -> list[Session | None]: ...

    async def set(self, sid: str, session: Session) -> None: ...

    async def update(self, sid: str, changes: Changes) -> Session | None: ...

    async def replace(self, sid: str, session: Session) -> bool: ...

    async def touch(self, sid: str, session: Session) -> bool: ...

    async def destroy(self, sid: str) -> None: ...


def decode_session(
    store: str,
    sid: str,
    raw: str | bytes,
    parse: Callable[[str], Any] = jsjson.loads,
    *,
    explain: Callable[[Any], str] | None = None,
) -> Session:
    """The :class:`Session` in ``raw``, or :class:`CorruptSessionError` (logged once, here).

    ``explain(data)``, when given, adds a hint to the reason of parsed data that is no
    session (the file store: "it is encrypted, and this store has no secret").

    >>> decode_session("RedisStore", "abc", '{"cookie": {"expires": null}, "n": 1}')["n"]
    1
    """
    text = raw.decode("utf-8", "replace") if isinstance(raw, (bytes, bytearray)) else raw
    if parse is jsjson.loads and speedups is not None:
        # express-session's own form with plain members only: where the cookie ends and its
        # expiry, in C, which checks the opening itself (None: any other spelling, below)
        read = speedups.stored_cookie(text)
        if read is not None:
            return Session.from_stored_cookie(sid, text, store, read[0], read[1])
    if parse is jsjson.loads and text.startswith(STORED_COOKIE):
        # express-session's own form: only the cookie is parsed now, the rest on first use
        # (Session.from_stored_text). jsjson.raw_decode without its call: every read
        try:
            cookie, end = jsjson.scan_once(text, len(STORED_COOKIE))
        except (StopIteration, ValueError, RecursionError):
            end = -1  # not JSON, or nested too deeply: the whole parse below says which
        # the cookie must end the object or be followed by more keys, and be the only
        # top-level "cookie" (a later duplicate would win in JSON.parse; a nested one is
        # parsed whole too)
        if (
            end != -1
            and text[end : end + 1] in (",", "}")
            and text[-1] == "}"
            and text.find('"cookie":', end) == -1
        ):
            try:
                return Session.from_stored_text(
                    sid, cookie, text, origin=store, rest=end, reread=True
                )
            except ValueError as error:
                raise corrupt(store, sid, str(error)) from error
    try:
        data = parse(text)
    except (ValueError, TypeError) as error:
        raise corrupt(store, sid, f"not JSON ({_where(error)})") from error
    try:
        return Session.from_json(sid, data, text=text, parse=parse)
    except ValueError as error:
        hint = explain(data) if explain is not None else ""
        raise corrupt(store, sid, str(error) + hint) from error


def _where(error: BaseException) -> str:
    """Where a parse failed, never what it read: ``json``'s message and position only."""
    if isinstance(error, json.JSONDecodeError):
        return f"{error.msg} at character {error.pos}"
    return type(error).__name__


def corrupt(store: str, sid: str, reason: str) -> CorruptSessionError:
    """A :class:`CorruptSessionError`. Not logged here: whoever catches it logs it once
    (``attach`` through :mod:`engineio_session.health`, rate-limited)."""
    return CorruptSessionError(store, sid, reason)


def failed(store: str, cause: BaseException) -> StoreError:
    """A :class:`StoreError` for a failed call (logged once, by whoever catches it)."""
    return StoreError(store, cause)


def timed_out(store: str, timeout: float | None) -> StoreError:
    """The :class:`StoreError` of a call that had no answer within ``timeout`` seconds."""
    return failed(store, TimeoutError(f"no answer within {timeout} s"))


@contextlib.contextmanager
def store_errors(store: str, *passthrough: type[BaseException]) -> Iterator[None]:
    """Turn any failure of a client call into :class:`StoreError` naming ``store``.

    Our own ``SessionError`` and the exception types in ``passthrough`` go through as they are.
    """
    try:
        yield
    except SessionError:
        raise
    except passthrough:
        raise
    except Exception as error:
        raise failed(store, error) from error


@contextlib.asynccontextmanager
async def async_deadline(store: str, timeout: float | None) -> AsyncIterator[None]:
    """Bound an async store call by ``timeout`` seconds; map every failure to StoreError."""
    try:
        async with asyncio.timeout(timeout):
            yield
    except SessionError:
        raise
    except TimeoutError as error:
        raise timed_out(store, timeout) from error
    except Exception as error:
        raise failed(store, error) from error
