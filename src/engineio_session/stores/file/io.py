"""The blocking file operations of a session-file-store directory, shared by both shells.

Writes are atomic (a temporary file, ``fsync``, a rename) and, between Python writers,
serialised by an exclusive ``flock`` on the directory: a write back checks, under that lock,
that the file is still the one it read before it renames its own over it (see
:meth:`Files.update`).
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import logging
import os
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from typing import Any

from ... import jsjson
from ..._js import now_ms, utf8
from ...changes import Changes
from ...errors import CorruptSessionError, StoreError, short_id
from ...session import Cookie, Session
from .format import FileFormat

__all__ = ["Files"]

logger = logging.getLogger("engineio_session")


def _read(path: bytes) -> bytes | None:
    """A file's bytes, or None when there is no such file."""
    try:
        with open(path, "rb") as file:
            return file.read()
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:  # a name too long to exist
            return None
        raise


def _write_temp(path: bytes, data: bytes, extension: bytes) -> bytes:
    """Write ``data`` to a new temporary file beside ``path``; its name.

    Like write-file-atomic (what session-file-store uses): created 0o666 minus the umask or
    with the mode of the file it replaces, fsync'd; renaming it over ``path`` is the
    caller's.
    """
    mode = None
    with contextlib.suppress(OSError):
        mode = os.stat(path).st_mode & 0o7777
    while True:
        # write-file-atomic names it <file>.<hash>; it must not look like a session file
        temp = path + b"." + secrets.token_hex(6).encode("ascii")
        if not extension or not temp.endswith(extension):
            break
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(temp, flags | getattr(os, "O_BINARY", 0), 0o666)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise
    return temp


# renameat2(2): swap two names atomically (Linux 3.15+, on ext4, xfs, btrfs, tmpfs, ...)
_RENAME_EXCHANGE = 2
_AT_FDCWD = -100
_renameat2: Any = None


def _exchange(first: bytes, second: bytes) -> bool:
    """Swap the files ``first`` and ``second`` atomically: True; False where this system or
    filesystem cannot; FileNotFoundError when either is missing."""
    global _renameat2
    if _renameat2 is None:
        _renameat2 = False
        if sys.platform.startswith("linux"):
            with contextlib.suppress(OSError, AttributeError):
                _renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    if _renameat2 is False:
        return False
    if _renameat2(_AT_FDCWD, first, _AT_FDCWD, second, _RENAME_EXCHANGE) == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.EXDEV):
        return False
    raise OSError(code, os.strerror(code), os.fsdecode(second))


#: what a write back learnt: it is written; the file changed under it (read again); gone
WRITTEN, CHANGED, GONE = "written", "changed", "gone"


#: a write back reads again when the file changed between its read and its rename
UPDATE_ATTEMPTS = 16
#: how many locks serialize this process's read-change-write cycles, a session id hashed to
#: one of them (bounded, unlike a lock per id)
REWRITE_STRIPES = 64


