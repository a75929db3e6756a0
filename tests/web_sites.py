"""The Express app and the Python web apps of tests/test_web_*.py, side by side.

node-fixtures/web-server.js mounts one express-session configuration per path (``/plain``,
``/roll``, ...); ``python -m tests.apps.web`` mounts the Python middleware with the same
options at the same paths, on the same stores. A :class:`Site` is one of those mounts, Node's
or Python's, with the same routes, so a test runs one request sequence on each and compares
what it sees::

    node = NodeWeb(stores, secret=SECRETS)
    python = PythonWeb("asgi", stores, apps=[...], log=tmp / "asgi.log")
    for site in (node.site("/roll"), python.site("/roll")):
        reply = site.get("/session", cookie=pair)
        reply.cookie       # the connect.sid pair of its Set-Cookie, or None
"""

from __future__ import annotations

import email.utils
import http.client
import json
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engineio_session import get_session_id
from tests import wire
from tests.node import FIXTURES, command
from tests.procs import PortProcess

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ["new secret", "old secret"]
NAME = "connect.sid"
HOUR = 3_600_000

#: every configuration: (store name, express-session's options in snake_case); the same
#: path on both sides. Python-only mounts (FastAPI, bare WSGI) take the options of the
#: Node mount they are compared with (PYTHON_ONLY).
MOUNTS: dict[str, tuple[str, dict[str, Any]]] = {
    "/plain": ("redis", {"cookie": {"max_age": HOUR}}),
    "/file": ("file", {"cookie": {"max_age": HOUR}}),
    "/roll": ("redis", {"cookie": {"max_age": HOUR}, "rolling": True}),
    "/resave": ("redis", {"cookie": {"max_age": HOUR}, "resave": True}),
    "/uninit": ("redis", {"cookie": {"max_age": HOUR}, "save_uninitialized": True}),
    "/unset": ("redis", {"cookie": {"max_age": HOUR}, "unset": "destroy"}),
    "/browser": ("redis", {}),  # no max_age: a browser-session cookie, no Expires
    "/attrs": (
        "redis",
        {
            "cookie": {
                "max_age": 2 * HOUR,
                "same_site": "strict",
                "priority": "high",
                "partitioned": True,
                "http_only": False,
                "domain": "example.test",
                "path": "/",
            }
        },
    ),
    "/proxy": ("redis", {"cookie": {"max_age": HOUR, "secure": True}, "proxy": True}),
    "/noproxy": ("redis", {"cookie": {"max_age": HOUR, "secure": True}, "proxy": False}),
    "/auto": (
        "redis",
        {"cookie": {"max_age": HOUR, "secure": "auto", "same_site": "auto"}, "proxy": True},
    ),
    "/scoped": ("redis", {"cookie": {"path": "/scoped/inner"}}),
}
#: Python mount -> the Node mount it is compared with
PYTHON_ONLY = {"/fastapi": "/plain", "/wsgi": "/plain", "/wsgi-unset": "/unset"}

_CAMEL = {
    "max_age": "maxAge",
    "same_site": "sameSite",
    "http_only": "httpOnly",
    "save_uninitialized": "saveUninitialized",
}


def node_options(options: dict[str, Any]) -> dict[str, Any]:
    """express-session's own option names (camelCase) for snake_case ``options``."""
    out: dict[str, Any] = {}
    for key, value in options.items():
        if isinstance(value, dict):
            value = node_options(value)
        out[_CAMEL.get(key, key)] = value
    return out


# --- HTTP ----------------------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: Any
    set_cookies: list[str]

    @property
    def cookie(self) -> str | None:
        """The ``connect.sid=...`` pair of its Set-Cookie, or None."""
        for header in self.set_cookies:
            pair = header.split(";", 1)[0]
            if pair.split("=", 1)[0].strip() == NAME:
                return pair
        return None


