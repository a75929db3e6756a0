"""express-session's data model: ``Session`` (the user's data) and its ``Cookie``.

A session is stored as express-session writes it: ``{"cookie": <Cookie.toJSON()>, ...data}``.
Loading and saving through this model changes nothing that was not changed: unknown keys,
``passport``, ``flash``, ``__lastAccess`` and the cookie's own fields keep their values::

    >>> session = Session.from_json("abc", {"cookie": {"originalMaxAge": None, "expires": None,
    ...     "httpOnly": True, "path": "/"}, "passport": {"user": 7}})
    >>> session["passport"]["user"]
    7
    >>> session["views"] = 1
    >>> from engineio_session import jsjson
    >>> jsjson.dumps(session)
    '{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"passport":{"user":7},"views":1}'

Times are JS times: whole milliseconds since the epoch (``now=`` arguments take them, so that
every rule is a plain function of its inputs). ``Cookie.expires`` is an aware UTC datetime.
"""

from __future__ import annotations

import functools
import hashlib
import math
import threading
from collections.abc import Callable, Iterator, Mapping, MutableMapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from . import jsjson
from ._accel import speedups
from ._js import MAX_DATE_MS, date_to_json, datetime_to_ms, ms_to_datetime, now_ms, parse_date
from .cookies import serialize_cookie
from .errors import CorruptSessionError
from .ids import generate_session_id

__all__ = ["Cookie", "Session"]

# the order of express-session's Cookie.prototype.data, which is what JSON.stringify writes
_COOKIE_ORDER = (
    "originalMaxAge",
    "partitioned",
    "priority",
    "expires",
    "secure",
    "httpOnly",
    "domain",
    "path",
    "sameSite",
)


def _kind(value: Any) -> str:
    """What kind of JSON value ``value`` is, for an error that a log may hold: never the
    value itself (a corrupt field can hold anything the user wrote).

    >>> _kind("card=4111-1111-1111-1111"), _kind(True), _kind([1, 2])
    ('a string of 24 characters', 'a boolean', 'an array')
    """
    if isinstance(value, str):
        return f"a string of {len(value)} characters"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, (list, tuple)):
        return "an array"
    return "null" if value is None else type(value).__name__


