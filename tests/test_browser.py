"""A real browser: log in to an Express app, then connect to the Python server on another port.

Headless Chromium (Debian's ``chromium``, driven by playwright-core from
node-fixtures/browser-test.js) opens the page of node-fixtures/browser-app.js (express-session
on session-file-store), logs in through its form, and the page's engine.io or socket.io client
connects to ``python -m tests.apps.serve`` (ASGI, ``attach`` on a FileStore of the same
directory). The page shows the message Python sends on ``session``: ``hello <user>``.

For that to work, what users need must be right: the page (http://127.0.0.1:A) and the Python
server (http://127.0.0.1:B) are same-site, so the HttpOnly SameSite=Lax cookie goes along; the
cross-origin polling requests carry it only with ``withCredentials`` and only if Python answers
CORS with credentials for the page's origin. The Python server runs with ``required=True``, so
a page with no session (before login, after logout) is refused, which shows that the cookie,
not luck, let the logged-in page in. Under CI (``CI=true``) a missing Chromium is a failure.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from .apps.harness import Serve
from .node import FIXTURES, command, run_json
from .procs import PortProcess
from .services import require_service

CHROMIUM = "/usr/bin/chromium"
SECRET = ["browser secret", "older secret"]
START_TIMEOUT = 20.0  # seconds for a server to print its port
BROWSER_TIMEOUT = 60.0  # seconds for one browser-test.js run (each step waits at most 10 s)
SESSION_ID = re.compile(r"^[A-Za-z0-9_-]{32}$")  # uid-safe(24)


def require_chromium() -> str:
    """Debian's chromium and playwright-core, or fail (CI) / skip."""
    if not os.access(CHROMIUM, os.X_OK):
        require_service("Chromium", f"{CHROMIUM} is missing (apt-get install -y chromium)")
    if not (FIXTURES / "node_modules" / "playwright-core").is_dir():
        require_service("playwright-core", "node-fixtures/node_modules is stale (make install)")
    return CHROMIUM


@pytest.fixture(scope="module")
def store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The session-file-store directory Express writes and Python reads."""
    return tmp_path_factory.mktemp("browser-sessions")


@pytest.fixture(scope="module")
def express(store_dir: Path) -> Iterator[PortProcess]:
    """browser-app.js on session-file-store in ``store_dir``; it exits when its stdin closes."""
    config = {
        "store": {"type": "file", "path": str(store_dir)},
        "session": {"secret": SECRET, "cookie": {"sameSite": "lax"}},
    }
    app = command("browser-app.js", json.dumps(config))  # or skip: no node
    require_chromium()
    with PortProcess(
        "browser-app.js",
        app,
        cwd=FIXTURES,
        log=store_dir.parent / "browser-app.log",
        start_timeout=START_TIMEOUT,
    ) as server:
        assert server.port
        yield server


@pytest.fixture(scope="module")
def python_server(express: PortProcess, store_dir: Path) -> Iterator[Callable[[str], Serve]]:
    """``python_server(kind)``: the ASGI server of that kind, started once per module. It is
    killed at the end: uvicorn's graceful shutdown would wait for a long-poll GET that the
    browser abandoned (engineio answers it only at the next ping, 25 s later)."""
    servers: dict[str, Serve] = {}

    def start(kind: str) -> Serve:
        if kind not in servers:
            config = {
                "mode": "asgi",
                "kind": kind,
                "store": {"type": "file", "path": str(store_dir)},
                "attach": {"secret": SECRET, "required": True},
                "cors": [express.url],
            }
            servers[kind] = Serve(config, store_dir.parent / f"serve-{kind}.log")
            assert servers[kind].port
        return servers[kind]

    yield start
    for server in servers.values():
        server.stop()


def run_browser(url: str, user: str, screenshot: Path) -> dict[str, Any]:
    """Run node-fixtures/browser-test.js: visit ``url``, log in as ``user``, log out."""
    config = {
        "url": url,
        "user": user,
        "steps": ["visit", "login", "logout"],
        "timeout_ms": 10000,
        "screenshot": str(screenshot),
        "executable": require_chromium(),
    }
    result: dict[str, Any] = run_json("browser-test.js", config, timeout=BROWSER_TIMEOUT)
    return result


# case: (server kind, page transport, page withCredentials)
CASES = {
    "engineio-polling": ("engineio", "polling", True),
    "engineio-websocket": ("engineio", "websocket", True),
    "socketio-upgrade": ("socketio", "default", True),
    "engineio-polling-no-credentials": ("engineio", "polling", False),
}
# the transport the page's session message came on
TRANSPORTS = {
    "polling": {"polling"},
    "websocket": {"websocket"},
    "default": {"polling", "websocket"},
}


@pytest.mark.parametrize("case", list(CASES))
def test_browser_page_shows_the_python_message(
    case: str,
    express: PortProcess,
    python_server: Callable[[str], Serve],
    store_dir: Path,
    tmp_path: Path,
) -> None:
    kind, transport, credentials = CASES[case]
    python = python_server(kind)
    user = "ada " + case.replace("-", " ")
    url = f"{express.url}/?server={python.url}&transport={transport}&kind={kind}"
    if not credentials:
        url += "&credentials=0"
    result = run_browser(url, user, tmp_path / case)
    steps = {step["step"]: step for step in result["steps"]}
    about = json.dumps(result, indent=1) + "\n" + express.tail() + "\n" + python.tail()
    assert list(steps) == ["visit", "login", "logout"], about

    # no session yet: required=True refuses the handshake (on polling, a 401 with the CORS
    # headers, so the page can read the status)
    visit = steps["visit"]
    assert visit["state"] == "error" and visit["logged_in"] == "no", about
    if transport == "polling":
        assert json.loads(visit["detail"])["description"] == "401", about

    login = steps["login"]
    cookie = {c["name"]: c for c in login["cookies"]}.get("connect.sid")
    assert cookie is not None and login["logged_in"] == "yes", about
    assert cookie["httpOnly"] and cookie["sameSite"] == "Lax" and cookie["domain"] == "127.0.0.1"
    assert login["document_cookie"] == "", about  # HttpOnly: sent, never seen by the page
    if not credentials:
        # a cross-origin XHR without withCredentials sends no cookie: refused like a stranger
        assert login["state"] == "error", about
        assert json.loads(login["detail"])["description"] == "401", about
        return
    assert (login["state"], login["status"]) == ("session", f"hello {user}"), about
    shown = json.loads(login["detail"])
    assert shown["data"]["user"] == user and SESSION_ID.match(shown["id"]), about
    assert shown["transport"] in TRANSPORTS[transport], about

    # logout destroys the session file; the browser keeps the (validly signed) cookie, and
    # Python refuses it because the store no longer has the session
    logout = steps["logout"]
    assert logout["state"] == "error" and logout["logged_in"] == "no", about
    assert "connect.sid" in {c["name"] for c in logout["cookies"]}, about
    assert not (store_dir / f"{shown['id']}.json").exists(), about
    assert result["page_errors"] == [], about
