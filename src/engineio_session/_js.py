"""JavaScript string and number semantics that Node's answers depend on.

A JS string is a sequence of UTF-16 code units, so it can hold a lone surrogate; a Python
``str`` can too (as a code point in U+D800..U+DFFF). Node encodes such a string to UTF-8
with every lone surrogate replaced by U+FFFD (WHATWG "USVString" conversion), and JS prints
numbers by ECMAScript ``Number::toString``. Both matter wherever a byte or a digit reaches
the wire, so they live here once.

>>> utf8(\"a\\ud800b\")
b'a\\xef\\xbf\\xbdb'
>>> number_to_string(1e21), number_to_string(1e-7), number_to_string(-0.0)
('1e+21', '1e-7', '0')
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any

__all__ = [
    "MAX_DATE_MS",
    "UNDEFINED",
    "date_to_json",
    "date_to_utc_string",
    "datetime_to_ms",
    "js_add",
    "js_get",
    "js_to_number",
    "js_truthy",
    "ms_to_datetime",
    "now_ms",
    "number_to_string",
    "parse_date",
    "to_well_formed",
    "utf8",
]


def to_well_formed(text: str) -> str:
    """Return ``text`` as JS ``String.prototype.toWellFormed`` would.

    Surrogate pairs written as two Python code points are joined into one astral code point,
    and each lone surrogate becomes U+FFFD, as Node's UTF-8 encoder treats them.
    """
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text


def utf8(text: str) -> bytes:
    """Encode ``text`` as Node's ``Buffer.from(text, 'utf8')`` does."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return to_well_formed(text).encode("utf-8")


def number_to_string(value: float) -> str:
    """Format a number as ECMAScript ``Number::toString(value)`` (radix 10).

    Python's ``repr`` already gives the shortest digits that round-trip, as JS does; only
    the layout differs (ECMA-262 sec 6.1.6.1.20).
    """
    if isinstance(value, int) and not isinstance(value, bool) and -(2**53) <= value <= 2**53:
        return str(value)
    number = float(value)
    if math.isnan(number):
        return "NaN"
    if number == 0:
        return "0"
    if number < 0:
        return "-" + number_to_string(-number)
    if math.isinf(number):
        return "Infinity"
    mantissa, _, exponent_text = repr(number).partition("e")
    whole, _, fraction = mantissa.partition(".")
    digits = (whole + fraction).lstrip("0")
    # position of the decimal point relative to the first significant digit
    point = (
        len(whole.lstrip("0")) if whole.strip("0") else -(len(fraction) - len(fraction.lstrip("0")))
    )
    point += int(exponent_text or 0)
    digits = digits.rstrip("0") or "0"
    k, n = len(digits), point
    if k <= n <= 21:
        return digits + "0" * (n - k)
    if 0 < n <= 21:
        return digits[:n] + "." + digits[n:]
    if -6 < n <= 0:
        return "0." + "0" * (-n) + digits
    exponent = n - 1
    sign = "+" if exponent >= 0 else "-"
    head = digits[0] if k == 1 else digits[0] + "." + digits[1:]
    return f"{head}e{sign}{abs(exponent)}"


# --- Dates: a JS Date is a count of milliseconds since 1970-01-01T00:00:00Z ----------------

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MS = timedelta(milliseconds=1)
# ES Date Time String Format (ECMA-262 sec 21.4.1.32), the form Date.prototype.toJSON writes,
# with the +/-YYYYYY extended years; an offset instead of Z is accepted as Date.parse does.
_ISO_DATE = re.compile(
    r"(?P<year>[+-]\d{6}|\d{4})(?:-(?P<month>\d{2})(?:-(?P<day>\d{2}))?)?"
    r"(?:T(?P<hour>\d{2}):(?P<minute>\d{2})(?::(?P<second>\d{2})(?:\.(?P<fraction>\d+))?)?"
    r"(?P<zone>Z|[+-]\d{2}:\d{2}))?",
    re.ASCII,  # JS Date reads ASCII digits only (a fullwidth digit is an Invalid Date)
)
MAX_DATE_MS = 8.64e15  # ECMA-262 sec 21.4.1.31 TimeClip: the largest |time value|


