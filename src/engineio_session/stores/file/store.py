"""``FileStore`` and ``AsyncFileStore``: a session-file-store directory, sync and async.

Both shells hold one :class:`~.io.Files` and only differ in how a call to it is made: in the
caller's thread or a worker thread bounded by ``timeout`` (sync), or in a worker thread
awaited under ``asyncio.timeout`` (async).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
import os
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar, Unpack

from ... import jsjson
from ..._js import now_ms
from ...changes import Changes
from ...errors import SessionError
from ...session import Session
from ..base import (
    DEFAULT_TIMEOUT,
    async_deadline,
    failed,
    store_errors,
    timed_out,
)
from ..batch import ReadBatch
from .format import FileFormat, FileFormatKeywords
from .io import Files

__all__ = ["AsyncFileStore", "FileStore"]

logger = logging.getLogger("engineio_session")

_T = TypeVar("_T")

_pool_lock = threading.Lock()
_pool: concurrent.futures.ThreadPoolExecutor | None = None


def _workers() -> concurrent.futures.ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = concurrent.futures.ThreadPoolExecutor(
                thread_name_prefix="engineio-session-files"
            )
        return _pool


class _FileStoreBase:
    #: ``get`` returns None for an expired session (Store's contract)
    drops_expired = True
    #: ``get`` decodes a new Session for every read, which the caller may keep (Store's)
    fresh_sessions = True

    def __init__(
        self,
        path: str | os.PathLike[str] = "./sessions",
        *,
        timeout: float | None = DEFAULT_TIMEOUT,
        **options: Unpack[FileFormatKeywords],
    ) -> None:
        self._name = type(self).__name__
        self.format = FileFormat(path, **options, store_name=self._name)
        self.timeout = timeout
        self._files = Files(self.format)
        with store_errors(self._name):
            self._files.make_directory()

    @property
    def path(self) -> str:
        """The session directory (``path.normalize(options.path)``)."""
        return self.format.path

    def __repr__(self) -> str:
        encrypted = ", encrypted" if self.format.encrypted else ""
        return f"{self._name}({self.format.path!r}, ttl={self.format.ttl}{encrypted})"

    def _stamp(self, sid: str, session: Session) -> str:
        # helpers.set: setLastAccess(session) mutates the caller's session, then encoder()
        self.format.file_name(sid)
        session["__lastAccess"] = now_ms()
        return jsjson.dumps(session, name="session")


class FileStore(_FileStoreBase):
    """A session-file-store directory, from synchronous code.

    ``FileStore(path="./sessions", *, ttl=3600, file_extension=".json", secret=None,
    timeout=DEFAULT_TIMEOUT)``. With a ``timeout`` each call runs in a worker thread and
    raises :class:`StoreError` when it has no answer in time (a hung network filesystem);
    the stuck call keeps its thread until the kernel answers. ``timeout=None`` runs every
    call in the caller's thread, unbounded.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     store = FileStore(directory, secret="keyboard cat")
    ...     store.set("abc", Session.new("abc"))
    ...     store.get("abc").cookie.path, store.expired("abc")
    ('/', False)
    """

    def _call(self, function: Callable[..., _T], *args: Any) -> _T:
        with store_errors(self._name):
            if self.timeout is None:
                return function(*args)
            future = _workers().submit(function, *args)
            try:
                return future.result(self.timeout)
            except concurrent.futures.TimeoutError:
                future.cancel()
                raise timed_out(self._name, self.timeout) from None

    def get(self, sid: str) -> Session | None:
        """The session, or None: no file, expired (either rule), or an id that is no file name.

        Raises :class:`CorruptSessionError` for a file that holds no session (left in place).
        """
        if not self.format.reachable_id(sid):
            logger.debug("%s: session id refused as a file name", self._name)
            return None
        return self._call(self._files.get, sid)

    def set(self, sid: str, session: Session) -> None:
        """Write ``session`` as ``<path>/<sid><ext>``, stamping its ``__lastAccess`` first."""
        self._call(self._files.write, sid, self._stamp(sid, session))

    def get_many(self, sids: Sequence[str]) -> list[Session | None]:
        """The sessions of ``sids``, in order (None where there is none): one call."""
        return self._call(self._files.get_many, list(sids))

    def update(self, sid: str, changes: Changes) -> Session | None:
        """Apply ``changes`` to the session the file holds now (stamping ``__lastAccess``),
        only if the file is still the one read when it is renamed over; the result, or None
        when there is no session (nothing is written)."""
        self.format.file_name(sid)
        return self._call(self._files.update, sid, changes)

    def replace(self, sid: str, session: Session) -> bool:
        """Write the whole session (stamping ``__lastAccess``), only where its file still
        is; False (nothing written) when it is gone."""
        return self._call(self._files.replace, sid, self._stamp(sid, session))

    def touch(self, sid: str, session: Session) -> bool:
        """Replace the stored session's cookie with ``session.cookie`` and stamp its
        ``__lastAccess``; the stored data stays (none, if it had expired); a missing session
        stays missing (False)."""
        self.format.file_name(sid)
        return self._call(self._files.touch, sid, session.cookie.copy())

    def destroy(self, sid: str) -> None:
        """Remove the session's file (no error if there is none)."""
        self.format.file_name(sid)
        self._call(self._files.destroy, sid)

    def expired(self, sid: str) -> bool:
        """session-file-store's ``expired(sid)``: ``isExpired`` of the file (True if none).

        Only the file's own rule (``ttl`` / ``originalMaxAge`` and ``__lastAccess``): a
        session whose cookie has expired but not its file reads as None from :meth:`get`
        and is still ``expired() == False`` here, as in Node.
        """
        if not self.format.reachable_id(sid):
            return True
        return self._call(self._files.expired, sid)

    def ids(self) -> list[str]:
        """The ids of the session files (``list()`` gives the file names; these are ``sessionId``
        of each), leaving out names that are no reachable id (``.json`` alone gives ``''``)."""
        return self._call(self._files.ids)

    def length(self) -> int:
        """How many files in the directory end with the extension (``length()``)."""
        return self._call(self._files.length)

    def clear(self) -> None:
        """Remove every file that ends with the extension (``clear()``); directories stay."""
        self._call(self._files.clear)

    def reap(self) -> list[str]:
        """Remove the session files that ``isExpired`` (session-file-store's ``reap``).

        Each file is read and judged on its own, bounded by ``timeout`` (with a secret that
        is one scrypt, ~30 ms, per file). Corrupt files are logged and left in place.
        Returns the ids removed.
        """
        removed = []
        for entry in self._call(self._files.entries):
            sid = self._call(self._files.reap_entry, entry)
            if sid is not None:
                removed.append(sid)
        return removed


