"""attach() on real python-engineio / python-socketio servers in this process, no network:
``Driver`` drives one through its own WSGI (threading) or ASGI entry point; ``Recording`` and
``Failing`` are stores that list the calls made to them (a real FileStore underneath) or fail
every one. Used by tests/test_attach_unit.py and tests/test_watch_notify.py.
"""

from __future__ import annotations

import asyncio
import io
import json
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import engineio
import socketio

from engineio_session import StoreError, attach
from engineio_session.stores import AsyncFileStore, FileStore
from tests.apps.harness import SECRETS, wait_for

# --- a recording store ----------------------------------------------------------------------

#: the store contract (stores/base.py)
CONTRACT = ("get", "get_many", "set", "update", "replace", "touch", "destroy")


def _key(first: Any) -> Any:
    return tuple(first) if isinstance(first, list) else first


class Recording:
    """A real FileStore that lists the calls made to it (``calls``: (method, sid), or
    (``"get_many"``, the tuple of sids))."""

    def __init__(self, store: FileStore) -> None:
        self.inner = store
        self.calls: list[tuple[str, Any]] = []

    def _call(self, method: str, first: Any, *rest: Any) -> Any:
        self.calls.append((method, _key(first)))
        return getattr(self.inner, method)(first, *rest)


class AsyncRecording(Recording):
    """The same around an AsyncFileStore (its methods coroutine functions)."""

    async def _acall(self, method: str, first: Any, *rest: Any) -> Any:
        self.calls.append((method, _key(first)))
        return await getattr(self.inner, method)(first, *rest)


