"""What ``attach()`` was told, checked at once, and the plain decisions that follow from it.

::

    >>> from engineio_session import sign
    >>> options = AttachOptions(secret=["new", "old"])
    >>> options.session_id("connect.sid=s%3A" + sign("abc", "old"), None)
    'abc'
    >>> options.session_id("connect.sid=abc", None) is None     # unsigned: rejected
    True
    >>> AttachOptions(secret="s", watch=-1)
    Traceback (most recent call last):
    ...
    ValueError: watch is a number of seconds greater than 0, or None
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from typing import Any, Literal

from ._accel import speedups
from .cookies import cookie_finder, decode_uri_component, find_token_cookie, serialize_cookie
from .ids import verify_signed_value
from .session import Session
from .signature import Secrets, Signer, as_signer

__all__ = [
    "MAX_COOKIE_HEADER",
    "MAX_COOKIE_VALUE",
    "AttachOptions",
    "StoreErrorPolicy",
    "is_header_name",
    "session_id_from_value",
]

#: a browser keeps at most 4096 bytes a cookie; Node's default header limit is 16 KiB.
#: Longer values are refused before any HMAC is computed or the store is asked.
MAX_COOKIE_VALUE = 4096
MAX_COOKIE_HEADER = 16384

StoreErrorPolicy = Literal["admit", "reject"]

COOKIE_OPTIONS = frozenset(
    ("max_age", "path", "http_only", "domain", "secure", "same_site", "partitioned", "priority")
)

_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_header_name(name: str) -> bool:
    """An HTTP field name (RFC 9110 token).

    >>> is_header_name("X-Session"), is_header_name("X Session")
    (True, False)
    """
    return bool(_TOKEN.fullmatch(name))


def _verify(value: str | None, signer: Signer) -> str | None:
    """The id in a decoded signed value ``s:<id>.<mac>``, or None (too long, unsigned, forged)."""
    if value is None or len(value) > MAX_COOKIE_VALUE:
        return None
    return verify_signed_value(value, signer)


def session_id_from_value(value: str | None, signer: Signer) -> str | None:
    """The id in a signed value ``s:<id>.<mac>`` (URI-encoded or not) from a header or an
    ``auth`` payload, or None: verified exactly like the cookie's value.

    >>> from engineio_session import sign
    >>> signer = as_signer("kitty")
    >>> session_id_from_value("s%3A" + sign("abc", "kitty"), signer)
    'abc'
    >>> session_id_from_value("abc", signer) is None
    True
    """
    if not value or len(value) > MAX_COOKIE_VALUE:
        return None
    if "%" in value:
        try:
            value = decode_uri_component(value)
        except ValueError:
            return None
    return _verify(value, signer)


def _check_cookie_session(
    cookies: Any, header: Any, auth_key: Any, reload: Any, auto_save: Any, watch: Any
) -> None:
    """What ``cookie_session=`` cannot go with: no store to read, watch or save to, and no
    single signed value a header or an ``auth`` payload could carry (the session is a pair
    of cookies, its value and its signature)."""
    from .cookie_session import CookieSession

    if not isinstance(cookies, CookieSession):
        raise TypeError("cookie_session is a CookieSession(keys=[...])")
    for option, value in (("header", header), ("auth_key", auth_key)):
        if value is not None:
            raise TypeError(f"{option} cannot carry a cookie-session session (two cookies)")
    for option, value in (("reload", reload), ("auto_save", auto_save), ("watch", watch)):
        if value:
            raise TypeError(f"{option} needs a store: cookie-session keeps nothing on the server")


class AttachOptions:
    """``attach()``'s options (see :func:`engineio_session.attach` for each one), checked.

    Bad options raise ``TypeError`` / ``ValueError`` here, at ``attach()``, never in a
    handshake.
    """

    __slots__ = (
        "auth_key",
        "auto_save",
        "cookie",
        "cookie_id",
        "cookie_session",
        "create",
        "find_value",
        "header",
        "name",
        "on_store_error",
        "reload",
        "required",
        "session_rooms",
        "signer",
        "touch_interval",
        "watch",
    )

    def __init__(
        self,
        *,
        secret: Secrets | None = None,
        name: str = "connect.sid",
        create: bool = False,
        required: bool = False,
        cookie: Mapping[str, Any] | None = None,
        header: str | None = None,
        auth_key: str | None = None,
        reload: bool = False,
        auto_save: bool = False,
        watch: float | None = None,
        on_store_error: StoreErrorPolicy = "admit",
        cookie_session: Any = None,
        session_rooms: str | None = "session:",
        touch_interval: float | None = None,
    ) -> None:
        self.cookie_session = cookie_session
        if cookie_session is not None:
            _check_cookie_session(cookie_session, header, auth_key, reload, auto_save, watch)
            secret = secret if secret is not None else "unused: cookie-session has its keys"
        elif secret is None:
            raise TypeError("secret is required: express-session's secret (a str or a list)")
        self.signer = as_signer(secret)
        if not isinstance(name, str):
            raise TypeError("name is the cookie's name, a str")
        serialize_cookie(name, "")  # ValueError for a name no cookie can have
        self.name = name
        #: how the cookie's value is found in a Cookie header (a valid name is a token)
        self.find_value = cookie_finder(name)
        #: the verified id in a Cookie header's signed cookie (empty or None: none); in C
        #: where it is built and the name a token (_speedups.signed_id, which hands any
        #: spelling but the one browsers send to the Python one)
        self.cookie_id: Callable[[str], str | None] = self._cookie_id
        if speedups is not None and self.find_value is find_token_cookie:
            self.cookie_id = functools.partial(
                speedups.signed_id, name, self.signer.keyed, self._cookie_id
            )
        self.create = bool(create)
        self.required = bool(required)
        if cookie is not None and not isinstance(cookie, Mapping):
            raise TypeError("cookie is a mapping of express-session cookie options")
        self.cookie = dict(cookie or {})
        unknown = set(self.cookie) - COOKIE_OPTIONS
        if unknown:
            raise TypeError(
                f"unknown cookie options {sorted(unknown)}; use {sorted(COOKIE_OPTIONS)}"
            )
        self.set_cookie(self.new_session())  # bad cookie options fail here, not in a handshake
        for option, value in (("header", header), ("auth_key", auth_key)):
            if value is not None and (not isinstance(value, str) or not value):
                raise TypeError(f"{option} is a non-empty str")
        if header is not None and not is_header_name(header):
            raise ValueError(f"header {header!r} is not an HTTP header name")
        self.header = header
        self.auth_key = auth_key
        self.reload = bool(reload)
        self.auto_save = bool(auto_save)
        if watch is not None and (
            isinstance(watch, bool) or not isinstance(watch, (int, float)) or not watch > 0
        ):
            raise ValueError("watch is a number of seconds greater than 0, or None")
        self.watch = None if watch is None else float(watch)
        if on_store_error not in ("admit", "reject"):
            raise ValueError("on_store_error is 'admit' or 'reject'")
        self.on_store_error = on_store_error
        if session_rooms is not None and not isinstance(session_rooms, str):
            raise TypeError("session_rooms is the prefix of the rooms' names (a str), or None")
        self.session_rooms = session_rooms
        if touch_interval is not None and (
            isinstance(touch_interval, bool)
            or not isinstance(touch_interval, (int, float))
            or not touch_interval > 0
        ):
            raise ValueError("touch_interval is a number of seconds greater than 0, or None")
        if touch_interval is not None and cookie_session is not None:
            raise TypeError(
                "touch_interval needs a store: cookie-session keeps nothing on the server"
            )
        self.touch_interval = None if touch_interval is None else float(touch_interval)

    @property
    def required_at_handshake(self) -> bool:
        """With ``auth_key`` the session may still come in the CONNECT's ``auth``: the
        Socket.IO namespace connect enforces ``required`` then, not the handshake."""
        return self.required and self.auth_key is None

    def session_id(self, cookie_header: str | None, header_value: str | None) -> str | None:
        """The verified session id of a handshake: the cookie's, else the configured
        header's (``header_value``); None when neither verifies."""
        if cookie_header and len(cookie_header) <= MAX_COOKIE_HEADER:
            sid = self.cookie_id(cookie_header)
            if sid:  # an empty id is none
                return sid
        if self.header is not None:
            return session_id_from_value(header_value, self.signer)
        return None

    def _cookie_id(self, cookie_header: str) -> str | None:
        """The id in the cookie's signed value, or None (or empty): _verify and
        verify_signed_value in one (only an "s:" value is unsigned)."""
        value = self.find_value(cookie_header, self.name)
        if value is not None and len(value) <= MAX_COOKIE_VALUE and value[:2] == "s:":
            return self.signer.unsign(value[2:])
        return None

    def auth_session_id(self, auth: Any) -> str | None:
        """The verified session id in a Socket.IO CONNECT's ``auth`` payload, if any."""
        if self.auth_key is None or not isinstance(auth, dict):
            return None
        value = auth.get(self.auth_key)
        return session_id_from_value(value if isinstance(value, str) else None, self.signer)

    def reject_on_store_error(self) -> bool:
        return self.on_store_error == "reject" or self.required

    def new_session(self) -> Session:
        return Session.new(**self.cookie)

    def set_cookie(self, session: Session) -> str:
        """express-session's setcookie: ``s:`` + the id signed with the first secret."""
        return session.cookie.serialize(self.name, "s:" + self.signer.sign(session.id))
