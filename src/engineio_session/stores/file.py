"""session-file-store 1.5.0: one JSON file per session, plain or kruptein-encrypted.

The embedded default store: no server, just a directory that the Node app's
``session-file-store`` and this store share::

    >>> import tempfile
    >>> from engineio_session.session import Session
    >>> directory = tempfile.TemporaryDirectory()
    >>> store = FileStore(directory.name, ttl=3600)          # new FileStore({path, ttl})
    >>> session = Session.new("abc", max_age=60_000)
    >>> session["user"] = "ada"
    >>> store.set("abc", session)                            # writes <path>/abc.json
    >>> store.get("abc")["user"], store.ids(), store.length()
    ('ada', ['abc'], 1)
    >>> store.destroy("abc"); store.get("abc") is None
    True
    >>> directory.cleanup()

``AsyncFileStore`` has the same options and methods as coroutines (``await store.get(sid)``);
its file I/O runs in a worker thread (``asyncio.to_thread``).

Options, by their session-file-store names:

=====================================  ==================================================
session-file-store                     here
=====================================  ==================================================
``path`` (``"./sessions"``)            ``path``, the first argument; created as
                                       ``fs.mkdirsSync`` does (parents too, no error if
                                       it exists)
``ttl`` (3600, seconds)                ``ttl=``: the lifetime of a session whose cookie has
                                       no ``originalMaxAge``
``fileExtension`` (``".json"``)        ``file_extension=``
``secret``                             ``secret=``: encrypt every file with kruptein
                                       (see :mod:`._kruptein`), byte-compatible with Node
``crypto`` (aes-256-gcm, sha512,       fixed: what session-file-store passes to kruptein
scrypt)
``encoder`` / ``decoder`` (JSON)       fixed: JSON exactly as Node writes and reads it
``encoding`` (utf8),                   fixed: files are UTF-8 text, as Node reads them
``encryptEncoding`` (hex)
``reapInterval`` (3600),               not ported as a timer: call :meth:`FileStore.reap`
``reapAsync``, ``reapSyncFallback``,   from your own scheduler (Node's app usually reaps
``reapMaxConcurrent``                  the shared directory already)
``retries``, ``factor``,               not ported: a read works or fails at once, and
``minTimeout``, ``maxTimeout``         ``timeout=`` bounds every call instead
``fallbackSessionFn``                  not ported: a missing session is ``None``
``logFn``                              ``logging.getLogger("engineio_session")``
``keyFunction``                        not ported: declared by 1.5.0 but never called
(none)                                 ``timeout=`` (``DEFAULT_TIMEOUT``): each call's
                                       deadline, then :class:`StoreError`
=====================================  ==================================================

The rules, exactly session-file-store's (lib/session-file-helpers.js):

- file name = ``path`` + ``sid`` + ``fileExtension`` (``sessionPath``); the ids of the files
  in the directory are the names with the extension cut off (``sessionId``);
- ``set`` stamps ``__lastAccess`` (ms) on the session it is given (``setLastAccess``
  mutates it), then writes ``JSON.stringify(session)``;
- ``touch`` reads the stored session, replaces only its ``cookie`` with the given one,
  stamps ``__lastAccess`` on that and writes it back; an expired stored session starts
  again from ``{}``; a missing one is left missing (Node's touch fails with ENOENT there;
  writing a cookie would bring a logged-out session back);
- expiry is ``isExpired``: the lifetime is ``cookie.originalMaxAge`` when truthy, else
  ``ttl * 1000``; expired is ``!lifetime || __lastAccess + lifetime < now`` with JS
  arithmetic, so a file without ``__lastAccess`` (NaN) never expires by this rule;
- and, as on every store here, a session whose cookie has expired reads as ``None`` too.

Deliberate differences, all on the safe side:

1. A corrupt file (not JSON, not an object, no cookie, undecryptable or tampered) raises
   :class:`CorruptSessionError` naming the store and the sid (never the secret), logged
   once, and is never deleted. session-file-store deletes a file it cannot parse, and a
   decryption failure throws inside its read callback (the Node process crashes).
2. A session id that could leave the directory or is not a file name (empty, ``.``/``..``,
   containing ``/``, ``\\`` or NUL; ``:`` too on Windows) is refused: ``get`` and
   ``expired`` treat it as absent without touching the filesystem, writes raise
   ``ValueError``. session-file-store would ``path.join`` it (``../x`` leaves the directory).
3. Writes are atomic and leave no half file: a temporary file in the same directory,
   ``fsync``, then ``os.replace`` (write-file-atomic does the same, but follows a symlink to
   its target first; this replaces the link itself). The temporary name never ends with
   the file extension, so no one lists it as a session.
4. ``clear`` removes matching files, never directories (fs-extra's ``remove`` would delete a
   matching directory recursively); ``reap`` leaves a file alone if it was rewritten
   between being judged expired and being removed.
5. ``touch`` of a session with no file writes ``{cookie, __lastAccess}`` as for an expired
   one; session-file-store's ``get`` fails with ENOENT there, and its touch with it.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import errno
import logging
import math
import os
import re
import secrets
import threading
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from .. import jsjson
from .._js import now_ms, number_to_string, utf8
from ..errors import CorruptSessionError
from ..session import Cookie, Session
from . import _kruptein
from .base import (
    DEFAULT_TIMEOUT,
    async_deadline,
    corrupt,
    decode_session,
    store_errors,
    timed_out,
)

__all__ = [
    "AsyncFileStore",
    "FileFormat",
    "FileStore",
    "is_expired",
    "session_file_name",
    "session_id_from_file",
]

logger = logging.getLogger("engineio_session")

_T = TypeVar("_T")
_SEPARATORS = ("/", "\\", "\x00", ":") if os.name == "nt" else ("/", "\\", "\x00")


# --- the format: names, expiry and bytes, no I/O ------------------------------------------


def session_file_name(sid: str, file_extension: str = ".json") -> str:
    """The file name session-file-store gives ``sid`` (``sessionPath`` without the directory).

    ``ValueError`` for an id that is no plain file name in the directory::

        >>> session_file_name("abc")
        'abc.json'
        >>> session_file_name("../etc/passwd")  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        ValueError: session id '../etc/passwd' is not a file name in the session directory ...
    """
    if not isinstance(sid, str):
        raise TypeError(f"a session id is a str, not {type(sid).__name__}")
    name = sid + file_extension
    problem = None
    if not sid:
        problem = "it is empty"
    elif sid in (".", "..") or name in (".", ".."):
        problem = "it names a directory"
    else:
        for separator in _SEPARATORS:
            if separator in sid:
                problem = f"it contains {separator!r}"
                break
    if problem is not None:
        shown = sid if len(sid) <= 40 else sid[:40] + "..."
        raise ValueError(
            f"session id {shown!r} is not a file name in the session directory ({problem})"
        )
    return name


def session_id_from_file(file_name: str, file_extension: str = ".json") -> str:
    """session-file-store's ``sessionId(options, file)``: the id a file name stands for.

    The extension is cut off the end (``file.replace(/<ext>$/, '')``); a name that does not
    end with it gives ``''``, and with an empty extension every name is its own id::

        >>> session_id_from_file("abc.json"), session_id_from_file("abc.txt")
        ('abc', '')
        >>> session_id_from_file("abc.txt", "")
        'abc.txt'
    """
    if not file_extension:
        return file_name
    return file_name[: -len(file_extension)] if file_name.endswith(file_extension) else ""


def is_expired(stored: Any, *, ttl: float, now: float) -> bool:
    """session-file-store's ``isExpired(session, {ttl})`` at time ``now`` (JS ms).

    ``stored`` is the parsed file (a dict, or whatever JSON held). The JS expression is
    evaluated with JS semantics, so odd ``__lastAccess`` values behave as in Node::

        >>> cookie = {"originalMaxAge": None}
        >>> is_expired({"cookie": cookie, "__lastAccess": 0}, ttl=1, now=1000)
        False
        >>> is_expired({"cookie": cookie, "__lastAccess": 0}, ttl=1, now=1001)
        True
        >>> is_expired({"cookie": cookie}, ttl=1, now=10**13)   # NaN < now is false
        False
        >>> is_expired({"cookie": cookie, "__lastAccess": 5}, ttl=0, now=0)   # !ttl
        True
    """
    # if (!session) return true;
    if not _truthy(stored):
        return True
    # var ttl = session.cookie && session.cookie.originalMaxAge
    #     ? session.cookie.originalMaxAge : options.ttl * 1000;
    cookie = _get(stored, "cookie")
    original = _get(cookie, "originalMaxAge") if _truthy(cookie) else cookie
    lifetime = original if _truthy(original) else float(ttl) * 1000
    # return !ttl || helpers.getLastAccess(session) + ttl < new Date().getTime();
    if not _truthy(lifetime):
        return True
    total = _add(_get(stored, "__lastAccess"), lifetime)
    return _to_number(total) < now


class FileFormat:
    """The pure part of a file store: names, expiry, and the bytes of a file.

    >>> fmt = FileFormat("./sessions", ttl=60)
    >>> fmt.file_name("abc"), fmt.session_id("abc.json"), fmt.is_session_file("x.tmp")
    ('abc.json', 'abc', False)
    >>> fmt.encode('{"cookie":{}}')
    b'{"cookie":{}}'
    """

    def __init__(
        self,
        path: str | os.PathLike[str] = "./sessions",
        *,
        ttl: float = 3600,
        file_extension: str = ".json",
        secret: str | bytes | None = None,
        store_name: str = "FileStore",
    ) -> None:
        if isinstance(ttl, bool) or not isinstance(ttl, (int, float)):
            raise TypeError(f"ttl is a number of seconds, not {type(ttl).__name__}")
        if not isinstance(file_extension, str) or any(
            separator in file_extension for separator in _SEPARATORS
        ):
            raise ValueError(f"file_extension {file_extension!r} must be a plain name suffix")
        # kruptein: `if (!secret) return cb("Must supply a secret!")` on every set and get
        if secret is not None and not secret:
            raise ValueError("secret must not be empty (kruptein refuses an empty secret)")
        #: path.normalize(options.path)
        self.path = os.path.normpath(os.fspath(path))
        self.ttl = ttl
        self.file_extension = file_extension
        self.store_name = store_name
        self._secret = secret
        self._directory = os.fsencode(self.path)

    @property
    def encrypted(self) -> bool:
        """Whether files are kruptein envelopes (a ``secret`` was given)."""
        return self._secret is not None

    # --- names --------------------------------------------------------------------------

    def file_name(self, sid: str) -> str:
        """``sid + fileExtension``; ``ValueError`` for an id that could leave the directory."""
        return session_file_name(sid, self.file_extension)

    def file_path(self, sid: str) -> bytes:
        """The file's path as bytes: the name is the UTF-8 Node's ``fs`` would use."""
        # Node encodes a path string as UTF-8 (a lone surrogate as U+FFFD); so do we,
        # whatever the locale's filesystem encoding is
        return os.path.join(self._directory, utf8(self.file_name(sid)))

    def entry_path(self, entry: bytes) -> bytes:
        """The path of a directory entry, by its raw name."""
        return os.path.join(self._directory, entry)

    @property
    def directory(self) -> bytes:
        return self._directory

    def session_id(self, file_name: str) -> str:
        """``sessionId(options, file)``."""
        return session_id_from_file(file_name, self.file_extension)

    def is_session_file(self, file_name: str) -> bool:
        """``options.filePattern.exec(file)``: the name ends with the extension."""
        return file_name.endswith(self.file_extension)

    @staticmethod
    def entry_name(entry: bytes) -> str:
        """A raw directory entry as Node's ``fs.readdir`` names it (invalid UTF-8 as U+FFFD)."""
        return entry.decode("utf-8", "replace")

    def reachable_id(self, sid: str) -> bool:
        """Whether ``sid`` names a file in the directory (see :func:`session_file_name`)."""
        try:
            self.file_name(sid)
        except ValueError:
            return False
        return True

    # --- expiry -------------------------------------------------------------------------

    def node_expired(self, session: Session, now: float) -> bool:
        """session-file-store's own rule (``isExpired``) for a loaded session."""
        # isExpired reads only cookie.originalMaxAge and __lastAccess: hand it those, not a
        # copy of the whole session
        stored: dict[str, Any] = {"cookie": session.cookie.to_json()}
        if "__lastAccess" in session:
            stored["__lastAccess"] = session["__lastAccess"]
        return is_expired(stored, ttl=self.ttl, now=now)

    def readable(self, session: Session, now: float) -> bool:
        """Whether ``get`` returns the session: neither rule says it has expired."""
        return not self.node_expired(session, now) and not session.cookie.expired(now=now)

    # --- bytes --------------------------------------------------------------------------

    def encode(self, text: str) -> bytes:
        """The file for the session JSON ``text``: itself, or kruptein's envelope of it.

        Encryption costs one scrypt (~30 ms): run this off an event loop.
        """
        if self._secret is not None:
            text = _kruptein.encrypt(self._secret, text)
        return utf8(text)

    def decode(self, sid: str, raw: bytes) -> Session:
        """The session in a file's bytes, or :class:`CorruptSessionError` (logged here).

        Decryption costs one scrypt (~30 ms): run this off an event loop.
        """
        # fs.readFile(path, 'utf8'): invalid UTF-8 becomes U+FFFD; a BOM stays and fails JSON
        text = raw.decode("utf-8", "replace")
        if self._secret is not None:
            try:
                # decoder(decrypt(...)) then decoder(data): the session JSON was encoded twice
                text = _kruptein.decrypt(self._secret, text)
            except _kruptein.KrupteinError as error:
                hint = " (a plain session file?)" if '"cookie"' in text else ""
                reason = f"cannot decrypt: {error}{hint}"
                raise corrupt(self.store_name, sid, reason) from error
        return decode_session(self.store_name, sid, text, explain=_encrypted_hint)