class AsyncFileStore(_FileStoreBase):
    """A session-file-store directory, from asyncio: :class:`FileStore`'s methods as coroutines.

    The file I/O (and kruptein's scrypt, with a ``secret``) runs in a worker thread; each
    call is bounded by ``timeout`` and raises :class:`StoreError` past it (the thread itself
    cannot be stopped: a write that was under way may still land).

    >>> import asyncio, tempfile
    >>> async def main(directory):
    ...     store = AsyncFileStore(directory)
    ...     await store.set("abc", Session.new("abc", max_age=60_000))
    ...     return await store.ids(), await store.length()
    >>> with tempfile.TemporaryDirectory() as directory:
    ...     asyncio.run(main(directory))
    (['abc'], 1)
    """

    async def _call(self, function: Callable[..., _T], *args: Any) -> _T:
        async with async_deadline(self._name, self.timeout):
            return await asyncio.to_thread(function, *args)

    @functools.cached_property
    def _reads(self) -> ReadBatch:
        def wrap(error: BaseException) -> BaseException:
            if isinstance(error, TimeoutError):
                return timed_out(self._name, self.timeout)
            return error if isinstance(error, SessionError) else failed(self._name, error)

        async def each(keys: list[Any]) -> list[Any]:
            return await asyncio.to_thread(self._files.get_each, [sid for sid, _ in keys])

        return ReadBatch(each, wrap, self.timeout)

    async def get(self, sid: str) -> Session | None:
        """See :meth:`FileStore.get`. The reads of one event-loop turn go to the worker
        thread together, one hop for all of them (:mod:`..batch`)."""
        if not self.format.reachable_id(sid):
            logger.debug("%s: session id refused as a file name", self._name)
            return None
        found = await self._reads.get((sid, object()))  # one key per reader: its own object
        if isinstance(found, SessionError):
            raise found
        if isinstance(found, Exception):
            raise failed(self._name, found) from found
        return found  # type: ignore[no-any-return]

    async def set(self, sid: str, session: Session) -> None:
        """See :meth:`FileStore.set`."""
        await self._call(self._files.write, sid, self._stamp(sid, session))

    async def get_many(self, sids: Sequence[str]) -> list[Session | None]:
        """See :meth:`FileStore.get_many`."""
        return await self._call(self._files.get_many, list(sids))

    async def update(self, sid: str, changes: Changes) -> Session | None:
        """See :meth:`FileStore.update`."""
        self.format.file_name(sid)
        return await self._call(self._files.update, sid, changes)

    async def replace(self, sid: str, session: Session) -> bool:
        """See :meth:`FileStore.replace`."""
        return await self._call(self._files.replace, sid, self._stamp(sid, session))

    async def touch(self, sid: str, session: Session) -> bool:
        """See :meth:`FileStore.touch`."""
        self.format.file_name(sid)
        return await self._call(self._files.touch, sid, session.cookie.copy())

    async def destroy(self, sid: str) -> None:
        """See :meth:`FileStore.destroy`."""
        self.format.file_name(sid)
        await self._call(self._files.destroy, sid)

    async def expired(self, sid: str) -> bool:
        """See :meth:`FileStore.expired`."""
        if not self.format.reachable_id(sid):
            return True
        return await self._call(self._files.expired, sid)

    async def ids(self) -> list[str]:
        """See :meth:`FileStore.ids`."""
        return await self._call(self._files.ids)

    async def length(self) -> int:
        """See :meth:`FileStore.length`."""
        return await self._call(self._files.length)

    async def clear(self) -> None:
        """See :meth:`FileStore.clear`."""
        await self._call(self._files.clear)

    async def reap(self) -> list[str]:
        """See :meth:`FileStore.reap`."""
        removed = []
        for entry in await self._call(self._files.entries):
            sid = await self._call(self._files.reap_entry, entry)
            if sid is not None:
                removed.append(sid)
        return removed
