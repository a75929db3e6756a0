"""session-file-store 1.5.0's names, expiry rule and file bytes, with no I/O.

What :class:`~.store.FileStore` and :class:`~.store.AsyncFileStore` share (see the
package's notes for the rules and the deliberate differences).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, TypedDict

from ..._js import js_add, js_get, js_to_number, js_truthy, utf8
from ...session import Session
from .. import _kruptein
from ..base import DEFAULT_MAX_SESSION_BYTES, check_size, corrupt, decode_session

__all__ = [
    "FileFormat",
    "FileFormatKeywords",
    "is_expired",
    "session_file_name",
    "session_id_from_file",
]

_SEPARATORS = ("/", "\\", "\x00", ":") if os.name == "nt" else ("/", "\\", "\x00")


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
    if not js_truthy(stored):
        return True
    # var ttl = session.cookie && session.cookie.originalMaxAge
    #     ? session.cookie.originalMaxAge : options.ttl * 1000;
    cookie = js_get(stored, "cookie")
    original = js_get(cookie, "originalMaxAge") if js_truthy(cookie) else cookie
    lifetime = original if js_truthy(original) else float(ttl) * 1000
    # return !ttl || helpers.getLastAccess(session) + ttl < new Date().getTime();
    if not js_truthy(lifetime):
        return True
    total = js_add(js_get(stored, "__lastAccess"), lifetime)
    return js_to_number(total) < now


class FileFormatKeywords(TypedDict, total=False):
    """The options of session-file-store's files that the file stores pass on to
    :class:`FileFormat` (its signature holds their defaults), so each store names them
    once."""

    ttl: float
    file_extension: str
    secret: str | bytes | None
    max_session_bytes: int | None


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
        max_session_bytes: int | None = DEFAULT_MAX_SESSION_BYTES,
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
        self.max_session_bytes = max_session_bytes
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
        check_size(self.store_name, sid, raw, self.max_session_bytes)
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
