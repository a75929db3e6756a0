"""The python-engineio / python-socketio internals ``attach`` relies on, all in one place.

There is no public hook around a server's ``connect`` handler or its handshake response, so
these are the few undocumented but long-stable points used (checked against
python-engineio 4.9 .. 4.15 and python-socketio 5.11 .. 5.18; tests/test_compat.py pins them):

- ``server.handlers``: a dict that ``on()`` writes and ``_trigger_event`` reads on every
  dispatch. We replace it with :class:`HandlerSlots`, which keeps our wrappers in the
  ``connect``, ``message`` and ``disconnect`` slots and the application's handlers aside, so
  an application handler registered before or after ``attach`` still runs.
- ``server.event_names``: the names ``on()`` accepts; ``session`` is added on the instance.
- The connect rule: a ``connect`` handler returning anything but None/True rejects (401).
- The handshake response, to add ``Set-Cookie``: under WSGI ``handle_request``'s
  ``start_response``; under ASGI ``environ["asgi.send"]``; under aiohttp the request's
  ``_prepare_hook`` (feature-detected).
- python-socketio: ``sio.eio``, ``sio.manager.sid_from_eio_sid`` / ``eio_sid_from_sid`` and
  ``sio._trigger_event(event, namespace, *args)`` to fire ``session`` server-side.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "ENVIRON_REJECTED",
    "ENVIRON_SET_COOKIE",
    "HandlerSlots",
    "add_response_header",
    "can_send_cookie",
    "cookie_header",
    "install_wsgi_response_hook",
    "is_websocket_handshake",
]

logger = logging.getLogger("engineio_session")

#: the Set-Cookie value the handshake response must carry (set by the connect wrapper)
ENVIRON_SET_COOKIE = "engineio_session.set_cookie"
#: marks a handshake that attach rejected, so a websocket close becomes an HTTP 401 (ASGI)
ENVIRON_REJECTED = "engineio_session.rejected"

Handler = Callable[..., Any]


class HandlerSlots(dict[str, Handler]):
    """A server's ``handlers`` dict whose ``pinned`` slots always hold our wrappers.

    What the application registers for a pinned event (before or after ``attach``, through
    ``on()`` or by writing the dict) lands in ``app`` and the wrapper calls it from there.

    >>> slots = HandlerSlots({"connect": print}, {"connect": repr})
    >>> slots["connect"] is repr, slots.app["connect"] is print
    (True, True)
    >>> slots["connect"] = len
    >>> slots["connect"] is repr, slots.app["connect"] is len
    (True, True)
    """

    def __init__(self, original: dict[str, Handler], pinned: dict[str, Handler]) -> None:
        super().__init__(original)
        self.app: dict[str, Handler] = {}
        self.pinned = dict(pinned)
        for event, wrapper in pinned.items():
            if event in original:
                self.app[event] = original[event]
            super().__setitem__(event, wrapper)

    def __setitem__(self, event: str, handler: Handler) -> None:
        if event in self.pinned:
            self.app[event] = handler
        else:
            super().__setitem__(event, handler)

    def __delitem__(self, event: str) -> None:
        if event in self.pinned:
            del self.app[event]
        else:
            super().__delitem__(event)


def pin_handlers(
    eio: Any, wrappers: dict[str, Handler], extra_events: Iterable[str] = ()
) -> HandlerSlots:
    """Install :class:`HandlerSlots` on an engineio server; allow ``extra_events`` in ``on()``."""
    if isinstance(eio.handlers, HandlerSlots):
        raise RuntimeError("engineio_session.attach() was already called on this server")
    slots = HandlerSlots(eio.handlers, wrappers)
    eio.handlers = slots
    names = list(eio.event_names)
    for event in extra_events:
        if event not in names:
            names.append(event)
    eio.event_names = names
    return slots


# --- the request ---------------------------------------------------------------------------


def cookie_header(environ: dict[str, Any]) -> str | None:
    """The Cookie header as Node's ``req.headers.cookie`` has it.

    Node decodes header bytes as latin-1 and joins repeated Cookie headers with ``"; "``.
    The ASGI and aiohttp drivers of python-engineio join them with ``","`` (which hides every
    cookie after the first header from ``cookie.parse``) and the ASGI one drops a header that
    is not UTF-8, so the raw headers are read where the server keeps them. Under WSGI the
    server already joined them into ``HTTP_COOKIE`` (latin-1 per PEP 3333).
    """
    scope = environ.get("asgi.scope")
    if isinstance(scope, dict) and "headers" in scope:
        values = [
            value.decode("latin-1") for key, value in scope["headers"] if key.lower() == b"cookie"
        ]
        return "; ".join(values) if values else None
    request = environ.get("aiohttp.request")
    raw = getattr(request, "raw_headers", None)
    if raw is not None:
        values = [value.decode("latin-1") for key, value in raw if key.lower() == b"cookie"]
        return "; ".join(values) if values else None
    value = environ.get("HTTP_COOKIE")
    return value if isinstance(value, str) else None


def request_header(environ: dict[str, Any], name: str) -> str | None:
    """Any request header by name (``X-Session``), latin-1 decoded, repeated ones joined by ', '."""
    wanted = name.lower().encode("latin-1")
    scope = environ.get("asgi.scope")
    if isinstance(scope, dict) and "headers" in scope:
        values = [
            value.decode("latin-1") for key, value in scope["headers"] if key.lower() == wanted
        ]
        return ", ".join(values) if values else None
    request = environ.get("aiohttp.request")
    raw = getattr(request, "raw_headers", None)
    if raw is not None:
        values = [value.decode("latin-1") for key, value in raw if key.lower() == wanted]
        return ", ".join(values) if values else None
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return value if isinstance(value, str) else None


def is_websocket_handshake(environ: dict[str, Any]) -> bool:
    """True for a handshake that opens straight on the websocket transport."""
    return "transport=websocket" in environ.get("QUERY_STRING", "")


def can_send_cookie(async_mode: str, environ: dict[str, Any]) -> bool:
    """Whether a Set-Cookie can ride on this handshake's response.

    Polling: always (WSGI start_response, ASGI send, aiohttp response). A websocket-only
    handshake: only under ASGI and aiohttp, whose 101 response takes extra headers; the
    threading (simple-websocket), eventlet and gevent servers write the 101 themselves.
    """
    if not is_websocket_handshake(environ):
        return async_mode in ("threading", "eventlet", "gevent", "gevent_uwsgi", "asgi", "aiohttp")
    if async_mode == "asgi":
        return True
    if async_mode == "aiohttp":
        return hasattr(environ.get("aiohttp.request"), "_prepare_hook")
    return False


# --- the response --------------------------------------------------------------------------


def install_wsgi_response_hook(eio: Any) -> None:
    """Make a sync server's handshake response carry ``environ[ENVIRON_SET_COOKIE]``.

    ``handle_request`` is looked up on the instance on every request (engineio.WSGIApp and
    socketio.Server.handle_request both do), so an instance attribute wraps it.
    """
    original = eio.handle_request

    def handle_request(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
            cookie = environ.get(ENVIRON_SET_COOKIE)
            if cookie:
                headers = [*headers, ("Set-Cookie", cookie)]
            return start_response(status, headers, *exc_info)

        return original(environ, start)

    eio.handle_request = handle_request


def add_response_header(environ: dict[str, Any], name: str, value: str) -> bool:
    """Add a header to this (async) request's response; False where that cannot be done."""
    send = environ.get("asgi.send")
    if send is not None:
        environ["asgi.send"] = _asgi_send_with_header(environ, send, name, value)
        return True
    request = environ.get("aiohttp.request")
    if request is not None and hasattr(request, "_prepare_hook"):
        previous = request._prepare_hook

        async def prepare_hook(response: Any) -> Any:
            response.headers.add(name, value)
            return await previous(response)

        request._prepare_hook = prepare_hook
        return True
    return False


