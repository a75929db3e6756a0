"""Cookie header parsing and Set-Cookie serialisation, as Node's ``cookie@0.7.2``.

Every quirk of ``cookie.parse`` is kept, because express-session finds the session id with
it and we must find the same one::

    >>> parse_cookie('a=1; b="two"; a=3; c=%E2%82%AC; d=%E2%82')
    {'a': '1', 'b': 'two', 'c': '€', 'd': '%E2%82'}
    >>> serialize_cookie("connect.sid", "s:abc.def", path="/", http_only=True)
    'connect.sid=s%3Aabc.def; Path=/; HttpOnly'

The ECMAScript ``decodeURIComponent`` / ``encodeURIComponent`` live here too: Python's
``urllib.parse.unquote`` decodes malformed input leniently, where JS throws and ``cookie``
then keeps the raw value.
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Literal
from urllib.parse import quote

from ._js import MAX_DATE_MS, date_to_utc_string, datetime_to_ms, number_to_string

__all__ = [
    "cookie_finder",
    "decode_uri_component",
    "encode_uri_component",
    "find_cookie",
    "find_token_cookie",
    "parse_cookie",
    "serialize_cookie",
]

# RFC 6265 sec 4.1.1 cookie-name = token (RFC 7230 appendix B tchar)
_COOKIE_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# RFC 6265 sec 4.1.1 cookie-value, optionally inside DQUOTEs
_COOKIE_VALUE = re.compile(r'("?)[\x21\x23-\x2B\x2D-\x3A\x3C-\x5B\x5D-\x7E]*\1')
# RFC 1034/1123 subdomain, a leading dot allowed (jshttp/cookie#173). No re.IGNORECASE:
# under Python's Unicode case folding [a-z] would also match U+212A KELVIN SIGN; JS /i does not.
_DOMAIN_VALUE = re.compile(
    r"([.]?[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)([.][a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*"
)
# RFC 6265 sec 4.1.1 path-value: any CHAR except CTLs or ";"
_PATH_VALUE = re.compile(r"[\x20-\x3A\x3D-\x7E]*")

_PRIORITIES = {"low": "Low", "medium": "Medium", "high": "High"}
_SAME_SITES = {"lax": "Lax", "strict": "Strict", "none": "None"}
_BLANKS = " \t"

SameSite = bool | Literal["lax", "strict", "none", "Lax", "Strict", "None"] | str


_HEX_DIGITS = "0123456789abcdefABCDEF"
# every two-hex-digit spelling, either case, to its byte value
_HEX_PAIRS = {a + b: int(a + b, 16) for a in _HEX_DIGITS for b in _HEX_DIGITS}


def decode_uri_component(text: str) -> str:
    """ECMAScript ``decodeURIComponent``: raise ``ValueError`` where JS throws ``URIError``.

    A ``%`` not followed by two hex digits, invalid UTF-8, an overlong form or an encoded
    surrogate is an error (ECMA-262 sec 19.2.6.1.2 Decode).

    >>> decode_uri_component("%F0%9F%98%80 %41")
    '😀 A'
    """
    if "%" not in text:
        return text
    # Fast path for the escapes encodeURIComponent writes into a signed session cookie
    # ("s%3A<id>.<mac with %2B %2F>"). A replacement never makes a '%', so if none is left,
    # every '%' began one of these escapes and the result is what JS decodes.
    fast = text.replace("%3A", ":").replace("%2F", "/").replace("%2B", "+").replace("%3D", "=")
    if "%" not in fast:
        return fast
    return _decode_escapes(text.split("%"))


def _decode_escapes(parts: list[str]) -> str:
    # In valid UTF-8 a multi-byte character is a run of escapes with no literal between
    # them, and Python's strict UTF-8 decoder rejects exactly the byte sequences JS rejects
    # (overlong forms, surrogates, above U+10FFFF), so each maximal run is decoded at once.
    out = [parts[0]]
    run = bytearray()
    try:
        for part in parts[1:]:
            byte = _HEX_PAIRS.get(part[:2])
            if byte is None:
                raise ValueError("URI malformed")
            run.append(byte)
            if len(part) > 2:
                out.append(run.decode("utf-8"))
                run.clear()
                out.append(part[2:])
        if run:
            out.append(run.decode("utf-8"))
    except UnicodeDecodeError:
        raise ValueError("URI malformed") from None
    return "".join(out)


def encode_uri_component(text: str) -> str:
    """ECMAScript ``encodeURIComponent``: a lone surrogate raises ``ValueError`` (JS URIError).

    >>> encode_uri_component("s:a b/é")
    's%3Aa%20b%2F%C3%A9'
    """
    # encodeURIComponent leaves A-Z a-z 0-9 - _ . ! ~ * ' ( ) alone; quote() always keeps
    # all of them but the last four.
    try:
        return quote(text, safe="!*'()")
    except UnicodeEncodeError:
        pass
    try:
        # a surrogate pair held as two Python code points is one JS character
        joined = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le")
    except UnicodeDecodeError:
        raise ValueError("URI malformed") from None
    return quote(joined, safe="!*'()")


def _decode_value(value: str) -> str:
    # cookie@0.7.2 decode(): skip the native call unless there is a '%'; tryDecode(): a
    # value that does not decode is returned as it was.
    if "%" not in value:
        return value
    try:
        return decode_uri_component(value)
    except ValueError:
        return value


def _unquote(raw: str) -> str:
    """A pair's value as cookie.parse slices it: spaces and tabs trimmed, then one pair of
    surrounding double quotes removed (a lone '"' becomes '', as in cookie.parse)."""
    value = raw.strip(_BLANKS)
    if value and value[0] == '"' and value[-1] == '"':
        return value[1:-1]
    return value


def _pairs(header: str) -> Iterator[tuple[str, str]]:
    """``(name, raw value)`` in the order ``cookie.parse`` visits them.

    cookie.parse walks '=' and ';' with a backtrack "on prior semicolon"; what it yields is
    exactly: each ';'-separated segment that holds a '=', split at its first '=', with
    spaces and tabs (only) trimmed and one pair of surrounding double quotes removed.
    """
    # RFC 6265 sec 4.1.1: a pair needs at least one character and '=' (cookie: len < 2)
    if len(header) < 2:
        return
    for segment in header.split(";"):
        name, eq, value = segment.partition("=")
        if eq:
            yield name.strip(_BLANKS), _unquote(value)


def parse_cookie(header: str) -> dict[str, str]:
    """Parse a ``Cookie`` header as ``cookie.parse(header)`` in Node.

    Only spaces and tabs are trimmed; the first occurrence of a name wins; a value in double
    quotes is unquoted; a value is URI-decoded only when it holds a ``%``, and kept as it is
    when it does not decode. A cookie named ``__proto__`` never appears, because Node's
    result is a plain object whose ``__proto__`` setter ignores a string.

    >>> parse_cookie("  x = 1 ;y=\\t2;;z")
    {'x': '1', 'y': '2'}
    """
    if not isinstance(header, str):
        raise TypeError("argument str must be a string")
    cookies: dict[str, str] = {}
    for name, value in _pairs(header):
        if name not in cookies and name != "__proto__":
            cookies[name] = _decode_value(value)
    return cookies


def find_cookie(header: str, name: str) -> str | None:
    """Return ``parse_cookie(header).get(name)``, without building the whole dict.

    The handshake path calls it on every connection, so it jumps from one occurrence of
    ``name`` to the next and looks only at the segment around it: the first segment whose
    key is ``name`` is the first occurrence, which ``cookie.parse`` keeps.

    >>> find_cookie("a=1; connect.sid=s%3Axyz; connect.sid=other", "connect.sid")
    's:xyz'
    """
    # a key never holds ';' or '=' (see _pairs); cookie.parse ignores headers under 2 chars
    if name == "__proto__" or ";" in name or "=" in name or len(header) < 2:
        return None
    length = len(header)
    at = header.find(name)
    while at != -1:
        start = header.rfind(";", 0, at) + 1
        end = header.find(";", at + len(name))
        if end == -1:
            end = length
        eq = header.find("=", start, end)
        if eq != -1 and header[start:eq].strip(_BLANKS) == name:
            return _decode_value(_unquote(header[eq + 1 : end]))
        at = header.find(name, end + 1)
    return None


#: what may not end a value read the short way (cookie.parse trims blanks, unquotes)
_EDGES = ' \t"'


def find_token_cookie(header: str, name: str) -> str | None:
    """:func:`find_cookie` for a ``name`` that is a cookie-name token (RFC 6265: no blank,
    ``;``, ``=`` or ``"``) other than ``__proto__``, as ``attach`` checked its name once:
    the spelling browsers send (the name first, or after ``;`` or ``"; "``, a value that
    needs no trimming or unquoting) is read with a few string operations and decoded as
    :func:`find_cookie` decodes it; any other goes to :func:`find_cookie`.

    >>> find_token_cookie("a=1; connect.sid=s%3Axyz.m%2Bc; connect.sid=2", "connect.sid")
    's:xyz.m+c'
    >>> find_token_cookie('connect.sid="s%3Ax"', "connect.sid")  # quoted: find_cookie
    's:x'
    """
    at = header.find(name)
    if at == -1:
        return None  # no key can be the name: find_cookie finds none either
    # the first place the name appears begins a segment, so no key before it is the name
    if at == 0 or header[at - 1] == ";" or header[at - 2 : at] == "; ":
        start = at + len(name)
        if header[start : start + 1] == "=":
            end = header.find(";", start)
            raw = header[start + 1 :] if end == -1 else header[start + 1 : end]
            if raw and raw[0] not in _EDGES and raw[-1] not in _EDGES:
                return _decode_value(raw)  # nothing to trim or unquote: find_cookie's answer
    return find_cookie(header, name)


@functools.lru_cache(maxsize=64)
def cookie_finder(name: str) -> Callable[[str, str], str | None]:
    """How to find the cookie ``name`` in a Cookie header: :func:`find_token_cookie` where
    the name is a token (as every name a cookie can be set with is), else
    :func:`find_cookie`.

    >>> cookie_finder("connect.sid") is find_token_cookie, cookie_finder("a b") is find_cookie
    (True, True)
    """
    if name != "__proto__" and _COOKIE_NAME.fullmatch(name):
        return find_token_cookie
    return find_cookie


def serialize_cookie(
    name: str,
    value: str,
    *,
    max_age: float | None = None,
    expires: datetime | float | None = None,
    domain: str | None = None,
    path: str | None = None,
    http_only: bool = False,
    secure: bool = False,
    partitioned: bool = False,
    priority: str | None = None,
    same_site: SameSite | None = None,
) -> str:
    """Build a ``Set-Cookie`` value as ``cookie.serialize(name, value, options)`` in Node.

    The value is ``encodeURIComponent``-encoded, ``Max-Age`` is floored, ``Expires`` is in
    ``Date.prototype.toUTCString()`` form (a ``datetime``, a naive one counting as UTC, or
    a JS time value in ms), and
    ``same_site=True`` means ``Strict``. Option strings are case-insensitive. Anything Node
    rejects raises ``ValueError`` with Node's message.

    >>> from datetime import datetime, timezone
    >>> serialize_cookie("a", "b", max_age=1.9, expires=datetime(2026, 11, 25, tzinfo=timezone.utc),
    ...                  same_site=True, priority="HIGH")
    'a=b; Max-Age=1; Expires=Wed, 25 Nov 2026 00:00:00 GMT; Priority=High; SameSite=Strict'
    """
    if not isinstance(name, str) or not _COOKIE_NAME.fullmatch(name):
        raise ValueError("argument name is invalid")
    encoded = encode_uri_component(value)
    if not _COOKIE_VALUE.fullmatch(encoded):
        raise ValueError("argument val is invalid")
    parts = [f"{name}={encoded}"]

    if max_age is not None:
        if isinstance(max_age, bool) or not isinstance(max_age, (int, float)):
            raise ValueError("option maxAge is invalid")
        if isinstance(max_age, float):
            if not math.isfinite(max_age):
                raise ValueError("option maxAge is invalid")
            max_age = math.floor(max_age)
        parts.append("Max-Age=" + number_to_string(max_age))

    if domain:
        if not _DOMAIN_VALUE.fullmatch(domain):
            raise ValueError("option domain is invalid")
        parts.append("Domain=" + domain)

    if path:
        if not _PATH_VALUE.fullmatch(path):
            raise ValueError("option path is invalid")
        parts.append("Path=" + path)

    if expires is not None:
        if isinstance(expires, datetime):
            parts.append("Expires=" + to_utc_string(expires))
        elif isinstance(expires, (int, float)) and not isinstance(expires, bool):
            if not abs(expires) <= MAX_DATE_MS:  # NaN too: an Invalid Date
                raise ValueError("option expires is invalid")
            parts.append("Expires=" + date_to_utc_string(expires))
        else:
            raise ValueError("option expires is invalid")

    if http_only:
        parts.append("HttpOnly")
    if secure:
        parts.append("Secure")
    if partitioned:
        parts.append("Partitioned")

    if priority:
        label = _PRIORITIES.get(priority.lower()) if isinstance(priority, str) else None
        if label is None:
            raise ValueError("option priority is invalid")
        parts.append("Priority=" + label)

    if same_site:
        if same_site is True:
            parts.append("SameSite=Strict")
        else:
            label = _SAME_SITES.get(same_site.lower()) if isinstance(same_site, str) else None
            if label is None:
                raise ValueError("option sameSite is invalid")
            parts.append("SameSite=" + label)

    return "; ".join(parts)


def to_utc_string(moment: datetime) -> str:
    """``Date.prototype.toUTCString()``: ``Wed, 25 Nov 2026 17:42:42 GMT``.

    Milliseconds are dropped, as JS drops them; the year is zero-padded to four digits.
    A naive datetime counts as UTC.
    """
    return date_to_utc_string(datetime_to_ms(moment))
