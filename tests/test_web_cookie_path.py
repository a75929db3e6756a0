"""The cookie's ``path`` decides whether a request has a session at all, as in
express-session: the request's path as the client sent it (percent-escapes kept, up to the
``?``; ``parseUrl.original(req).pathname``) must start with the cookie's path. Node's answers
come from the real middleware (node-fixtures/lib/answers.js ``sessionPath``), for the
request target a client sent; the Python side gets that target as an ASGI server and a WSGI
server hand it over (ASGI ``raw_path`` and the decoded ``path``; werkzeug's and gunicorn's
raw URI beside the decoded ``PATH_INFO``) and as servers without the raw target do.
"""

from __future__ import annotations

import random
from typing import Any
from urllib.parse import unquote_to_bytes

import pytest

from engineio_session import asgi, sign, wsgi
from engineio_session.drive import steps
from engineio_session.http_session import HttpSessionOptions, Request, RequestCycle

from . import node

SECRET = "path secret"
COOKIE = "connect.sid=" + ("s%3A" + sign("abc", SECRET)).replace("+", "%2B").replace("/", "%2F")

HAND_PICKED = [
    ("/a/inner/x", "/a/inner"),
    ("/a/inner", "/a/inner"),
    ("/a/inne", "/a/inner"),
    ("/a/%69nner/x", "/a/inner"),  # an escaped letter: the decoded path would match
    ("/a/inner%2Fx", "/a/inner"),
    ("/caf%C3%A9/x", "/caf\u00e9"),  # Node compares the escapes with the cookie's path
    ("/caf%C3%A9/x", "/caf%C3%A9"),
    ("/caf\u00c3\u00a9/x", "/caf\u00c3\u00a9"),  # raw UTF-8 bytes, read as latin-1
    ("/a/inner?x=1", "/a/inner"),
    ("/a?/inner", "/a/inner"),
    ("/A/inner", "/a/inner"),
    ("/", "/"),
    ("/x", "/"),
    ("//a/inner", "/a/inner"),
]


class _Store:
    def get(self, sid: str) -> Any:
        return None


def reaches_the_store(request: Request, cookie_path: str) -> bool:
    """Whether the request cycle reads the session for ``request``: it asks the store."""
    options = HttpSessionOptions(secret=SECRET, cookie={"path": cookie_path})
    cycle = RequestCycle(options, _Store(), request)
    return len(steps(cycle.begin(), lambda call: None)) > 0


def asgi_scope(target: str, *, raw: bool) -> dict[str, Any]:
    """The scope of a request for ``target`` (latin-1 text, as Node reads the request line),
    as uvicorn builds it: ``raw_path`` the bytes before ``?``, ``path`` those unescaped."""
    raw_path = target.split("?", 1)[0].encode("latin-1")
    scope: dict[str, Any] = {
        "type": "http",
        "path": unquote_to_bytes(raw_path).decode("utf-8", "replace"),
        "headers": [(b"cookie", COOKIE.encode())],
    }
    if raw:
        scope["raw_path"] = raw_path
    return scope


def wsgi_environ(target: str, *, raw: bool) -> dict[str, Any]:
    """The environ werkzeug builds for ``target``: PATH_INFO the unescaped bytes as latin-1
    (PEP 3333), REQUEST_URI the target itself."""
    raw_path = target.split("?", 1)[0].encode("latin-1")
    environ: dict[str, Any] = {
        "PATH_INFO": unquote_to_bytes(raw_path).decode("latin-1"),
        "SCRIPT_NAME": "",
        "HTTP_COOKIE": COOKIE,
    }
    if raw:
        environ["REQUEST_URI"] = target
    return environ


def random_cases(count: int, seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pieces = ["a", "b", "inner", "%69", "%2F", "%C3%A9", "\u00e9", "/", "%", "?", "~", "%7E"]
    cases = []
    for _ in range(count):
        path = "/" + "".join(rng.choice([*pieces[:6], "/"]) for _ in range(rng.randint(0, 4)))
        target = path if rng.random() < 0.5 else path[: rng.randint(1, len(path))]
        target += "".join(rng.choice(pieces) for _ in range(rng.randint(0, 4)))
        cases.append((target, path))
    return cases


@pytest.fixture(scope="module")
def node_answers() -> dict[tuple[str, str], bool]:
    cases = HAND_PICKED + random_cases(300, 7)
    answers = node.answers("sessionPath", [{"url": url, "path": path} for url, path in cases])
    return {case: answer["result"] for case, answer in zip(cases, answers, strict=True)}


def test_the_hand_picked_cases_are_express_sessions_answers(
    node_answers: dict[tuple[str, str], bool],
) -> None:
    assert node_answers[("/a/inner/x", "/a/inner")] is True
    assert node_answers[("/a/%69nner/x", "/a/inner")] is False
    assert node_answers[("/caf%C3%A9/x", "/caf\u00e9")] is False


@pytest.mark.parametrize("server", ["asgi", "wsgi"])
def test_a_session_only_inside_the_cookie_path_as_express_session_decides(
    node_answers: dict[tuple[str, str], bool], server: str
) -> None:
    wrong = []
    for (target, cookie_path), expected in node_answers.items():
        if server == "asgi":
            request = asgi.request_of(asgi_scope(target, raw=True))
        else:
            request = wsgi.request_of(wsgi_environ(target, raw=True))
        if reaches_the_store(request, cookie_path) is not expected:
            wrong.append((target, cookie_path, expected))
    assert wrong == []


@pytest.mark.parametrize("server", ["asgi", "wsgi"])
def test_without_the_raw_target_the_path_is_escaped_as_a_client_escapes_it(
    node_answers: dict[tuple[str, str], bool], server: str
) -> None:
    """A server that keeps no raw target: the decoded path escaped again, which is what a
    client sends unless it escaped a character it did not have to."""
    plain = {
        case: expected
        for case, expected in node_answers.items()
        if "%69" not in case[0]
        and "%7E" not in case[0]
        and "?" not in case[0]
        and "\u00e9" not in case[0]
        and "\u00c3" not in case[0]
        and "%2F" not in case[0]
        and not case[0].endswith("%")
        and "%C3%A9" not in case[1]
    }
    assert len(plain) > 20
    for (target, cookie_path), expected in plain.items():
        if server == "asgi":
            request = asgi.request_of(asgi_scope(target, raw=False))
        else:
            request = wsgi.request_of(wsgi_environ(target, raw=False))
        assert reaches_the_store(request, cookie_path) is expected, (target, cookie_path)