def _asgi_send_with_header(
    environ: dict[str, Any], send: Callable[[dict[str, Any]], Any], name: str, value: str
) -> Callable[[dict[str, Any]], Any]:
    header = (name.lower().encode("latin-1"), value.encode("latin-1"))

    async def send_with_header(message: dict[str, Any]) -> Any:
        if message.get("type") in ("http.response.start", "websocket.accept"):
            message = {**message, "headers": [*message.get("headers", []), header]}
        return await send(message)

    return send_with_header


def asgi_reject_with_401(environ: dict[str, Any]) -> None:
    """Under ASGI, turn the pre-accept ``websocket.close`` of a rejected websocket-only
    handshake into an HTTP 401, where the server supports the ``websocket.http.response``
    extension (uvicorn does); elsewhere the client sees the server's default (403)."""
    scope = environ.get("asgi.scope")
    send = environ.get("asgi.send")
    if not isinstance(scope, dict) or send is None or scope.get("type") != "websocket":
        return
    if "websocket.http.response" not in scope.get("extensions", {}):
        return

    async def send_401(message: dict[str, Any]) -> Any:
        if message.get("type") == "websocket.close":
            await send(
                {
                    "type": "websocket.http.response.start",
                    "status": 401,
                    "headers": [(b"content-type", b"application/json")],
                }
            )
            return await send({"type": "websocket.http.response.body", "body": b'"Unauthorized"'})
        return await send(message)

    environ["asgi.send"] = send_401


# --- python-socketio -----------------------------------------------------------------------


def socketio_sid(sio: Any, eio_sid: str, namespace: str) -> str | None:
    sid: str | None = sio.manager.sid_from_eio_sid(eio_sid, namespace)
    return sid


def socketio_eio_sid(sio: Any, sid: str, namespace: str) -> str | None:
    eio_sid: str | None = sio.manager.eio_sid_from_sid(sid, namespace)
    return eio_sid


def socketio_trigger(sio: Any, event: str, namespace: str, *args: Any) -> Any:
    """Fire a Socket.IO event server-side, as the server fires ``connect``: decorator
    handlers, class-based namespaces and catch-alls all see it."""
    return sio._trigger_event(event, namespace, *args)
