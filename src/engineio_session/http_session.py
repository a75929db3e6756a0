"""express-session's request cycle for Python HTTP routes, written once, with no I/O.

What the Node middleware does around each request (index.js of express-session 1.19), as
two plans (:mod:`engineio_session.drive`) that the ASGI, WSGI and Flask shells drive:

- :meth:`RequestCycle.begin`: the session id from the signed cookie (``getcookie``); the
  stored session (``store.get``), or a new one (``generate``) when there is none; nothing
  at all when the request's path is outside the cookie's ``path``.
- :meth:`RequestCycle.finish`, when the response starts: ``touch`` (the cookie's expiry
  starts again from its ``maxAge``), then ``shouldSetCookie``, ``shouldDestroy``
  (``unset="destroy"`` and a route that dropped the session), ``shouldSave`` and
  ``shouldTouch``, exactly as express-session decides them; the Set-Cookie values to send.

::

    >>> from engineio_session.drive import run
    >>> options = HttpSessionOptions(secret="s3cret")
    >>> cycle = RequestCycle(options, store=None, request=Request(None, "/"))
    >>> session = run(cycle.begin())      # no cookie: a new, empty session; no store call
    >>> session.is_new, len(session)
    (True, 0)
    >>> run(cycle.finish(session))        # unchanged: not saved, no cookie (saveUninitialized)
    []

A save writes back this side's changes to the session as the store holds it now (the write
contract of :mod:`engineio_session.live`), where express-session writes the whole object:
so a logout in the Node app during the request stays a logout. A new session is written
whole by its first save.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping, Sequence
from typing import Any, Literal, NotRequired, Required, TypedDict, Unpack
from urllib.parse import quote

from .cookies import find_cookie
from .drive import Call, Plan
from .errors import SessionGoneError
from .ids import verify_signed_value
from .live import AsyncLiveSession, LiveSession
from .options import COOKIE_OPTIONS, MAX_COOKIE_HEADER, MAX_COOKIE_VALUE
from .session import Session
from .signature import Secrets, as_signer

__all__ = [
    "REALTIME_PATHS",
    "HttpSessionKeywords",
    "HttpSessionOptions",
    "Middleware",
    "Request",
    "RequestCycle",
]

Unset = Literal["keep", "destroy"]


class HttpSessionKeywords(TypedDict, total=False):
    """The options every web shell (ASGI, WSGI, Flask) passes on to
    :class:`HttpSessionOptions`, with their types, so each shell names them once."""

    secret: Required[Secrets]
    name: NotRequired[str]
    cookie: NotRequired[Mapping[str, Any] | None]
    rolling: NotRequired[bool]
    resave: NotRequired[bool]
    save_uninitialized: NotRequired[bool]
    unset: NotRequired[Unset]
    proxy: NotRequired[bool | None]


class HttpSessionOptions:
    """express-session's options, in snake_case, with its defaults where it has them.

    ``resave`` and ``save_uninitialized`` default to False (express-session deprecates
    leaving them out; False is what its documentation recommends). ``cookie`` takes
    ``max_age`` (ms), ``path``, ``http_only``, ``domain``, ``secure`` (True, False or
    ``"auto"``), ``same_site`` (``"auto"`` too), ``partitioned``, ``priority``. ``proxy``
    is express-session's ``proxy``: True trusts ``X-Forwarded-Proto``, False never, None
    (the default) only a request that is itself https.
    """

    __slots__ = (
        "cookie",
        "name",
        "proxy",
        "resave",
        "rolling",
        "save_uninitialized",
        "signer",
        "unset",
    )

    def __init__(
        self,
        *,
        secret: Secrets,
        name: str = "connect.sid",
        cookie: Mapping[str, Any] | None = None,
        rolling: bool = False,
        resave: bool = False,
        save_uninitialized: bool = False,
        unset: Unset = "keep",
        proxy: bool | None = None,
    ) -> None:
        self.signer = as_signer(secret)
        if not isinstance(name, str) or not name:
            raise TypeError("name is the cookie's name, a non-empty str")
        self.name = name
        self.cookie = dict(cookie or {})
        unknown = set(self.cookie) - COOKIE_OPTIONS
        if unknown:
            raise TypeError(
                f"unknown cookie options {sorted(unknown)}; use {sorted(COOKIE_OPTIONS)}"
            )
        if unset not in ("keep", "destroy"):
            raise TypeError('unset option must be "destroy" or "keep"')  # express-session's
        self.rolling = bool(rolling)
        self.resave = bool(resave)
        self.save_uninitialized = bool(save_uninitialized)
        self.unset = unset
        self.proxy = proxy
        Session.new(**self._cookie_options(False))  # bad cookie options fail here

    def _cookie_options(self, is_secure: bool) -> dict[str, Any]:
        options = dict(self.cookie)
        if options.get("secure") == "auto":
            options["secure"] = is_secure
        if options.get("same_site") == "auto":
            options["same_site"] = "none" if is_secure else "lax"
        return options

    def session_id(self, cookie_header: str | None) -> str | None:
        """express-session's ``getcookie``: only a verified ``s:`` value gives an id."""
        if not cookie_header or len(cookie_header) > MAX_COOKIE_HEADER:
            return None
        value = find_cookie(cookie_header, self.name)
        if value is None or len(value) > MAX_COOKIE_VALUE:
            return None
        return verify_signed_value(value, self.signer)


