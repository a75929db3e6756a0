"""sqlite3 glue for the runners: the standard library's driver, from a URL or yours.

``sqlite:///relative.db`` (from the working directory) and ``sqlite:////absolute.db`` get
this store's own connections: autocommit mode (``isolation_level=None``; the runner begins
``BEGIN IMMEDIATE`` where a plan needs a transaction), usable from any thread, opened
read-write only, so a mistyped path is an error rather than a new empty database (with
``create_table=True`` the file may be created). A ``sqlite3.Connection`` you pass must be
in autocommit mode; for the async store, made with ``check_same_thread=False``.

Bounds. sqlite3 has no socket to shut: a call that runs too long is stopped with
``Connection.interrupt()``. A lock held by another connection (the Node app's
better-sqlite3 writing) is waited for in SQLite's busy handler, which ``interrupt()`` does
not wake; so each call first sets the connection's busy timeout to the time it has left.

The async store runs each plan whole on a worker thread (:class:`~._async.ThreadedRunner`):
one hop off the event loop per call, the same bounds as the sync store.
"""

from __future__ import annotations

import contextlib
import sqlite3
from typing import Any
from urllib.parse import quote, unquote, urlsplit

from ._async import ThreadedRunner
from ._sync import OwnPool, Single, Source, SyncRunner
from .runner import Settings

__all__ = ["Glue", "SyncDriver", "sqlite_path"]

#: Python 3.12's ``Connection.autocommit`` when it defers to ``isolation_level``
_LEGACY = getattr(sqlite3, "LEGACY_TRANSACTION_CONTROL", -1)


def sqlite_path(url: str) -> str:
    """The file of a ``sqlite://`` URL (SQLAlchemy's form: three slashes, then the path).

    >>> sqlite_path("sqlite:///data/sessions.db"), sqlite_path("sqlite:////srv/s.db")
    ('data/sessions.db', '/srv/s.db')
    >>> sqlite_path("sqlite:///:memory:")
    Traceback (most recent call last):
    ...
    ValueError: sqlite:///:memory: gives each connection a database of its own: pass a connection
    """
    parts = urlsplit(url)
    if parts.scheme != "sqlite" or parts.netloc or parts.query or parts.fragment:
        raise ValueError("a SQLite URL is sqlite:///relative/path.db or sqlite:////absolute.db")
    path = unquote(parts.path)[1:]
    if not path:
        raise ValueError("a SQLite URL names a file: sqlite:///relative/path.db")
    if path == ":memory:":
        raise ValueError(f"{url} gives each connection a database of its own: pass a connection")
    return path


def autocommit(conn: sqlite3.Connection) -> bool:
    """Whether ``conn`` runs each statement in a transaction of its own."""
    mode = getattr(conn, "autocommit", _LEGACY)
    return bool(mode is True or (mode == _LEGACY and conn.isolation_level is None))


class SyncDriver:
    errors: tuple[type[BaseException], ...] = (sqlite3.Error,)

    @staticmethod
    def autocommit(conn: Any) -> bool:
        return True  # checked when the store is made (yours) or made so (ours)

    @staticmethod
    def broken(conn: Any) -> bool:
        try:
            conn.in_transaction  # noqa: B018 - raises once the connection is closed
        except sqlite3.ProgrammingError:
            return True
        return False

    @staticmethod
    def abort(conn: Any) -> None:
        conn.interrupt()

    @staticmethod
    def close(conn: Any) -> None:
        with contextlib.suppress(Exception):
            conn.close()


class _Connection(sqlite3.Connection):
    """A connection of this store's own, which remembers its busy timeout (ms)."""

    busy_ms = 0


class _Bounded:
    """A source whose connections wait for another connection's lock no longer than the
    call has left (``PRAGMA busy_timeout``, set again only when that differs by more than
    :data:`SLACK_MS` from what the connection has)."""

    SLACK_MS = 100

    def __init__(self, source: Source) -> None:
        self.source = source
        self._yours = -1  # the busy timeout set on a connection you passed (one: Single)

    def acquire(self, timeout: float | None, *, fresh: bool = False) -> tuple[Any, bool]:
        conn, reused = self.source.acquire(timeout, fresh=fresh)
        if timeout is not None:
            wanted = max(int(timeout * 1000), 1)
            have = conn.busy_ms if isinstance(conn, _Connection) else self._yours
            if abs(have - wanted) > self.SLACK_MS:
                try:
                    conn.execute(f"PRAGMA busy_timeout = {wanted}")
                except BaseException:
                    self.source.release(conn, keep=False)
                    raise
                if isinstance(conn, _Connection):
                    conn.busy_ms = wanted
                else:
                    self._yours = wanted
        return conn, reused

    def release(self, conn: Any, *, keep: bool) -> None:
        self.source.release(conn, keep=keep)

    def close(self) -> None:
        self.source.close()


class Glue:
    """The glue of :func:`~.shell.SyncSQLStore._runner_for`: ``create``, whether a URL's
    file may be created."""

    SyncDriver = SyncDriver

    def __init__(self, *, create: bool = False) -> None:
        self.create = create

    def sync_source(self, client: Any, pool_size: int) -> Source:
        """The connections of ``client``: a ``sqlite://`` URL or a ``sqlite3.Connection``."""
        if isinstance(client, str):
            mode = "rwc" if self.create else "rw"
            uri = f"file:{quote(sqlite_path(client))}?mode={mode}"

            def connect(timeout: float | None) -> Any:
                busy = 5.0 if timeout is None else timeout
                conn = sqlite3.connect(
                    uri,
                    uri=True,
                    timeout=busy,
                    isolation_level=None,
                    check_same_thread=False,
                    factory=_Connection,
                )
                conn.busy_ms = int(busy * 1000)
                return conn

            return _Bounded(OwnPool(connect, SyncDriver(), pool_size))
        if isinstance(client, sqlite3.Connection):
            if not autocommit(client):
                raise ValueError(
                    "pass a sqlite3 connection in autocommit mode "
                    "(sqlite3.connect(path, isolation_level=None)): the store begins its own "
                    "transactions"
                )
            return _Bounded(Single(client))
        raise TypeError(f"a sqlite:// URL or a sqlite3.Connection, not {type(client).__name__}")

    def async_runner(self, settings: Settings, client: Any, pool_size: int) -> ThreadedRunner:
        """The async runner: the sync one, each call whole on a worker thread."""
        source = self.sync_source(client, pool_size)
        return ThreadedRunner(SyncRunner(settings, source, SyncDriver()))
