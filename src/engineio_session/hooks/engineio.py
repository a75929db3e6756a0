"""Where ``attach`` meets python-engineio: the public routes it takes, and the few internals
it still needs, all here (tests/test_hooks.py probes each one's behaviour on the installed
version, and the attach tests run against the oldest declared release, 4.9).

Public routes:

- ``server.handle_request`` is looked up on the instance on every request by
  ``engineio.WSGIApp``, ``engineio.ASGIApp`` and python-socketio's servers: wrapping it
  (:func:`wrap_handle_request`) gives each handshake its :class:`~..core.Exchange`, read from
  the request as Node reads it (the WSGI environ; the raw ASGI ``scope["headers"]``), and
  writes what the core decided on the response (``Set-Cookie``; under ASGI a rejected
  websocket-only handshake answered with HTTP 401 through the ``websocket.http.response``
  extension) through the WSGI ``start_response`` and the ASGI ``send`` it was given.
- ``server.async_mode``, ``start_background_task``, ``sleep``, ``disconnect``,
  ``is_asyncio_based``, ``on``.

Internals, for want of a public route:

- ``server.handlers``: a dict that ``on()`` writes and every dispatch reads. It is replaced
  by :class:`HandlerSlots`, which keeps our wrappers in the ``connect`` and ``disconnect``
  (and, for ``reload=True``, ``message``) slots and the application's handlers aside, so
  an application handler registered before or after ``attach`` still runs. There is no
  public hook around a server's own ``connect`` handler.
- ``server.event_names``: the names ``on()`` accepts; ``session`` is added on the instance.
- aiohttp: the route is bound to ``handle_request`` when the application calls
  ``eio.attach(app)``, possibly before ``attach`` runs, so the request is read from the
  environ's ``aiohttp.request`` and the Set-Cookie added by the request's
  ``_prepare_hook`` (aiohttp's ``on_response_prepare`` signal is frozen once the
  application starts, and ``attach`` never sees the application).
- An upgraded asyncio socket's ``upgraded`` and ``queue`` (:func:`end_websocket`).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from ..core import Exchange

__all__ = [
    "HandlerSlots",
    "add_aiohttp_cookies",
    "check_server",
    "current_exchange",
    "end_websocket",
    "environ_exchange",
    "exchange_of",
    "pin_handlers",
    "wrap_handle_request",
]

Handler = Callable[..., Any]

#: the exchange of each handshake being handled, by the task (asyncio) or thread (greenlet
#: under eventlet and gevent) handling it. Not a ContextVar: every task and timer a handshake
#: starts copies the context, so a value set there would live (and be scanned by the
#: garbage collector) as long as the connection
_EXCHANGES: dict[Any, Exchange] = {}


def _handler() -> Any:
    """Who handles the current request: its asyncio task, else its thread (or greenlet)."""
    try:
        task = asyncio.current_task()
    except RuntimeError:  # no running event loop: a WSGI server's thread or greenlet
        task = None
    return task if task is not None else threading.get_ident()


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


# --- reading the request --------------------------------------------------------------------


def _transport(query: str) -> str:
    """The transport a handshake opens with, read as python-engineio reads it (``parse_qs``,
    first value, ``polling`` by default)."""
    transport: str = parse_qs(query).get("transport", ["polling"])[0]
    return transport


def _wsgi_header(environ: dict[str, Any], name: str | None) -> str | None:
    if name is None:
        return None
    value = environ.get("HTTP_" + name.upper().replace("-", "_"))
    return value if isinstance(value, str) else None


def _raw_headers(
    raw: Iterable[tuple[bytes, bytes]], header: str | None
) -> tuple[str | None, str | None]:
    """The Cookie header and the configured ``header``'s value, from raw (name, value)
    pairs, as Node's ``req.headers`` has them: latin-1, repeated ones joined (``"; "`` for
    Cookie, ``", "`` for the rest). One pass, and a name is lowercased only where its
    length matches (every request of the server goes through here).

    >>> _raw_headers([(b"Cookie", b"a=1"), (b"x-s", b"t"), (b"cookie", b"b=2")], "X-S")
    ('a=1; b=2', 't')
    """
    wanted = b"" if header is None else header.lower().encode("latin-1")
    size = len(wanted) or -1
    cookie = value = None
    for key, raw_value in raw:
        length = len(key)
        if length == 6 and (key == b"cookie" or key.lower() == b"cookie"):
            text = raw_value.decode("latin-1")
            cookie = text if cookie is None else cookie + "; " + text
        if length == size and key.lower() == wanted:
            text = raw_value.decode("latin-1")
            value = text if value is None else value + ", " + text
    return cookie, value


def _raw_exchange(
    raw: Iterable[tuple[bytes, bytes]], header: str | None, can_set_cookie: bool
) -> Exchange:
    cookie, value = _raw_headers(raw, header)
    return Exchange(cookie, value, can_set_cookie=can_set_cookie)


def current_exchange() -> Exchange | None:
    """The exchange :func:`wrap_handle_request` made for the handshake being handled."""
    return _EXCHANGES.get(_handler())


#: where the ASGI wrapper also puts a request's exchange: in its scope, which
#: python-engineio's environ holds as ``asgi.scope`` (taken out again when the request ends)
_SCOPE_KEY = "engineio_session.exchange"


def exchange_of(environ: dict[str, Any], header: str | None) -> Exchange:
    """The exchange of the handshake whose environ this is: under ASGI the one in its scope
    (found without asking which task runs: each such question costs a system call,
    ``getpid``, in asyncio), else :func:`current_exchange`, else :func:`environ_exchange`."""
    scope = environ.get("asgi.scope")
    exchange: Exchange | None = scope.get(_SCOPE_KEY) if type(scope) is dict else None
    if exchange is None:
        exchange = current_exchange() or environ_exchange(environ, header)
    return exchange


def environ_exchange(environ: dict[str, Any], header: str | None) -> Exchange:
    """The exchange of a handshake no wrapper saw, from its environ.

    aiohttp: the raw headers of ``environ["aiohttp.request"]``; a Set-Cookie is possible
    where the request has the ``_prepare_hook`` :func:`add_aiohttp_cookies` uses. Any other
    server: the WSGI keys (the ASGI and aiohttp drivers join repeated headers with ``,``,
    which hides cookies, hence the raw headers where there are), and no Set-Cookie.
    """
    request = environ.get("aiohttp.request")
    raw = getattr(request, "raw_headers", None)
    if raw is not None:
        exchange = _raw_exchange(raw, header, hasattr(request, "_prepare_hook"))
        exchange.secure = getattr(request, "secure", False) is True
        return exchange
    return Exchange(environ.get("HTTP_COOKIE"), _wsgi_header(environ, header), can_set_cookie=False)


def add_aiohttp_cookies(environ: dict[str, Any], exchange: Exchange) -> None:
    """Put the exchange's Set-Cookie values on an aiohttp handshake's response, polling or
    websocket alike, through the request's ``_prepare_hook`` (called with the response just
    before it is sent: what is in ``exchange.set_cookie`` then goes)."""
    request = environ["aiohttp.request"]
    previous = request._prepare_hook

    async def prepare_hook(response: Any) -> Any:
        for value in exchange.set_cookie:
            response.headers.add("Set-Cookie", value)
        exchange.sent = True
        return await previous(response)

    request._prepare_hook = prepare_hook


# --- the response -------------------------------------------------------------------------


def wrap_handle_request(
    eio: Any,
    header: str | None,
    read_ahead: Callable[[Exchange], Awaitable[None]] | None = None,
    *,
    by_task: bool = True,
) -> None:
    """Wrap ``eio.handle_request`` (on the instance) so each handshake under WSGI or ASGI has
    its :class:`Exchange` in this context, and its response carries what the core decided.
    Under ASGI, ``read_ahead(exchange)`` is awaited before the server sees a request that
    can be a handshake (see :meth:`..core.SessionCore._read_ahead`). An ASGI request's
    exchange is in its scope (python-engineio's environ holds it as ``asgi.scope``); with
    ``by_task`` it is also found by the task handling it (:func:`current_exchange`: what
    a Socket.IO CONNECT needs with cookie-session), which costs a system call per request."""
    original = eio.handle_request
    if not eio.is_asyncio_based():

        def handle_wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
            can_set = _transport(environ.get("QUERY_STRING", "")) != "websocket"
            exchange = Exchange(
                environ.get("HTTP_COOKIE"),
                _wsgi_header(environ, header),
                can_set_cookie=can_set,
                secure=environ.get("wsgi.url_scheme") == "https",
            )

            def start(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> Any:
                exchange.sent = True
                if exchange.set_cookie:
                    headers = [*headers, *(("Set-Cookie", c) for c in exchange.set_cookie)]
                return start_response(status, headers, *exc_info)

            key = _handler()
            _EXCHANGES[key] = exchange
            try:
                return original(environ, start)
            finally:
                del _EXCHANGES[key]

        eio.handle_request = handle_wsgi
        return
    if eio.async_mode != "asgi":
        return  # aiohttp and the rest: environ_exchange

    async def handle_asgi(scope: dict[str, Any], receive: Any, send: Any) -> Any:
        exchange = _AsgiExchange(scope, send, header)
        # whether the request can open an Engine.IO connection: python-engineio takes a GET
        # (or a websocket) without a ``sid`` parameter as a handshake. A query that only
        # looks as if it had one (``xsid=``) is not read ahead, which costs nothing: the
        # handshake then reads its session itself
        if read_ahead is not None and (
            b"sid=" not in (scope.get("query_string") or b"")
            and (scope.get("type") != "http" or scope.get("method") == "GET")
        ):
            # the request's first event is taken before the wait, where python-engineio
            # takes it at once: from a client gone meanwhile, a server's receive answers
            # http.disconnect, on which python-engineio's translate_request gives up and
            # its handle_request raises KeyError (a traceback in the server's log)
            receive = _Replay(await receive(), receive)
            await read_ahead(exchange)
        key = _handler() if by_task else None
        if key is not None:
            _EXCHANGES[key] = exchange
        scope[_SCOPE_KEY] = exchange
        # the response goes through the exchange only where the core may still write on
        # it: a polling handshake whose session was read ahead gets no Set-Cookie
        respond = exchange if exchange.writes or exchange.can_401 else send
        try:
            return await original(scope, receive, respond)
        finally:
            if key is not None:
                del _EXCHANGES[key]
            scope.pop(_SCOPE_KEY, None)

    eio.handle_request = handle_asgi


class _Replay:
    """An ASGI ``receive`` whose first event was taken already: it gives that event, then
    what the server's ``receive`` gives.

    >>> async def server_receive() -> dict[str, Any]:
    ...     return {"type": "http.disconnect"}
    >>> replay = _Replay({"type": "http.request", "body": b""}, server_receive)
    >>> asyncio.run(replay())["type"], asyncio.run(replay())["type"]
    ('http.request', 'http.disconnect')
    """

    __slots__ = ("first", "receive")

    def __init__(self, first: dict[str, Any], receive: Callable[[], Awaitable[Any]]) -> None:
        self.first: dict[str, Any] | None = first
        self.receive = receive

    def __call__(self) -> Awaitable[Any]:
        # the server's own awaitable after the first: no coroutine of ours per websocket
        # message of a connection opened on a websocket (its environ keeps this receive)
        first = self.first
        if first is None:
            return self.receive()
        self.first = None
        return _given(first)


async def _given(event: dict[str, Any]) -> dict[str, Any]:
    return event


class _AsgiExchange(Exchange):
    """The exchange of an ASGI request that is also its ``send``: marks the exchange sent
    at the response's start, adds the Set-Cookie values the core decided, and turns a
    rejected websocket's close into a 401 where the server offers
    ``websocket.http.response``. One slotted object per request, not an exchange and a
    wrapper (nor a closure: a function, its cells and their tuple), as every object a
    request holds is one more for the collector while the request is in flight."""

    __slots__ = ("can_401", "send")

    def __init__(self, scope: dict[str, Any], send: Any, header: str | None) -> None:
        super().__init__(*_raw_headers(scope.get("headers") or (), header))
        self.secure = scope.get("scheme") in ("https", "wss")
        self.send = send
        self.can_401 = scope.get("type") == "websocket" and "websocket.http.response" in (
            scope.get("extensions") or {}
        )

    def __call__(self, message: dict[str, Any]) -> Awaitable[Any]:
        # a plain function returning the server's own awaitable: no coroutine of ours per
        # message on a hot path (python-engineio awaits what send returns)
        kind = message.get("type")
        if kind in ("http.response.start", "websocket.accept", "websocket.close"):
            self.sent = True
        if self.set_cookie and kind in ("http.response.start", "websocket.accept"):
            cookies = [(b"set-cookie", c.encode("latin-1")) for c in self.set_cookie]
            message = {**message, "headers": [*message.get("headers", []), *cookies]}
        elif kind == "websocket.close" and self.rejected and self.can_401:
            self.rejected = False  # once: the pre-accept close is the rejection
            return self._unauthorized()
        awaitable: Awaitable[Any] = self.send(message)
        return awaitable

    async def _unauthorized(self) -> Any:
        await self.send(
            {
                "type": "websocket.http.response.start",
                "status": 401,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        return await self.send({"type": "websocket.http.response.body", "body": b'"Unauthorized"'})


# --- closing -------------------------------------------------------------------------------


def end_websocket(socket: Any) -> None:
    """After ``await eio.disconnect(sid)``, end an upgraded asyncio socket's websocket too.

    python-engineio's sync socket ends its websocket writer after the CLOSE packet (it queues
    a ``None``); the asyncio one does not, so the websocket stays open until the ping
    timeout. engine.io-client handles a CLOSE packet only on polling and waits for the
    websocket to close, so a browser would not notice for about 45 s. Queue the ``None``
    that ends the writer, as the sync socket does.
    """
    if socket is not None and getattr(socket, "upgraded", False):
        queue = getattr(socket, "queue", None)
        if queue is not None:
            queue.put_nowait(None)
