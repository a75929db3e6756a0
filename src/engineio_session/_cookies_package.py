"""The parts of Node's ``cookies@0.9.1`` package that cookie-session uses: finding a cookie
in the header (its own pattern: no URI decoding, no trimming, the first match wins) and
writing a Set-Cookie value (``Cookie.prototype.toHeader``: lower-case attributes in its order).

>>> pattern_for("my.session").search("a=1; my.session=x y").group(1)
'x y'
>>> to_header("a", "", path="/", http_only=True, https=True)
'a=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; secure; httponly'
"""

from __future__ import annotations

import re

__all__ = [
    "EPOCH_UTC",
    "FIELD_CONTENT",
    "PRIORITIES",
    "SAME_SITES",
    "pattern_for",
    "push_cookie",
    "to_header",
    "unquote",
]

# cookies@0.9.1: RFC 7230 field-content for names, paths and domains; a name has no ";" or "="
FIELD_CONTENT = re.compile(r"[\t\x20-\x7e\x80-\xff]+")
# /^(?:low|medium|high)$/i and /^(?:lax|none|strict)$/i (ASCII case only)
PRIORITIES = ("low", "medium", "high")
SAME_SITES = ("lax", "none", "strict")
EPOCH_UTC = "Thu, 01 Jan 1970 00:00:00 GMT"


def unquote(value: str) -> str:
    """``if (value[0] === '"') value = value.slice(1, -1)``: drops the last UTF-16 code unit,
    whatever it is (the low half of an astral character, even)."""
    if value[:1] != '"':
        return value
    last = value[-1]
    if len(value) > 1 and ord(last) > 0xFFFF:
        return value[1:-1] + last.encode("utf-16-le")[:2].decode("utf-16-le", "surrogatepass")
    return value[1:-1]


def push_cookie(headers: list[str], name: str, header: str, overwrite: bool) -> None:
    """cookies' pushCookie(): with ``overwrite``, earlier headers for ``name`` are dropped."""
    if overwrite:
        prefix = name + "="
        headers[:] = [h for h in headers if not h.startswith(prefix)]
    headers.append(header)


def pattern_for(name: str) -> re.Pattern[str]:
    """cookies' getPattern(): the first ``name=`` at the start or after a ``;`` and spaces
    (spaces only, no tabs); the value runs to the next ``;``."""
    return re.compile("(?:^|;) *" + re.escape(name) + "=([^;]*)")


def to_header(
    name: str,
    value: str,
    *,
    path: str | None,
    http_only: bool,
    https: bool,
    expires: str | None = None,
    domain: str | None = None,
    priority: str | None = None,
    same_site: bool | str | None = None,
    secure: bool | None = None,
    partitioned: bool = False,
) -> str:
    """cookies' ``Cookie.prototype.toHeader``: the attributes in its order, lower-case."""
    if not value:
        expires = EPOCH_UTC  # `if (!this.value) { this.expires = new Date(0) ... }`
    header = name + "=" + value
    if path:
        header += "; path=" + path
    if expires:
        header += "; expires=" + expires
    if domain:
        header += "; domain=" + domain
    if priority:
        header += "; priority=" + priority.lower()
    if same_site:
        header += "; samesite=" + ("strict" if same_site is True else str(same_site).lower())
    if secure if secure is not None else https:
        header += "; secure"
    if http_only:
        header += "; httponly"
    if partitioned:
        header += "; partitioned"
    return header