def _encrypted_hint(data: Any) -> str:
    if isinstance(data, Mapping) and {"hmac", "ct", "iv"} <= data.keys():
        return " (it is encrypted, and this store has no secret)"
    return ""


# --- JS semantics of `session.__lastAccess + ttl < now` -------------------------------------


class _Undefined:
    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


_UNDEFINED = _Undefined()
# ECMA-262 WhiteSpace and LineTerminator: what StringToNumber trims
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(code) for code in range(0x2000, 0x200B)
)
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")


def _get(value: Any, key: str) -> Any:
    """``value[key]`` on a JSON value: undefined unless it is an object with that key."""
    return value.get(key, _UNDEFINED) if isinstance(value, Mapping) else _UNDEFINED


def _truthy(value: Any) -> bool:
    if value is _UNDEFINED or value is None or value is False:
        return False
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value != 0 and not math.isnan(value)
    if isinstance(value, str):
        return value != ""
    return True


def _to_primitive(value: Any) -> Any:
    # Array.prototype.toString joins with "," (null and undefined as ""); objects print
    # as "[object Object]"
    if isinstance(value, Mapping):
        return "[object Object]"
    if isinstance(value, (list, tuple)):
        return ",".join(
            "" if item is None or item is _UNDEFINED else _to_string(item) for item in value
        )
    return value


