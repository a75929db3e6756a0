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
- Any depth: Node reads and writes JSON nested deeper than Python's recursion limit, so both
  fall back to a loop there (``loads('[' * 5000 + ']' * 5000)`` works).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from json.encoder import encode_basestring
from typing import Any

from ._js import date_to_json, datetime_to_ms, number_to_string

__all__ = ["dumps", "loads", "raw_decode", "scan_members", "scan_members_into"]

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


# one decoder for every call: json.loads(text, **hooks) builds a new one each time
_DECODER = json.JSONDecoder(parse_int=_js_int, parse_float=_js_float, parse_constant=_no_constant)
#: :func:`raw_decode`'s scanner itself, for a hot path that maps its failures on its own:
#: ``scan_once(text, index)`` is (value, end), or raises StopIteration (no value there),
#: ValueError (not JSON) or RecursionError (nested deeper than Python's limit)
scan_once: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]


def loads(text: str | bytes) -> Any:
    """Parse JSON as ``JSON.parse`` does; ``ValueError`` where it throws.

    Bytes are decoded as Node decodes a UTF-8 buffer (an invalid sequence becomes U+FFFD).
    """
    if isinstance(text, (bytes, bytearray, memoryview)):
        text = bytes(text).decode("utf-8", "replace")
    try:
        return _DECODER.decode(text)
    except RecursionError:
        return _loads_deep(text)


def raw_decode(text: str, index: int) -> tuple[Any, int]:
    """The JSON value that starts at ``text[index]`` (no white space before it), read as
    :func:`loads` reads it, and the index where it ends; ``ValueError`` if there is none.

    >>> raw_decode('{"cookie":{"a":1},"n":2}', 10)
    ({'a': 1}, 17)
    """
    try:  # the C scanner itself, as JSONDecoder.raw_decode calls it (one Python call fewer)
        value, end = scan_once(text, index)
    except StopIteration as stop:
        raise json.JSONDecodeError("Expecting value", text, stop.value) from None
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    return value, end


def scan_members(text: str, index: int) -> tuple[dict[str, Any], dict[str, str]] | None:
    """The members of the object that ``text`` ends, from ``text[index]`` (just after its
    ``{`` or a ``,``), each value read as :func:`loads` reads it: (the members in order,
    each mapped to its value, or to None where the value is kept as its JSON text; those
    texts by key). An object or an array is kept as text, a string, a number, a boolean or
    null as the value. None where the text is more than this reads (a ``cookie`` key, nesting
    deeper than Python's recursion limit, anything after the object): :func:`loads` then
    decides. ``ValueError`` where it is not JSON. Keeping containers as text keeps a
    session's data out of the collector's way until a value is read: a ``str`` is no
    container (a dict is one, even one the collector does not track: every dict counts
    towards its next collection).

    >>> scan_members('{"cookie":{},"n":[1,{"b":2}], "s" : "x", "o": {"a": 1}}', 13)
    ({'n': None, 's': 'x', 'o': None}, {'n': '[1,{"b":2}]', 'o': '{"a": 1}'})
    >>> scan_members('{"cookie":{}}', 12)
    ({}, {})
    """
    keys: dict[str, Any] = {}
    values: dict[str, str] = {}
    if scan_members_into(text, index, keys, values) is None:
        return None
    return keys, values


def first_member(text: str, index: int, key: str) -> tuple[Any, int] | None:
    """The value of the member ``key`` when it is the one that starts at ``text[index]``
    (just after the object's ``{`` or a ``,``, written as ``JSON.stringify`` writes it) and
    no later member can repeat it (as :func:`scan_members_into` with ``until``: the text
    escapes nothing and the key's quoted form appears nowhere after the value): (the value,
    the index just past it). None otherwise, where :func:`scan_members_into` decides;
    ``ValueError`` where the value is not JSON. A session's first read is most often of
    the member just after its cookie (passport's user): this reads it in one C call.

    >>> first_member('{"cookie":{},"passport":{"user":7},"n":1}', 13, "passport")
    ({'user': 7}, 34)
    >>> first_member('{"cookie":{},"passport":{},"passport":1}', 13, "passport") is None
    True
    """
    if not text.startswith(key, index + 1) or text[index] != '"' or "\\" in text:
        return None
    start = index + len(key) + 1
    if text[start : start + 2] != '":' or '"' in key:
        return None
    try:
        value, end = scan_once(text, start + 2)
    except StopIteration as stop:
        raise ValueError(f"Expecting value at {stop.value}") from None
    except RecursionError:
        return None
    after = text[end : end + 1]
    if after == ",":
        if text.find(text[index : start + 1], end) != -1:
            return None  # a later member may repeat it: the scan decides
    elif after != "}" or end + 1 != len(text):
        return None
    return value, end


