"""Sessions that live in the cookie, read and written as Express's ``cookie-session@2.1.1``.

cookie-session keeps the whole session in the browser: a cookie ``session`` holding the
session as base64 JSON, and a cookie ``session.sig`` holding its keygrip signature
(HMAC-SHA1 of ``"session=<value>"``, base64url without ``=``). It reads them through the
``cookies@0.9.1`` package and signs with ``keygrip@1.1.0``; this module ports all three, with
no I/O::

    >>> sessions = CookieSession(keys=["new key", "old key"])
    >>> for value in sessions.dump({"user": "ada"}):
    ...     print(value)
    session=eyJ1c2VyIjoiYWRhIn0=; path=/; httponly
    session.sig=cO1INW33O3XAyp5UpWNArUoPlwU; path=/; httponly
    >>> sessions.load("session=eyJ1c2VyIjoiYWRhIn0=; session.sig=cO1INW33O3XAyp5UpWNArUoPlwU")
    {'user': 'ada'}
    >>> sessions.load("session=eyJ1c2VyIjoiYWRhIn0=") is None    # no .sig: not signed
    True

``load`` answers the session's data, or ``None`` where cookie-session starts a new, empty
session (no cookie, no or a bad signature, a body that is not base64 JSON). The attach layer
needs more than that: :meth:`CookieSession.read` says how the cookie verified, and which
Set-Cookie values Node sends back for the read alone (a ``.sig`` re-signed with the newest key
when an older one matched, a cleared ``.sig`` when none did); :meth:`CookieSession.commit`
gives the Set-Cookie values of the response after the handler changed the session (or
dropped it, ``None``), exactly as cookie-session's ``onHeaders`` hook writes them::

    >>> CookieSession(keys=["old key"]).dump({"user": "ada"})[1]
    'session.sig=Q2VzN3RXw5d7r-dsK10M7Ld6h4Y; path=/; httponly'
    >>> header = "session=eyJ1c2VyIjoiYWRhIn0=; session.sig=Q2VzN3RXw5d7r-dsK10M7Ld6h4Y"
    >>> read = sessions.read(header)
    >>> read.status, read.key_index, read.data
    ('rotated', 1, {'user': 'ada'})
    >>> read.set_cookie                       # cookies.get re-signs with the first key
    ('session.sig=cO1INW33O3XAyp5UpWNArUoPlwU; path=/; httponly',)
    >>> sessions.commit(read, read.data)      # unchanged: only the re-signed .sig
    ['session.sig=cO1INW33O3XAyp5UpWNArUoPlwU; path=/; httponly']
    >>> sessions.read("session=eyJ1c2VyIjoiYWRhIn0=; session.sig=forged").set_cookie
    ('session.sig=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly',)

Security: the data is only base64, so anyone holding the cookie reads all of it; a signed
cookie cannot be changed without a key, but it stays valid until it expires (a logout on the
server cannot revoke a copy). ``signed=False`` trusts whatever the client sends. A header over
:data:`MAX_COOKIE_HEADER` characters or a value over :data:`MAX_COOKIE_VALUE` is refused before
any HMAC is computed, and :meth:`~CookieSession.commit` refuses to write a cookie that browsers
would drop (name and value over 4096 bytes) instead of losing the session silently.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from ._cookie_session_body import copy_data, decode, encode
from ._cookies_package import (
    EPOCH_UTC,
    FIELD_CONTENT,
    PRIORITIES,
    SAME_SITES,
    pattern_for,
    push_cookie,
    to_header,
    unquote,
)
from ._js import MAX_DATE_MS, date_to_utc_string, datetime_to_ms, now_ms, utf8
from .keygrip import Key, Keygrip

__all__ = [
    "INSECURE",
    "MAX_COOKIE_HEADER",
    "MAX_COOKIE_VALUE",
    "CookieRead",
    "CookieSession",
    "ReadStatus",
]

#: the limits engineio.py applies to ``connect.sid``: a browser keeps at most 4096 bytes a
#: cookie, and Node's default limit for all request headers together is 16 KiB. A longer
#: header or cookie value is refused before any HMAC is computed.
MAX_COOKIE_VALUE = 4096
MAX_COOKIE_HEADER = 16384

#: Node's message (cookies@0.9.1 ``Cookies.prototype.set``) for ``secure=True`` on a request
#: that is not HTTPS; cookie-session swallows it and writes nothing.
INSECURE = "Cannot send secure cookie over unencrypted connection"

ReadStatus = Literal["absent", "oversized", "unsigned", "forged", "verified", "rotated", "plain"]


@dataclass(frozen=True)
class CookieRead:
    """What reading a request's ``Cookie`` header gave (:meth:`CookieSession.read`).

    ``status`` says what was found:

    - ``"absent"``: no cookie of that name; ``"oversized"``: refused for its length, unread;
    - ``"unsigned"``: no (or an empty) ``.sig`` cookie beside it;
    - ``"forged"``: the ``.sig`` matches no key: Node clears it (``set_cookie``);
    - ``"verified"``: the first key matched; ``"rotated"``: an older key did
      (``key_index``), and Node sends a ``.sig`` re-signed with the first (``set_cookie``);
    - ``"plain"``: ``signed=False``, nothing was checked.

    ``data`` is the session (``req.session`` in Node), or ``None`` where cookie-session starts
    a new one: every status but ``verified``, ``rotated`` and ``plain``, and those too when
    the value is empty or its body does not parse. ``set_cookie`` holds the Set-Cookie values
    ``cookies.get`` adds while reading; :meth:`CookieSession.commit` gives the response's
    complete list, with ``https`` (whether Node saw the request as encrypted, given to
    ``read``). ``data`` and ``value`` stay out of the repr (logs never hold sessions).
    """

    status: ReadStatus
    data: dict[str, Any] | None = field(default=None, repr=False)
    key_index: int | None = None
    set_cookie: tuple[str, ...] = ()
    #: the cookie's value as read (what cookie-session compares to tell a change), or None
    value: str | None = field(default=None, repr=False)
    https: bool = False

    @property
    def loaded(self) -> bool:
        """Whether the session came from the cookie (Node's ``!req.session.isNew``)."""
        return self.data is not None


class CookieSession:
    """cookie-session's middleware options, and its reading and writing of the two cookies.

    ``keys``: newest first (one ``str`` or ``bytes`` is a list of one); they sign with the
    first and verify with each. ``name``: the cookie's name (its signature is ``name.sig``).
    The cookie options are cookie-session's, in snake_case: ``max_age`` in milliseconds
    (``expires`` = now + max_age, written as ``expires=``; cookie-session writes no
    ``Max-Age``), ``expires`` a datetime, ``path`` (``"/"``), ``domain``, ``same_site``
    (``True`` = strict, or ``"lax"``, ``"strict"``, ``"none"``), ``secure`` (``None``: as the
    request, which ``https=`` tells), ``http_only`` (``True``), ``partitioned``, ``priority``
    and ``overwrite`` (``True``: a later Set-Cookie for the same name replaces an earlier one).
    A bad argument raises ``TypeError`` or ``ValueError`` here, with Node's message where Node
    has one (Node throws it on every response instead, and writes nothing).

    >>> CookieSession(keys=["k"], same_site="bogus")
    Traceback (most recent call last):
    ...
    ValueError: option sameSite is invalid
    """

    def __init__(
        self,
        keys: Key | Iterable[Key] | None = None,
        name: str = "session",
        *,
        signed: bool = True,
        max_age: float | None = None,
        expires: datetime | None = None,
        path: str | None = "/",
        domain: str | None = None,
        same_site: bool | str | None = None,
        secure: bool | None = None,
        http_only: bool = True,
        partitioned: bool = False,
        priority: str | None = None,
        overwrite: bool = True,
    ) -> None:
        if not isinstance(name, str):
            raise TypeError("name is the cookie's name, a str")
        if not FIELD_CONTENT.fullmatch(name) or ";" in name or "=" in name:
            raise ValueError("argument name is invalid")
        self.name = name
        self.signed = bool(signed)
        if keys is None and self.signed:
            raise ValueError(".keys required.")
        self._keygrip = None if keys is None else Keygrip(keys)
        self.key_count = 0 if self._keygrip is None else len(self._keygrip)
        self._pattern = pattern_for(name)
        self._sig_pattern = pattern_for(name + ".sig")

        # in the order the Cookie constructor (cookies@0.9.1) checks them
        for option, text in (("path", path), ("domain", domain)):
            if text is not None and not isinstance(text, str):
                raise TypeError(f"{option} is a str")
            if text and not FIELD_CONTENT.fullmatch(text):
                raise ValueError(f"option {option} is invalid")
        if max_age is not None:
            if isinstance(max_age, bool) or not isinstance(max_age, (int, float)):
                raise TypeError("option maxAge is invalid")
            if not math.isfinite(max_age):
                raise ValueError("option maxAge is invalid")
        if priority is not None and not isinstance(priority, str):
            raise TypeError("priority is a str")
        if priority and not (priority.isascii() and priority.lower() in PRIORITIES):
            raise ValueError("option priority is invalid")
        if same_site is not None and not isinstance(same_site, (bool, str)):
            raise TypeError("same_site is a bool or a str")
        if (
            isinstance(same_site, str)
            and same_site
            and not (same_site.isascii() and same_site.lower() in SAME_SITES)
        ):
            raise ValueError("option sameSite is invalid")
        if expires is not None and not isinstance(expires, datetime):
            raise TypeError("expires is a datetime")
        if secure is not None and not isinstance(secure, bool):
            raise TypeError("secure is a bool, or None to follow the request")
        self.max_age = max_age
        self.expires = expires
        self.path = path
        self.domain = domain
        self.same_site = same_site
        self.secure = secure
        self.http_only = bool(http_only)
        self.partitioned = bool(partitioned)
        self.priority = priority
        self.overwrite = bool(overwrite)

    def __repr__(self) -> str:
        return f"CookieSession(name={self.name!r}, keys=<{self.key_count}>, signed={self.signed})"

    # --- reading ------------------------------------------------------------------------------

    def _get(self, header: str, pattern: re.Pattern[str]) -> str | None:
        match = pattern.search(header)
        return None if match is None else unquote(match.group(1))

    def read(self, cookie_header: str | None, *, https: bool = False) -> CookieRead:
        """Read the session from a ``Cookie`` header as cookie-session does on a request.

        ``cookie_header`` is the header as Node sees it: one str (several Cookie headers
        joined with ``"; "``), each byte one character (latin-1, as WSGI gives it). ``https``
        says whether Node would see the request as encrypted (``req.protocol === 'https'``,
        or a TLS socket): it decides ``secure`` on the ``.sig`` that a read re-signs or clears.
        A rejected cookie is a status, never an exception.
        """
        if not cookie_header:  # `if (!header) return`
            return CookieRead("absent", https=https)
        if not isinstance(cookie_header, str):
            raise TypeError("cookie_header is a str")
        if len(cookie_header) > MAX_COOKIE_HEADER:
            return CookieRead("oversized", https=https)
        value = self._get(cookie_header, self._pattern)
        if value is None:
            return CookieRead("absent", https=https)
        if len(value) > MAX_COOKIE_VALUE:
            return CookieRead("oversized", https=https)
        if not self.signed:
            return CookieRead("plain", decode(value) if value else None, value=value, https=https)
        remote = self._get(cookie_header, self._sig_pattern)
        if not remote:
            return CookieRead("unsigned", https=https)
        assert self._keygrip is not None
        data = self.name + "=" + value
        index = self._keygrip.index(data, remote)
        if index < 0:
            # this.set(sigName, null, {path: "/", signed: false}): expired, httponly from
            # Cookie.prototype, secure as the request, none of the session's options
            clear = to_header(self.name + ".sig", "", path="/", http_only=True, https=https)
            return CookieRead("forged", set_cookie=(clear,), https=https)
        set_cookie: tuple[str, ...] = ()
        if index:
            # this.set(sigName, keys.sign(data), {signed: false}): path=/ and httponly from
            # Cookie.prototype; no expiry, domain or sameSite, whatever the session cookie has
            sig = self._keygrip.sign(data)
            set_cookie = (
                to_header(self.name + ".sig", sig, path="/", http_only=True, https=https),
            )
        return CookieRead(
            "rotated" if index else "verified",
            decode(value) if value else None,  # tryGetSession: `if (!str) return undefined`
            key_index=index,
            set_cookie=set_cookie,
            value=value,
            https=https,
        )

    def load(self, cookie_header: str | None) -> dict[str, Any] | None:
        """The session's data from a ``Cookie`` header, or ``None``: missing, unsigned, forged,
        oversized, or not base64 JSON (cookie-session then starts a new, empty session).

        Like cookie-session, a signed body that is JSON but not an object still makes a
        session: an array or a string gives its indexes (``{"0": ...}``), a number, ``true``
        or ``null`` an empty one.
        """
        return self.read(cookie_header).data

    # --- writing ------------------------------------------------------------------------------

    def _expires(self, now: int) -> str | None:
        if self.max_age:
            # new Date(Date.now() + maxAge): TimeClip truncates, and beyond +-8.64e15 it is an
            # Invalid Date, which toUTCString() spells out
            moment = now + self.max_age
            if not abs(moment) <= MAX_DATE_MS:
                return "Invalid Date"
            return date_to_utc_string(math.trunc(moment))
        if self.expires is not None:
            return date_to_utc_string(datetime_to_ms(self.expires))
        return None

    def _set(self, headers: list[str], value: str, *, https: bool, now: int | None) -> None:
        """cookies.set(name, value, sessionOptions), and its ``.sig`` when signed."""
        if self.secure and not https:
            raise ValueError(
                f"{INSECURE}: cookie-session writes no cookie when secure=True and the request "
                "is not HTTPS (pass https=True if Node sees it as HTTPS)"
            )
        # `if (!this.value) { this.expires = new Date(0); this.maxAge = null }` in the Cookie
        # constructor: the .sig, the same Cookie object renamed, keeps that expiry
        expires = self._expires(now_ms() if now is None else now) if value else EPOCH_UTC
        names = [(self.name, value)]
        if self.signed:
            assert self._keygrip is not None
            names.append((self.name + ".sig", self._keygrip.sign(self.name + "=" + value)))
        for name, text in names:
            header = to_header(
                name,
                text,
                path=self.path,
                http_only=self.http_only,
                https=https,
                expires=expires,
                domain=self.domain,
                priority=self.priority,
                same_site=self.same_site,
                secure=self.secure,
                partitioned=self.partitioned,
            )
            push_cookie(headers, name, header, self.overwrite)

    def commit(
        self, read: CookieRead, data: Mapping[Any, Any] | None, *, now: int | None = None
    ) -> list[str]:
        """The Set-Cookie values of a response whose handler read the session (``read``) and
        left it holding ``data``, changed in place; ``None``: it set ``req.session = null``.

        As cookie-session's ``onHeaders`` hook: ``read.set_cookie`` first, then the session
        cookie and its ``.sig`` only if they must change: a session from the cookie when its
        JSON is not the value read (a rewrite happens even for unchanged data, when the value
        was not the spelling Node writes), a new one only when it holds something; ``None``
        writes the expired pair. ``now`` is ``Date.now()`` in ms, for ``max_age``.

        Raises ``ValueError`` where Node writes nothing silently: ``secure=True`` on a request
        that is not HTTPS (the ``https`` given to :meth:`read`), and a cookie too long for a
        browser to keep. ``TypeError`` for data JSON cannot hold.
        """
        headers = list(read.set_cookie)
        if data is None:
            self._set(headers, "", https=read.https, now=now)
            return headers
        if not isinstance(data, Mapping):
            raise TypeError("data is a mapping (cookie-session keeps an object)")
        session = copy_data(data)
        value = encode(session)
        # isChanged (_val !== Session.serialize(this)) for a session from the cookie; a new
        # session is saved only if populated
        if value != read.value if read.data is not None else session:
            self._check_size(value)
            self._set(headers, value, https=read.https, now=now)
        return headers

    def _check_size(self, value: str) -> None:
        size = len(utf8(self.name)) + len(value)
        if size > MAX_COOKIE_VALUE:
            raise ValueError(
                f"the session is {size} bytes as a cookie: browsers keep at most "
                f"{MAX_COOKIE_VALUE} (name and value), and would drop it"
            )

    def dump(
        self, data: Mapping[Any, Any], *, https: bool = False, now: int | None = None
    ) -> list[str]:
        """The Set-Cookie values cookie-session writes for ``req.session = data``.

        The value cookie (base64 JSON) and, when signed, its ``.sig``, with this instance's
        cookie options. Keys cookie-session cannot hold (``isNew``, ``toString``, ``__proto__``
        ...) are dropped as it drops them, and an empty session writes nothing (``[]``): use
        :meth:`clear` to end a session.

        >>> sessions = CookieSession(keys=["k"], max_age=60_000, same_site="lax")
        >>> print(sessions.dump({"n": 1}, now=0)[0])
        session=eyJuIjoxfQ==; path=/; expires=Thu, 01 Jan 1970 00:01:00 GMT; samesite=lax; httponly
        """
        if not isinstance(data, Mapping):
            raise TypeError("data is a mapping (cookie-session keeps an object)")
        return self.commit(CookieRead("absent", https=https), data, now=now)

    def clear(self, *, https: bool = False) -> list[str]:
        """The Set-Cookie values cookie-session writes for ``req.session = null``: the cookie
        and its ``.sig`` emptied and expired at the epoch (with the cookie options).

        >>> CookieSession(keys=["k"]).clear()[0]
        'session=; path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly'
        """
        return self.commit(CookieRead("absent", https=https), None)
