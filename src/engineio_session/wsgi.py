"""express-session for WSGI apps: the Node user's session in every HTTP route.

::

    from engineio_session.wsgi import SessionMiddleware
    from engineio_session.stores import RedisStore

    app = SessionMiddleware(app, store=RedisStore(redis.Redis()), secret="keyboard cat")

    def profile(environ, start_response):
        session = environ["engineio_session.session"]    # a LiveSession, or None
        session["theme"] = "dark"                         # saved when the response starts

The same semantics as the ASGI middleware (:mod:`engineio_session.asgi`), with a sync store:
the store is read before the route runs and written when it calls ``start_response``.
Flask apps use :mod:`engineio_session.flask` instead (``flask.session``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from .core import ENVIRON_SESSION
from .drive import run
from .http_session import Middleware, Request, RequestCycle, raw_pathname

__all__ = ["SessionMiddleware", "request_of"]

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def request_of(environ: Mapping[str, Any]) -> Request:
    """What the request cycle reads of a WSGI environ (PEP 3333: latin-1 header values)."""
    path = (environ.get("SCRIPT_NAME") or "") + (environ.get("PATH_INFO") or "")
    # the target as sent: werkzeug's REQUEST_URI, gunicorn's RAW_URI (PEP 3333 has none)
    raw = environ.get("REQUEST_URI") or environ.get("RAW_URI")
    return Request(
        environ.get("HTTP_COOKIE"),
        raw_pathname(raw if isinstance(raw, str) else None, path, "latin-1"),
        encrypted=environ.get("wsgi.url_scheme") == "https",
        forwarded_proto=environ.get("HTTP_X_FORWARDED_PROTO"),
    )


def check_sync_store(store: Any) -> None:
    if inspect.iscoroutinefunction(getattr(store, "get", None)) or not callable(
        getattr(store, "get", None)
    ):
        raise TypeError(
            f"{type(store).__name__} is no sync store: WSGI takes RedisStore, FileStore, ..."
        )


class SessionMiddleware(Middleware):
    """WSGI middleware: express-session's semantics, the session in
    ``environ["engineio_session.session"]``."""

    app: WSGIApp
    check_store = staticmethod(check_sync_store)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if (environ.get("PATH_INFO") or "").startswith(self.realtime_paths):
            return self.app(environ, start_response)
        cycle = RequestCycle(self.options, self.store, request_of(environ))
        environ[ENVIRON_SESSION] = run(cycle.begin())

        finished: list[list[str]] = []

        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            # PEP 3333: an app may call start_response again (with exc_info) to replace the
            # headers of an error; the session is saved once, its cookie sent on either
            if not finished:
                finished.append(run(cycle.finish(environ.get(ENVIRON_SESSION))))
            headers = [*headers, *(("Set-Cookie", value) for value in finished[0])]
            return start_response(status, headers, *exc_info)

        return self.app(environ, start)