def _to_string(value: Any) -> str:
    value = _to_primitive(value)
    if value is _UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    return str(value)


def _to_number(value: Any) -> float:
    value = _to_primitive(value)
    if value is _UNDEFINED:
        return math.nan
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, (int, float)):
        return float(value)
    text = str(value).strip(_JS_SPACE)  # ECMA-262 StringToNumber
    if not text:
        return 0.0
    try:
        if _RADIX.fullmatch(text):
            return float(int(text, 0))
        if _DECIMAL.fullmatch(text):
            return float(text.replace("Infinity", "inf"))
    except OverflowError:
        return math.inf
    return math.nan


def _add(left: Any, right: Any) -> Any:
    """JS ``left + right``: string concatenation if either primitive is a string."""
    left, right = _to_primitive(left), _to_primitive(right)
    if isinstance(left, str) or isinstance(right, str):
        return _to_string(left) + _to_string(right)
    return _to_number(left) + _to_number(right)


# --- the blocking file operations, shared by both shells ------------------------------------


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


def _write_atomic(path: bytes, data: bytes, extension: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the new, never half.

    Like write-file-atomic (what session-file-store uses): a temporary file next to it,
    created 0o666 minus the umask or with the mode of the file it replaces, fsync'd, then
    renamed over it.
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
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


class _Files:
    """The blocking operations of a file store on one :class:`FileFormat`."""

    def __init__(self, fmt: FileFormat) -> None:
        self.fmt = fmt
        self._extension = utf8(fmt.file_extension)

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

    def write(self, sid: str, text: str) -> None:
        _write_atomic(self.fmt.file_path(sid), self.fmt.encode(text), self._extension)

    def touch(self, sid: str, cookie: Cookie) -> None:
        # helpers.touch: get the stored session ({} when it expired), set its cookie,
        # then helpers.set, which stamps __lastAccess on *that* object and writes it
        raw = _read(self.fmt.file_path(sid))
        if raw is None:
            return  # destroyed meanwhile (a logout): do not bring it back
        stored = self.fmt.decode(sid, raw)
        # only session-file-store's own rule here: a stored session whose cookie alone has
        # expired keeps its data and gets the new cookie, as helpers.touch does
        if self.fmt.node_expired(stored, now_ms()):
            stored = Session(sid, cookie)
        else:
            stored.cookie = cookie
        stored["__lastAccess"] = now_ms()
        self.write(sid, jsjson.dumps(stored, name="session"))

    def destroy(self, sid: str) -> None:
        # fs.remove: no error when the file is not there
        with contextlib.suppress(FileNotFoundError):
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


# --- the shells ---------------------------------------------------------------------------

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
    def __init__(
        self,
        path: str | os.PathLike[str] = "./sessions",
        *,
        ttl: float = 3600,
        file_extension: str = ".json",
        secret: str | bytes | None = None,
        timeout: float | None = DEFAULT_TIMEOUT,
    ) -> None:
        self._name = type(self).__name__
        self.format = FileFormat(
            path, ttl=ttl, file_extension=file_extension, secret=secret, store_name=self._name
        )
        self.timeout = timeout
        self._files = _Files(self.format)
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

    def touch(self, sid: str, session: Session) -> None:
        """Replace the stored session's cookie with ``session.cookie`` and stamp its
        ``__lastAccess``; the stored data stays (none, if it had expired); a missing session
        stays missing."""
        self.format.file_name(sid)
        self._call(self._files.touch, sid, session.cookie.copy())

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

    async def get(self, sid: str) -> Session | None:
        """See :meth:`FileStore.get`."""
        if not self.format.reachable_id(sid):
            logger.debug("%s: session id refused as a file name", self._name)
            return None
        return await self._call(self._files.get, sid)

    async def set(self, sid: str, session: Session) -> None:
        """See :meth:`FileStore.set`."""
        await self._call(self._files.write, sid, self._stamp(sid, session))

    async def touch(self, sid: str, session: Session) -> None:
        """See :meth:`FileStore.touch`."""
        self.format.file_name(sid)
        await self._call(self._files.touch, sid, session.cookie.copy())

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
