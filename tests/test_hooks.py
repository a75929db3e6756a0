"""The python-engineio / python-socketio internals that src/engineio_session/hooks/ relies
on, each pinned by what it does (not by its source text) in the installed versions; and
attach's tests run against the oldest releases pyproject.toml allows.

``test_oldest_declared_versions`` builds (once, cached in ``.venv-oldest/``, rebuilt when
pyproject.toml changes) an environment where python-engineio 4.9.0 and python-socketio
5.11.0 shadow the current ones, and runs these probes, tests/test_attach_unit.py and the
threading + ASGI part of tests/test_attach_e2e.py in it.
"""

from __future__ import annotations

import asyncio
import hashlib
import importlib.metadata
import io
import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path
from typing import Any

import engineio
import pytest
import socketio

from engineio_session.core import Exchange
from engineio_session.hooks import engineio as hooks
from engineio_session.hooks import socketio as sio_hooks
from tests.apps.inprocess import Driver

ROOT = Path(__file__).resolve().parent.parent
OLDEST = {"python-engineio": "4.9.0", "python-socketio": "5.11.0"}
OLDEST_VENV = ROOT / ".venv-oldest"
IN_OLDEST = os.environ.get("ENGINEIO_SESSION_OLDEST") == "1"


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def plain(tmp_path: Path, is_async: bool, kind: str = "engineio") -> Driver:
    """A server as python-engineio / python-socketio make it, no attach(), driven in process
    through its own WSGI or ASGI entry point."""
    return Driver(is_async, kind, tmp_path / "sessions", plain=True)


# --- python-engineio ----------------------------------------------------------------------


def _handshake(server: Any, connect: Any) -> int:
    """A polling handshake through ``handle_request`` with ``connect`` as the handler."""
    server.on("connect", connect)
    started: list[str] = []
    environ = {
        "REQUEST_METHOD": "GET",
        "QUERY_STRING": "EIO=4&transport=polling",
        "wsgi.input": io.BytesIO(),
    }
    server.handle_request(environ, lambda status, headers: started.append(status))
    return int(started[0].split()[0])


def test_engineio_handlers_dict_is_read_on_every_dispatch() -> None:
    """HandlerSlots: ``on()`` writes ``server.handlers``, and every dispatch reads the dict
    that is there now; ``on()`` takes only the names in ``event_names``."""
    server = engineio.Server(async_mode="threading")
    assert type(server.handlers) is dict
    assert {"connect", "disconnect", "message"} <= set(server.event_names)
    with pytest.raises(ValueError):
        server.on("session", print)  # not a name on() takes, until attach adds it
    server.event_names = [*server.event_names, "session"]
    server.on("session", print)  # ...and the instance's list is what on() reads

    def handler(sid: str, environ: dict[str, Any]) -> None: ...

    server.on("connect", handler)
    assert server.handlers["connect"] is handler  # on() writes the dict, nothing else
    seen: list[str] = []
    server.handlers = {"connect": lambda sid, environ: seen.append(sid)}  # a new dict...
    started: list[str] = []
    server.handle_request(
        {
            "REQUEST_METHOD": "GET",
            "QUERY_STRING": "EIO=4&transport=polling",
            "wsgi.input": io.BytesIO(),
        },
        lambda status, headers: started.append(status),
    )
    assert len(seen) == 1 and started[0].startswith("200")  # ...is what the dispatch read


def test_engineio_connect_rule() -> None:
    """None or True accepts; anything else (False, a dict) rejects with 401."""
    for result, status in ((None, 200), (True, 200), (False, 401), ({"reason": "x"}, 401)):
        server = engineio.Server(async_mode="threading")
        assert _handshake(server, lambda sid, environ, r=result: r) == status, result


def test_engineio_async_server_awaits_coroutine_function_handlers(tmp_path: Path) -> None:
    """The async handles' wrappers are ``async def``: python-engineio awaits such a
    handler (its rejection is a 401), and calls a plain one as it is."""
    driver = plain(tmp_path, True)
    try:
        for handler_result, status in ((False, 401), (None, 200)):

            async def connect(sid: str, environ: dict[str, Any], r: Any = handler_result) -> Any:
                await asyncio.sleep(0)
                return r

            driver.eio.on("connect", connect)
            assert driver.handshake().status == status
        driver.eio.on("connect", lambda sid, environ: False)
        assert driver.handshake().status == 401
    finally:
        driver.close()


