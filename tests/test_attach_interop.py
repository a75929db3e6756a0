"""attach() with a real Express app on the same store: the session Express made is the one
Python sees, and the other way round.

For each store (session-file-store files; Redis with connect-redis) one Express +
express-session app (node-fixtures/session-server.js) and one Python server
(tests.apps.serve: threading on the files, ASGI on Redis) share the sessions:

    e / s     Engine.IO / Socket.IO, the defaults      ec   Engine.IO, create=True
    ew / sw   Engine.IO / Socket.IO with watch=0.2 and reload=True
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session import get_session_id
from tests.apps.harness import SECRETS, Serve, client, node_clients, polling_handshake
from tests.node import require_node
from tests.node_session import NodeSessionServer
from tests.redis_target import RedisTarget

WATCH = 0.2


class Stack:
    def __init__(self, name: str, node: NodeSessionServer, python: Serve) -> None:
        self.name = name
        self.node = node
        self.python = python

    def login(self, **data: Any) -> tuple[str, str]:
        """POST /login on Express: (the cookie pair, the session id in it)."""
        pair = self.node.login(data)
        session_id = get_session_id(pair, secrets=SECRETS)
        assert session_id is not None
        return pair, session_id

    def express_session(self, cookie: str) -> dict[str, Any]:
        status, body, _ = self.node.request("GET", "/session", cookie=cookie)
        assert status == 200, body
        return body  # type: ignore[no-any-return]


@pytest.fixture(scope="module", params=["file", "redis"])
def stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Stack]:
    require_node()
    root = tmp_path_factory.mktemp(f"interop-{request.param}")
    redis_target = None
    if request.param == "file":
        node_store: dict[str, Any] = {"type": "file", "path": str(root / "sessions")}
        python_store = node_store
        mode = "threading"
    else:  # a prefix of its own, whose keys are deleted at the end
        redis_target = RedisTarget.of(request, "single", "attach-interop")
        node_store = python_store = redis_target.node_store()
        mode = "asgi"
    base = {"secret": SECRETS}
    live = {**base, "watch": WATCH, "reload": True}
    python = Serve(
        {
            "mode": mode,
            "store": python_store,
            "apps": {
                "e": {"kind": "engineio", "attach": base},
                "s": {"kind": "socketio", "attach": base},
                "ec": {"kind": "engineio", "attach": {**base, "create": True}},
                "ew": {"kind": "engineio", "attach": live},
                "sw": {"kind": "socketio", "attach": live},
            },
        },
        root / "serve.log",
    )
    node = NodeSessionServer({"store": node_store, "session": {"secret": SECRETS}})
    try:
        assert python.port
        yield Stack(request.param, node, python)
    finally:
        node.close()
        python.stop()
        if redis_target is not None:
            redis_target.close()


def test_express_login_reaches_python_and_node_clients(stack: Stack) -> None:
    cookie, session_id = stack.login(user="ada", role="admin")
    for kind, path, transport in (("engineio", "e", "polling"), ("socketio", "s", "websocket")):
        with client(kind, stack.python.url, path, transport, headers={"Cookie": cookie}) as c:
            hello = c.session()
            assert hello["id"] == session_id, kind
            assert hello["data"]["user"] == "ada" and hello["data"]["role"] == "admin", kind
    jobs = [
        {
            "name": f"{kind}-{transport}",
            "kind": kind,
            "url": stack.python.url,
            "path": f"/{kind[0]}/",
            "transport": transport,
            "cookie": cookie,
        }
        for kind in ("engineio", "socketio")
        for transport in ("polling", "websocket")
    ]
    for name, result in node_clients(jobs).items():
        assert result["state"] == "session", (name, result)
        assert result["session"]["id"] == session_id and result["session"]["data"]["user"] == "ada"


def test_express_recognises_a_session_python_created(stack: Stack) -> None:
    reply = polling_handshake(stack.python.port, "ec")
    (set_cookie,) = [c for c in reply.header("set-cookie") if c.startswith("connect.sid=")]
    cookie = set_cookie.split(";")[0]
    session_id = get_session_id(cookie, secrets=SECRETS)
    assert session_id is not None and reply.session_message()["id"] == session_id
    # Express loads it: had the store not held it, express-session would make a new id
    assert stack.express_session(cookie)["id"] == session_id
    with client("engineio", stack.python.url, "ec", "polling", headers={"Cookie": cookie}) as c:
        assert c.session()["id"] == session_id
        c.command("set", key="made_by", value="python")
    seen = stack.express_session(cookie)
    assert seen["id"] == session_id and seen["loaded"] and seen["session"]["made_by"] == "python"


def test_express_sees_a_change_saved_in_python(stack: Stack) -> None:
    cookie, session_id = stack.login(user="ada")
    with client("socketio", stack.python.url, "s", "websocket", headers={"Cookie": cookie}) as c:
        c.session()
        answer = c.command("set", key="cart", value=["book"])
        assert answer["data"]["data"]["cart"] == ["book"]
    seen = stack.express_session(cookie)
    assert seen["id"] == session_id and seen["session"]["cart"] == ["book"]
    assert seen["session"]["user"] == "ada"


def test_python_sees_an_express_update_with_reload(stack: Stack) -> None:
    cookie, _ = stack.login(user="ada", n=1)
    with client("socketio", stack.python.url, "sw", "polling", headers={"Cookie": cookie}) as c:
        assert c.session()["data"]["n"] == 1
        status, _, _ = stack.node.request("POST", "/update", cookie=cookie, body={"n": 2})
        assert status == 200
        assert c.command("get")["data"]["data"]["n"] == 2


@pytest.mark.parametrize(("kind", "path"), [("engineio", "ew"), ("socketio", "sw")])
def test_express_logout_closes_the_python_connection(stack: Stack, kind: str, path: str) -> None:
    cookie, _ = stack.login(user="ada")
    with client(kind, stack.python.url, path, "websocket", headers={"Cookie": cookie}) as c:
        c.session()
        started = time.monotonic()
        status, _, _ = stack.node.request("POST", "/logout", cookie=cookie)
        assert status == 200
        c.inbox.expect("disconnect", timeout=3)
        noticed = time.monotonic() - started
    assert noticed < 1.5, noticed  # watch=0.2: one interval and a store read
    # and the cookie no longer brings a session
    assert polling_handshake(stack.python.port, "e", cookie=cookie).session_message() is None


def test_no_secret_in_the_python_logs(stack: Stack) -> None:
    logs = Path(stack.python.log).read_text(errors="replace")
    for secret in SECRETS:
        assert secret not in logs
    assert "handler error" not in logs, logs