def request(
    port: int,
    method: str,
    path: str,
    *,
    cookie: str | None = None,
    body: Any = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    sent = {"Content-Type": "application/json", **(headers or {})}
    if cookie:
        sent["Cookie"] = cookie
    payload = None if body is None and method == "GET" else json.dumps(body or {})
    try:
        connection.request(method, path, body=payload, headers=sent)
        response = connection.getresponse()
        raw = response.read()
    finally:
        connection.close()
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        data = raw.decode("utf-8", "replace")
    return Reply(response.status, data, response.headers.get_all("Set-Cookie") or [])


@dataclass
class Site:
    """One mount of one app: ``site.get("/session")`` is GET <mount>/session."""

    side: str  # "node" or the Python framework
    port: int
    mount: str
    #: the Node site of the same configuration, on the same store (logins are made there)
    node: Site | None = None

    def __str__(self) -> str:
        return f"{self.side}{self.mount}"

    def url(self, route: str) -> str:
        return f"http://127.0.0.1:{self.port}{self.mount}{route}"

    def get(self, route: str, **options: Any) -> Reply:
        return request(self.port, "GET", self.mount + route, **options)

    def post(self, route: str, body: Any = None, **options: Any) -> Reply:
        return request(self.port, "POST", self.mount + route, body=body, **options)

    def express(self) -> Site:
        """The Node site on the same store as this one."""
        return self if self.node is None else self.node


def session_id_of(pair: str | None) -> str | None:
    return None if pair is None else get_session_id(pair, secrets=SECRETS)


def cookie_attributes(header: str) -> tuple[list[str], float | None]:
    """A Set-Cookie header's attributes in order, the value and the Expires date left out
    (the name kept), and the Expires date in Unix seconds (None: no Expires)."""
    pair, *attributes = header.split("; ")
    kept = [pair.split("=", 1)[0] + "=<value>"]
    expires = None
    for attribute in attributes:
        if attribute.lower().startswith("expires="):
            expires = email.utils.parsedate_to_datetime(attribute.split("=", 1)[1]).timestamp()
            kept.append("Expires=<date>")
        else:
            kept.append(attribute)
    return kept, expires


# --- the processes -------------------------------------------------------------------------


class NodeWeb(PortProcess):
    """``node web-server.js``: every MOUNTS configuration on ``stores`` (lib/store.js
    configs by name); ``get(store, sid)`` is the Node store's own get."""

    def __init__(self, stores: dict[str, dict[str, Any]], log: Path | None = None) -> None:
        mounts = {
            path: {"store": store, "session": node_options(options)}
            for path, (store, options) in MOUNTS.items()
        }
        config = {"stores": stores, "mounts": mounts, "secret": SECRETS}
        super().__init__(
            "web-server.js", command("web-server.js", json.dumps(config)), cwd=FIXTURES, log=log
        )
        self._lock = threading.Lock()
        self._next = 0

    def site(self, mount: str) -> Site:
        return Site("node", self.port, mount)

    def get(self, store: str, sid: str) -> Any:
        """The session the Node store (connect-redis, session-file-store) holds, as JSON."""
        return self._control("get", store, sid)

    def _control(self, op: str, store: str, sid: str) -> Any:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        with self._lock:
            self._next += 1
            stdin.write(json.dumps({"id": self._next, "op": op, "store": store, "sid": sid}) + "\n")
            stdin.flush()
            reply = json.loads(stdout.readline())
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return wire.decode(reply["result"])


class PythonWeb(PortProcess):
    """``python -m tests.apps.web``: ``apps`` (see its docstring) in one ``server`` process;
    it serves until killed."""

    def __init__(
        self,
        server: str,
        stores: dict[str, dict[str, Any]],
        apps: list[dict[str, Any]],
        log: Path,
    ) -> None:
        config = {"server": server, "stores": stores, "secret": SECRETS, "apps": apps}
        command_line = [sys.executable, "-m", "tests.apps.web", json.dumps(config)]
        super().__init__(f"tests.apps.web ({server})", command_line, cwd=ROOT, log=log, kill=True)
        self.server = server

    def site(self, side: str, mount: str, node: NodeWeb) -> Site:
        return Site(side, self.port, mount, node.site(PYTHON_ONLY.get(mount, mount)))


def python_apps(framework: str, *, socketio: bool = False) -> list[dict[str, Any]]:
    """Every MOUNTS configuration as a ``framework`` app, plus a root app on the redis store
    (with Socket.IO when asked)."""
    apps = [
        {"mount": mount, "framework": framework, "store": store, "options": options}
        for mount, (store, options) in MOUNTS.items()
    ]
    root = {"mount": "", "framework": framework, "store": "redis", "options": MOUNTS["/plain"][1]}
    return [*apps, {**root, "socketio": socketio}]