def test_engineio_dispatches_only_its_own_events(tmp_path: Path, is_async: bool) -> None:
    """Nothing a client sends makes python-engineio fire an event it was not built to
    fire: every packet type, with "session" as its data, reaches only ``message``."""
    driver = plain(tmp_path, is_async)
    try:
        fired: list[str] = []
        driver.eio.event_names = [*driver.eio.event_names, "session"]
        for event in driver.eio.event_names:
            driver.eio.on(event, lambda *args, e=event: fired.append(e))
        sid = driver.handshake().sid
        for packet in ("3session", "4session", "4\x1esession"):  # pong, message
            driver.post(sid, packet)
        assert "session" not in fired and set(fired) <= {"connect", "message", "disconnect"}
        assert "message" in fired
    finally:
        driver.close()


@pytest.mark.parametrize("kind", ["engineio", "socketio"])
def test_handle_request_is_looked_up_per_request(tmp_path: Path, is_async: bool, kind: str) -> None:
    """wrap_handle_request: engineio's and socketio's WSGIApp/ASGIApp call the
    ``handle_request`` the engineio server has on the instance now, on every request."""
    driver = plain(tmp_path, is_async, kind)
    try:
        seen: list[Exchange | None] = []
        driver.eio.on("connect", lambda *args: seen.append(hooks.current_exchange()))
        if kind == "socketio":
            driver.server.on("connect", lambda *args: None)
        hooks.wrap_handle_request(driver.eio, None)
        response = driver.handshake("a=1")
        assert response.status == 200
        assert seen and seen[0] is not None and seen[0].cookie_header == "a=1"
    finally:
        driver.close()


def test_response_carries_the_exchange(tmp_path: Path, is_async: bool) -> None:
    """What a connect handler adds to the exchange reaches the handshake response: through
    ``start_response`` (WSGI) and ``send`` (ASGI) of the wrapped ``handle_request``."""
    driver = plain(tmp_path, is_async)
    try:

        def connect(sid: str, environ: dict[str, Any]) -> None:
            exchange = hooks.current_exchange()
            assert exchange is not None and exchange.can_set_cookie
            exchange.set_cookie.append("a=b; Path=/")

        driver.eio.on("connect", connect)
        hooks.wrap_handle_request(driver.eio, None)
        assert driver.handshake().header("Set-Cookie") == ["a=b; Path=/"]
    finally:
        driver.close()


def test_asgi_websocket_accept_goes_through_send() -> None:
    """A websocket-only ASGI handshake is accepted (and a rejected one closed) through the
    ``send`` handle_request was given, so a header rides on the 101, a 401 replaces the
    close."""
    for result, first in ((None, "websocket.accept"), (False, "websocket.http.response.start")):
        server = engineio.AsyncServer(async_mode="asgi")

        def connect(sid: str, environ: dict[str, Any], r: Any = result) -> Any:
            exchange = hooks.current_exchange()
            assert exchange is not None
            exchange.set_cookie.append("a=b")
            exchange.rejected = r is False
            return r

        server.on("connect", connect)
        hooks.wrap_handle_request(server, None)
        app = engineio.ASGIApp(server)
        sent: list[dict[str, Any]] = []
        incoming = [{"type": "websocket.connect"}, {"type": "websocket.disconnect"}]

        async def receive(incoming: list[dict[str, Any]] = incoming) -> dict[str, Any]:
            return incoming.pop(0) if incoming else {"type": "websocket.disconnect"}

        async def send(message: dict[str, Any], sent: list[dict[str, Any]] = sent) -> None:
            sent.append(message)

        scope = {
            "type": "websocket",
            "path": "/engine.io/",
            "query_string": b"EIO=4&transport=websocket",
            "headers": [(b"upgrade", b"websocket"), (b"connection", b"Upgrade")],
            "extensions": {"websocket.http.response": {}},
        }
        asyncio.run(asyncio.wait_for(app(scope, receive, send), 5))
        assert sent[0]["type"] == first, sent
        if first == "websocket.accept":
            assert (b"set-cookie", b"a=b") in sent[0]["headers"]
        else:
            assert sent[0]["status"] == 401


def test_aiohttp_request_in_environ_and_prepare_hook() -> None:
    """environ_exchange and add_aiohttp_cookies: python-engineio's aiohttp driver puts the
    request in the environ, and aiohttp calls its ``_prepare_hook`` with the response just
    before sending it (polling responses and websocket 101s alike)."""
    from aiohttp import web
    from aiohttp.test_utils import make_mocked_request
    from engineio.async_drivers import aiohttp as driver

    request = make_mocked_request("GET", "/engine.io/?EIO=4&transport=polling")
    environ = driver.translate_request(request)
    assert environ["aiohttp.request"] is request
    exchange = Exchange(None)
    exchange.set_cookie.append("a=b")
    hooks.add_aiohttp_cookies(environ, exchange)

    async def prepare() -> Any:
        response = web.Response(text="x")
        await response.prepare(request)
        return response

    response = asyncio.run(prepare())
    assert response.headers.getall("Set-Cookie") == ["a=b"]


