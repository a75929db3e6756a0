"""Every block of the README's cookie-session section ("Sessions in the cookie") runs: the
Express app with the real cookie-session, the Python block on the cookie it sets, Node
reading what the Python block writes, and the command line as written."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

from .node import FIXTURES, require_node
from .test_readme import Program, readme_section

ROOT = Path(__file__).resolve().parent.parent
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```", re.S | re.M)


SECTION = "Sessions in the cookie"


def blocks(language: str) -> list[str]:
    return [body for lang, body in BLOCK.findall(readme_section(SECTION)) if lang == language]


def call(port: int, method: str, path: str, *, cookie: str = "", body: Any = None) -> Any:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json", "Cookie": cookie},
        method=method,
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read()), response.headers.get_all("Set-Cookie") or []


def pairs(set_cookie: list[str]) -> str:
    return "; ".join(value.split(";", 1)[0] for value in set_cookie)


def test_node_and_python_blocks_share_the_session(tmp_path: Path) -> None:
    require_node()
    (js,) = blocks("js")
    (python,) = blocks("python")
    app = tmp_path / "app.js"
    app.write_text(js)
    node = Program(["node", str(app)], {"NODE_PATH": str(FIXTURES / "node_modules")}, FIXTURES)
    try:
        _, set_cookie = call(node.port, "POST", "/login", body={"user": "ada"})
        script = tmp_path / "read.py"
        script.write_text(python)
        done = subprocess.run(
            [sys.executable, str(script)],
            env={**os.environ, "COOKIE": pairs(set_cookie)},
            capture_output=True,
            text=True,
            check=True,
        )
        lines = done.stdout.splitlines()
        assert lines[0] == "{'user': 'ada'}"
        written = [line.removeprefix("Set-Cookie: ") for line in lines[1:]]
        assert len(written) == 2 and written[1].startswith("session.sig=")
        answer, _ = call(node.port, "GET", "/me", cookie=pairs(written))
        assert answer == {"session": {"user": "ada", "seen": True}, "isNew": False}
    finally:
        node.stop()


def test_the_command_line_block_runs_as_written() -> None:
    (shell,) = blocks("sh")
    argv = shlex.split(shell.strip())
    assert argv[0] == "engineio-session"
    script = Path(sys.executable).parent / "engineio-session"
    done = subprocess.run([str(script), *argv[1:]], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "verified with key #1 of 1" in done.stdout and '"user": "ada"' in done.stdout


def test_the_options_it_names_are_the_constructor_s() -> None:
    import inspect

    from engineio_session import CookieSession

    text = readme_section(SECTION)
    sentence = text[text.index("The cookie options are") :].split(".\n")[0]
    named = set(re.findall(r"`([a-z_]+)(?:=[^`]*)?`", sentence))
    parameters = set(inspect.signature(CookieSession).parameters) - {"keys"}
    assert named == parameters
