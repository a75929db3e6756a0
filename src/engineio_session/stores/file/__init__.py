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

from .format import FileFormat, is_expired, session_file_name, session_id_from_file
from .store import AsyncFileStore, FileStore

__all__ = [
    "AsyncFileStore",
    "FileFormat",
    "FileStore",
    "is_expired",
    "session_file_name",
    "session_id_from_file",
]