class Cookie:
    """express-session's ``Cookie`` (session/cookie.js), backed by its stored JSON fields.

    ``Cookie()`` is ``new Cookie()``: path ``/``, httpOnly, no maxAge (a browser-session
    cookie). ``max_age`` is in milliseconds, as in express-session.

    >>> cookie = Cookie(max_age=60_000, same_site="lax", now=0)
    >>> cookie.to_json()  # doctest: +NORMALIZE_WHITESPACE
    {'originalMaxAge': 60000, 'expires': '1970-01-01T00:01:00.000Z',
     'httpOnly': True, 'path': '/', 'sameSite': 'lax'}
    >>> cookie.expired(now=60_000), cookie.expired(now=59_999)
    (True, False)
    """

    # the last expires string parsed and its time value: two slots, not a tuple (a tuple is
    # one more object per connection for the cyclic collector to count)
    __slots__ = ("_expires_ms", "_expires_text", "_fields")

    def __init__(
        self,
        *,
        max_age: float | None = None,
        expires: datetime | None = None,
        path: str | None = "/",
        http_only: bool | None = True,
        domain: str | None = None,
        secure: bool | str | None = None,
        same_site: bool | str | None = None,
        partitioned: bool | None = None,
        priority: str | None = None,
        now: float | None = None,
    ) -> None:
        self._fields: dict[str, Any] = {"originalMaxAge": None, "expires": None}
        self._expires_text: str | None = None
        self._expires_ms = math.nan
        self.http_only = http_only
        self.path = path
        if max_age is not None:
            self.set_max_age(max_age, now=now)
        elif expires is not None:
            self.set_expires(expires, now=now)
        self.domain = domain
        self.secure = secure
        self.same_site = same_site
        self.partitioned = partitioned
        self.priority = priority

    # --- stored form ----------------------------------------------------------------------

    @classmethod
    def from_json(cls, data: Mapping[str, Any], *, owned: bool = False) -> Cookie:
        """The cookie as a store holds it; ``ValueError`` if it is not one.

        Fields are kept as they are (absent stays absent, unknown keys are kept and written
        back after the known ones), so a save changes only what was changed. ``owned``:
        ``data`` is a dict nobody else holds (just parsed): kept, not copied.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"the cookie is a {type(data).__name__}, not an object")
        fields = data if owned and type(data) is dict else dict(data)
        return cls._of(fields, cls.checked_expiry(fields))

    @staticmethod
    def checked_expiry(fields: Mapping[str, Any]) -> float | None:
        """The time value of stored cookie ``fields``' expiry (None: a browser-session
        cookie); ``ValueError`` if they are no cookie's (what :meth:`from_json` checks)."""
        expires = fields.get("expires")
        ms = None
        if expires is not None:
            if not isinstance(expires, str):
                raise ValueError(f"cookie.expires is {_kind(expires)}, not a date string")
            ms = parse_date(expires)
            if math.isnan(ms):
                raise ValueError(f"cookie.expires is {_kind(expires)} that is not a date")
        original = fields.get("originalMaxAge")
        if original is not None and (
            isinstance(original, bool) or not isinstance(original, (int, float))
        ):
            raise ValueError(f"cookie.originalMaxAge is {_kind(original)}, not a number")
        return ms

    @classmethod
    def _of(cls, fields: dict[str, Any], expires_ms: float | None) -> Cookie:
        """The cookie of checked ``fields`` (kept, not copied) whose expiry is ``expires_ms``."""
        cookie = cls.__new__(cls)
        cookie._fields = fields
        expires = fields.get("expires")
        cookie._expires_text = expires if isinstance(expires, str) else None
        cookie._expires_ms = math.nan if expires_ms is None else expires_ms
        return cookie

    def to_json(self) -> dict[str, Any]:
        """``Cookie.prototype.toJSON()``: the known fields in Node's order, absent ones left out."""
        fields = self._fields
        known = {key: fields[key] for key in _COOKIE_ORDER if key in fields}
        if len(known) != len(fields):
            known.update((key, value) for key, value in fields.items() if key not in known)
        return known

    def copy(self) -> Cookie:
        twin = Cookie.__new__(Cookie)
        twin._fields = dict(self._fields)
        twin._expires_text = self._expires_text
        twin._expires_ms = self._expires_ms
        return twin

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Cookie) and self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Cookie({self.to_json()!r})"

    # --- expiry ---------------------------------------------------------------------------

    @property
    def original_max_age(self) -> float | None:
        """``originalMaxAge``: the max age (ms) the cookie was given, or None (browser session)."""
        value = self._fields.get("originalMaxAge")
        return value if isinstance(value, (int, float)) else None

    @original_max_age.setter
    def original_max_age(self, value: float | None) -> None:
        self._fields["originalMaxAge"] = value

    @property
    def expires_ms(self) -> float | None:
        """The expiry as a JS time value (ms since the epoch), or None; NaN for an Invalid Date."""
        value = self._fields.get("expires")
        if isinstance(value, str):
            return self._parse_expires(value)
        return value if isinstance(value, float) else None

    def _parse_expires(self, text: str) -> float:
        if self._expires_text is text:
            return self._expires_ms
        ms = parse_date(text)
        self._expires_text = text
        self._expires_ms = ms
        return ms

    @property
    def expires(self) -> datetime | None:
        """The expiry as an aware UTC datetime, or None for a browser-session cookie."""
        ms = self.expires_ms
        return None if ms is None else ms_to_datetime(ms)

    @expires.setter
    def expires(self, moment: datetime | None) -> None:
        self.set_expires(moment)

    def set_expires(self, moment: datetime | float | None, *, now: float | None = None) -> None:
        """express-session's ``expires`` setter: it also sets ``originalMaxAge`` to the time left.

        ``moment`` is a datetime, a JS time value (ms) or None.
        """
        if moment is None:
            self._fields["expires"] = None
            self._fields["originalMaxAge"] = None
            return
        ms = datetime_to_ms(moment) if isinstance(moment, datetime) else moment
        self._store_expires(ms, now_ms() if now is None else now)

    def _store_expires(self, ms: float, now: float) -> None:
        # express-session's expires setter: originalMaxAge becomes the time left. A Date
        # truncates to whole ms; a non-finite value or one beyond ECMAScript's TimeClip is an
        # Invalid Date: toJSON() writes null and the time left is NaN (null too), as in Node.
        if math.isfinite(ms) and abs(ms) <= MAX_DATE_MS:
            whole = int(ms)
            self._fields["expires"] = date_to_json(whole)
            self._fields["originalMaxAge"] = whole - now
        else:
            self._fields["expires"] = math.nan
            self._fields["originalMaxAge"] = math.nan

    def max_age(self, *, now: float | None = None) -> float | None:
        """``cookie.maxAge``: milliseconds left until expiry (negative once past), or None."""
        expires = self.expires_ms
        return None if expires is None else expires - (now_ms() if now is None else now)

    def set_max_age(self, ms: float | None, *, now: float | None = None) -> None:
        """``cookie.maxAge = ms``: expire ``ms`` from now and remember ``ms`` as the original."""
        if ms is None:
            self.set_expires(None)
            return
        if isinstance(ms, bool) or not isinstance(ms, (int, float)):
            raise TypeError("maxAge must be a number or Date")
        current = now_ms() if now is None else now
        # new Date(Date.now() + ms), and originalMaxAge read back as expires - Date.now()
        self._store_expires(current + ms, current)

    def expired(self, *, now: float | None = None) -> bool:
        """True once ``expires`` is reached (MemoryStore's rule: ``expires <= Date.now()``)."""
        expires = self.expires_ms
        return expires is not None and expires <= (now_ms() if now is None else now)

    def touch(self, *, now: float | None = None) -> None:
        """``session.touch()`` / ``resetMaxAge()``: ``maxAge = originalMaxAge`` (rolling)."""
        self.set_max_age(self.original_max_age, now=now)

    # --- the other attributes, straight from the stored fields -----------------------------

    def _get(self, key: str) -> Any:
        return self._fields.get(key)

    def _set(self, key: str, value: Any) -> None:
        if value is None:
            self._fields.pop(key, None)
        else:
            self._fields[key] = value

    http_only = property(
        lambda self: self._get("httpOnly"), lambda self, v: self._set("httpOnly", v)
    )
    path = property(lambda self: self._get("path"), lambda self, v: self._set("path", v))
    domain = property(lambda self: self._get("domain"), lambda self, v: self._set("domain", v))
    secure = property(lambda self: self._get("secure"), lambda self, v: self._set("secure", v))
    same_site = property(
        lambda self: self._get("sameSite"), lambda self, v: self._set("sameSite", v)
    )
    partitioned = property(
        lambda self: self._get("partitioned"), lambda self, v: self._set("partitioned", v)
    )
    priority = property(
        lambda self: self._get("priority"), lambda self, v: self._set("priority", v)
    )

    def serialize(self, name: str, value: str) -> str:
        """``cookie.serialize(name, value)``: the Set-Cookie value express-session sends.

        Like express-session it sends ``Expires`` and no ``Max-Age``.
        """
        expires = self.expires_ms  # NaN (an Invalid Date) fails in serialize's own order
        return serialize_cookie(
            name,
            value,
            expires=expires,
            domain=self.domain,
            path=self.path,
            http_only=bool(self.http_only),
            secure=bool(self.secure),
            partitioned=bool(self.partitioned),
            priority=self.priority,
            same_site=self.same_site,
        )