def now_ms() -> int:
    """``Date.now()``: whole milliseconds since the epoch."""
    return time.time_ns() // 1_000_000


def datetime_to_ms(moment: datetime) -> int:
    """Milliseconds since the epoch, truncated as a JS Date truncates; naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // _MS


def ms_to_datetime(ms: float) -> datetime:
    """An aware UTC datetime for a JS time value (``OverflowError`` beyond year 9999)."""
    return _EPOCH + timedelta(milliseconds=ms)


def date_to_json(ms: float) -> str:
    """``Date.prototype.toJSON()`` of the Date with time value ``ms``.

    >>> date_to_json(1795628562841)
    '2026-11-25T17:42:42.841Z'
    >>> date_to_json(253402300800000)
    '+010000-01-01T00:00:00.000Z'
    """
    whole = int(ms)
    days, rest = divmod(whole, 86_400_000)
    day = date(1970, 1, 1).toordinal() + days
    if 1 <= day <= date.max.toordinal():
        civil = date.fromordinal(day)
        year, month, dom = civil.year, civil.month, civil.day
    else:
        year, month, dom = _civil_from_days(days)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds, millis = divmod(rest, 1000)
    if 0 <= year <= 9999:
        year_text = f"{year:04d}"
    else:
        year_text = ("+" if year > 0 else "-") + f"{abs(year):06d}"
    return (
        f"{year_text}-{month:02d}-{dom:02d}T{hours:02d}:{minutes:02d}:{seconds:02d}.{millis:03d}Z"
    )


_WEEKDAYS = ("Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed")  # 1970-01-01 was a Thursday
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def date_to_utc_string(ms: float) -> str:
    """``Date.prototype.toUTCString()``: ``Wed, 25 Nov 2026 17:42:42 GMT`` (ms dropped).

    >>> date_to_utc_string(8.64e15)
    'Sat, 13 Sep 275760 00:00:00 GMT'
    """
    days, rest = divmod(int(ms), 86_400_000)
    year, month, dom = _civil_from_days(days)
    hours, rest = divmod(rest, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    seconds = rest // 1000
    # ECMA-262 sec 21.4.4.41.3 DateString: a negative year is "-" and at least 4 digits
    year_text = f"{year:04d}" if year >= 0 else f"-{-year:04d}"
    return (
        f"{_WEEKDAYS[days % 7]}, {dom:02d} {_MONTHS[month - 1]} {year_text} "
        f"{hours:02d}:{minutes:02d}:{seconds:02d} GMT"
    )


def _civil_from_days(days: int) -> tuple[int, int, int]:
    # Howard Hinnant's days_from_civil inverse, valid for the whole JS Date range
    days += 719468
    era = days // 146097
    doe = days - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    dom = doy - (153 * mp + 2) // 5 + 1
    month = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if month <= 2 else 0), month, dom


def _days_from_civil(year: int, month: int, dom: int) -> int:
    year -= month <= 2
    era = year // 400
    yoe = year - era * 400
    doy = (153 * (month + (-3 if month > 2 else 9)) + 2) // 5 + dom - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@functools.lru_cache(maxsize=4096)
def _day_start(text: str) -> int | None:
    """The time value of the start of ``YYYY-MM-DD`` (UTC), or None if it is not one."""
    if not (text[4] == "-" == text[7] and text.replace("-", "").isdigit() and text.isascii()):
        return None
    year, month, dom = int(text[:4]), int(text[5:7]), int(text[8:10])
    if not (1 <= month <= 12 and 1 <= dom <= 31):  # V8: a 31st of any month rolls over
        return None
    return _days_from_civil(year, month, dom) * 86_400_000


@functools.lru_cache(maxsize=4096)
def _minute_start(text: str) -> int | None:
    """The time value of the start of ``YYYY-MM-DDTHH:MM`` (UTC), or None if it is not one."""
    day = _day_start(text[:10])
    clock = text[11:13] + text[14:16]
    if day is None or text[10] != "T" or text[13] != ":" or not clock.isdigit():
        return None
    if not clock.isascii():
        return None
    hour, minute = int(clock[:2]), int(clock[2:])
    if hour >= 24 or minute >= 60:
        return None
    return day + (hour * 60 + minute) * 60_000


def parse_date(text: str) -> float:
    """The time value ``new Date(text)`` gets for the ISO form JSON holds; NaN if invalid.

    >>> parse_date("2026-11-25T17:42:42.841Z")
    1795628562841
    >>> parse_date("+010000-01-01T00:00:00.000Z")
    253402300800000
    >>> parse_date("\uff12026-11-25T17:42:42.841Z")  # not an ASCII digit: Invalid Date
    nan
    """
    # the form Date.prototype.toJSON writes (every expiry express-session stores): its
    # minute looked up once (the sessions of a minute share it), seconds and milliseconds
    # from fixed slices
    if len(text) == 24 and text[23] == "Z" and text[19] == "." and text[16] == ":":
        minute = _minute_start(text[:16])
        if minute is not None:
            rest = text[17:19] + text[20:23]
            if rest.isdigit() and rest.isascii() and rest[0] < "6":
                return minute + int(rest)
    match = _ISO_DATE.fullmatch(text)
    if match is None or match["year"] == "-000000":
        return math.nan
    year, month, dom = int(match["year"]), int(match["month"] or 1), int(match["day"] or 1)
    hour, minute = int(match["hour"] or 0), int(match["minute"] or 0)
    second = int(match["second"] or 0)
    millis = int((match["fraction"] or "0")[:3].ljust(3, "0"))
    # V8 takes any day up to 31 and lets it roll over into the next month (ES's MakeDay)
    if not (1 <= month <= 12 and 1 <= dom <= 31):
        return math.nan
    if hour > 24 or minute > 59 or second > 59 or (hour == 24 and (minute or second or millis)):
        return math.nan
    value = (
        _days_from_civil(year, month, dom) * 86_400_000
        + ((hour * 60 + minute) * 60 + second) * 1000
        + millis
    )
    zone = match["zone"]  # none: a date alone, which ES reads as UTC
    if zone is not None and zone != "Z":
        sign = 1 if zone[0] == "+" else -1
        value -= sign * (int(zone[1:3]) * 60 + int(zone[4:6])) * 60_000
    if abs(value) > MAX_DATE_MS:
        return math.nan
    return value


# --- JS values of parsed JSON: property access, truthiness, `+`, ToNumber --------------------
# what session-file-store's `session.__lastAccess + ttl < now` does with any stored value


class _Undefined:
    __slots__ = ()

    def __repr__(self) -> str:
        return "undefined"


UNDEFINED = _Undefined()
# ECMA-262 WhiteSpace and LineTerminator: what StringToNumber trims
_JS_SPACE = "\t\n\v\f\r \u00a0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff" + "".join(
    chr(code) for code in range(0x2000, 0x200B)
)
_DECIMAL = re.compile(r"[+-]?(?:Infinity|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)")
_RADIX = re.compile(r"0(?:[xX][0-9a-fA-F]+|[oO][0-7]+|[bB][01]+)")


def js_get(value: Any, key: str) -> Any:
    """``value[key]`` on a JSON value: undefined unless it is an object with that key."""
    return value.get(key, UNDEFINED) if isinstance(value, Mapping) else UNDEFINED


def js_truthy(value: Any) -> bool:
    if value is UNDEFINED or value is None or value is False:
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
            "" if item is None or item is UNDEFINED else _to_string(item) for item in value
        )
    return value


def _to_string(value: Any) -> str:
    value = _to_primitive(value)
    if value is UNDEFINED:
        return "undefined"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_to_string(value)
    return str(value)


def js_to_number(value: Any) -> float:
    value = _to_primitive(value)
    if value is UNDEFINED:
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


def js_add(left: Any, right: Any) -> Any:
    """JS ``left + right``: string concatenation if either primitive is a string."""
    left, right = _to_primitive(left), _to_primitive(right)
    if isinstance(left, str) or isinstance(right, str):
        return _to_string(left) + _to_string(right)
    return js_to_number(left) + js_to_number(right)
