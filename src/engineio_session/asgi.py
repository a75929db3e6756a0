"""express-session for ASGI apps (Starlette, FastAPI, any ASGI app): the Node user's session
in every HTTP route, as ``request.session``.

::

    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from engineio_session.asgi import SessionMiddleware
    from engineio_session.stores import AsyncRedisStore

    app = Starlette(routes=[...], middleware=[
        Middleware(SessionMiddleware, store=AsyncRedisStore(redis.asyncio.Redis()),
                   secret=["new secret", "old secret"]),
    ])

    async def profile(request):
        user = request.session.get("user")       # what the Express app stored
        request.session["theme"] = "dark"        # saved when the response starts

The session is ``scope["session"]`` (Starlette's convention, so ``request.session``
works): the stored session when the signed cookie verifies, else a new empty one that is
saved, and gets its ``Set-Cookie``, only if the route changed it (``save_uninitialized``
False, the default). When the response starts, the session is saved if it changed (this
side's changes, applied to what the store holds now: the Node app's changes stay), or
touched; ``rolling``, ``resave``, ``unset`` and the cookie options are express-session's
(:mod:`engineio_session.http_session`). ``await request.session.destroy()`` logs out.

A WebSocket route (Starlette's ``websocket.session``) gets the stored session too, but
the middleware saves nothing for it, as Starlette's own ``SessionMiddleware``: ``await
websocket.session.save()`` writes a change back.

Realtime paths (``/socket.io/`` and ``/engine.io/`` by default: ``realtime_paths``) go
through untouched, so the same middleware can wrap an app that mounts a
``socketio.ASGIApp``: ``attach()`` reads the handshake's session there.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from .drive import arun
from .http_session import Middleware, Request, RequestCycle, raw_pathname

__all__ = ["SessionMiddleware", "request_of"]

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def _header(headers: Sequence[tuple[bytes, bytes]], name: bytes, joiner: str) -> str | None:
    values = [value.decode("latin-1") for key, value in headers if key.lower() == name]
    return joiner.join(values) if values else None


def request_of(scope: Mapping[str, Any]) -> Request:
    """What the request cycle reads of an ASGI scope (header values as latin-1, as Node)."""
    headers = scope.get("headers") or ()
    raw = scope.get("raw_path")
    path = scope.get("path") or "/"
    return Request(
        _header(headers, b"cookie", "; "),
        raw_pathname(raw.decode("latin-1") if isinstance(raw, bytes) else None, path, "utf-8"),
        encrypted=scope.get("scheme") in ("https", "wss"),
        forwarded_proto=_header(headers, b"x-forwarded-proto", ","),
    )


class SessionMiddleware(Middleware):
    """ASGI middleware: express-session's semantics for the wrapped app's HTTP routes.

    ``store`` is an async store (``AsyncRedisStore``, ``AsyncFileStore``, the async SQL
    stores); the options are express-session's, in snake_case (see
    :class:`~engineio_session.http_session.HttpSessionOptions`).
    """

    app: ASGIApp

    @staticmethod
    def check_store(store: Any) -> None:
        if not inspect.iscoroutinefunction(getattr(store, "get", None)):
            raise TypeError(
                f"{type(store).__name__} is no async store: the ASGI middleware takes "
                "AsyncRedisStore, AsyncFileStore, ... (the WSGI one takes the sync stores)"
            )

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        kind = scope.get("type")
        if kind not in ("http", "websocket") or path.startswith(self.realtime_paths):
            await self.app(scope, receive, send)
            return
        request = request_of(scope)
        cycle = RequestCycle(self.options, self.store, request)
        scope["session"] = await arun(cycle.begin())
        if kind == "websocket":
            # as Starlette's own SessionMiddleware: the session is read, never saved by the
            # middleware (a WebSocket has no response to carry a cookie); a route that
            # changes it calls ``await websocket.session.save()``
            await self.app(scope, receive, send)
            return

        async def send_with_session(message: dict[str, Any]) -> None:
            if message.get("type") == "http.response.start":
                cookies = await arun(cycle.finish(scope.get("session")))
                if cookies:
                    added = [(b"set-cookie", value.encode("latin-1")) for value in cookies]
                    message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_session)