#: held while a stored value is parsed on its first read (a sync server's threads may share
#: a session): one lock for all, as a parse is short and a lock per session would be one
#: more object per connection
_FIRST_READS = threading.Lock()

#: jsjson.first_member, in C where the accelerator is built (the same answers: it hands
#: any text but a one-byte one, and any error, to jsjson.first_member)
_first_member: Callable[[str, int, str], tuple[Any, int] | None] = (
    jsjson.first_member
    if speedups is None
    else functools.partial(speedups.first_member, jsjson.scan_once, jsjson.first_member)
)
#: how JSON.stringify starts every session express-session stores: its cookie's fields follow
STORED_COOKIE = '{"cookie":'


def _hash_of(data: Mapping[str, Any]) -> str:
    return hashlib.sha1(jsjson.dumps(data, name="session").encode("utf-8")).hexdigest()


class DataMapping(MutableMapping[str, Any]):
    """A mapping over ``self._data``, the user's data (a session here or in a cookie)."""

    __slots__ = ()

    if TYPE_CHECKING:  # a slot or a property of the subclass

        @property
        def _data(self) -> dict[str, Any]: ...

    def __getitem__(self, key: str) -> Any:
        return self._data[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self._data[key] = value

    def __delitem__(self, key: str) -> None:
        del self._data[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


class Session(DataMapping):
    """express-session's ``req.session``: the user's data, with ``.id`` and ``.cookie``.

    >>> session = Session.new(max_age=3_600_000)
    >>> session["user"] = "ada"
    >>> len(session.id), session.cookie.original_max_age, dict(session)
    (32, 3600000, {'user': 'ada'})
    """

    __slots__ = (
        "_baseline",
        "_cookie",
        "_cookie_expires",
        "_cookie_fields",
        "_first_key",
        "_first_value",
        "_items",
        "_loaded_hash",
        "_new",
        "_on_gone",
        "_origin",
        "_parse",
        "_raw",
        "_rest",
        "destroyed",
        "id",
        "saves",
        "store",
    )
    # _new, _on_gone, destroyed, saves, store: a live session's (engineio_session.live),
    # here so that a session a store decoded for one read becomes live in place
    # (``__class__`` assignment needs the same slots): no second object, no copy

    #: the Cookie once made; until then the stored fields and their expiry (see ``cookie``)
    _cookie: Cookie | None
    _cookie_fields: dict[str, Any] | None
    _cookie_expires: float | None

    def __init__(
        self, sid: str, cookie: Cookie | None = None, data: Mapping[str, Any] | None = None
    ) -> None:
        self.id = sid
        self.cookie = cookie if cookie is not None else Cookie()
        #: the user's data; None until first read when loaded lazily (see from_stored_text)
        self._items: dict[str, Any] | None = {}
        #: the values not read yet, as their stored JSON text (their place in ``_items``
        #: holds None); None when every value is parsed
        self._raw: dict[str, str] | None = None
        self._origin = ""
        #: where the data after the cookie starts in the stored text (0: parse it all)
        self._rest = 0
        #: the one value read before the data was scanned whole (see _read_first)
        self._first_key: str | None = None
        self._first_value: Any = None
        self._loaded_hash: str | None = ""
        #: the stored text (None: never stored) and how it parses; two slots, not a tuple
        #: (a tuple holding a function stays tracked by the collector for the session's life)
        self._baseline: str | None = None
        self._parse: Callable[[str], Any] = jsjson.loads
        if data:
            self.update(data)

    @property
    def cookie(self) -> Cookie:
        """The session's :class:`Cookie`. A loaded session keeps its stored fields (or reads
        them again from its stored text) and makes the Cookie when first asked for it: a
        connection whose cookie nobody touches holds one object fewer for the cyclic
        collector (the expiry check needs no Cookie)."""
        cookie = self._cookie
        if cookie is None:
            with _FIRST_READS:  # two threads asking first must get one and the same Cookie
                cookie = self._cookie
                if cookie is None:
                    fields = self._cookie_fields
                    if fields is None:  # read again where it is stored (see from_stored_text)
                        assert self._baseline is not None
                        fields = jsjson.raw_decode(self._baseline, len(STORED_COOKIE))[0]
                    cookie = self._cookie = Cookie._of(fields, self._cookie_expires)
                    self._cookie_fields = None
        return cookie

    @cookie.setter
    def cookie(self, cookie: Cookie) -> None:
        self._cookie = cookie
        self._cookie_fields = None
        self._cookie_expires = None

    @property
    def _data(self) -> dict[str, Any]:
        """The data with every value parsed."""
        items = self._keyed()
        if self._raw is not None:
            with _FIRST_READS:
                raw, self._raw = self._raw, None
                if raw is not None:
                    parse = self._parse
                    for key, text in raw.items():
                        items[key] = parse(text)
        return items

    def _keyed(self) -> dict[str, Any]:
        """The data by key, in order; a value not read yet is None here (see ``_raw``)."""
        items = self._items
        if items is None:
            with _FIRST_READS:
                items = self._items
                if items is None:
                    items = self._scan_data()
        return items

    def _scan_data(self) -> dict[str, Any]:
        """The keys of a session loaded lazily, each value kept as its JSON text until it is
        read: a handshake that reads the passport user parses that, not the profile or the
        cart, and a connection holds strings where it would hold containers, which every
        full collection walks (issue 10). A value read alone before (``_first_key``) stays
        the object handed out. Called under ``_FIRST_READS``; sets ``_items`` and ``_raw``."""
        items, raw, _ = self._scan()
        first = self._first_key
        if first is not None:
            items[first] = self._first_value  # the same member, read before: the same object
            if raw is not None:
                raw.pop(first, None)
                raw = raw or None
        self._raw = raw
        self._items = items
        return items

    def _scan(self, until: str | None = None) -> tuple[dict[str, Any], dict[str, str] | None, int]:
        """(the keys, the texts of the values not parsed, where the scan stopped): with
        ``until``, the scan may stop just after that key's member (see
        :func:`jsjson.scan_members_into`; 0: it went to the end)."""
        rest = self._rest
        if rest and self._parse is jsjson.loads:
            text = self._baseline
            assert text is not None
            keys: dict[str, Any] = {}
            raw: dict[str, str] = {}
            try:
                stopped = jsjson.scan_members_into(text, rest + 1, keys, raw, until)
            except ValueError:
                stopped = None  # not JSON: _parse_data says so, as it always did
            if stopped is not None:
                return keys, raw or None, stopped
        return self._parse_data(), None, 0

    def _parse_data(self) -> dict[str, Any]:
        """The data of a session loaded lazily: its stored text parsed on first use."""
        assert self._baseline is not None
        text, parse = self._baseline, self._parse
        rest = self._rest
        try:
            if rest:  # the text after the cookie (",..."): the cookie is not parsed twice
                loaded = parse("{" + text[rest + 1 :]) if rest < len(text) - 1 else {}
            else:
                loaded = parse(text)
        except (ValueError, TypeError) as error:
            reason = f"not JSON beyond its cookie ({type(error).__name__})"
            raise CorruptSessionError(self._origin or "a store", self.id, reason) from None
        if not isinstance(loaded, dict):
            raise CorruptSessionError(self._origin or "a store", self.id, "not an object")
        loaded.pop("cookie", None)
        return loaded

    @classmethod
    def new(
        cls,
        sid: str | None = None,
        *,
        max_age: float | None = None,
        path: str | None = "/",
        http_only: bool | None = True,
        domain: str | None = None,
        secure: bool | None = None,
        same_site: bool | str | None = None,
        partitioned: bool | None = None,
        priority: str | None = None,
        now: float | None = None,
    ) -> Session:
        """A fresh session as express-session's ``generate`` makes it (id from uid-safe)."""
        cookie = Cookie(
            max_age=max_age,
            path=path,
            http_only=http_only,
            domain=domain,
            secure=secure,
            same_site=same_site,
            partitioned=partitioned,
            priority=priority,
            now=now,
        )
        return cls(sid if sid is not None else generate_session_id(), cookie)

    @classmethod
    def from_json(
        cls,
        sid: str,
        data: Any,
        *,
        text: str | None = None,
        parse: Callable[[str], Any] = jsjson.loads,
    ) -> Session:
        """The session a store holds under ``sid``; ``ValueError`` if ``data`` is not one.

        ``text`` is what ``data`` was parsed from (with ``parse``): it is kept as the
        :meth:`baseline` (what was loaded), parsed again only when asked for, which keeps a
        store read cheap; without it the baseline is written from ``data`` now.
        """
        if not isinstance(data, Mapping):
            raise ValueError(f"the stored session is a {type(data).__name__}, not an object")
        if "cookie" not in data:
            raise ValueError("the stored session has no cookie")
        session = cls(sid, Cookie.from_json(data["cookie"]))
        session._items = {key: value for key, value in data.items() if key != "cookie"}
        if text is None:
            session.mark_saved()
        else:
            session._loaded_hash = None
            session._baseline = text
            session._parse = parse
        return session

    @classmethod
    def from_stored_text(
        cls,
        sid: str,
        cookie: Any,
        text: str,
        parse: Callable[[str], Any] = jsjson.loads,
        *,
        origin: str = "",
        rest: int = 0,
        reread: bool = False,
    ) -> Session:
        """A session whose ``cookie`` (already parsed) is all that was read of its stored
        ``text``: the rest is parsed when the data is first used (the watcher and a
        handshake with no handler reading it never pay for it). ``origin`` names the store
        in the :class:`~engineio_session.errors.CorruptSessionError` of a rest that is not
        JSON. ``reread``: ``cookie`` was parsed from the text, just after its
        ``{"cookie":``, and is parsed from there again when the Cookie is made rather than
        kept (a dict kept per connection, even one the collector does not track, counts
        towards every young collection). ``ValueError`` if ``cookie`` is no cookie."""
        if type(cookie) is dict:  # as JSON parses it: no ABC check on the hot path
            fields = cookie
        elif isinstance(cookie, Mapping):
            fields = dict(cookie)
        else:
            raise ValueError(f"the cookie is a {type(cookie).__name__}, not an object")
        reread = reread and text.startswith(STORED_COOKIE)
        expires = Cookie.checked_expiry(fields)
        fields_kept = None if reread else fields
        return cls.from_stored_cookie(sid, text, origin, rest, expires, parse, fields_kept)

    @classmethod
    def from_stored_cookie(
        cls,
        sid: str,
        text: str,
        origin: str,
        rest: int,
        expires: float | None,
        parse: Callable[[str], Any] = jsjson.loads,
        fields: dict[str, Any] | None = None,
    ) -> Session:
        """:meth:`from_stored_text` of a cookie already checked: it ends at ``rest`` in
        ``text`` and expires at ``expires`` (a time value; None: a browser-session cookie).
        With no ``fields``, ``text`` begins with ``{"cookie":`` and the cookie is read
        from there again when the Cookie is first made. What ``decode_session`` calls with
        the C accelerator's reading of express-session's own form."""
        session = cls.__new__(cls)
        session.id = sid
        session._cookie = None  # made when first asked for (see cookie)
        session._cookie_expires = expires
        session._cookie_fields = fields
        session._raw = None
        session._items = None
        session._origin = origin
        session._rest = rest
        session._first_key = None
        session._first_value = None
        session._loaded_hash = None
        session._baseline = text
        session._parse = parse
        return session

    def to_json(self) -> dict[str, Any]:
        """What express-session stores: ``{"cookie": ..., ...data}``."""
        return {"cookie": self.cookie.to_json(), **self._data}

    def hash(self) -> str:
        """express-session's ``hash(sess)``: SHA-1 of the JSON of everything but the cookie.

        express-session saves a session at the end of a request only when this changed
        (unless ``resave``); the same test tells whether data changed here.
        """
        return _hash_of(self._data)

    @property
    def loaded_hash(self) -> str:
        """``hash()`` when loaded or last saved: the baseline of :attr:`modified`."""
        if self._loaded_hash is None:
            base = self.baseline()
            assert base is not None
            data = {key: value for key, value in base.items() if key != "cookie"}
            self._loaded_hash = _hash_of(data)
        return self._loaded_hash

    @loaded_hash.setter
    def loaded_hash(self, value: str) -> None:
        self._loaded_hash = value

    def baseline(self) -> dict[str, Any] | None:
        """What the store held when this session was loaded or last saved (``{"cookie":
        ..., ...data}``, a fresh copy), or None for a session the store has never held.

        It is kept as the stored text and parsed only when asked for (by :attr:`modified`
        or :meth:`Changes.of <engineio_session.changes.Changes.of>`), so a read stays cheap.
        """
        if self._baseline is None:
            return None
        loaded = self._parse(self._baseline)
        return loaded if isinstance(loaded, dict) else dict(loaded)

    def baseline_json(self) -> str | None:
        """The baseline as the JSON text the store held (what it was loaded from, or what
        its last save wrote), or None: never stored, or held in another serializer's form."""
        return self._baseline if self._parse is jsjson.loads else None

    def mark_saved(self) -> None:
        """The session as it is now is what the store holds: the new baseline."""
        self._baseline = jsjson.dumps(self.to_json(), name="session")
        self._parse = jsjson.loads
        self._loaded_hash = None

    def copy_from(self, other: Session) -> None:
        """Hold what ``other`` holds: its cookie, its data (a shallow copy) and the baseline
        of :attr:`modified` (still lazy if it was). The id stays."""
        self._cookie = other._cookie  # the same Cookie, or the fields it will be made of
        self._cookie_fields = other._cookie_fields
        self._cookie_expires = other._cookie_expires
        self._items = None if other._items is None else dict(other._items)
        self._raw = None if other._raw is None else dict(other._raw)
        self._origin = other._origin
        self._rest = other._rest
        self._first_value = other._first_value  # the same object, as a shallow copy shares
        self._first_key = other._first_key
        self._loaded_hash = other._loaded_hash
        self._baseline = other._baseline
        self._parse = other._parse

    @property
    def modified(self) -> bool:
        """True when the data (not the cookie) differs from what was loaded or last saved."""
        return self.hash() != self.loaded_hash

    def reset_max_age(self, *, now: float | None = None) -> None:
        """``req.session.resetMaxAge()`` (its ``touch()``): reset the expiry from the original
        max age; no I/O. A live session's ``touch()`` also tells the store."""
        self.cookie.touch(now=now)

    def expired(self, *, now: float | None = None) -> bool:
        cookie = self._cookie
        if cookie is not None:
            return cookie.expired(now=now)
        expires = self._cookie_expires  # Cookie.expired's rule, on what was loaded
        return expires is not None and expires <= (now_ms() if now is None else now)

    def read_items(self) -> Iterator[tuple[str, Any]]:
        """The (key, value) pairs whose value was read or set since the session was loaded
        (a value never read is still what the store held): what a save compares."""
        items = self._keyed()  # first: the scan is what makes _raw
        raw = self._raw
        for key, value in items.items():
            if raw is None or key not in raw:
                yield key, value

    # --- the mapping over the user's data (DataMapping); a value is parsed when first read -

    def __getitem__(self, key: str) -> Any:
        items = self._items
        if items is None:
            if key == self._first_key:
                return self._first_value
            with _FIRST_READS:
                items = self._items
                if items is None:
                    if key == self._first_key:
                        return self._first_value
                    if self._first_key is not None:  # a second key: the whole scan
                        items = self._scan_data()
                    else:
                        items = self._read_first(key)
                        if items is None:
                            return self._first_value
        raw = self._raw
        if raw is not None and key in raw:
            with _FIRST_READS:  # two threads reading it first must get one and the same value
                raw = self._raw
                text = None if raw is None else raw.pop(key, None)
                if text is not None:
                    items[key] = self._parse(text)
        return items[key]

    def _read_first(self, key: str) -> dict[str, Any] | None:
        """The first value read of a session loaded lazily: the scan goes only as far as
        its member where no later member can repeat the key (the passport user, read at
        every handshake, comes first after the cookie). Then only that value is kept, in
        two slots (None returned; the next other key scans the whole): no dict of the
        data, one object fewer per connection for every full collection to walk (issue
        10). Else the data (``_items`` set, as by a whole scan)."""
        rest = self._rest
        if rest and self._parse is jsjson.loads:
            assert self._baseline is not None
            try:  # the member just after the cookie: one C call (else the scan decides)
                found = _first_member(self._baseline, rest + 1, key)
            except ValueError:
                found = None  # not JSON: the scan says so, as it always did
            if found is not None:
                self._first_value = found[0]
                self._first_key = key  # last: a reader outside the lock checks the key first
                return None
        keys, raw, stopped = self._scan(key)
        if stopped:
            self._first_value = keys[key]
            self._first_key = key  # last: a reader outside the lock checks the key first
            return None
        self._raw = raw
        self._items = keys
        return keys

    def __contains__(self, key: object) -> bool:
        return key in self._keyed()

    def __iter__(self) -> Iterator[str]:
        return iter(self._keyed())

    def __len__(self) -> int:
        return len(self._keyed())

    def __setitem__(self, key: str, value: Any) -> None:
        if key == "cookie":
            raise KeyError("'cookie' is the session's Cookie: use session.cookie")
        self._keyed()[key] = value
        raw = self._raw
        if raw is not None:
            raw.pop(key, None)

    def __delitem__(self, key: str) -> None:
        del self._keyed()[key]
        raw = self._raw
        if raw is not None:
            raw.pop(key, None)

    def __repr__(self) -> str:
        return f"Session({self.id!r}, {self._data!r}, cookie={self.cookie.to_json()!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Session):
            return self.id == other.id and self.to_json() == other.to_json()
        return super().__eq__(other)

    __hash__ = None  # type: ignore[assignment]
