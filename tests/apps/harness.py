"""Driving ``tests.apps.serve`` from the attach tests: processes, cookies, raw handshakes,
the Python clients and Node's clients (node-fixtures/clients.js).

Everything here talks to real servers over real sockets; the raw handshakes exist to read
what a client library hides (a Set-Cookie header, a 401, a 101 followed by a close).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engineio_session import Session, serialize_cookie, sign
from tests.node import run_json
from tests.procs import PortProcess

ROOT = Path(__file__).resolve().parents[2]
#: what every app is attached with: rotation, sign with the first, accept both
SECRETS = ["new secret", "old secret"]
START_TIMEOUT = 30.0  # seconds for a server to print its port (2 cores, 5 at once)
TIMEOUT = 5.0  # seconds for one answer from a server


# --- server processes ----------------------------------------------------------------------


class Serve(PortProcess):
    """One ``python -m tests.apps.serve <config>`` process; stderr goes to ``log``. It serves
    until killed (nothing to shut down gracefully): ``stop()`` kills it."""

    def __init__(self, config: dict[str, Any], log: Path) -> None:
        self.config = config
        command = [sys.executable, "-m", "tests.apps.serve", json.dumps(config)]
        super().__init__(
            "tests.apps.serve", command, cwd=ROOT, log=log, kill=True, start_timeout=START_TIMEOUT
        )


# --- sessions and cookies ------------------------------------------------------------------


def cookie_pair(session_id: str, secret: str = SECRETS[0], name: str = "connect.sid") -> str:
    """``connect.sid=s%3A<id>.<mac>`` as a browser sends it back."""
    return serialize_cookie(name, "s:" + sign(session_id, secret)).split(";")[0]


def signed_value(session_id: str, secret: str = SECRETS[0]) -> str:
    """``s:<id>.<mac>``: what ``header=`` and ``auth_key=`` take."""
    return "s:" + sign(session_id, secret)


def saved_session(store: Any, **data: Any) -> Session:
    """A session as express-session would store it (one hour), saved in ``store``."""
    session = Session.new(max_age=3_600_000)
    session.update(data)
    store.set(session.id, session)
    return session


def wait_for(condition: Any, timeout: float = TIMEOUT, interval: float = 0.02) -> Any:
    """Poll ``condition()`` until it is truthy; its value, or AssertionError at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {condition}")
        time.sleep(interval)


# --- raw handshakes ------------------------------------------------------------------------


@dataclass
class Reply:
    """A handshake's answer: status, headers (name lower-cased) and Engine.IO packets."""

    status: int
    headers: list[tuple[str, str]]
    packets: list[tuple[str, str]] = field(default_factory=list)
    closed: bool = False  # websocket: the server sent a close frame (or hung up) first

    def header(self, name: str) -> list[str]:
        return [value for key, value in self.headers if key == name.lower()]

    def messages(self) -> list[Any]:
        """The MESSAGE packets, JSON-decoded where they are JSON."""
        found = []
        for kind, data in self.packets:
            if kind == "4":
                try:
                    found.append(json.loads(data))
                except ValueError:
                    found.append(data)
        return found

    def session_message(self) -> Any:
        for message in self.messages():
            if isinstance(message, dict) and message.get("event") == "session":
                return message
        return None


def _headers(cookie: str | None, headers: dict[str, str] | None) -> dict[str, str]:
    sent = dict(headers or {})
    if cookie is not None:
        sent["Cookie"] = cookie
    return sent


