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
import queue
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from engineio_session import Session, serialize_cookie, sign

ROOT = Path(__file__).resolve().parents[2]
#: what every app is attached with: rotation, sign with the first, accept both
SECRETS = ["new secret", "old secret"]
START_TIMEOUT = 30.0  # seconds for a server to print its port (2 cores, 5 at once)
TIMEOUT = 5.0  # seconds for one answer from a server


# --- server processes ----------------------------------------------------------------------


class Serve:
    """One ``python -m tests.apps.serve <config>`` process; stderr goes to a log file."""

    def __init__(self, config: dict[str, Any], log: Path | None = None) -> None:
        self.config = config
        self.log = log or Path(tempfile.mkstemp(prefix="serve-", suffix=".log")[1])
        self._log_file = open(self.log, "wb")  # noqa: SIM115 (closed in stop())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.apps.serve", json.dumps(config)],
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log_file,
            text=True,
        )
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            assert self.process.stdout is not None
            ready: list[str] = []
            reader = threading.Thread(
                target=lambda: ready.append(self.process.stdout.readline()),  # type: ignore[union-attr]
                daemon=True,
            )
            reader.start()
            reader.join(START_TIMEOUT)
            if not ready or not ready[0]:
                self.stop()
                raise RuntimeError(f"tests.apps.serve did not start:\n{self.logs()}")
            self._port = int(json.loads(ready[0])["port"])
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def logs(self) -> str:
        if not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.kill()  # serves until killed; nothing to shut down gracefully
            try:
                self.process.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self._log_file.close()


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
    """What a client received, in order, as ``(kind, payload)``."""

    def __init__(self) -> None:
        self.items: queue.Queue[tuple[str, Any]] = queue.Queue()
        self.seen: list[tuple[str, Any]] = []

    def put(self, kind: str, payload: Any = None) -> None:
        self.items.put((kind, payload))

    def expect(self, kind: str, timeout: float = TIMEOUT, match: Any = None) -> Any:
        """The next item of ``kind`` (and matching), skipping others (kept in ``seen``)."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            try:
                item = self.items.get(timeout=max(left, 0.001))
            except queue.Empty:
                raise AssertionError(f"no {kind!r} within {timeout} s; got {self.seen}") from None
            self.seen.append(item)
            if item[0] == kind and (match is None or match(item[1])):
                return item[1]

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.seen]


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
        self.client.on("message", lambda data: self.inbox.put("message", _json(data)))
        self.client.on("disconnect", lambda *reason: self.inbox.put("disconnect", reason))
        self.client.connect(url, transports=[transport], engineio_path=path, **connect)

    def session(self) -> Any:
        return self.inbox.expect("message", match=lambda m: _event(m) == "session")

    def command(self, cmd: str, **arguments: Any) -> Any:
        self.client.send(json.dumps({"cmd": cmd, **arguments}))
        return self.inbox.expect("message", match=lambda m: _event(m) == cmd)

    def messages(self) -> list[Any]:
        return [payload for kind, payload in self.inbox.seen if kind == "message"]

    def close(self) -> None:
        close_later(self.client)


class SocketIOClient:
    """python-socketio's ``socketio.Client`` on an app of tests.apps.serve."""

    def __init__(self, url: str, path: str, transport: str, **connect: Any) -> None:
        import socketio

        self.inbox = Inbox()
        self.client = socketio.Client(reconnection=False, request_timeout=TIMEOUT)
        for event in ("session", "forged", "caught"):
            self.client.on(event, lambda payload=None, _e=event: self.inbox.put(_e, payload))
        self.client.on("disconnect", lambda *reason: self.inbox.put("disconnect", reason))
        connect.setdefault("wait_timeout", TIMEOUT)
        self.client.connect(url, transports=[transport], socketio_path=path, **connect)

    def session(self) -> Any:
        return self.inbox.expect("session")

    def command(self, cmd: str, **arguments: Any) -> Any:
        answer = self.client.call(cmd, arguments or None, timeout=TIMEOUT)
        self.inbox.seen.append((cmd, answer))
        return answer

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
def client(kind: str, url: str, path: str, transport: str, **connect: Any) -> Iterator[Any]:
    """A connected Python client of ``kind``; closed (without waiting) at the end."""
    cls = EngineIOClient if kind == "engineio" else SocketIOClient
    connected = cls(url, path, transport, **connect)
    try:
        yield connected
    finally:
        connected.close()


# --- Node's clients ------------------------------------------------------------------------


def node_clients(node: str, jobs: list[dict[str, Any]], timeout: float = 30.0) -> dict[str, Any]:
    """Run node-fixtures/clients.js on ``jobs`` (all at once); the result of each by name."""
    done = subprocess.run(
        [node, str(ROOT / "node-fixtures" / "clients.js"), json.dumps(jobs)],
        cwd=ROOT / "node-fixtures",
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr
    results = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    return {result["name"]: result for result in results}
