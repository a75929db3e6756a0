"""The blocking file operations of a session-file-store directory, shared by both shells.

Writes are atomic (a temporary file, ``fsync``, a rename) and, between Python writers,
serialised by an exclusive ``flock`` on the directory: a write back checks, under that lock,
that the file is still the one it read before it renames its own over it (see
:meth:`Files.update`).
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import threading
from collections.abc import Iterator

from ... import jsjson
from ..._js import now_ms, utf8
from ...changes import Changes
from ...errors import CorruptSessionError, StoreError, short_id
from ...session import Cookie, Session
from .format import FileFormat

__all__ = ["Files"]


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


#: what a file was when it was read: a rename over it (Node's write-file-atomic, or ours)
#: makes a new inode, and an in-place write changes the size or the modification time
Identity = tuple[int, int, int, int]


def _identity(stat: os.stat_result) -> Identity:
    return (stat.st_dev, stat.st_ino, stat.st_size, stat.st_mtime_ns)


def _read_identified(path: bytes) -> tuple[bytes, Identity] | None:
    """A file's bytes and what it was when read, or None when there is no such file."""
    try:
        with open(path, "rb") as file:
            return file.read(), _identity(os.fstat(file.fileno()))
    except FileNotFoundError:
        return None
    except OSError as error:
        if error.errno == errno.ENAMETOOLONG:
            return None
        raise


#: a write back reads again when the file changed between its read and its rename
UPDATE_ATTEMPTS = 16


class Files:
    """The blocking operations of a file store on one :class:`FileFormat`."""

    def __init__(self, fmt: FileFormat) -> None:
        self.fmt = fmt
        self._extension = utf8(fmt.file_extension)
        self._threads = threading.Lock()

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

    def _swap(self, sid: str, text: str, read: Identity | None) -> bool | None:
        """Rename a new file with ``text`` over the session's, under the lock, only if the
        file is still the one read (``read``; None: only if there is a file at all).

        True: written; False: the file changed since it was read (read it again); None:
        the file is gone (a logout): nothing is written.
        """
        path = self.fmt.file_path(sid)
        temp: bytes | None = _write_temp(path, self.fmt.encode(text), self._extension)
        try:
            with self._locked():
                try:
                    now = _identity(os.stat(path))
                except FileNotFoundError:
                    return None
                if read is not None and now != read:
                    return False
                assert temp is not None
                os.replace(temp, path)
                temp = None
                return True
        finally:
            if temp is not None:
                with contextlib.suppress(OSError):
                    os.unlink(temp)

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
        """The whole file, only where there is one (a check-and-rename under the lock)."""
        return bool(self._swap(sid, text, None))

    def update(self, sid: str, changes: Changes) -> Session | None:
        """Apply ``changes`` to the session the file holds now; None when it is gone or
        expired (nothing written). Read, apply, then rename only if the file is still the
        one read, else read again."""
        path = self.fmt.file_path(sid)
        for _ in range(UPDATE_ATTEMPTS):
            found = _read_identified(path)
            if found is None:
                return None
            raw, read = found
            stored = self.fmt.decode(sid, raw)
            if not self.fmt.readable(stored, now_ms()):
                return None
            merged = changes.apply(stored)
            merged["__lastAccess"] = now_ms()  # helpers.set stamps every write
            written = self._swap(sid, jsjson.dumps(merged, name="session"), read)
            if written is None:
                return None
            if written:
                return merged
        raise StoreError(self.fmt.store_name, f"session {short_id(sid)} kept changing")

    def touch(self, sid: str, cookie: Cookie) -> bool:
        """helpers.touch: the stored session ({} when it expired) gets ``cookie``, then
        helpers.set stamps ``__lastAccess`` on *that* object and writes it; only where the
        file still is (False: gone, a logout: it is not brought back)."""
        path = self.fmt.file_path(sid)
        for _ in range(UPDATE_ATTEMPTS):
            found = _read_identified(path)
            if found is None:
                return False
            raw, read = found
            stored = self.fmt.decode(sid, raw)
            # only session-file-store's own rule here: a stored session whose cookie alone
            # has expired keeps its data and gets the new cookie, as helpers.touch does
            if self.fmt.node_expired(stored, now_ms()):
                stored = Session(sid, cookie)
            else:
                stored.cookie = cookie
            stored["__lastAccess"] = now_ms()
            written = self._swap(sid, jsjson.dumps(stored, name="session"), read)
            if written is None:
                return False
            if written:
                return True
        raise StoreError(self.fmt.store_name, f"session {short_id(sid)} kept changing")

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
        except CorruptSessionError:
            return None  # logged by decode; never deleted
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