def polling_handshake(
    port: int,
    path: str,
    *,
    cookie: str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    raw_headers: list[tuple[str, str]] | None = None,
) -> Reply:
    """GET ``/<path>/?EIO=4&transport=polling``: the handshake of every polling client."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    try:
        connection.putrequest("GET", f"/{path}/?EIO=4&transport=polling{query}")
        for name, value in [*_headers(cookie, headers).items(), *(raw_headers or [])]:
            connection.putheader(name, value)
        connection.endheaders()
        response = connection.getresponse()
        body = response.read().decode("utf-8", "replace")
        headers_out = [(key.lower(), value) for key, value in response.getheaders()]
    finally:
        connection.close()
    packets = [(p[:1], p[1:]) for p in body.split("\x1e")] if response.status == 200 else []
    return Reply(response.status, headers_out, packets)


def _read_frame(sock: socket.socket, reader: Any) -> tuple[int, bytes] | None:
    head = reader.read(2)
    if len(head) < 2:
        return None
    opcode, length = head[0] & 0x0F, head[1] & 0x7F
    if length == 126:
        length = struct.unpack("!H", reader.read(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", reader.read(8))[0]
    return opcode, reader.read(length)


def _frame(text: str) -> bytes:
    payload = text.encode()
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    assert len(payload) < 126
    return bytes([0x81, 0x80 | len(payload)]) + mask + masked


def websocket_handshake(
    port: int,
    path: str,
    *,
    cookie: str | None = None,
    headers: dict[str, str] | None = None,
    query: str = "",
    send: str | None = None,
    until: str | None = None,
) -> Reply:
    """A websocket-only handshake (``transport=websocket`` on the first request), by hand.

    After a 101 it reads frames until the server's OPEN packet; with ``send`` it sends that
    text frame next and reads until a packet containing ``until`` (or a close).
    """
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET /{path}/?EIO=4&transport=websocket{query} HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *(f"{name}: {value}" for name, value in _headers(cookie, headers).items()),
    ]
    with socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT) as sock:
        sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
        reader = sock.makefile("rb")
        status_line = reader.readline().decode("latin-1")
        status = int(status_line.split()[1])
        headers_out = []
        while True:
            line = reader.readline().decode("latin-1").rstrip("\r\n")
            if not line:
                break
            name, _, value = line.partition(":")
            headers_out.append((name.strip().lower(), value.strip()))
        reply = Reply(status, headers_out)
        if status != 101:
            return reply
        opened = False
        while True:
            try:
                frame = _read_frame(sock, reader)
            except OSError:
                frame = None
            if frame is None or frame[0] == 0x8:
                reply.closed = True
                return reply
            text = frame[1].decode("utf-8", "replace")
            reply.packets.append((text[:1], text[1:]))
            if not opened and text[:1] == "0":
                opened = True
                if send is None:
                    return reply
                sock.sendall(_frame(send))
            elif until is not None and until in text:
                return reply


# --- the Python clients --------------------------------------------------------------------


class Inbox:
    """What a client received, in order, as ``(kind, payload)``.

    ``expect`` takes the next item of a kind; ``kinds`` lists everything received, taken or
    not, once the client has handled every message that has come (``busy``).
    """

    def __init__(self) -> None:
        self.received: list[tuple[str, Any]] = []
        self._taken = 0  # received[:_taken] have been looked at by expect()
        self._changed = threading.Condition()
        #: whether the client is still handling a message that came (set by the client)
        self.busy: Any = lambda: False

    def put(self, kind: str, payload: Any = None) -> None:
        with self._changed:
            self.received.append((kind, payload))
            self._changed.notify_all()

    def expect(self, kind: str, timeout: float = TIMEOUT, match: Any = None) -> Any:
        """The next item of ``kind`` (and matching), skipping others (they stay listed)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                while self._taken < len(self.received):
                    item = self.received[self._taken]
                    self._taken += 1
                    if item[0] == kind and (match is None or match(item[1])):
                        return item[1]
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no {kind!r} within {timeout} s; got {self.received}")
                self._changed.wait(left)

    def kinds(self) -> list[str]:
        """The kind of everything received so far, taken by ``expect`` or not."""
        wait_for(lambda: not self.busy(), interval=0.002)
        with self._changed:
            return [kind for kind, _ in self.received]


