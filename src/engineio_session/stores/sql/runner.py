"""What the sync and async runners share: the transaction around a plan, deadlines, and the
errors a failed call becomes.

A plan's statements run in autocommit mode, each atomic on its own, unless the plan needs
more than one to be atomic (``update``: lock the row, write it back). :func:`wrap` adds the
transaction around such a plan, and ends the implicit transaction a connection in manual
commit mode opens (a PyMySQL connection's default, a psycopg one's), so no snapshot or
lock outlives the call::

    >>> from engineio_session.drive import Call, steps
    >>> from engineio_session.stores.sql.dialect import MYSQL
    >>> class Q:
    ...     def run(self, sql, params): ...
    ...     def one(self, sql, params): ...
    >>> def plan(q):
    ...     row = yield Call(q.one, "SELECT 1", [])
    ...     return row
    >>> settings = Settings("MySQLStore", MYSQL, "`sessions`", 2.0)
    >>> q = Q()
    >>> calls = steps(wrap(plan(q), q, settings, True, True), lambda call: None)
    >>> [call.args[0] for call in calls]
    ['START TRANSACTION', 'SELECT 1', 'COMMIT']
    >>> [call.args[0] for call in steps(wrap(plan(q), q, settings, False, True), lambda c: None)]
    ['SELECT 1']
    >>> [call.args[0] for call in steps(wrap(plan(q), q, settings, False, False), lambda c: None)]
    ['SELECT 1', 'COMMIT']
"""

from __future__ import annotations

import time
from typing import Any, TypeVar

from ...drive import Call, Plan
from ...errors import StoreError
from ..base import failed, timed_out
from .dialect import Dialect

__all__ = ["Settings", "remaining", "wrap"]

T = TypeVar("T")


class Settings:
    """A store's name, dialect, table (for messages) and ``timeout``."""

    __slots__ = ("dialect", "label", "name", "timeout")

    def __init__(self, name: str, dialect: Dialect, label: str, timeout: float | None) -> None:
        if timeout is not None and not timeout > 0:
            raise ValueError(f"timeout must be a positive number of seconds or None: {timeout!r}")
        self.name = name
        self.dialect = dialect
        self.label = label
        self.timeout = timeout

    def failure(self, error: BaseException) -> StoreError:
        """The StoreError of a failed driver call (logged once); a missing table named."""
        if self.dialect.missing_table(error):
            return failed(
                self.name,
                LookupError(
                    f"table {self.label} does not exist: create it with the Node package's "
                    f"DDL, or pass create_table=True ({type(error).__name__}: {error})"
                ),
            )
        return failed(self.name, error)

    def timed_out(self) -> StoreError:
        return timed_out(self.name, self.timeout)


def remaining(deadline: float | None) -> float | None:
    """Seconds left until ``deadline`` (a ``time.monotonic()`` value), never below 0."""
    return None if deadline is None else max(deadline - time.monotonic(), 0.0)


def wrap(plan: Plan[T], q: Any, settings: Settings, atomic: bool, autocommit: bool) -> Plan[T]:
    """``plan`` in a transaction when ``atomic``, and committed when the connection is in
    manual commit mode. (On a failure the runner rolls back, or drops the connection.)"""
    if atomic and autocommit:
        yield Call(q.run, settings.dialect.begin, ())
    result = yield from plan
    if atomic or not autocommit:
        yield Call(q.run, "COMMIT", ())
    return result
