"""Every block of the README section "The Python web side" runs as written: the Express
app with node, each Python program beside it (FastAPI + python-socketio on Redis, Flask +
Flask-SocketIO on the session-file-store directory), and a user goes
through both: Express logs in, the Python route sees the user and changes the session,
Express sees the change, the Socket.IO client gets the same session, a session made by a
Python route is accepted by Express, a Python logout logs out on Express."""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from engineio_session import get_session_id
from engineio_session.stores import FileStore
from tests.apps.harness import close_later, wait_for
from tests.web_sites import Reply, cookie_attributes, request

from .node import FIXTURES, require_node
from .test_readme import Program, readme_section

BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)
SECRETS = ["new secret", "old secret"]


def blocks(language: str) -> list[str]:
    text = readme_section("The Python web side")
    return [body for lang, body in BLOCK.findall(text) if lang == language]


def program(source: str) -> str:
    """The Python program of the doc whose source contains ``source``."""
    (found,) = [body for body in blocks("python") if source in body]
    return found


def test_the_doc_has_its_blocks() -> None:
    assert len(blocks("js")) == 1
    assert len(blocks("python")) == 2
    assert all('if __name__ == "__main__":' in body for body in blocks("python"))


class Stack:
    """The doc's Express app and one of its Python programs, side by side."""

    def __init__(self, tmp: Path, python: str, env: dict[str, str]) -> None:
        require_node()
        (js,) = blocks("js")
        (tmp / "app.js").write_text(js)
        (tmp / "server.py").write_text(python)
        self.node = Program(
            ["node", str(tmp / "app.js")],
            {**env, "NODE_PATH": str(FIXTURES / "node_modules")},
            FIXTURES,
        )
        try:
            self.python = Program([sys.executable, str(tmp / "server.py")], env, tmp)
        except BaseException:
            self.node.stop()
            raise
        self.ids: list[str] = []
        self.express_cookie = ""  # the Set-Cookie of Express's last login

    def express(self, method: str, path: str, **options: Any) -> Reply:
        return request(self.node.port, method, path, **options)

    def route(self, method: str, path: str, **options: Any) -> Reply:
        return request(self.python.port, method, path, **options)

    def login(self, user: str) -> tuple[str, str]:
        reply = self.express("POST", "/login", body={"user": user})
        sid = get_session_id(reply.cookie or "", secrets=SECRETS)
        assert reply.cookie is not None and sid is not None, reply
        self.ids.append(sid)
        self.express_cookie = reply.set_cookies[0]
        return reply.cookie, sid

    def same_cookie_as_express(self, made: Reply) -> bool:
        """Whether the Set-Cookie of a session a Python route made has the attributes of
        Express's (the doc gives the Python side the Express app's cookie options)."""
        (header,) = made.set_cookies
        return cookie_attributes(header)[0] == cookie_attributes(self.express_cookie)[0]

    def hello(self, cookie: str, then: str | None = None) -> Any:
        """What the Python Socket.IO server says first to a client with ``cookie`` (which
        then emits ``then``, if given)."""
        import socketio

        received: list[Any] = []
        client = socketio.Client(reconnection=False)
        client.on("hello", received.append)
        client.connect(f"http://127.0.0.1:{self.python.port}", headers={"Cookie": cookie})
        try:
            wait_for(lambda: received, timeout=10)
            if then is not None:
                client.call(then, timeout=10)  # answered once the handler returned
        finally:
            close_later(client)  # a polling client's disconnect waits for its pending GET
        return received[0]

    def stop(self) -> None:
        self.python.stop()
        self.node.stop()


@pytest.fixture
def fastapi_stack(redis_url: str, tmp_path: Path) -> Iterator[Stack]:
    stack = Stack(tmp_path, program("FastAPI"), {"REDIS_URL": redis_url})
    yield stack
    stack.stop()
    client = redis.Redis.from_url(redis_url)
    for sid in stack.ids:  # the doc's programs use connect-redis's default prefix
        client.delete(f"sess:{sid}")
    client.close()


@pytest.fixture
def flask_stack(tmp_path: Path) -> Iterator[Stack]:
    sessions = tmp_path / "sessions"
    stack = Stack(tmp_path, program("Flask"), {"SESSIONS": str(sessions)})
    yield stack
    stack.stop()


def test_fastapi_and_python_socketio_beside_express_on_redis(fastapi_stack: Stack) -> None:
    stack = fastapi_stack
    pair, _ = stack.login("ada")
    assert stack.route("GET", "/me", cookie=pair).body == {"user": "ada", "theme": None}
    assert stack.route("POST", "/theme/dark", cookie=pair).body == {"theme": "dark"}
    assert stack.express("GET", "/me", cookie=pair).body == {"user": "ada", "theme": "dark"}
    assert stack.hello(pair) == {"user": "ada", "theme": "dark"}
    # a session the Python route makes: Express takes its cookie
    made = stack.route("POST", "/theme/light")
    assert made.cookie is not None and stack.same_cookie_as_express(made)
    stack.ids.append(get_session_id(made.cookie, secrets=SECRETS) or "")
    assert stack.express("GET", "/me", cookie=made.cookie).body == {"user": None, "theme": "light"}
    # a Python logout is a logout on Express
    assert stack.route("POST", "/logout", cookie=pair).body == {"ok": True}
    assert stack.express("GET", "/me", cookie=pair).body == {"user": None, "theme": None}


def test_flask_and_flask_socketio_beside_express_on_files(
    flask_stack: Stack, tmp_path: Path
) -> None:
    stack = flask_stack
    pair, sid = stack.login("ada")
    assert stack.route("GET", "/me", cookie=pair).body == {"user": "ada", "theme": None}
    assert stack.route("POST", "/theme/dark", cookie=pair).body == {"theme": "dark"}
    assert stack.express("GET", "/me", cookie=pair).body == {"user": "ada", "theme": "dark"}
    assert stack.hello(pair, then="seen") == {"user": "ada", "theme": "dark"}
    store = FileStore(tmp_path / "sessions")

    def seen() -> bool:
        session = store.get(sid)
        return session is not None and session.get("seen_over_the_socket") is True

    wait_for(seen, timeout=10)
    assert stack.express("GET", "/me", cookie=pair).body == {"user": "ada", "theme": "dark"}
    made = stack.route("POST", "/theme/light")
    assert made.cookie is not None and stack.same_cookie_as_express(made)
    assert stack.express("GET", "/me", cookie=made.cookie).body == {"user": None, "theme": "light"}