def _count_message_handlers(eio_client: Any, inbox: Inbox) -> None:
    """python-engineio's client runs each message's handler in a thread of its own, so a
    message that came before an answer may still be on its way to the inbox when the answer
    is. Count the handlers started and not yet done: ``inbox.busy()`` while any runs."""
    start = eio_client.start_background_task
    running = [0]
    lock = threading.Lock()

    def finish(target: Any, *args: Any) -> Any:
        try:
            return target(*args)
        finally:
            with lock:
                running[0] -= 1

    def start_counted(target: Any, *args: Any, **kwargs: Any) -> Any:
        if target != eio_client.handlers.get("message"):
            return start(target, *args, **kwargs)
        with lock:
            running[0] += 1
        return start(finish, target, *args, **kwargs)

    eio_client.start_background_task = start_counted
    inbox.busy = lambda: running[0] > 0


def close_later(client: Any) -> None:
    """Disconnect without waiting: a python-engineio polling client's disconnect() waits for
    its pending GET, which the server holds until its ping timeout (seconds). The CLOSE
    packet itself goes out at once."""
    threading.Thread(target=client.disconnect, daemon=True).start()


class EngineIOClient:
    """python-engineio's ``engineio.Client`` on an app of tests.apps.serve."""

    def __init__(self, url: str, path: str, transport: str, **connect: Any) -> None:
        import engineio

        self.inbox = Inbox()
        self.client = engineio.Client(request_timeout=TIMEOUT)
        _count_message_handlers(self.client, self.inbox)
        self.client.on("message", lambda data: self.inbox.put("message", _json(data)))
        self.client.on("disconnect", lambda *reason: self.inbox.put("disconnect", reason))
        self.client.connect(url, transports=[transport], engineio_path=path, **connect)

    def session(self) -> Any:
        return self.inbox.expect("message", match=lambda m: _event(m) == "session")

    def command(self, cmd: str, **arguments: Any) -> Any:
        self.client.send(json.dumps({"cmd": cmd, **arguments}))
        return self.inbox.expect("message", match=lambda m: _event(m) == cmd)

    def close(self) -> None:
        close_later(self.client)


class SocketIOClient:
    """python-socketio's ``socketio.Client`` on an app of tests.apps.serve."""

    def __init__(self, url: str, path: str, transport: str, **connect: Any) -> None:
        import socketio

        self.inbox = Inbox()
        self.client = socketio.Client(reconnection=False, request_timeout=TIMEOUT)
        _count_message_handlers(self.client.eio, self.inbox)
        for event in ("session", "forged", "caught", "to_session"):
            self.client.on(event, lambda payload=None, _e=event: self.inbox.put(_e, payload))
        self.client.on("disconnect", lambda *reason: self.inbox.put("disconnect", reason))
        connect.setdefault("wait_timeout", TIMEOUT)
        self.client.connect(url, transports=[transport], socketio_path=path, **connect)

    def session(self) -> Any:
        return self.inbox.expect("session")

    def command(self, cmd: str, **arguments: Any) -> Any:
        return self.client.call(cmd, arguments or None, timeout=TIMEOUT)

    def close(self) -> None:
        close_later(self.client)


def _json(data: Any) -> Any:
    if isinstance(data, str):
        try:
            return json.loads(data)
        except ValueError:
            return data
    return data  # python-engineio decodes a JSON message itself


def _event(message: Any) -> Any:
    return message.get("event") if isinstance(message, dict) else None


@contextmanager
def client(
    kind: str, url: str, path: str, transport: str, *, cookie: str | None = None, **connect: Any
) -> Iterator[Any]:
    """A connected Python client of ``kind`` (sending ``cookie`` as its Cookie header, if
    given); closed (without waiting) at the end."""
    cls = EngineIOClient if kind == "engineio" else SocketIOClient
    if cookie is not None:
        connect["headers"] = {**connect.get("headers", {}), "Cookie": cookie}
    connected = cls(url, path, transport, **connect)
    try:
        yield connected
    finally:
        connected.close()


# --- Node's clients ------------------------------------------------------------------------


def node_clients(jobs: list[dict[str, Any]], timeout: float = 30.0) -> dict[str, Any]:
    """Run node-fixtures/clients.js on ``jobs`` (all at once); the result of each by name."""
    return {result["name"]: result for result in run_json("clients.js", jobs, timeout=timeout)}
