"""The time columns of connect-session-knex and connect-session-sequelize tables.

Both packages hand a JS ``Date`` (or its ISO text) to their SQL library, which stores it in
the column type of the database; what survives, and how the package compares it with
"now", depends on that type. A :class:`TimeColumn` says, for one such type, how a time
travels as a parameter, how the column is compared and read back, and what it keeps::

    >>> TIMESTAMPTZ.text(1795628562841)                 # knex on PostgreSQL: toISOString()
    '2026-11-25T17:42:42.841Z'
    >>> DATETIME.text(1795628562841)                    # knex and sequelize on MySQL
    '2026-11-25 17:42:42'
    >>> DATETIME.kept(1795628562841), TIMESTAMPTZ.kept(1795628562841)
    (1795628562000, 1795628562841)
    >>> SQLITE_TEXT.compare.format('"expired"')         # knex on SQLite: datetime() both sides
    'datetime("expired")'

The MySQL form is knex's ``dateAsISO`` (``toISOString().slice(0, 19).replace("T", " ")``)
and sequelize's ``DATE._stringify`` without a length (``YYYY-MM-DD HH:mm:ss`` at
``timezone: '+00:00'``): whole seconds, floored, as UTC wall-clock time in a ``DATETIME``,
which no connection time zone ever converts.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime
from typing import Any

from ..._js import date_to_json, datetime_to_ms, parse_date

__all__ = ["DATETIME", "SQLITE_TEXT", "TIMESTAMPTZ", "TimeColumn"]


class TimeColumn:
    """One kind of time column. ``write``: SQL of the value a write stores, and ``cast``:
    of a time compared with the column (``{}`` is the placeholder); ``compare``: SQL of
    the column in a comparison, and ``read``: as :meth:`to_ms` takes it (``{}`` is the
    column); ``step``: what the column keeps of a time, in ms (1000: whole seconds)."""

    def __init__(
        self,
        name: str,
        *,
        write: str,
        cast: str,
        compare: str,
        read: str,
        text: Callable[[float], str],
        to_ms: Callable[[Any], float],
        step: int,
    ) -> None:
        self.name = name
        self.write = write
        self.cast = cast
        self.compare = compare
        self.read = read
        self.text = text
        self._to_ms = to_ms
        self.step = step

    def __repr__(self) -> str:
        return f"<TimeColumn {self.name}>"

    def kept(self, ms: float) -> float:
        """What the column holds after a write of the time ``ms``."""
        return ms - ms % self.step

    def to_ms(self, value: Any) -> float | None:
        """The column as read (``read``), in JS milliseconds; None for NULL."""
        return None if value is None else self._to_ms(value)


def _float(value: Any) -> float:
    return float(value)


def _naive_utc(value: Any) -> float:
    if not isinstance(value, datetime):  # PyMySQL hands a zero date back as its text
        raise ValueError(f"{type(value).__name__} is no DATETIME")
    return float(datetime_to_ms(value))


def _iso(value: Any) -> float:
    ms = parse_date(value) if isinstance(value, str) else math.nan
    if math.isnan(ms):
        raise ValueError("not an ISO time")
    return ms


#: PostgreSQL ``timestamp with time zone`` (knex's ``timestamp()``, sequelize's ``DATE``):
#: milliseconds kept, read as a number of ms (``extract`` is exact ``numeric`` since 14)
TIMESTAMPTZ = TimeColumn(
    "timestamptz",
    write="CAST({} AS timestamp with time zone)",
    cast="CAST({} AS timestamp with time zone)",
    compare="{}",
    read="(extract(epoch FROM {}) * 1000)::float8",
    text=date_to_json,
    to_ms=_float,
    step=1,
)

#: MySQL/MariaDB ``DATETIME`` (knex's ``dateTime()``, sequelize's ``DATE``): UTC wall-clock
#: whole seconds; read as the driver's naive ``datetime``
DATETIME = TimeColumn(
    "datetime",
    write="{}",
    cast="CAST({} AS DATETIME)",
    compare="{}",
    read="{}",
    text=lambda ms: date_to_json(ms)[:19].replace("T", " "),
    to_ms=_naive_utc,
    step=1000,
)

#: SQLite (knex's ``timestamp()`` is a ``datetime`` column of NUMERIC affinity that keeps
#: the ISO text): compared through ``datetime()``, which drops the milliseconds; read
#: through ``strftime``, so any form ``datetime()`` understands reads the same
SQLITE_TEXT = TimeColumn(
    "sqlite",
    write="{}",
    cast="datetime({})",
    compare="datetime({})",
    read="strftime('%Y-%m-%dT%H:%M:%fZ', {})",
    text=date_to_json,
    to_ms=_iso,
    step=1,
)
