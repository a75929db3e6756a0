"""Drive node-fixtures/session-server.js: a real Express app on a real Node store::

config = {"store": {"type": "redis", "url": "redis://127.0.0.1:6379"},
          "session": {"secret": ["s"]}}
with NodeSessionServer(config) as node:
    cookie = node.login({"user": "ada"})    # POST /login: the connect.sid=... pair
    node.call("get", sid=sid)               # connect-redis get(), from Node
"""

from __future__ import annotations

import http.client
import json
import threading
from typing import Any

from . import wire
from .node import FIXTURES, command
from .procs import PortProcess


class NodeError(RuntimeError):
    """The Node side answered a control command with an error."""


class NodeSessionServer(PortProcess):
    """One ``node session-server.js`` process: HTTP on ``self.port``, control over stdin;
    ``close()`` ends stdin, and it exits."""

    def __init__(self, config: dict[str, Any]) -> None:
        super().__init__(
            "session-server.js", command("session-server.js", json.dumps(config)), cwd=FIXTURES
        )
        self.config = config
        self.cookie_name: str = config.get("session", {}).get("name", "connect.sid")
        self._lock = threading.Lock()
        self._next_id = 0
        assert self.port  # started, or raised

    # --- control channel: the store's own API, from Node --------------------------------------

    def call(self, op: str, **arguments: Any) -> Any:
        """Run ``op`` on the Node store (get, set, touch, destroy, all, ids, list, length,
        clear, raw, ttl, now, roundtrip-generate, deep-equal) and return its result."""
        assert self.process.stdin is not None and self.process.stdout is not None
        with self._lock:
            self._next_id += 1
            message = {"id": self._next_id, "op": op, **wire.encode(arguments)}
            self.process.stdin.write(json.dumps(message) + "\n")
            self.process.stdin.flush()
            line = self.process.stdout.readline()
        if not line:
            raise RuntimeError("session-server.js exited")
        reply = json.loads(line)
        if reply.get("id") != message["id"]:
            raise RuntimeError(f"out of order reply {reply!r}")
        if "error" in reply:
            raise NodeError(reply["error"])
        return wire.decode(reply["result"])

    # --- HTTP: what a browser does -------------------------------------------------------------

    def request(
        self, method: str, path: str, *, cookie: str | None = None, body: Any = None
    ) -> tuple[int, dict[str, Any], str | None]:
        """(status, JSON body, the ``name=value`` pair of a Set-Cookie for our cookie, if any)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        if cookie:
            headers["Cookie"] = cookie
        payload = None if body is None else json.dumps(body)
        connection.request(method, path, body=payload, headers=headers)
        response = connection.getresponse()
        data = json.loads(response.read() or b"null")
        set_cookie = None
        for header in response.headers.get_all("Set-Cookie") or []:
            # by name, not with SimpleCookie: it rejects a header with `Partitioned`
            pair = header.split(";", 1)[0]
            if pair.split("=", 1)[0].strip() == self.cookie_name:
                set_cookie = pair
        connection.close()
        return response.status, data, set_cookie

    def set_cookie_headers(self, method: str, path: str, cookie: str | None = None) -> list[str]:
        """The raw Set-Cookie headers of a request (for attribute checks)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        connection.request(
            method,
            path,
            body="{}",
            headers={"Content-Type": "application/json", **({"Cookie": cookie} if cookie else {})},
        )
        response = connection.getresponse()
        response.read()
        connection.close()
        return response.headers.get_all("Set-Cookie") or []

    def login(self, data: dict[str, Any]) -> str:
        """POST /login with ``data``; the ``connect.sid=...`` pair Express set."""
        status, _, cookie = self.request("POST", "/login", body=data)
        assert status == 200 and cookie is not None, (status, cookie)
        return cookie

    def close(self) -> None:
        self.stop()