class Failing:
    """A store whose every call fails as a store does when its server is gone."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, Any]] = []

    def _call(self, method: str, first: Any, *rest: Any) -> Any:
        self.calls.append((method, _key(first)))
        raise StoreError("FailingStore", ConnectionRefusedError(111, "Connection refused"))


class AsyncFailing(Failing):
    async def _acall(self, method: str, first: Any, *rest: Any) -> Any:
        return self._call(method, first, *rest)


def _methods() -> None:
    """Give the recording and failing stores every method of the contract: plain functions
    on the sync ones, coroutine functions on the async ones (as attach() checks)."""

    def sync(name: str) -> Callable[..., Any]:
        def method(self: Any, first: Any, *rest: Any) -> Any:
            return self._call(name, first, *rest)

        return method

    def asynchronous(name: str) -> Callable[..., Any]:
        async def method(self: Any, first: Any, *rest: Any) -> Any:
            return await self._acall(name, first, *rest)

        return method

    for name in CONTRACT:
        for cls in (Recording, Failing):
            setattr(cls, name, sync(name))
        for cls in (AsyncRecording, AsyncFailing):
            setattr(cls, name, asynchronous(name))


_methods()


# --- driving a server in process --------------------------------------------------------------


class Response:
    def __init__(self, status: int, headers: list[tuple[str, str]], body: str) -> None:
        self.status = status
        self.headers = headers
        self.body = body
        self.packets = body.split("\x1e") if status == 200 and body else []

    def header(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k.lower() == name.lower()]

    @property
    def sid(self) -> str:
        assert self.packets and self.packets[0][0] == "0", self.body
        sid: str = json.loads(self.packets[0][1:])["sid"]
        return sid


class Driver:
    """One server of ``kind`` with attach() applied, sync (WSGI) or async (ASGI)."""

    def __init__(
        self,
        is_async: bool,
        kind: str,
        directory: Path,
        *,
        store: Any = None,
        before: Callable[[Any], None] | None = None,
        server_options: dict[str, Any] | None = None,
        plain: bool = False,
        **attach_options: Any,
    ) -> None:
        """``plain=True``: no attach(), the server as python-engineio/-socketio make it."""
        self.is_async = is_async
        self.kind = kind
        self.files = FileStore(directory)  # the same directory, for the test to look at
        if store is None:
            store = AsyncRecording(AsyncFileStore(directory)) if is_async else Recording(self.files)
        self.store = store
        options: dict[str, Any] = {
            "async_mode": "asgi" if is_async else "threading",
            "ping_interval": 5,
            "ping_timeout": 5,
            **(server_options or {}),
        }
        if kind == "engineio":
            self.server: Any = (engineio.AsyncServer if is_async else engineio.Server)(
                async_handlers=False, **options
            )
            self.eio = self.server
            self.path = "/engine.io/"
        else:
            self.server = (socketio.AsyncServer if is_async else socketio.Server)(
                async_handlers=False, **options
            )
            self.eio = self.server.eio
            self.path = "/socket.io/"
        if before is not None:
            before(self.server)
        attach_options.setdefault("secret", SECRETS)
        self.handle: Any = None if plain else attach(self.server, store=store, **attach_options)
        self.loop: asyncio.AbstractEventLoop | None = None
        if is_async:
            self.loop = asyncio.new_event_loop()
            threading.Thread(target=self.loop.run_forever, daemon=True).start()
            wrapper = engineio.ASGIApp if kind == "engineio" else socketio.ASGIApp
            self.asgi = wrapper(self.server)

    def close(self) -> None:
        if self.loop is not None:
            asyncio.run_coroutine_threadsafe(self._cancel_tasks(), self.loop).result(10)
            self.loop.call_soon_threadsafe(self.loop.stop)

    @staticmethod
    async def _cancel_tasks() -> None:
        tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def run(self, value: Any) -> Any:
        """Await ``value`` on the server's loop (async), or return it (sync)."""
        if self.loop is None or not asyncio.iscoroutine(value):
            return value
        return asyncio.run_coroutine_threadsafe(value, self.loop).result(10)

    # HTTP, as a client sends it

    def request(
        self,
        method: str,
        query: str,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
    ) -> Response:
        headers = dict(headers or {})
        if body:
            headers["Content-Length"] = str(len(body))
        if self.loop is None:
            return self._wsgi(method, query, headers, body)
        return self.run(self._asgi(method, query, headers, body))  # type: ignore[no-any-return]

    def _wsgi(self, method: str, query: str, headers: dict[str, str], body: bytes) -> Response:
        environ: dict[str, Any] = {
            "REQUEST_METHOD": method,
            "PATH_INFO": self.path,
            "QUERY_STRING": query,
            "CONTENT_LENGTH": str(len(body)),
            "wsgi.input": io.BytesIO(body),
            "wsgi.url_scheme": "http",
            "SERVER_NAME": "127.0.0.1",
            "SERVER_PORT": "80",
        }
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        started: list[Any] = []

        def start_response(status: str, response_headers: list[tuple[str, str]]) -> None:
            started.append((int(status.split()[0]), response_headers))

        chunks = self.server.handle_request(environ, start_response)
        text = b"".join(chunks).decode()
        return Response(started[0][0], started[0][1], text)

    async def _asgi(
        self, method: str, query: str, headers: dict[str, str], body: bytes
    ) -> Response:
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": self.path,
            "raw_path": self.path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": [
                (k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()
            ],
            "client": ("127.0.0.1", 5000),
            "server": ("127.0.0.1", 80),
        }
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await self.asgi(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        text = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
        response_headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in start["headers"]]
        return Response(start["status"], response_headers, text.decode())

    # Engine.IO over polling

    def handshake(
        self, cookie: str | None = None, headers: dict[str, str] | None = None, query: str = ""
    ) -> Response:
        sent = dict(headers or {})
        if cookie is not None:
            sent["Cookie"] = cookie
        return self.request("GET", "EIO=4&transport=polling" + query, sent)

    def post(self, sid: str, *packets: str) -> None:
        body = "\x1e".join(packets).encode()
        reply = self.request("POST", f"EIO=4&transport=polling&sid={sid}", body=body)
        assert reply.status == 200, reply.body

    def poll(self, sid: str) -> list[str]:
        reply = self.request("GET", f"EIO=4&transport=polling&sid={sid}")
        assert reply.status == 200, reply.body
        return reply.packets

    def close_connection(self, sid: str) -> None:
        self.post(sid, "1")

    def drain(self, sid: str) -> list[str]:
        """Poll until the server has closed the connection; every packet that came.

        python-engineio refuses a GET once the socket is marked closed (400), so the last
        packets reach only a GET that was already waiting, as a real client's long poll is.
        """
        packets: list[str] = []
        while True:
            try:
                reply = self.request("GET", f"EIO=4&transport=polling&sid={sid}")
            except KeyError:  # python-engineio < 4.10 raises instead of answering 400
                wait_for(lambda: sid not in self.eio.sockets)
                return packets
            packets += reply.packets
            if reply.status != 200 or "1" in reply.packets:
                wait_for(lambda: sid not in self.eio.sockets)
                return packets

    # Socket.IO over it

    def sio_connect(
        self, cookie: str | None = None, namespace: str = "/", auth: Any = None, **handshake: Any
    ) -> tuple[str, list[str]]:
        """Handshake, then CONNECT ``namespace``: (eio sid, the packets that came back)."""
        eio_sid = self.handshake(cookie, **handshake).sid
        return eio_sid, self.sio_join(eio_sid, namespace, auth)

    def sio_join(self, eio_sid: str, namespace: str = "/", auth: Any = None) -> list[str]:
        prefix = "" if namespace == "/" else namespace + ","
        self.post(eio_sid, "40" + prefix + ("" if auth is None else json.dumps(auth)))
        return self.poll(eio_sid)

    def sio_call(self, eio_sid: str, event: str, *args: Any) -> Any:
        """Emit with an ack; the ack's arguments (what came before it is dropped)."""
        self.post(eio_sid, "421" + json.dumps([event, *args]))
        for packet in self.poll(eio_sid):
            if packet.startswith("431"):
                return json.loads(packet[3:])
        raise AssertionError("no ack")