def test_asyncio_socket_has_the_queue_end_websocket_uses() -> None:
    """end_websocket: an asyncio socket has ``upgraded`` and an asyncio queue whose None
    ends its websocket writer."""
    from engineio import async_socket

    server = engineio.AsyncServer(async_mode="asgi")
    socket = async_socket.AsyncSocket(server, "abc")
    assert socket.upgraded is False
    hooks.end_websocket(socket)  # not upgraded: nothing queued
    assert socket.queue.qsize() == 0
    socket.upgraded = True
    hooks.end_websocket(socket)
    assert socket.queue.get_nowait() is None


# --- python-socketio ----------------------------------------------------------------------


def test_socketio_routes_every_connect_and_event_through_the_instance(
    tmp_path: Path, is_async: bool
) -> None:
    """wrap_socketio: every namespace CONNECT reaches ``_handle_connect`` and every event
    ``_handle_event`` looked up on the instance, decoded (``data[0]`` the event name),
    before any handler; ``_trigger_event`` reaches decorator handlers; a CONNECT_ERROR
    packet refuses a namespace."""
    driver = plain(tmp_path, is_async, "socketio")
    try:
        sio = driver.server
        calls: list[tuple[str, Any]] = []
        handled: list[Any] = []

        def on_connect(original: Any, eio_sid: str, namespace: str, auth: Any) -> Any:
            calls.append(("connect", (namespace, auth)))
            if namespace == "/refused":
                return sio_hooks.refuse(sio, eio_sid, namespace, "Unauthorized")
            return original(eio_sid, namespace, auth)

        def on_event(original: Any, eio_sid: str, namespace: str, id: Any, data: Any) -> Any:
            calls.append(("event", data))
            return original(eio_sid, namespace, id, data)

        sio.on("ping", lambda sid, *args: handled.append(args))
        sio.on("session", lambda sid, *args: handled.append(("session", *args)))
        sio_hooks.wrap_socketio(sio, on_connect, on_event)
        eio_sid, replies = driver.sio_connect(auth={"k": 1})
        # the default namespace comes as None (hence `namespace or "/"` in the adapter)
        assert calls[0] == ("connect", (None, {"k": 1})) and replies[0].startswith("40")
        driver.post(eio_sid, '42["ping",1,{"a":2}]')
        assert ("event", ["ping", 1, {"a": 2}]) in calls and (1, {"a": 2}) in handled
        sid = sio_hooks.socket_sid(sio, eio_sid, "/")
        assert sid is not None and sio_hooks.eio_sid_of(sio, sid, "/") == eio_sid
        assert sio_hooks.connected_namespaces(sio, eio_sid) == [("/", sid)]
        driver.run(sio_hooks.trigger(sio, "session", "/", sid, {"u": 1}))
        assert ("session", {"u": 1}) in handled
        refused = driver.sio_join(eio_sid, "/refused")
        assert refused == ['44/refused,{"message":"Unauthorized"}']
    finally:
        driver.close()


def test_socketio_client_events_reach_reserved_handlers(tmp_path: Path, is_async: bool) -> None:
    """Why attach drops client events named connect/disconnect/session: python-socketio
    dispatches an explicit handler for any name a client sends, reserved or not."""
    driver = plain(tmp_path, is_async, "socketio")
    try:
        got: list[Any] = []
        driver.server.on("session", lambda *args: got.append(args))
        driver.server.on("connect", lambda *args: got.append(("connect", *args[2:])))
        eio_sid, _ = driver.sio_connect()
        driver.post(eio_sid, '42["session",{"forged":true}]')
        driver.post(eio_sid, '42["connect",{"HTTP_COOKIE":"x"}]')
        assert any(args[1:] == ({"forged": True},) for args in got if len(args) == 2)
        assert sum(1 for args in got if args[0] == "connect") == 2
    finally:
        driver.close()


