"""Every SQL store operation, written once as a plan (see :mod:`engineio_session.drive`).

A plan takes a :class:`~.format.SQLFormat` and a query object ``q`` bound to one
connection, and yields ``Call(q.one | q.rows | q.run, sql, params)`` steps: ``one`` is the
first row or None, ``rows`` every row, ``run`` the row count of a write. The sync shell
drives it with :func:`~engineio_session.drive.run` on a DB-API connection, the async shell
with :func:`~engineio_session.drive.arun` on an async one; which plans run in a
transaction (``update``) is the shell's business (:data:`ATOMIC`). A plan is a plain unit
test::

    >>> from engineio_session.drive import steps
    >>> from engineio_session.stores.sql.pg import PGFormat
    >>> class Q:
    ...     def one(self, sql, params): ...
    >>> made = steps(get(PGFormat(), Q(), "abc", now=0), lambda call: None)
    >>> made.result is None, made[0].args[0][:40]
    (True, 'SELECT "sid", "sess"::text, extract(epoc')
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol

from ...changes import Changes
from ...drive import Call, Plan
from ...session import Session
from .format import SQLFormat

__all__ = ["ATOMIC", "Query"]


class Query(Protocol):
    """What a plan calls: sync methods in the sync shell, coroutines in the async one."""

    def one(self, sql: str, params: Sequence[Any]) -> Any: ...

    def rows(self, sql: str, params: Sequence[Any]) -> Any: ...

    def run(self, sql: str, params: Sequence[Any]) -> Any: ...


def get(fmt: SQLFormat, q: Query, sid: str, now: float) -> Plan[Session | None]:
    row = yield Call(q.one, *fmt.select(sid, now))
    return fmt.session(sid, row, now)


def get_many(
    fmt: SQLFormat, q: Query, sids: Sequence[str], now: float
) -> Plan[list[Session | None]]:
    """One query for all of ``sids``; the sessions in the order asked (None where none)."""
    if not sids:
        return []
    rows = yield Call(q.rows, *fmt.select_many(list(dict.fromkeys(sids)), now))
    by_id = {row[0]: row for row in rows}
    return [fmt.session(sid, by_id.get(sid), now) for sid in sids]


def set(fmt: SQLFormat, q: Query, sid: str, session: Session, now: float) -> Plan[None]:
    yield Call(q.run, *fmt.upsert(sid, session, now))


def update(
    fmt: SQLFormat, q: Query, sid: str, changes: Changes, now: float
) -> Plan[Session | None]:
    """Lock the row, apply ``changes`` to it as it is now, write it back (in a transaction:
    :data:`ATOMIC`). None, and nothing written, when the row is gone or expired."""
    row = yield Call(q.one, *fmt.select(sid, now, lock=True))
    current = fmt.session(sid, row, now)
    if current is None:
        return None
    merged = changes.apply(current)
    yield Call(q.run, *fmt.write(sid, merged, now, if_live=False))
    merged.mark_saved()
    return merged


def _written(fmt: SQLFormat, q: Query, count: int, sid: str, now: float) -> Plan[bool]:
    """Whether an UPDATE that reported ``count`` rows found the row (MySQL counts only the
    rows it changed: an UPDATE to the same values says 0; then look)."""
    if count or not fmt.dialect.counts_changed_rows:
        return bool(count)
    row = yield Call(q.one, *fmt.exists(sid, now))
    return row is not None


def replace(fmt: SQLFormat, q: Query, sid: str, session: Session, now: float) -> Plan[bool]:
    """express-session's whole write, only where the row still is (and is live)."""
    count = yield Call(q.run, *fmt.write(sid, session, now, if_live=True))
    return (yield from _written(fmt, q, count, sid, now))


def touch(fmt: SQLFormat, q: Query, sid: str, session: Session, now: float) -> Plan[bool]:
    """Node's touch (the expiry column only) on a live row; whether the row is there."""
    statement = fmt.touch(sid, session, now)
    if statement is None:  # disable_touch: nothing written; still tell whether it is there
        row = yield Call(q.one, *fmt.exists(sid, now))
        return row is not None
    count = yield Call(q.run, *statement)
    return (yield from _written(fmt, q, count, sid, now))


def destroy(fmt: SQLFormat, q: Query, sid: str) -> Plan[None]:
    yield Call(q.run, *fmt.delete(sid))


def all(fmt: SQLFormat, q: Query, now: float) -> Plan[list[Session]]:
    """Every live session (a corrupt row is logged and left out, as Node's ``all`` does)."""
    from ...errors import CorruptSessionError

    rows = yield Call(q.rows, *fmt.select_all(now))
    found = []
    for row in rows:
        try:
            session = fmt.session(row[0], row, now)
        except CorruptSessionError:
            continue
        if session is not None:
            found.append(session)
    return found


def length(fmt: SQLFormat, q: Query, now: float) -> Plan[int]:
    row = yield Call(q.one, *fmt.count(now))
    return int(row[0]) if row else 0


def clear(fmt: SQLFormat, q: Query) -> Plan[None]:
    yield Call(q.run, *fmt.clear())


def prune(fmt: SQLFormat, q: Query, now: float) -> Plan[int]:
    """Delete the rows the Node package's own pruning deletes; how many."""
    count = yield Call(q.run, *fmt.prune(now))
    return int(count)


def create_table(fmt: SQLFormat, q: Query) -> Plan[bool]:
    """The Node package's DDL, when the table is missing; whether it was created."""
    check = fmt.table_exists()
    if check is not None:
        row = yield Call(q.one, *check)
        if row is not None and row[0]:
            return False
    for statement in fmt.create_table():
        yield Call(q.run, *statement)
    return True


#: the plans that run in one transaction (the rest are single statements)
ATOMIC = frozenset({update, create_table})
