"""JSON that Node's ``JSON.parse`` and ``JSON.stringify`` agree with, byte for byte.

``dumps`` writes what ``JSON.stringify`` writes for the same JS value; ``loads`` reads what
Node wrote into the Python value that ``dumps`` writes back unchanged::

    >>> dumps({"b": 1, "2": [1e21, 1e-7, -0.0, float("nan"), 2**64], "a": "\\ud800\\u2028"})
    '{"2":[1e+21,1e-7,0,null,18446744073709552000],"b":1,"a":"\\\\ud800\\u2028"}'
    >>> loads('{"n": 18446744073709552000, "m": 9007199254740993, "x": 1.0}')
    {'n': 1.8446744073709552e+19, 'm': 9007199254740992.0, 'x': 1}

The JS rules kept here:

- Every number is a double. An integer is a Python ``int`` when the double holds it exactly,
  else the ``float`` JS has; an integral float reads as an ``int``. Numbers print as
  ``Number::toString`` (``1e+21``, ``1e-7``, ``-0`` as ``0``); NaN and Infinity as ``null``.
- Object keys come out in JS property order: array-index keys (``"0"`` .. ``"4294967294"``)
  ascending first, then the others in insertion order. Duplicate keys: the last value wins
  at the first key's position, as in ``JSON.parse``.
- Strings: ``"``, ``\\`` and control characters are escaped as JS escapes them, a lone
  surrogate as ``\\udXXX``, everything else (U+2028 included) written as it is.
- A ``datetime`` is written as ``Date.prototype.toJSON`` writes a Date (a naive one counts as
  UTC); an object with a ``to_json()`` method is written as what it returns (JS ``toJSON``).
- A value JSON cannot hold raises ``TypeError`` naming where it is (``session["a"][2]``).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from ._js import date_to_json, datetime_to_ms, number_to_string

__all__ = ["dumps", "loads", "raw_decode"]

_SAFE = 2**53
_MAX_INDEX = 2**32 - 2  # the largest array index (ECMA-262 sec 6.1.7)
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


# --- reading -------------------------------------------------------------------------------


def _js_int(text: str) -> int | float:
    if len(text) < 16:
        return int(text)
    number = float(text)
    if math.isinf(number) or len(text) > 400:
        return number
    exact = int(text)
    return exact if exact == number else number


def _js_float(text: str) -> int | float:
    number = float(text)
    if number.is_integer() and -_SAFE < number < _SAFE:
        return int(number)
    return number


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


_DECODER = json.JSONDecoder(parse_int=_js_int, parse_float=_js_float, parse_constant=_no_constant)


def loads(text: str | bytes) -> Any:
    """Parse JSON as ``JSON.parse`` does; ``ValueError`` where it throws.

    Bytes are decoded as Node decodes a UTF-8 buffer (an invalid sequence becomes U+FFFD).
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "replace")
    try:
        return _DECODER.decode(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def raw_decode(text: str, index: int) -> tuple[Any, int]:
    """The JSON value that starts at ``text[index]`` (no white space before it), read as
    :func:`loads` reads it, and the index where it ends; ``ValueError`` if there is none.

    >>> raw_decode('{"cookie":{"a":1},"n":2}', 10)
    ({'a': 1}, 17)
    """
    try:
        return _DECODER.raw_decode(text, index)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


# --- writing -------------------------------------------------------------------------------


def _string(text: str) -> str:
    quoted: str = encode_basestring(text)
    try:
        quoted.encode("utf-8")
    except UnicodeEncodeError:
        # Join surrogate pairs held as two code points; escape the lone ones as JS does.
        joined = quoted.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
        quoted = _LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", joined)
    return quoted


def _is_index(key: str) -> bool:
    return (
        key.isascii()
        and key.isdigit()
        and (key == "0" or key[0] != "0")
        and (len(key) < 10 or int(key) <= _MAX_INDEX)
    )


def _key(key: object, where: str) -> str:
    # A JS property key is a string: String(1) is "1", String(true) "true", String(null) "null".
    if isinstance(key, str):
        return key
    if key is None or isinstance(key, bool):
        return "null" if key is None else ("true" if key else "false")
    if isinstance(key, (int, float)):
        return number_to_string(key)
    raise TypeError(f"{where} has a key {key!r} of type {type(key).__name__}; keys must be str")


def _where(where: str, key: str | int) -> str:
    return f"{where}[{key!r}]"


class _Writer:
    __slots__ = ("_active", "_parts")

    def __init__(self) -> None:
        self._parts: list[str] = []
        self._active: set[int] = set()

    def write(self, value: Any, where: str) -> None:
        parts = self._parts
        if isinstance(value, str):
            parts.append(_string(value))
        elif value is None:
            parts.append("null")
        elif value is True:
            parts.append("true")
        elif value is False:
            parts.append("false")
        elif isinstance(value, int):
            if -_SAFE <= value <= _SAFE:
                parts.append(str(value))
            else:
                try:
                    parts.append(number_to_string(float(value)))
                except OverflowError:
                    raise TypeError(f"{where} = {value} is too large for a JS number") from None
        elif isinstance(value, float):
            parts.append(number_to_string(value) if math.isfinite(value) else "null")
        elif callable(getattr(value, "to_json", None)):
            self.write(value.to_json(), where)  # JS: toJSON() comes first
        elif isinstance(value, Mapping):
            self._container(value, where, self._object)
        elif isinstance(value, (list, tuple)):
            self._container(value, where, self._array)
        elif isinstance(value, datetime):
            parts.append(_string(date_to_json(datetime_to_ms(value))))
        else:
            raise TypeError(
                f"{where} is a {type(value).__name__}, which JSON cannot hold "
                "(use str, int, float, bool, None, dict, list or datetime)"
            )

    def _container(self, value: Any, where: str, write: Any) -> None:
        marker = id(value)
        if marker in self._active:
            raise TypeError(f"{where} refers to itself (a circular structure)")
        self._active.add(marker)
        write(value, where)
        self._active.discard(marker)

    def _object(self, value: Mapping[Any, Any], where: str) -> None:
        # 1 and "1" are one JS property: the later value wins at the first one's position
        items = list({_key(key, where): item for key, item in value.items()}.items())
        if any(_is_index(key) for key, _ in items):
            indexed = sorted(
                (item for item in items if _is_index(item[0])), key=lambda i: int(i[0])
            )
            items = indexed + [item for item in items if not _is_index(item[0])]
        parts = self._parts
        parts.append("{")
        first = True
        for key, item in items:
            if not first:
                parts.append(",")
            first = False
            parts.append(_string(key))
            parts.append(":")
            self.write(item, _where(where, key))
        parts.append("}")

    def _array(self, value: list[Any] | tuple[Any, ...], where: str) -> None:
        parts = self._parts
        parts.append("[")
        for index, item in enumerate(value):
            if index:
                parts.append(",")
            self.write(item, _where(where, index))
        parts.append("]")

    def text(self) -> str:
        return "".join(self._parts)


def dumps(value: Any, *, name: str = "value") -> str:
    """``JSON.stringify(value)``, compact; ``name`` is how errors call the top-level value."""
    writer = _Writer()
    writer.write(value, name)
    return writer.text()