def test_socketio_environ_is_the_engineio_connect_environ(tmp_path: Path, is_async: bool) -> None:
    """python-socketio keeps, and hands its connect handlers, the very environ dict its
    Engine.IO connect got: where the handles publish the current session."""
    driver = plain(tmp_path, is_async, "socketio")
    try:
        seen: list[dict[str, Any]] = []
        original = driver.eio.handlers["connect"]

        def eio_connect(sid: str, environ: dict[str, Any], *args: Any) -> Any:
            seen.append(environ)
            return original(sid, environ, *args)

        driver.eio.handlers["connect"] = eio_connect
        if is_async:

            async def eio_connect_async(sid: str, environ: dict[str, Any], *args: Any) -> Any:
                seen.append(environ)
                return await original(sid, environ, *args)

            driver.eio.handlers["connect"] = eio_connect_async
        environs: list[dict[str, Any]] = []
        driver.server.on("connect", lambda sid, environ, *args: environs.append(environ))
        driver.sio_connect()
        assert seen and environs and environs[0] is seen[0]
    finally:
        driver.close()


def test_socketio_packet_connect_error() -> None:
    encoded = socketio.packet.Packet(4, data={"message": "Unauthorized"}, namespace="/").encode()
    assert encoded == '4{"message":"Unauthorized"}'


# --- the oldest declared versions -------------------------------------------------------------


def test_declared_range_starts_at_the_oldest() -> None:
    pyproject = (ROOT / "pyproject.toml").read_text()
    assert '"python-engineio>=4.9,<5"' in pyproject
    assert '"python-socketio>=5.11,<6"' in pyproject


def test_versions_in_use() -> None:
    versions = {name: importlib.metadata.version(name) for name in OLDEST}
    if IN_OLDEST:
        assert versions == OLDEST
        assert Path(engineio.__file__).is_relative_to(OLDEST_VENV)
        assert Path(socketio.__file__).is_relative_to(OLDEST_VENV)


def _oldest_stamp() -> str:
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes())
    digest.update(json.dumps([OLDEST, sys.version, sysconfig.get_paths()["purelib"]]).encode())
    return digest.hexdigest()


def build_oldest() -> Path:
    """``.venv-oldest/bin/python``: the oldest python-engineio / python-socketio first on its
    path, then this package's src/ and this environment's site-packages (pytest, the servers,
    the clients). Built once; rebuilt when pyproject.toml (or this Python) changes."""
    python = OLDEST_VENV / "bin" / "python"
    stamp = OLDEST_VENV / ".stamp"
    if stamp.exists() and stamp.read_text() == _oldest_stamp() and python.exists():
        return python
    shutil.rmtree(OLDEST_VENV, ignore_errors=True)
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(OLDEST_VENV)],
        check=True,
        capture_output=True,
    )
    site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    pins = [f"{name}=={version}" for name, version in OLDEST.items()]
    installed = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", site, *pins],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert installed.returncode == 0, installed.stderr
    # after the venv's own site-packages: the pins above shadow the current releases
    (Path(site) / "zz-engineio-session.pth").write_text(
        f"{ROOT / 'src'}\n{sysconfig.get_paths()['purelib']}\n"
    )
    stamp.write_text(_oldest_stamp())
    return python


