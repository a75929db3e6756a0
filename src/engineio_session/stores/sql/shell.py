"""The public methods of every SQL store, once for sync and once for asyncio.

A store class is a format (its Node package's table and rules) plus a runner (its
driver's connections, bounded by ``timeout``); every method is one plan
(:mod:`.plans`) run by that runner. ``PGStore(SyncSQLStore)`` and
``AsyncPGStore(AsyncSQLStore)`` only build the two from the constructor's arguments.

The methods (async stores: the same, as coroutines):

=========================  ===========================================================
``get(sid)``               the session, or None (no row, expired by the Node package's
                           rule or by its cookie)
``get_many(sids)``         one query; the sessions in the order asked
``set(sid, session)``      Node's ``set``: an upsert of the whole session
``update(sid, changes)``   :class:`~engineio_session.changes.Changes` applied to the row
                           as it is now (row lock, one transaction); None and nothing
                           written when the row is gone or expired
``replace(sid, session)``  the whole session, only where the row still is; a bool
``touch(sid, session)``    Node's ``touch`` (the expiry column), only on a live row; a
                           bool: whether the row is there
``destroy(sid)``           DELETE; no error when there is none
``prune()``                delete the rows the Node package's pruning deletes; how many
``close()``/``aclose()``   close the connections the store opened (a URL's); yours stay
=========================  ===========================================================

With ``create_table=True`` the first call creates the table with the Node package's own
DDL when it is missing; otherwise a missing table is a :class:`StoreError` naming it.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from ..._js import now_ms
from ...changes import Changes
from ...drive import Plan
from ...session import Session
from . import plans
from ._async import AsyncRunner, ThreadedRunner
from ._sync import SyncRunner
from .format import SQLFormat
from .runner import Settings

__all__ = ["AsyncSQLStore", "SyncSQLStore"]

T = TypeVar("T")


class _SQLStore:
    #: ``get`` returns None for an expired session (Store's contract)
    drops_expired = True
    #: ``get`` decodes a new Session for every read, which the caller may keep (Store's)
    fresh_sessions = True
    format: SQLFormat
    _runner: Any
    #: the runner of a client through a driver glue module (each shell's own)
    _runner_for: Any

    def _start(
        self,
        fmt: SQLFormat,
        glue: Any,
        client: Any,
        dialect: Any,
        create_table: bool,
        timeout: float | None,
        pool_size: int,
    ) -> None:
        """The end of every store's constructor: its format, and its runner of ``client``
        through the driver ``glue`` (the shell, sync or async, picks the runner)."""
        settings = Settings(fmt.store, dialect, fmt.label, timeout)
        runner = self._runner_for(glue, client, settings, pool_size)
        self.format = fmt
        self._runner = runner
        self._table_pending = create_table
        self._table_lock: Any = threading.Lock() if isinstance(runner, SyncRunner) else None

    def _plan(
        self, plan: Callable[..., Plan[T]], args: tuple[Any, ...]
    ) -> Callable[[Any], Plan[T]]:
        fmt = self.format
        return lambda q: plan(fmt, q, *args)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(table={self.format.label})"


class SyncSQLStore(_SQLStore):
    """The methods of a blocking SQL store (see the module's table)."""

    _runner: SyncRunner

    @staticmethod
    def _runner_for(glue: Any, client: Any, settings: Settings, pool_size: int) -> SyncRunner:
        """The runner of ``client`` through a driver glue module (``_psycopg``...)."""
        return SyncRunner(settings, glue.sync_source(client, pool_size), glue.SyncDriver())

    def _call(self, plan: Callable[..., Plan[T]], *args: Any) -> T:
        if self._table_pending:
            with self._table_lock:
                if self._table_pending:
                    self._runner(self._plan(plans.create_table, ()), atomic=True)
                    self._table_pending = False
        return self._runner(self._plan(plan, args), atomic=plan in plans.ATOMIC)

    def get(self, sid: str) -> Session | None:
        """The session stored under ``sid``, or None. CorruptSessionError (left in place)
        for a row that holds no session."""
        return self._call(plans.get, sid, now_ms())

    def get_many(self, sids: Sequence[str]) -> list[Session | None]:
        """The sessions of ``sids`` in one query, in the order asked (None where none)."""
        return self._call(plans.get_many, sids, now_ms())

    def set(self, sid: str, session: Session) -> None:
        """Write the whole session (insert or overwrite), as the Node package's ``set``."""
        self._call(plans.set, sid, session, now_ms())

    def update(self, sid: str, changes: Changes) -> Session | None:
        """Apply ``changes`` to the row as it is now, atomically; the result, or None."""
        return self._call(plans.update, sid, changes, now_ms())

    def replace(self, sid: str, session: Session) -> bool:
        """Write the whole session only where the row still is; whether it was."""
        return self._call(plans.replace, sid, session, now_ms())

    def touch(self, sid: str, session: Session) -> bool:
        """The Node package's ``touch`` on a live row; whether the row is there."""
        return self._call(plans.touch, sid, session, now_ms())

    def destroy(self, sid: str) -> None:
        """Delete the session's row; no error when there is none."""
        self._call(plans.destroy, sid)

    def prune(self) -> int:
        """Delete what the Node package's own pruning deletes (never done unasked)."""
        return self._call(plans.prune, now_ms())

    def _all(self) -> list[Session]:
        return self._call(plans.all, now_ms())

    def _length(self) -> int:
        return self._call(plans.length, now_ms())

    def _clear(self) -> None:
        self._call(plans.clear)

    def close(self) -> None:
        """Close the connections this store opened (from a URL); yours are left open."""
        self._runner.close()

    def __enter__(self) -> SyncSQLStore:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncSQLStore(_SQLStore):
    """The methods of an asyncio SQL store: :class:`SyncSQLStore`'s, as coroutines."""

    _runner: AsyncRunner | ThreadedRunner

    @staticmethod
    def _runner_for(
        glue: Any, client: Any, settings: Settings, pool_size: int
    ) -> AsyncRunner | ThreadedRunner:
        """The runner of ``client`` through a driver glue module (``_psycopg``...); a glue
        with no asyncio driver (``_sqlite``) makes its own (``async_runner``)."""
        if hasattr(glue, "async_runner"):
            runner: ThreadedRunner = glue.async_runner(settings, client, pool_size)
            return runner
        return AsyncRunner(settings, glue.async_source(client, pool_size), glue.AsyncDriver())

    async def _call(self, plan: Callable[..., Plan[T]], *args: Any) -> T:
        if self._table_pending:
            if self._table_lock is None:
                self._table_lock = asyncio.Lock()
            async with self._table_lock:
                if self._table_pending:
                    await self._runner(self._plan(plans.create_table, ()), atomic=True)
                    self._table_pending = False
        return await self._runner(self._plan(plan, args), atomic=plan in plans.ATOMIC)

    async def get(self, sid: str) -> Session | None:
        """See :meth:`SyncSQLStore.get`."""
        return await self._call(plans.get, sid, now_ms())

    async def get_many(self, sids: Sequence[str]) -> list[Session | None]:
        """See :meth:`SyncSQLStore.get_many`."""
        return await self._call(plans.get_many, sids, now_ms())

    async def set(self, sid: str, session: Session) -> None:
        """See :meth:`SyncSQLStore.set`."""
        await self._call(plans.set, sid, session, now_ms())

    async def update(self, sid: str, changes: Changes) -> Session | None:
        """See :meth:`SyncSQLStore.update`."""
        return await self._call(plans.update, sid, changes, now_ms())

    async def replace(self, sid: str, session: Session) -> bool:
        """See :meth:`SyncSQLStore.replace`."""
        return await self._call(plans.replace, sid, session, now_ms())

    async def touch(self, sid: str, session: Session) -> bool:
        """See :meth:`SyncSQLStore.touch`."""
        return await self._call(plans.touch, sid, session, now_ms())

    async def destroy(self, sid: str) -> None:
        """See :meth:`SyncSQLStore.destroy`."""
        await self._call(plans.destroy, sid)

    async def prune(self) -> int:
        """See :meth:`SyncSQLStore.prune`."""
        return await self._call(plans.prune, now_ms())

    async def _all(self) -> list[Session]:
        return await self._call(plans.all, now_ms())

    async def _length(self) -> int:
        return await self._call(plans.length, now_ms())

    async def _clear(self) -> None:
        await self._call(plans.clear)

    async def aclose(self) -> None:
        """Close the connections this store opened (from a URL); yours are left open."""
        await self._runner.aclose()

    async def __aenter__(self) -> AsyncSQLStore:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()