class Files:
    """The blocking operations of a file store on one :class:`FileFormat`."""

    def __init__(self, fmt: FileFormat) -> None:
        self.fmt = fmt
        self._extension = utf8(fmt.file_extension)
        self._threads = threading.Lock()
        #: two threads of this process changing one session wait for each other instead of
        #: racing: racing, one could lose every compare to the other and give up ("kept
        #: changing") though nothing outside this process wrote
        self._rewrites = tuple(threading.Lock() for _ in range(REWRITE_STRIPES))

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Exclusive among this store's writers: a thread lock, and ``flock`` on the
        directory for other Python processes (session-file-store itself takes no lock)."""
        with self._threads:
            try:
                import fcntl
            except ImportError:  # not on POSIX: the thread lock alone
                yield
                return
            fd = os.open(self.fmt.directory, os.O_RDONLY)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _swap(self, sid: str, data: bytes, expected: bytes | None) -> tuple[str, bytes]:
        """Put a new file with ``data`` in place of the session's, under the lock, only where
        there is one and it still holds ``expected`` (None: anything).

        Returns (WRITTEN, b""), (GONE, b"") (no file: a logout; nothing written), or
        (CHANGED, what it holds now: build on it again). Where the system can, the files
        are swapped atomically (``renameat2(RENAME_EXCHANGE)``): a file the Node app (which
        takes no lock) deleted is never brought back, and one it wrote just before is
        swapped back at once, within microseconds, not lost. Elsewhere the file is
        compared, then renamed over: a write the Node app makes within those microseconds
        is lost.
        """
        path = self.fmt.file_path(sid)
        made = _write_temp(path, data, self._extension)
        try:
            with self._locked():
                # compared first: the swap below is only tried when nothing changed since
                # the read, so another process's newer file is rarely swapped out at all
                current = _read(path)
                if current is None:
                    return GONE, b""
                if expected is not None and current != expected:
                    return CHANGED, current
                try:
                    swapped = _exchange(made, path)
                except FileNotFoundError:
                    return GONE, b""
                if not swapped:
                    return self._compare_and_rename(made, path, expected)
                held = _read(made) or b""  # what was in place until the swap
                if expected is None or held == expected:
                    return WRITTEN, b""
                return CHANGED, self._swap_back(made, path, data, held)
        finally:
            with contextlib.suppress(OSError):
                os.unlink(made)

    @staticmethod
    def _compare_and_rename(made: bytes, path: bytes, expected: bytes | None) -> tuple[str, bytes]:
        current = _read(path)
        if current is None:
            return GONE, b""
        if expected is not None and current != expected:
            return CHANGED, current
        os.replace(made, path)
        return WRITTEN, b""

    @staticmethod
    def _swap_back(made: bytes, path: bytes, ours: bytes, theirs: bytes) -> bytes:
        """Another process wrote ``theirs`` before our swap: put it back in place (``made``
        holds it now), and the newest foreign write if one came in between; what is in
        place then."""
        newest = theirs
        for _ in range(UPDATE_ATTEMPTS):
            try:
                if not _exchange(made, path):
                    break
            except FileNotFoundError:
                return b""  # deleted meanwhile: the caller finds it gone
            back = _read(made) or b""
            if back == ours:  # ours came back out: the foreign file is in place again
                return newest
            newest = back  # yet another write came in: it goes back in place next
        return newest

    def make_directory(self) -> None:
        # fs.mkdirsSync(options.path): parents too, and no error if it is there
        os.makedirs(self.fmt.directory, exist_ok=True)

    def get(self, sid: str) -> Session | None:
        raw = _read(self.fmt.file_path(sid))
        if raw is None:
            return None
        session = self.fmt.decode(sid, raw)
        return session if self.fmt.readable(session, now_ms()) else None

    def expired(self, sid: str) -> bool:
        raw = _read(self.fmt.file_path(sid))
        if raw is None:
            return True  # isExpired(null)
        return self.fmt.node_expired(self.fmt.decode(sid, raw), now_ms())

    def get_each(self, sids: list[str]) -> list[Session | Exception | None]:
        """``get`` of each of ``sids`` in turn; a failure (a corrupt file) in its place."""
        found: list[Session | Exception | None] = []
        for sid in sids:
            try:
                found.append(self.get(sid) if self.fmt.reachable_id(sid) else None)
            except Exception as error:
                found.append(error)
        return found

    def get_many(self, sids: list[str]) -> list[Session | None]:
        return [self.get(sid) if self.fmt.reachable_id(sid) else None for sid in sids]

    def write(self, sid: str, text: str) -> None:
        """session-file-store's ``set``: the whole file, created or replaced."""
        path = self.fmt.file_path(sid)
        temp = _write_temp(path, self.fmt.encode(text), self._extension)
        try:
            with self._locked():
                os.replace(temp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(temp)
            raise

    def replace(self, sid: str, text: str) -> bool:
        """The whole file, only where there is one (a last writer wins, as Node's set)."""
        return self._swap(sid, self.fmt.encode(text), None)[0] == WRITTEN

    def _rewrite(self, sid: str, build: Callable[[Session], Session | None]) -> Session | None:
        """Read the session, make the new one with ``build`` (None: write nothing), stamp its
        ``__lastAccess`` (helpers.set does on every write) and put it in place, where the
        file still holds what was read; if it changed meanwhile, build again on what it
        held. None when there is no file."""
        with self._rewrites[hash(sid) % REWRITE_STRIPES]:
            return self._rewrite_locked(sid, build)

    def _rewrite_locked(
        self, sid: str, build: Callable[[Session], Session | None]
    ) -> Session | None:
        base = _read(self.fmt.file_path(sid))
        expected = base
        for _ in range(UPDATE_ATTEMPTS):
            if base is None:
                return None
            session = build(self.fmt.decode(sid, base))
            if session is None:
                return None
            session["__lastAccess"] = now_ms()
            data = self.fmt.encode(jsjson.dumps(session, name="session"))
            outcome, held = self._swap(sid, data, expected)
            if outcome == GONE:
                return None
            if outcome == WRITTEN:
                return session
            base = expected = held or None
        raise StoreError(self.fmt.store_name, f"session {short_id(sid)} kept changing")

    def update(self, sid: str, changes: Changes) -> Session | None:
        """Apply ``changes`` to the session the file holds now; None when it is gone or
        expired (nothing written)."""

        def merged(stored: Session) -> Session | None:
            return changes.apply(stored) if self.fmt.readable(stored, now_ms()) else None

        return self._rewrite(sid, merged)

    def touch(self, sid: str, cookie: Cookie) -> bool:
        """helpers.touch: the stored session ({} when it expired) gets ``cookie``, then
        helpers.set stamps ``__lastAccess`` on *that* object and writes it; only where the
        file still is (False: gone, a logout: it is not brought back)."""

        def touched(stored: Session) -> Session:
            # only session-file-store's own rule here: a stored session whose cookie alone
            # has expired keeps its data and gets the new cookie, as helpers.touch does
            if self.fmt.node_expired(stored, now_ms()):
                return Session(sid, cookie)
            stored.cookie = cookie
            return stored

        return self._rewrite(sid, touched) is not None

    def destroy(self, sid: str) -> None:
        # fs.remove: no error when the file is not there
        with self._locked(), contextlib.suppress(FileNotFoundError):
            os.unlink(self.fmt.file_path(sid))

    def entries(self) -> list[bytes]:
        """The raw names of the session files (``list``), in directory order."""
        return [
            entry
            for entry in os.listdir(self.fmt.directory)
            if self.fmt.is_session_file(self.fmt.entry_name(entry))
        ]

    def ids(self) -> list[str]:
        ids = (self.fmt.session_id(self.fmt.entry_name(entry)) for entry in self.entries())
        return [sid for sid in ids if self.fmt.reachable_id(sid)]

    def length(self) -> int:
        return len(self.entries())

    def clear(self) -> None:
        with os.scandir(self.fmt.directory) as scan:
            for entry in scan:
                name = self.fmt.entry_name(entry.name)
                if self.fmt.is_session_file(name) and not entry.is_dir(follow_symlinks=False):
                    with contextlib.suppress(FileNotFoundError):
                        os.unlink(entry.path)

    def reap_entry(self, entry: bytes) -> str | None:
        """Remove one session file if ``isExpired`` says so; its id if it was removed."""
        sid = self.fmt.session_id(self.fmt.entry_name(entry))
        path = self.fmt.entry_path(entry)
        try:
            with open(path, "rb") as file:
                before = os.fstat(file.fileno())
                raw = file.read()
        except (FileNotFoundError, IsADirectoryError):
            return None
        try:
            session = self.fmt.decode(sid, raw)
        except CorruptSessionError as error:
            # reap catches it: the one place that logs it
            logger.warning("reap: %s: left in place", error.log_line())
            return None  # never deleted
        if not self.fmt.node_expired(session, now_ms()):
            return None
        try:
            after = os.stat(path)
        except FileNotFoundError:
            return None
        # a set or touch in between replaced the file (a new inode): it is live again
        if (after.st_ino, after.st_mtime_ns) != (before.st_ino, before.st_mtime_ns):
            return None
        try:
            os.unlink(path)
        except FileNotFoundError:
            return None
        return sid