@pytest.mark.skipif(IN_OLDEST, reason="this is the run in the oldest versions")
def test_oldest_declared_versions() -> None:
    python = build_oldest()
    env = {
        **os.environ,
        "ENGINEIO_SESSION_OLDEST": "1",
        "ATTACH_E2E_MODES": "threading,asgi",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    run = subprocess.run(
        [
            str(python),
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-k",
            "not node",  # test names: the Node clients' cases need no old-version run
            "tests/test_hooks.py",
            "tests/test_attach_unit.py",
            "tests/test_attach_e2e.py",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-3000:]
    summary = run.stdout.strip().splitlines()[-1]
    skipped = re.search(r"(\d+) skipped", summary)
    assert " passed" in summary and (skipped is None or skipped.group(1) == "1"), run.stdout


@pytest.mark.parametrize(
    ("scope", "handshake"),
    [
        ({"type": "http", "method": "GET", "query_string": b"EIO=4&transport=polling"}, True),
        ({"type": "websocket", "query_string": b"EIO=4&transport=websocket"}, True),
        ({"type": "http", "method": "GET", "query_string": b"EIO=4&sid=abc"}, False),
        ({"type": "http", "method": "POST", "query_string": b"EIO=4&transport=polling"}, False),
        ({"type": "websocket", "query_string": b"EIO=4&transport=websocket&sid=abc"}, False),
        # only looks like a sid: no read ahead, the handshake reads its session itself
        ({"type": "http", "method": "GET", "query_string": b"EIO=4&xsid=1"}, False),
    ],
)
def test_what_is_read_ahead_is_what_python_engineio_takes_for_a_handshake(
    scope: dict[str, Any], handshake: bool
) -> None:
    server = engineio.AsyncServer(async_mode="asgi")
    read: list[Exchange] = []

    async def handled(scope: dict[str, Any], receive: Any, send: Any) -> None:
        return None

    async def read_ahead(exchange: Exchange) -> None:
        read.append(exchange)

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        return None

    server.handle_request = handled
    hooks.wrap_handle_request(server, None, read_ahead)
    asyncio.run(server.handle_request(dict(scope), receive, send))
    assert bool(read) is handshake


def test_an_asgi_exchange_sets_every_field_an_exchange_has() -> None:
    # _AsgiExchange sets Exchange's fields itself (no super().__init__ call per request)
    scope = {"type": "http", "headers": [(b"cookie", b"a=1")], "scheme": "https"}
    made = hooks._AsgiExchange(scope, None, None)
    plain = Exchange("a=1", secure=True)
    for field in Exchange.__slots__:
        assert getattr(made, field) == getattr(plain, field), field


def test_asgi_reads_ahead_before_the_server_sees_the_request() -> None:
    """Under ASGI the read-ahead is awaited before python-engineio handles a handshake (its
    connect handler then finds the exchange it filled), and not for a request with a sid."""
    server = engineio.AsyncServer(async_mode="asgi")
    order: list[str] = []
    scopes: list[dict[str, Any]] = []

    async def read_ahead(exchange: Exchange) -> None:
        order.append("read ahead " + str(exchange.cookie_header))
        await asyncio.sleep(0)
        exchange.loaded = ("id", (None, False))

    def connect(sid: str, environ: dict[str, Any]) -> None:
        exchange = hooks.current_exchange()
        assert exchange is not None and hooks.exchange_of(environ, None) is exchange
        order.append(f"connect {exchange.loaded}")
        scopes.append(environ["asgi.scope"])

    server.on("connect", connect)
    hooks.wrap_handle_request(server, None, read_ahead)
    app = engineio.ASGIApp(server)

    async def call(query: bytes, method: str = "GET") -> int:
        status: list[int] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        scope = {
            "type": "http",
            "method": method,
            "path": "/engine.io/",
            "query_string": query,
            "headers": [(b"cookie", b"a=1")],
        }
        await app(scope, receive, send)
        return status[0]

    assert asyncio.run(call(b"EIO=4&transport=polling")) == 200
    assert order == ["read ahead a=1", "connect ('id', (None, False))"]
    assert "engineio_session.exchange" not in scopes[0]  # not kept once the request ended
    assert asyncio.run(call(b"EIO=4&transport=polling&sid=unknown")) == 400
    assert len(order) == 2  # nothing read for it


def test_a_client_gone_during_the_read_ahead_leaves_the_request_as_it_came() -> None:
    """The request's first event is taken before the read-ahead waits, where python-engineio
    would take it at once. A client that closes meanwhile must not turn it into the
    ``http.disconnect`` a server's ``receive`` answers from then on: python-engineio's
    ``translate_request`` gives up on that and its ``handle_request`` raises KeyError
    (uvicorn logs "Exception in ASGI application" for each), so the wait would add
    tracebacks plain python-engineio does not have."""
    server = engineio.AsyncServer(async_mode="asgi")
    gone = False
    received: list[str] = []
    connected: list[str] = []

    async def read_ahead(exchange: Exchange) -> None:
        nonlocal gone
        await asyncio.sleep(0)
        gone = True  # the browser closed while the store was asked
        exchange.loaded = ("id", (None, False))

    server.on("connect", lambda sid, environ: connected.append(sid))
    hooks.wrap_handle_request(server, None, read_ahead)
    app = engineio.ASGIApp(server)

    async def receive() -> dict[str, Any]:  # as uvicorn's: a disconnect once the client left
        event = "http.disconnect" if gone else "http.request"
        received.append(event)
        return {"type": event, "body": b"", "more_body": False}

    async def call() -> list[int]:
        status: list[int] = []

        async def send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])

        scope = {
            "type": "http",
            "method": "GET",
            "path": "/engine.io/",
            "query_string": b"EIO=4&transport=polling",
            "headers": [(b"cookie", b"a=1")],
        }
        await app(scope, receive, send)
        return status

    assert asyncio.run(call()) == [200]  # the handshake python-engineio would have answered
    assert received == ["http.request"] and len(connected) == 1