def scan_members_into(
    text: str,
    index: int,
    keys: dict[str, Any],
    values: dict[str, str],
    until: str | None = None,
) -> int | None:
    """:func:`scan_members` into ``keys`` and ``values``, from ``text[index]`` (the start
    or the place an earlier call stopped), and with ``until``: stopping just after the
    member of that key when no later member can have the same key (one member after
    another, Node's ``JSON.parse`` lets the last of equal keys win). Where it stopped
    (the index to go on from), 0 when the object ended, None as :func:`scan_members`.
    What it did not reach is not checked: a later member that is not JSON fails when a
    call reaches it.

    >>> keys, values = {}, {}
    >>> text = '{"cookie":{},"a":{"x":1},"b":[2],"c":3}'
    >>> at = scan_members_into(text, 13, keys, values, until="a")
    >>> keys, values, text[at:]
    ({'a': {'x': 1}}, {}, '"b":[2],"c":3}')
    >>> scan_members_into(text, at, keys, values), keys
    (0, {'a': {'x': 1}, 'b': None, 'c': 3})
    """
    scan = scan_once
    # the key as JSON.stringify writes it, where nothing in the text is escaped: found
    # nowhere after its member, no later member can repeat it
    unique = None
    if until is not None and "\\" not in text and '"' not in until:
        unique = '"' + until + '"'
    text += "\0"  # an end that is no JSON: every look below may go one past the object
    at = _skip(text, index)
    if text[at] == "}":
        return 0 if _skip(text, at + 1) == len(text) - 1 else None
    while True:
        if text[at] != '"':
            raise ValueError(f"Expecting property name enclosed in double quotes at {at}")
        key, at = _scanstring(text, at + 1, True)
        if key == "cookie":
            return None
        if text[at] != ":":  # JSON.stringify writes no white space: look for it only here
            at = _skip(text, at)
            if text[at] != ":":
                raise ValueError(f"Expecting ':' delimiter at {at}")
        start = at + 1
        if text[start] in _SPACE:
            start = _skip(text, start)
        try:
            value, at = scan(text, start)
        except StopIteration as stop:
            raise ValueError(f"Expecting value at {stop.value}") from None
        except RecursionError:
            return None
        # a duplicate key: the last value wins, in the first's place; the value looked for
        # is kept as read (it is read next: parsing its text again would cost a second parse)
        if type(value) in _SCALARS or key == until:
            keys[key] = value
            values.pop(key, None)
        else:
            keys[key] = None
            values[key] = text[start:at]
        if text[at] in _SPACE:
            at = _skip(text, at)
        if text[at] == ",":
            at += 1
            if text[at] in _SPACE:
                at = _skip(text, at)
            if key == until and unique is not None and text.find(unique, at) == -1:
                return at
            continue
        if text[at] == "}":
            return 0 if _skip(text, at + 1) == len(text) - 1 else None
        raise ValueError(f"Expecting ',' delimiter at {at}")


_SPACE = frozenset(" \t\n\r")
#: what a JSON value is when it is no container: these cost the collector nothing to hold
_SCALARS = frozenset({str, int, float, bool, type(None)})


def _skip(text: str, at: int) -> int:
    """The index of the first character at or after ``at`` that is not JSON white space."""
    return _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]


# the C string scanner json.loads uses (typeshed does not declare it)
_scanstring: Callable[[str, int, bool], tuple[str, int]] = json.decoder.scanstring  # type: ignore[attr-defined]
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_NUMBER = re.compile(r"(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?")
_LITERALS = (("null", None), ("true", True), ("false", False))