#: where python-socketio and python-engineio serve by default: their handshakes are
#: attach()'s, which the middlewares leave alone
REALTIME_PATHS = ("/socket.io/", "/engine.io/")


class Middleware:
    """What the WSGI and the ASGI middleware hold: the app they wrap, the store (of the
    kind :meth:`check_store` accepts), express-session's options and the realtime paths
    they pass through untouched."""

    def __init__(
        self,
        app: Any,
        *,
        store: Any,
        realtime_paths: Sequence[str] = REALTIME_PATHS,
        **options: Unpack[HttpSessionKeywords],
    ) -> None:
        self.check_store(store)
        self.app = app
        self.store = store
        self.options = HttpSessionOptions(**options)
        self.realtime_paths = tuple(realtime_paths)

    @staticmethod
    def check_store(store: Any) -> None:
        """TypeError where ``store`` is not of the kind this middleware drives."""
        raise NotImplementedError


#: what urllib.parse.quote leaves alone when a raw path has to be spelled again from a
#: decoded one: RFC 3986's pchar and "/" (what a client sends unencoded in a path)
_PATH_SAFE = "/!$&'()*+,;=:@-._~"


def raw_pathname(raw_target: str | None, decoded_path: str, encoding: str) -> str:
    """The request's path as express-session compares it with the cookie's ``path``:
    ``parseurl.original(req).pathname``, the request target as the client sent it (Node
    reads the request line as latin-1), percent-escapes and all, up to its ``?``.

    ``raw_target`` is that target where the server kept it (ASGI ``raw_path``, WSGI
    ``REQUEST_URI`` / ``RAW_URI``, as latin-1 text); without it the decoded path, turned
    back into its bytes with ``encoding`` (ASGI: UTF-8, WSGI: latin-1), is escaped again,
    which is what a client sends for any path but one it escaped oddly.

    >>> raw_pathname("/a/%69nner?x=1", "/a/inner", "utf-8")
    '/a/%69nner'
    >>> raw_pathname(None, "/caf\u00e9/", "utf-8")
    '/caf%C3%A9/'
    """
    if raw_target and raw_target.startswith("/"):  # not an absolute-form target
        return raw_target.split("?", 1)[0]
    return quote(decoded_path.encode(encoding, "replace"), safe=_PATH_SAFE) or "/"


class Request:
    """What the cycle reads of a request: its Cookie header (as Node's
    ``req.headers.cookie``), its path (:func:`raw_pathname`), whether it came over https
    itself, and its ``X-Forwarded-Proto``."""

    __slots__ = ("cookie_header", "encrypted", "forwarded_proto", "path")

    def __init__(
        self,
        cookie_header: str | None,
        path: str,
        *,
        encrypted: bool = False,
        forwarded_proto: str | None = None,
    ) -> None:
        self.cookie_header = cookie_header
        self.path = path or "/"
        self.encrypted = encrypted
        self.forwarded_proto = forwarded_proto

    def is_secure(self, proxy: bool | None) -> bool:
        """express-session's ``issecure(req, trustProxy)``."""
        if self.encrypted:
            return True
        if proxy is not True:
            return False
        header = (self.forwarded_proto or "").split(",", 1)[0]
        return header.strip().lower() == "https"


