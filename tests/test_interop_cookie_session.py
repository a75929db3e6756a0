"""CookieSession against a real Express app with the real cookie-session, over real HTTP
(node-fixtures/cookie-session-server.js): what Node sets, Python loads; what Python dumps,
Node reads; key rotation both ways; forged and unsigned cookies refused by both, with the
same Set-Cookie answer."""

from __future__ import annotations

import base64
import http.client
import json
import os
from collections.abc import Iterator
from typing import Any

import pytest

from engineio_session import CookieSession, jsjson
from engineio_session.keygrip import keygrip_sign

from .node import FIXTURES, command, require_node
from .procs import PortProcess

NEW, OLD = "new key", "old key"
DATA: dict[str, Any] = {
    "user": "ada",
    "roles": ["admin", {"since": 1e21}],
    "\u00e9\U0001f600": "\u2028\ud800</script>",
    "n": -0.0,
    "big": 2**64,
    "2": "index keys come first",
}


class CookieSessionServer(PortProcess):
    """One ``node cookie-session-server.js`` (Express + cookie-session) on a free port."""

    def __init__(self, config: dict[str, Any], env_keys: list[str] | None = None) -> None:
        env = None
        if env_keys is not None:
            env = {**os.environ, "COOKIE_SESSION_KEYS": "\n".join(env_keys)}
        super().__init__(
            "cookie-session-server.js",
            command("cookie-session-server.js", json.dumps(config)),
            cwd=FIXTURES,
            env=env,
        )
        assert self.port

    def request(
        self, method: str, path: str, *, cookie: str | None = None, body: Any = None
    ) -> tuple[dict[str, Any], list[str]]:
        """(the JSON answer, the Set-Cookie values, in order)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        headers = {"Content-Type": "application/json"}
        if cookie is not None:
            headers["Cookie"] = cookie  # sent as latin-1, as a browser's bytes
        connection.request(
            method, path, body=None if body is None else json.dumps(body), headers=headers
        )
        response = connection.getresponse()
        answer = json.loads(response.read())
        assert response.status == 200, answer
        set_cookie = response.headers.get_all("Set-Cookie") or []
        connection.close()
        return answer, set_cookie


def header_for(set_cookie: list[str]) -> str:
    return "; ".join(value.split(";", 1)[0] for value in set_cookie)


def same(a: Any, b: Any) -> bool:
    return jsjson.dumps(a) == jsjson.dumps(b)


@pytest.fixture(scope="module")
def node() -> Iterator[CookieSessionServer]:
    require_node()
    with CookieSessionServer({"keys": [NEW, OLD]}) as server:
        yield server


def test_what_node_sets_python_loads_and_writes_alike(node: CookieSessionServer) -> None:
    _, set_cookie = node.request("POST", "/login", body=DATA)
    sessions = CookieSession([NEW, OLD])
    read = sessions.read(header_for(set_cookie))
    assert read.status == "verified" and read.data is not None and same(read.data, DATA)
    # no maxAge: the Set-Cookie values are the same bytes
    assert sessions.dump(DATA) == set_cookie


def test_what_python_dumps_node_reads(node: CookieSessionServer) -> None:
    set_cookie = CookieSession([NEW, OLD]).dump(DATA)
    answer, sent = node.request("GET", "/me", cookie=header_for(set_cookie))
    assert answer["isNew"] is False and answer["populated"] is True
    assert same(answer["session"], DATA)
    assert sent == []  # the spelling Node writes: nothing to rewrite


def test_options_write_the_same_set_cookie(node: CookieSessionServer) -> None:
    require_node()
    options = {"domain": "example.com", "sameSite": "lax", "path": "/", "priority": "high"}
    with CookieSessionServer({"keys": [NEW], "name": "app.sess", "options": options}) as other:
        _, set_cookie = other.request("POST", "/login", body={"user": "ada"})
    python = CookieSession(
        [NEW], "app.sess", domain="example.com", same_site="lax", priority="high"
    )
    assert python.dump({"user": "ada"}) == set_cookie
    assert python.load(header_for(set_cookie)) == {"user": "ada"}


def test_keys_from_the_environment(node: CookieSessionServer) -> None:
    with CookieSessionServer({}, env_keys=[OLD]) as other:
        answer, _ = other.request(
            "GET", "/me", cookie=header_for(CookieSession([OLD]).dump({"user": "ada"}))
        )
    assert answer["session"] == {"user": "ada"}


def test_node_signed_with_an_older_key_python_re_signs(node: CookieSessionServer) -> None:
    with CookieSessionServer({"keys": [OLD]}) as before_rotation:
        _, set_cookie = before_rotation.request("POST", "/login", body={"user": "ada"})
    sessions = CookieSession([NEW, OLD])
    read = sessions.read(header_for(set_cookie))
    assert (read.status, read.key_index, read.data) == ("rotated", 1, {"user": "ada"})
    # Node, rotated the same way, sends the same re-signed .sig for the same cookie
    _, node_sent = node.request("GET", "/me", cookie=header_for(set_cookie))
    assert node_sent == list(read.set_cookie) == sessions.commit(read, read.data)
    # and with the old key retired, Node accepts the pair Python re-signed
    value = header_for(set_cookie).split(";")[0]
    re_signed = value + "; " + read.set_cookie[0].split(";")[0]
    with CookieSessionServer({"keys": [NEW]}) as after_rotation:
        answer, sent = after_rotation.request("GET", "/me", cookie=re_signed)
    assert answer["session"] == {"user": "ada"} and sent == []


def test_python_signed_with_an_older_key_node_re_signs(node: CookieSessionServer) -> None:
    cookie = header_for(CookieSession([OLD]).dump({"user": "ada"}))
    answer, sent = node.request("GET", "/me", cookie=cookie)
    assert answer["session"] == {"user": "ada"}
    assert sent == list(CookieSession([NEW, OLD]).read(cookie).set_cookie)
    assert sent[0].startswith("session.sig=" + keygrip_sign(cookie.split(";")[0], NEW) + ";")


@pytest.mark.parametrize(
    "cookie",
    [
        "session=eyJ1c2VyIjoiZXZlIn0=",  # unsigned
        "session=eyJ1c2VyIjoiZXZlIn0=; session.sig=" + keygrip_sign("x", NEW),  # forged
        "session=eyJ1c2VyIjoiZXZlIn0=; session.sig="
        + keygrip_sign("session=eyJ1c2VyIjoiZXZlIn0=", "attacker"),
        "session=eyJ1c2VyIjoiZXZlIn0=; session.sig=",
    ],
)
def test_forged_or_unsigned_is_refused_by_both(node: CookieSessionServer, cookie: str) -> None:
    answer, sent = node.request("GET", "/me", cookie=cookie)
    assert answer["isNew"] is True and answer["session"] == {}
    read = CookieSession([NEW, OLD]).read(cookie)
    assert read.data is None
    assert sent == list(read.set_cookie)  # a cleared .sig for a forgery, nothing otherwise


def test_a_value_node_would_spell_differently_is_rewritten_alike(node: CookieSessionServer) -> None:
    # base64url without padding, a latin-1 junk character, JSON with spaces: read by both
    body = '{ "user" : "ada", "2": 1 }'
    spelled = base64.b64encode(body.encode()).decode().rstrip("=").replace("+", "-")
    spelled = spelled[:4] + "\u00c4" + spelled[4:]
    cookie = f"session={spelled}; session.sig={keygrip_sign('session=' + spelled, NEW)}"
    answer, sent = node.request("GET", "/me", cookie=cookie)
    sessions = CookieSession([NEW, OLD])
    read = sessions.read(cookie)
    assert read.data is not None and same(read.data, answer["session"])
    assert sent == sessions.commit(read, read.data)
    assert sent == sessions.dump({"2": 1, "user": "ada"})


def test_logout_clears_alike(node: CookieSessionServer) -> None:
    cookie = header_for(CookieSession([NEW]).dump({"user": "ada"}))
    _, sent = node.request("POST", "/logout", cookie=cookie)
    assert sent == CookieSession([NEW, OLD]).clear()


def test_update_in_place_after_a_python_login(node: CookieSessionServer) -> None:
    sessions = CookieSession([NEW, OLD])
    cookie = header_for(sessions.dump({"user": "ada"}))
    _, sent = node.request("POST", "/update", cookie=cookie, body={"n": 1})
    read = sessions.read(cookie)
    assert sent == sessions.commit(read, {"user": "ada", "n": 1})
    assert sessions.load(header_for(sent)) == {"user": "ada", "n": 1}