def _loads_deep(text: str) -> Any:
    """``loads`` with a stack of open containers instead of recursion (V8's JSON.parse has no
    depth limit); the same grammar and number rules as the C scanner with our hooks."""
    end = len(text)
    stack: list[tuple[dict[str, Any] | list[Any], str | None]] = []

    def skip(at: int) -> int:
        return _WHITESPACE.match(text, at).end()  # type: ignore[union-attr]

    def key_at(at: int) -> tuple[str, int]:
        if at >= end or text[at] != '"':
            raise ValueError(f"Expecting property name enclosed in double quotes at {at}")
        key, at = _scanstring(text, at + 1, True)
        at = skip(at)
        if at >= end or text[at] != ":":
            raise ValueError(f"Expecting ':' delimiter at {at}")
        return key, skip(at + 1)

    at = skip(0)
    while True:
        value: Any
        char = text[at] if at < end else ""
        if char == "{" or char == "[":
            at = skip(at + 1)
            if at < end and text[at] == ("}" if char == "{" else "]"):
                value, at = ({} if char == "{" else []), at + 1
            elif char == "{":
                first, at = key_at(at)
                stack.append(({}, first))
                continue
            else:
                stack.append(([], None))
                continue
        elif char == '"':
            value, at = _scanstring(text, at + 1, True)
        else:
            number = _NUMBER.match(text, at)
            if number is not None:
                whole, fraction, exponent = number.groups()
                value = _js_float(number.group()) if fraction or exponent else _js_int(whole)
                at = number.end()
            else:
                for word, literal in _LITERALS:
                    if text.startswith(word, at):
                        value, at = literal, at + len(word)
                        break
                else:
                    raise ValueError(f"Expecting value at {at}")
        # put the value in its container; close every container that ends here
        while True:
            if not stack:
                if skip(at) != end:
                    raise ValueError(f"Extra data at {skip(at)}")
                return value
            container, key = stack[-1]
            if isinstance(container, list):
                container.append(value)
            else:
                assert key is not None
                container[key] = value
            at = skip(at)
            char = text[at] if at < end else ""
            if char == ",":
                at = skip(at + 1)
                if isinstance(container, dict):
                    next_key, at = key_at(at)
                    stack[-1] = (container, next_key)
                break
            if char != ("]" if isinstance(container, list) else "}"):
                raise ValueError(f"Expecting ',' delimiter at {at}")
            at += 1
            stack.pop()
            value = container


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


def _properties(value: Mapping[Any, Any], where: str) -> list[tuple[str, Any]]:
    """An object's properties in the order JSON.stringify writes them."""
    # 1 and "1" are one JS property: the later value wins at the first one's position
    items = list({_key(key, where): item for key, item in value.items()}.items())
    if any(_is_index(key) for key, _ in items):
        indexed = sorted((item for item in items if _is_index(item[0])), key=lambda i: int(i[0]))
        items = indexed + [item for item in items if not _is_index(item[0])]
    return items


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
        items = _properties(value, where)
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
    try:
        writer.write(value, name)
    except RecursionError:
        return _dumps_deep(value, name)
    return writer.text()


_Open = tuple[Iterator[tuple[str, Any, str]], str, "int | None"]


def _dumps_deep(value: Any, name: str) -> str:
    """``dumps`` with a stack of open containers instead of recursion: for values nested
    deeper than Python's recursion limit. Each leaf is written by ``_Writer``."""
    parts: list[str] = []
    active: set[int] = set()
    stack: list[_Open] = [(iter([("", value, name)]), "", None)]
    while stack:
        items, closer, marker = stack[-1]
        step = next(items, None)
        if step is None:
            stack.pop()
            parts.append(closer)
            if marker is not None:
                active.discard(marker)
            continue
        prefix, item, where = step
        parts.append(prefix)
        while not isinstance(item, (str, int, float, type(None))) and callable(
            getattr(item, "to_json", None)
        ):
            item = item.to_json()
        if isinstance(item, (Mapping, list, tuple)):
            if id(item) in active:
                raise TypeError(f"{where} refers to itself (a circular structure)")
            active.add(id(item))
            if isinstance(item, Mapping):
                entries = [
                    ("," * (index > 0) + _string(key) + ":", child, _where(where, key))
                    for index, (key, child) in enumerate(_properties(item, where))
                ]
                parts.append("{")
                stack.append((iter(entries), "}", id(item)))
            else:
                parts.append("[")
                elements = (
                    ("," * (index > 0), child, _where(where, index))
                    for index, child in enumerate(item)
                )
                stack.append((elements, "]", id(item)))
        else:
            leaf = _Writer()
            leaf.write(item, where)
            parts.append(leaf.text())
    return "".join(parts)