class RequestCycle:
    """One request's session, from :meth:`begin` to :meth:`finish` (see the module)."""

    def __init__(self, options: HttpSessionOptions, store: Any, request: Request) -> None:
        self.options = options
        self.store = store
        self.request = request
        self.cookie_id: str | None = None
        self.original_id: str | None = None
        self.original_hash: str | None = None
        self.saved_hash: str | None = None
        self.session: Any = None
        #: the class of the sessions handed out (None: LiveSession or AsyncLiveSession, by
        #: the store; the Flask interface hands out its own)
        self.live_class: type[Any] | None = None

    def _live_class(self) -> type[Any]:
        if self.live_class is not None:
            return self.live_class
        is_async = self.store is not None and inspect.iscoroutinefunction(self.store.get)
        return AsyncLiveSession if is_async else LiveSession

    def begin(self) -> Plan[Any]:
        """The request's session (a live session bound to the store), or None when the
        request is outside the cookie's ``path``."""
        options = self.options
        path = options.cookie.get("path", "/") or "/"
        if not self.request.path.startswith(path):
            return None  # express-session: pathname mismatch, no session at all
        self.cookie_id = options.session_id(self.request.cookie_header)
        stored = None
        if self.cookie_id is not None:
            stored = yield Call(self.store.get, self.cookie_id)
        if stored is None:
            return self._generate()
        self.session = self._live_class()(stored, self.store)
        self.original_id = stored.id
        self.original_hash = stored.hash()
        if not options.resave:
            self.saved_hash = self.original_hash
        return self.session

    def _generate(self) -> Any:
        is_secure = self.request.is_secure(self.options.proxy)
        fresh = Session.new(**self.options._cookie_options(is_secure))
        self.session = self._live_class()(fresh, self.store, new=True)
        self.original_id = fresh.id
        self.original_hash = fresh.hash()
        return self.session

    def _modified(self, session: Any) -> bool:
        if getattr(session, "forced", False):  # Flask's session.modified = True
            return True
        return bool(self.original_id != session.id or self.original_hash != session.hash())

    def _saved(self, session: Any) -> bool:
        saved = self.saved_hash
        if session.saves:  # the route saved it itself: express-session's wrapped save
            saved = session.loaded_hash
        return bool(self.original_id == session.id and saved == session.hash())

    def _should_save(self, session: Any) -> bool:
        if getattr(session, "forced", False):  # Flask's session.modified = True: saved
            return True
        if (
            not self.options.save_uninitialized
            and self.saved_hash is None
            and not session.saves
            and self.cookie_id != session.id
        ):
            return self._modified(session)
        return not self._saved(session)

    def _should_set_cookie(self, session: Any) -> bool:
        if self.cookie_id != session.id:
            return self.options.save_uninitialized or self._modified(session)
        expires = session.cookie.expires_ms is not None
        return self.options.rolling or (expires and self._modified(session))

    def finish(self, session: Any) -> Plan[list[str]]:
        """At the response's start: the store calls express-session makes at ``res.end``,
        and the Set-Cookie values (at most one) its ``onHeaders`` would send.

        ``session`` is what the route left (None: it dropped the session; then, with
        ``unset="destroy"``, the stored one is destroyed).
        """
        options = self.options
        if session is None:
            if (
                options.unset == "destroy"
                and self.cookie_id is not None
                and self.session is not None
            ):
                yield Call(self.store.destroy, self.session.id)
            return []
        if getattr(session, "destroyed", False):
            return []  # req.session.destroy(): no session to save, no cookie
        session.reset_max_age()  # express-session touches the session on every response
        headers = []
        if self._should_set_cookie(session):
            secure = session.cookie.secure
            if not (secure and not self.request.is_secure(options.proxy)):
                value = "s:" + options.signer.sign(session.id)
                headers.append(session.cookie.serialize(options.name, value))
        try:
            if self._should_save(session):
                yield from session._save(False)
            elif self.cookie_id == session.id:
                yield from session._touch()  # store.touch, as express-session's shouldTouch
        except SessionGoneError:
            return []  # logged out meanwhile (the Node app): not brought back, no cookie
        return headers
