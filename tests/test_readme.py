"""Every code block in README.md runs.

The Node app runs with node; each Python server runs on a free port beside it (or beside
connect-redis for the Redis one); a user logs in on the Node side and a real client
connects to the Python server with that cookie and gets its greeting. The shell blocks:
the make targets exist, the pip extra exists, and the command-line block runs as written
against the local Redis.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tomllib
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session import Session, get_session_id
from engineio_session.stores import FileStore
from tests.apps.harness import wait_for

from .net import free_port
from .node import FIXTURES, require_node
from .node_session import NodeSessionServer

ROOT = Path(__file__).resolve().parent.parent
SECRETS = ["new secret", "old secret"]  # the README's
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


#: README sections whose blocks a test of their own runs
OWN_TESTS = {
    "Sessions in the cookie": "tests/test_readme_cookie_session.py",
    "The Python web side": "tests/test_readme_web.py",
}


def sections() -> dict[str, str]:
    """The README's ``## `` sections by heading (the text before the first: "")."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    first, *parts = re.split(r"^## ", text, flags=re.M)
    found = {"": first}
    for part in parts:
        title, _, body = part.partition("\n")
        found[title.strip()] = body
    return found


def readme_section(title: str) -> str:
    """The README section whose heading starts with ``title``."""
    for heading, body in sections().items():
        if heading.startswith(title):
            return body
    raise AssertionError(f"no README section {title!r}")


def blocks(language: str) -> list[str]:
    """The README's ``language`` blocks, but those of the sections with tests of their own."""
    text = "".join(
        body
        for heading, body in sections().items()
        if not any(heading.startswith(title) for title in OWN_TESTS)
    )
    return [body for lang, body in BLOCK.findall(text) if lang == language]


def wait_for_port(port: int, process: subprocess.Popen[bytes]) -> None:
    def listening() -> bool:
        if process.poll() is not None:
            raise AssertionError(f"the README program exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
        except OSError:
            return False
        return True

    wait_for(listening, timeout=20, interval=0.1)


class Program:
    """A README block run as a program on a free port."""

    def __init__(self, command: list[str], env: dict[str, str], cwd: Path) -> None:
        self.port = free_port()
        self.process = subprocess.Popen(
            command, cwd=cwd, env={**os.environ, **env, "PORT": str(self.port)}
        )
        wait_for_port(self.port, self.process)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="module")
def sessions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("readme-sessions")


@pytest.fixture(scope="module")
def node_app(sessions_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Program]:
    require_node()
    (source,) = blocks("js")
    path = tmp_path_factory.mktemp("readme-node") / "app.js"
    path.write_text(source)
    env = {"SESSIONS": str(sessions_dir), "NODE_PATH": str(FIXTURES / "node_modules")}
    program = Program(["node", str(path)], env, FIXTURES)
    yield program
    program.stop()


def login(port: int, user: str) -> str:
    """POST /login on the README's own Node app (session-server.js has ``node.login``)."""
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/login",
        data=json.dumps({"user": user}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        header = response.headers["Set-Cookie"]
    return str(header).split(";", 1)[0]


def python_servers() -> list[str]:
    return [body for body in blocks("python") if 'if __name__ == "__main__":' in body]


def greeting(source: str, port: int, cookie: str, message_saved: Any) -> list[Any]:
    """Connect as a browser would, with the cookie: what the server says first (and, where
    the server has them, the answer to ``whoami``; a message it saves, once it has)."""
    received: list[Any] = []
    client: Any
    if "import socketio" in source:
        import socketio

        client = socketio.Client()
        client.on("hello", received.append)
    else:
        import engineio

        client = engineio.Client()
        client.on("message", received.append)
    client.connect(f"http://127.0.0.1:{port}", headers={"Cookie": cookie})
    try:
        wait_for(lambda: bool(received), timeout=10)
        if "whoami" in source:
            received.append(client.call("whoami", timeout=5))
        if "last_message" in source:
            client.send("hi from the test")
            wait_for(message_saved, timeout=10)
    finally:
        client.disconnect()
    return received


def test_the_readme_has_its_blocks() -> None:
    assert len(blocks("js")) == 1
    assert len(python_servers()) == 4
    assert len(blocks("sh")) == 3


@pytest.mark.parametrize("index", range(4))
def test_python_server_greets_the_node_user(
    index: int, node_app: Program, sessions_dir: Path, redis_url: str, tmp_path: Path
) -> None:
    source = python_servers()[index]
    path = tmp_path / "server.py"
    path.write_text(source)
    env = {"SESSIONS": str(sessions_dir), "REDIS_URL": redis_url}
    node = None
    if "RedisStore" in source:  # the Node side of that one: connect-redis
        node = NodeSessionServer(
            {
                "store": {"type": "redis", "url": redis_url},
                "session": {"secret": SECRETS},
            }
        )
        cookie = node.login({"user": "ada"})
    else:
        cookie = login(node_app.port, "ada")
    session_id = get_session_id(cookie, secrets=SECRETS)
    assert session_id is not None

    def message_saved() -> bool:
        saved = FileStore(sessions_dir).get(session_id)
        return saved is not None and saved.get("last_message") == "hi from the test"

    server = Program([sys.executable, str(path)], env, tmp_path)
    try:
        received = greeting(source, server.port, cookie, message_saved)
    finally:
        server.stop()
        if node is not None:
            node.close()
    if "import socketio" in source:
        assert received[0] == "ada"
        if "whoami" in source:
            assert received[1] == "ada"
    else:
        assert received[0] == "hello ada"
    if "last_message" in source:  # saved in the logged-in user's session, for Node to read
        saved = FileStore(sessions_dir).get(session_id)
        assert saved is not None and saved["last_message"] == "hi from the test"
        assert saved["user"] == "ada"


def test_make_targets_and_the_pip_extra_exist() -> None:
    commands, pip, _ = blocks("sh")
    for line in commands.splitlines():
        target = line.split("#")[0].split()
        assert target[0] == "make"
        subprocess.run(["make", "-n", *target[1:]], cwd=ROOT, check=True, capture_output=True)
    (install,) = [line for line in pip.splitlines() if line.startswith("pip install")]
    extra = re.search(r"\[(\w+)\]", install)
    assert extra is not None
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert extra.group(1) in project["optional-dependencies"]


def test_the_command_line_block_runs(redis_url: str) -> None:
    import redis

    from engineio_session.stores import RedisStore

    *_, commands = blocks("sh")
    sid = "Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ"
    store = RedisStore(redis.Redis.from_url(redis_url))
    session = Session.new(sid, max_age=60_000)
    session["user"] = "ada"
    store.set(sid, session)
    bin_dir = Path(sys.executable).parent
    try:
        result = subprocess.run(
            ["bash", "-e", "-c", commands],
            env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"},
            capture_output=True,
            text=True,
        )
    finally:
        store.destroy(sid)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"session id: {sid}" in result.stdout
    assert '"user": "ada"' in result.stdout
