"""The python-engineio / python-socketio internals that src/engineio_session/_compat.py
relies on, pinned; and attach's tests run against the oldest releases pyproject.toml allows.

The pins run in whatever versions are installed. ``test_oldest_declared_versions`` builds
(once, cached in ``.venv-oldest/``, rebuilt when pyproject.toml changes) an environment
where python-engineio 4.9.0 and python-socketio 5.11.0 shadow the current ones, and runs
tests/test_attach_unit.py, these pins and the threading + ASGI part of
tests/test_attach_e2e.py in it.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import inspect
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

ROOT = Path(__file__).resolve().parent.parent
OLDEST = {"python-engineio": "4.9.0", "python-socketio": "5.11.0"}
OLDEST_VENV = ROOT / ".venv-oldest"
IN_OLDEST = os.environ.get("ENGINEIO_SESSION_OLDEST") == "1"


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
    server = engineio.Server(async_mode="threading")
    assert type(server.handlers) is dict
    assert {"connect", "disconnect", "message"} <= set(server.event_names)
    with pytest.raises(ValueError):
        server.on("session", print)  # not a name on() takes, until attach adds it

    def handler(sid: str, environ: dict[str, Any]) -> None: ...

    server.on("connect", handler)
    assert server.handlers["connect"] is handler  # on() writes the dict, nothing else
    seen: list[str] = []
    server.handlers = {"connect": lambda sid, environ: seen.append(sid)}  # a new dict...
    server._trigger_event("connect", "abc", {}, run_async=False)
    assert seen == ["abc"]  # ...is what the next dispatch reads


def test_engineio_connect_rule() -> None:
    """None or True accepts; anything else (False, a dict) rejects with 401."""
    for result, status in ((None, 200), (True, 200), (False, 401), ({"reason": "x"}, 401)):
        server = engineio.Server(async_mode="threading")
        assert _handshake(server, lambda sid, environ, r=result: r) == status, result


def test_engineio_async_server_awaits_only_coroutine_functions() -> None:
    source = inspect.getsource(engineio.AsyncServer._trigger_event)
    assert "iscoroutinefunction(self.handlers[event])" in source


def test_engineio_dispatches_only_its_own_events() -> None:
    """Nothing a client sends can make python-engineio fire ``session``."""
    import engineio.async_server
    import engineio.async_socket
    import engineio.server
    import engineio.socket

    modules = (engineio.server, engineio.socket, engineio.async_server, engineio.async_socket)
    source = "".join(inspect.getsource(module) for module in modules)
    fired = set(re.findall(r"_trigger_event\(\s*'(\w+)'", source))
    assert fired == {"connect", "message", "disconnect"}, fired


def test_engineio_handle_request_is_looked_up_per_request() -> None:
    import engineio.middleware

    assert "self.engineio_app.handle_request(" in inspect.getsource(engineio.middleware)
    assert "self.eio.handle_request(" in inspect.getsource(socketio.Server.handle_request)


def test_engineio_asgi_driver_reads_send_from_the_environ() -> None:
    from engineio.async_drivers import asgi

    source = inspect.getsource(asgi)
    assert "environ['asgi.send']" in source
    assert "'asgi.scope': scope" in source and "'asgi.send': send" in source
    assert "websocket.accept" in source


def test_aiohttp_prepare_hook() -> None:
    from aiohttp import web_request, web_response
    from aiohttp.test_utils import make_mocked_request

    request = make_mocked_request("GET", "/")
    assert hasattr(request, "_prepare_hook")
    assert "await request._prepare_hook(self)" in inspect.getsource(web_response.StreamResponse)
    assert hasattr(web_request.BaseRequest, "_prepare_hook")

    from engineio.async_drivers import aiohttp as driver

    assert "'aiohttp.request': request" in inspect.getsource(driver)


def test_engineio_async_socket_close_leaves_its_websocket_writer_waiting() -> None:
    """What _compat.async_disconnect works around, and the attributes it uses: the sync
    socket queues the None that ends its websocket writer on close, the asyncio one does
    not; both have ``upgraded`` and a ``queue``."""
    from engineio import async_socket
    from engineio import socket as sync_socket

    assert "self.queue.put(None)" in inspect.getsource(sync_socket.Socket.close)
    assert "queue.put" not in inspect.getsource(async_socket.AsyncSocket.close)
    for cls in (sync_socket.Socket, async_socket.AsyncSocket):
        init = inspect.getsource(cls.__init__) + inspect.getsource(cls.__mro__[1].__init__)
        assert "self.upgraded = False" in init and "self.queue" in init, cls


# --- python-socketio ----------------------------------------------------------------------


@pytest.mark.parametrize("server_class", [socketio.Server, socketio.AsyncServer])
def test_socketio_internals(server_class: Any) -> None:
    is_async = server_class is socketio.AsyncServer
    sio = server_class(async_mode="asgi" if is_async else "threading")
    expected = {
        "_handle_connect": ["eio_sid", "namespace", "data"],
        "_handle_event": ["eio_sid", "namespace", "id", "data"],
        "_trigger_event": ["event", "namespace", "args"],
        "_send_packet": ["eio_sid", "pkt"],
    }
    for name, parameters in expected.items():
        method = getattr(sio, name)
        assert list(inspect.signature(method).parameters) == parameters, name
        assert inspect.iscoroutinefunction(method) == is_async, name
    # every CONNECT and EVENT goes through them, looked up on the instance
    message = inspect.getsource(server_class._handle_eio_message)
    assert "self._handle_connect(" in message and "self._handle_event(" in message
    assert "self.packet_class(encoded_packet=data)" in message
    event = inspect.getsource(server_class._handle_event_internal)
    assert "_trigger_event(data[0], namespace, sid, *data[1:])" in event
    assert isinstance(sio.environ, dict) and sio.packet_class is not None
    for name in ("sid_from_eio_sid", "eio_sid_from_sid", "get_namespaces", "is_connected"):
        assert callable(getattr(sio.manager, name)), name
    assert sio.eio.async_handlers is False  # Socket.IO events reach _handle_event in order
    assert sio.eio.handlers["connect"] == sio._handle_eio_connect
    connect = inspect.getsource(server_class._handle_eio_connect)
    assert "self.environ[eio_sid] = environ" in connect


def test_socketio_client_events_reach_reserved_handlers() -> None:
    """Why attach drops client events named connect/disconnect/session: python-socketio
    dispatches an explicit handler for any name, reserved or not."""
    source = inspect.getsource(socketio.base_server.BaseServer._get_event_handler)
    assert "if event in self.handlers[namespace]:" in source


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
            "tests/test_compat.py",
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
