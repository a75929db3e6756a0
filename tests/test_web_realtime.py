"""HTTP routes and Socket.IO in one Python app share the Express user's session.

- ASGI: one engineio_session.asgi.SessionMiddleware wraps a Starlette app that mounts a
  ``socketio.ASGIApp`` whose server has ``attach()`` on the same AsyncRedisStore (uvicorn).
- Flask + Flask-SocketIO (``manage_session=False``) with ExpressSessionInterface and
  ``attach(socketio.server, ...)``, served in threading mode (werkzeug), eventlet and gevent.

Express (node-fixtures/web-server.js) logs the user in; the Python route changes the
session; Node's own socket.io-client (node-fixtures/clients.js) gets the ``session`` event
with what both wrote; a change made over the socket is seen by the route and by Express.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.apps.harness import SocketIOClient, close_later, node_clients
from tests.node import require_node
from tests.redis_target import RedisTarget
from tests.web_sites import MOUNTS, NodeWeb, PythonWeb, Site, session_id_of

#: the Python servers: (server, framework, store of its root app)
SERVERS = {
    "asgi": ("asgi", "starlette", "redis"),
    "flask-threading": ("threading", "flask", "redis"),
    "flask-eventlet": ("eventlet", "flask", "file"),
    "flask-gevent": ("gevent", "flask", "redis"),
}


@dataclass
class Stack:
    node: NodeWeb
    pythons: dict[str, PythonWeb]
    redis: RedisTarget

    def route(self, name: str) -> Site:
        """The root app of Python server ``name`` (its routes at /session, /update, ...)."""
        _, framework, store = SERVERS[name]
        return Site(framework, self.pythons[name].port, "", self.express(store))

    def express(self, store: str) -> Site:
        return self.node.site("/plain" if store == "redis" else "/file")


@pytest.fixture(scope="module")
def stack(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    require_node()
    root = tmp_path_factory.mktemp("web-realtime")
    redis = RedisTarget("web-realtime", url=redis_url)
    stores = {
        "redis": {"type": "redis", "url": redis_url, "prefix": redis.prefix},
        "file": {"type": "file", "path": str(root / "sessions")},
    }
    started: list[Any] = []
    try:
        node = NodeWeb(stores, log=root / "node.log")
        started.append(node)
        pythons = {}
        for name, (server, framework, store) in SERVERS.items():
            app = {
                "mount": "",
                "framework": framework,
                "store": store,
                "options": MOUNTS["/plain"][1],
                "socketio": True,
            }
            pythons[name] = PythonWeb(server, stores, [app], log=root / f"{name}.log")
            started.append(pythons[name])
        for process in started:
            assert process.port
        yield Stack(node, pythons, redis)
    finally:
        for process in started:
            process.stop()
        redis.close()


def socketio_job(name: str, site: Site, cookie: str | None, transport: str) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "socketio",
        "url": f"http://127.0.0.1:{site.port}",
        "path": "/socket.io/",
        "transport": transport,
        "cookie": cookie,
        "timeout_ms": 8000,
    }


def data_of(session: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in session.items() if k not in ("cookie", "__lastAccess")}


@pytest.mark.parametrize("name", list(SERVERS))
def test_the_route_and_the_socket_see_one_session(stack: Stack, name: str) -> None:
    route = stack.route(name)
    express = route.express()
    login = express.post("/update", {"user": "ada"})
    pair, sid = login.cookie, session_id_of(login.cookie)
    assert pair is not None and sid is not None
    changed = route.post("/update", {"theme": "dark"}, cookie=pair)
    assert changed.status == 200, changed
    # a session a Python route made, with no cookie from Express
    made = route.post("/update", {"user": "grace"})
    assert made.cookie is not None

    results = node_clients(
        [
            socketio_job("polling", route, pair, "polling"),
            socketio_job("websocket", route, pair, "websocket"),
            socketio_job("made", route, made.cookie, "websocket"),
            socketio_job("none", route, None, "polling"),
        ]
    )
    for transport in ("polling", "websocket"):
        result = results[transport]
        assert result["state"] == "session", result
        payload = result["session"]
        assert payload["id"] == sid
        assert data_of(payload["data"]) == {"user": "ada", "theme": "dark"}
        if "flask" in payload:  # flask.session in the Flask-SocketIO handler: the same
            assert data_of(payload["flask"]) == {"user": "ada", "theme": "dark"}
        assert result["get"]["id"] == sid
    assert results["made"]["state"] == "session", results["made"]
    assert data_of(results["made"]["session"]["data"]) == {"user": "grace"}
    assert results["none"]["state"] == "no-session", results["none"]

    # a change over the socket: the route and Express see it
    client = SocketIOClient(
        f"http://127.0.0.1:{route.port}", "socket.io", "websocket", headers={"Cookie": pair}
    )
    try:
        client.session()
        answer = client.command("set", key="lang", value="fr")
        assert data_of(answer["data"]["data"]) == {"user": "ada", "theme": "dark", "lang": "fr"}
        if route.side == "flask":  # flask.session changed in an event: Flask-SocketIO saves it
            assert client.command("flask_set", key="seen", value=True) == {"ok": True}
    finally:
        close_later(client.client)
    expected = {"user": "ada", "theme": "dark", "lang": "fr"}
    if route.side == "flask":
        expected["seen"] = True
    assert data_of(route.get("/session", cookie=pair).body["session"]) == expected
    assert data_of(express.get("/session", cookie=pair).body["session"]) == expected


def test_the_asgi_middleware_leaves_the_realtime_paths_to_attach(stack: Stack) -> None:
    """The handshake of the mounted Socket.IO app goes through the middleware untouched: no
    store call (a touch would reset the TTL), no Set-Cookie of its own."""
    route = stack.route("asgi")
    login = route.express().post("/update", {"user": "ada"})
    sid = session_id_of(login.cookie)
    assert sid is not None
    key = stack.redis.key(sid)
    stack.redis.raw.expire(key, 100)
    result = node_clients([socketio_job("polling", route, login.cookie, "polling")])["polling"]
    assert result["state"] == "session" and result["session"]["id"] == sid
    assert 0 < stack.redis.raw.ttl(key) <= 100
    # the same app's HTTP route does touch it
    assert route.get("/session", cookie=login.cookie).body["id"] == sid
    assert stack.redis.raw.ttl(key) > 3000
