"""The python-engineio / python-socketio internals ``attach`` relies on, all in one place.

There is no public hook around a server's ``connect`` handler, its handshake response or
python-socketio's event dispatch, so these are the few undocumented but long-stable points
used (read in python-engineio 4.9 .. 4.15 and python-socketio 5.11 .. 5.18, the range
pyproject.toml declares; tests/test_compat.py pins each one and runs the attach tests
against the oldest releases of that range):

python-engineio

- ``server.handlers``: a dict that ``on()`` writes and ``_trigger_event`` reads on every
  dispatch (``if event in self.handlers: self.handlers[event](*args)``). We replace it with
  :class:`HandlerSlots`, which keeps our wrappers in the ``connect`` and ``disconnect`` (and,
  for ``reload=True`` on an Engine.IO server, ``message``) slots and the application's
  handlers aside, so an application handler registered before or after ``attach`` still runs.
- ``server.event_names``: the names ``on()`` accepts; ``session`` is added on the instance.
- The connect rule: a ``connect`` handler returning anything but None/True rejects (401); an
  async server awaits a handler only if ``inspect.iscoroutinefunction`` says so.
- ``server.async_mode``, ``start_background_task``, ``sleep``, ``disconnect``: public.
- The handshake response, to add ``Set-Cookie``: under WSGI ``handle_request``'s
  ``start_response`` (an instance attribute: ``engineio.WSGIApp`` and
  ``socketio.Server.handle_request`` look it up per request); under ASGI
  ``environ["asgi.send"]``, which the driver reads when it answers; under aiohttp the
  request's ``_prepare_hook`` (feature-detected).
- The environ keys ``asgi.scope`` / ``asgi.send`` (ASGI) and ``aiohttp.request`` (aiohttp),
  to read raw request headers as Node does.
- An upgraded asyncio socket's ``upgraded`` and ``queue``: :func:`async_disconnect` queues
  the ``None`` that ends its websocket writer, as the sync socket does on close.

python-socketio

- ``sio.eio`` (the Engine.IO server) and ``sio.environ[eio_sid]`` (the handshake's environ).
- ``sio._handle_connect(eio_sid, namespace, auth)``: wrapped on the instance, to take a
  session from the CONNECT ``auth`` payload before the namespace's ``connect`` handler runs
  and to fire ``session`` after it accepted.
- ``sio._handle_event(eio_sid, namespace, id, data)``: wrapped on the instance. Every client
  event reaches it, decoded by the server's own packet class (any serializer, binary
  attachments already joined), before a handler runs; ``data[0]`` is the event name. Events
  a client must not send are dropped there, and ``reload=True`` reloads there.
- ``sio._trigger_event(event, namespace, *args)`` to fire ``session`` to decorator handlers,
  class-based namespaces and catch-alls; ``sio._send_packet`` + ``sio.packet_class`` to
  refuse a namespace (CONNECT_ERROR) as ``_handle_connect`` itself does.
- ``sio.manager``: ``sid_from_eio_sid``, ``eio_sid_from_sid``, ``get_namespaces``,
  ``is_connected``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

__all__ = [
    "ENVIRON_SET_COOKIE",
    "HandlerSlots",
    "add_response_header",
    "asgi_reject_with_401",
    "async_disconnect",
    "can_send_cookie",
    "check_server",
    "check_socketio",
    "cookie_header",
    "handshake_transport",
    "install_wsgi_response_hook",
    "is_header_name",
    "pin_handlers",
    "request_header",
    "socketio_connected_namespaces",
    "socketio_eio_sid",
    "socketio_refuse",
    "socketio_sid",
    "socketio_trigger",
    "wrap_socketio",
]

logger = logging.getLogger("engineio_session")

#: the Set-Cookie value the handshake response must carry (set by the connect wrapper)
ENVIRON_SET_COOKIE = "engineio_session.set_cookie"

Handler = Callable[..., Any]

# Socket.IO CONNECT_ERROR (socket.io-protocol v5), as python-socketio's packet.CONNECT_ERROR
_CONNECT_ERROR = 4


def check_server(eio: Any) -> None:
    """TypeError unless ``eio`` looks like a python-engineio server ``attach`` can hook."""
    for attribute in ("handlers", "event_names", "is_asyncio_based", "async_mode", "on"):
        if not hasattr(eio, attribute):
            raise TypeError(
                f"attach() takes an engineio.Server, engineio.AsyncServer, socketio.Server or "
                f"socketio.AsyncServer, not {type(eio).__name__}"
            )
    if not isinstance(eio.handlers, dict):
        raise TypeError(f"{type(eio).__name__}.handlers is not a dict: unsupported version")


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

    def pop(self, event: str, *default: Any) -> Any:
        if event in self.pinned:
            return self.app.pop(event, *default)
        return super().pop(event, *default)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for event, handler in dict(*args, **kwargs).items():
            self[event] = handler

    def setdefault(self, event: str, default: Any = None) -> Any:
        if event in self.pinned:
            return self.app.setdefault(event, default)
        return super().setdefault(event, default)


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
    return _raw_header(environ, b"cookie", "; ", "HTTP_COOKIE")


def request_header(environ: dict[str, Any], name: str) -> str | None:
    """Any request header by name (``X-Session``), latin-1 decoded, repeated ones joined by ', '."""
    return _raw_header(
        environ, name.lower().encode("latin-1"), ", ", "HTTP_" + name.upper().replace("-", "_")
    )


def _raw_header(environ: dict[str, Any], wanted: bytes, joiner: str, wsgi_key: str) -> str | None:
    scope = environ.get("asgi.scope")
    raw: Any = None
    if isinstance(scope, dict) and "headers" in scope:
        raw = scope["headers"]
    else:
        raw = getattr(environ.get("aiohttp.request"), "raw_headers", None)
    if raw is not None:
        values = [value.decode("latin-1") for key, value in raw if key.lower() == wanted]
        return joiner.join(values) if values else None
    value = environ.get(wsgi_key)
    return value if isinstance(value, str) else None


_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")


def is_header_name(name: str) -> bool:
    """An HTTP field name (RFC 9110 token)."""
    return bool(_TOKEN.fullmatch(name))


def handshake_transport(environ: dict[str, Any]) -> str:
    """The transport a handshake opens with, read from the query as python-engineio reads it
    (``parse_qs``, first value, ``polling`` by default)."""
    query = parse_qs(environ.get("QUERY_STRING", ""))
    transport: str = query.get("transport", ["polling"])[0]
    return transport


def can_send_cookie(async_mode: str, environ: dict[str, Any]) -> bool:
    """Whether a Set-Cookie can ride on this handshake's response.

    Polling: always (WSGI start_response, ASGI send, aiohttp response). A websocket-only
    handshake: only under ASGI and aiohttp, whose 101 response takes extra headers; the
    threading (simple-websocket), eventlet and gevent(-websocket) servers write the 101
    themselves, with no way to add a header.
    """
    if handshake_transport(environ) != "websocket":
        return True
    if async_mode == "asgi":
        return "asgi.send" in environ
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
        environ["asgi.send"] = _asgi_send_with_header(send, name, value)
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
    send: Callable[[dict[str, Any]], Any], name: str, value: str
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
    if "websocket.http.response" not in (scope.get("extensions") or {}):
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


# --- closing -------------------------------------------------------------------------------


async def async_disconnect(eio: Any, sid: str) -> None:
    """``await eio.disconnect(sid)``, and close the websocket too.

    python-engineio's sync socket ends its websocket writer after the CLOSE packet (it queues
    a ``None``); the asyncio one does not, so the websocket stays open until the ping
    timeout. engine.io-client handles a CLOSE packet only on polling and waits for the
    websocket to close, so a browser would not notice for about 45 s. Queue the ``None``
    that ends the writer, as the sync socket does.
    """
    socket = eio.sockets.get(sid)
    await eio.disconnect(sid)
    if socket is not None and getattr(socket, "upgraded", False):
        queue = getattr(socket, "queue", None)
        if queue is not None:
            queue.put_nowait(None)


# --- python-socketio -----------------------------------------------------------------------


def check_socketio(sio: Any) -> None:
    """TypeError unless ``sio`` has the python-socketio internals :func:`wrap_socketio` and
    the handles use."""
    for name in ("_handle_connect", "_handle_event", "_trigger_event", "_send_packet"):
        if not callable(getattr(sio, name, None)):
            raise TypeError(f"{type(sio).__name__} has no {name}(): unsupported python-socketio")
    for name in ("environ", "manager", "packet_class", "eio"):
        if not hasattr(sio, name):
            raise TypeError(f"{type(sio).__name__} has no {name}: unsupported python-socketio")


def wrap_socketio(
    sio: Any,
    connect: Callable[[Callable[..., Any], str, str, Any], Any],
    event: Callable[[Callable[..., Any], str, str, Any, Any], Any],
) -> None:
    """Route ``sio._handle_connect`` and ``sio._handle_event`` through ``connect`` and
    ``event``, which get the original bound method first: ``connect(original, eio_sid,
    namespace, auth)`` and ``event(original, eio_sid, namespace, id, data)``.

    The wrappers must be ``async def`` on an AsyncServer (python-socketio awaits both).
    """
    check_socketio(sio)
    original_connect = sio._handle_connect
    original_event = sio._handle_event
    if sio.eio.is_asyncio_based():

        async def handle_connect_async(eio_sid: str, namespace: str, data: Any) -> Any:
            return await connect(original_connect, eio_sid, namespace, data)

        async def handle_event_async(eio_sid: str, namespace: str, id: Any, data: Any) -> Any:
            return await event(original_event, eio_sid, namespace, id, data)

        sio._handle_connect = handle_connect_async
        sio._handle_event = handle_event_async
        return

    def handle_connect(eio_sid: str, namespace: str, data: Any) -> Any:
        return connect(original_connect, eio_sid, namespace, data)

    def handle_event(eio_sid: str, namespace: str, id: Any, data: Any) -> Any:
        return event(original_event, eio_sid, namespace, id, data)

    sio._handle_connect = handle_connect
    sio._handle_event = handle_event


def socketio_sid(sio: Any, eio_sid: str, namespace: str) -> str | None:
    """The Socket.IO sid of an Engine.IO connection in ``namespace``, if it is connected."""
    sid: str | None = sio.manager.sid_from_eio_sid(eio_sid, namespace)
    if sid is None or not sio.manager.is_connected(sid, namespace):
        return None
    return sid


def socketio_eio_sid(sio: Any, sid: str, namespace: str) -> str | None:
    eio_sid: str | None = sio.manager.eio_sid_from_sid(sid, namespace)
    return eio_sid


def socketio_connected_namespaces(sio: Any, eio_sid: str) -> list[tuple[str, str]]:
    """``(namespace, sid)`` for each namespace this Engine.IO connection is connected to."""
    found = []
    for namespace in list(sio.manager.get_namespaces()):
        sid = socketio_sid(sio, eio_sid, namespace)
        if sid is not None:
            found.append((namespace, sid))
    return found


def socketio_trigger(sio: Any, event: str, namespace: str, *args: Any) -> Any:
    """Fire a Socket.IO event server-side, as the server fires ``connect``: decorator
    handlers, class-based namespaces and catch-alls all see it (a coroutine on an
    AsyncServer)."""
    return sio._trigger_event(event, namespace, *args)


def socketio_refuse(sio: Any, eio_sid: str, namespace: str, message: str) -> Any:
    """Refuse a namespace CONNECT as python-socketio does when its handler says no: a
    CONNECT_ERROR packet (``connect_error`` on the client). A coroutine on an AsyncServer."""
    return sio._send_packet(
        eio_sid,
        sio.packet_class(_CONNECT_ERROR, data={"message": message}, namespace=namespace),
    )
