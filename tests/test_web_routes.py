"""The Python web side against express-session itself: every behaviour is one request
sequence, run on the Express app (node-fixtures/web-server.js) and on the Python app with
the same options on the same store, and what each shows is compared.

Processes, all started at once and kept for the module: Express with one express-session
configuration per path (tests/web_sites.py MOUNTS) on connect-redis and session-file-store;
Starlette (and one FastAPI app) through uvicorn with engineio_session.asgi.SessionMiddleware
on AsyncRedisStore / AsyncFileStore; Flask through werkzeug with ExpressSessionInterface on
RedisStore / FileStore, and a bare WSGI app behind engineio_session.wsgi.SessionMiddleware.
Redis keys live under a prefix of this module's own; the files in its tmp_path.

Where Python differs on purpose (a save applies this side's changes to the session as the
store holds it now; a write never brings back a destroyed session) the Node behaviour is
pinned too, so the difference the docs describe is the one that exists.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.apps.harness import cookie_pair
from tests.node import require_node
from tests.redis_target import RedisTarget
from tests.web_sites import (
    MOUNTS,
    SECRETS,
    NodeWeb,
    PythonWeb,
    Site,
    cookie_attributes,
    python_apps,
    session_id_of,
)


class Servers:
    def __init__(self, node: NodeWeb, asgi: PythonWeb, wsgi: PythonWeb, redis: RedisTarget):
        self.node = node
        self.asgi = asgi
        self.wsgi = wsgi
        self.redis = redis

    def site(self, framework: str, mount: str) -> Site:
        """``mount`` of ``framework`` ("node", "starlette", "fastapi", "flask", "wsgi"); FastAPI
        and bare WSGI exist for /plain (and WSGI for /unset) only."""
        if framework == "node":
            return self.node.site(mount)
        if framework == "starlette":
            return self.asgi.site(framework, mount, self.node)
        if framework == "flask":
            return self.wsgi.site(framework, mount, self.node)
        python_mount = {"fastapi": {"/plain": "/fastapi"}, "wsgi": WSGI_MOUNTS}[framework][mount]
        server = self.asgi if framework == "fastapi" else self.wsgi
        return server.site(framework, python_mount, self.node)

    def stored(self, site: Site | str, sid: str) -> Any:
        """What the Node store of ``site`` (or of a Node mount) holds under ``sid`` (its own
        get), as JSON."""
        mount = site if isinstance(site, str) else site.express().mount
        return self.node.get(MOUNTS[mount][0], sid)


WSGI_MOUNTS = {"/plain": "/wsgi", "/unset": "/wsgi-unset"}


@pytest.fixture(scope="module")
def servers(redis_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    require_node()
    root = tmp_path_factory.mktemp("web-routes")
    redis = RedisTarget("web-routes", url=redis_url)
    stores = {
        "redis": {"type": "redis", "url": redis_url, "prefix": redis.prefix},
        "file": {"type": "file", "path": str(root / "sessions")},
    }
    plain = MOUNTS["/plain"][1]
    asgi_apps = [
        *python_apps("starlette"),
        {"mount": "/fastapi", "framework": "fastapi", "store": "redis", "options": plain},
    ]
    wsgi_apps = [
        *python_apps("flask"),
        {"mount": "/wsgi", "framework": "wsgi", "store": "redis", "options": plain},
        {
            "mount": "/wsgi-unset",
            "framework": "wsgi",
            "store": "redis",
            "options": MOUNTS["/unset"][1],
        },
    ]
    started: list[Any] = []
    try:
        started.append(NodeWeb(stores, log=root / "node.log"))
        started.append(PythonWeb("asgi", stores, asgi_apps, log=root / "asgi.log"))
        started.append(PythonWeb("threading", stores, wsgi_apps, log=root / "wsgi.log"))
        for process in started:
            assert process.port  # all three start at once; each is waited for here
        yield Servers(*started, redis)
    finally:
        for process in started:
            process.stop()
        redis.close()


def login(site: Site, **data: Any) -> tuple[str, str]:
    """Express logs a user in (POST /update on the Node app of ``site``'s configuration):
    the cookie pair it set and the session id."""
    reply = site.express().post("/update", {"user": "ada", **data})
    sid = session_id_of(reply.cookie)
    assert reply.status == 200 and reply.cookie is not None and sid is not None, reply
    return reply.cookie, sid


def data_of(body: dict[str, Any]) -> dict[str, Any] | None:
    """A GET /session answer's session data, without its cookie (nor session-file-store's
    ``__lastAccess``, a time it writes into every session it saves or touches)."""
    session = body["session"]
    if session is None:
        return None
    return {k: v for k, v in session.items() if k not in ("cookie", "__lastAccess")}


def compare(servers: Servers, framework: str, mount: str, scenario: Any) -> Any:
    """``scenario(servers, site)`` on Express and on ``framework``: equal, and returned."""
    on_node = scenario(servers, servers.site("node", mount))
    on_python = scenario(servers, servers.site(framework, mount))
    assert on_python == on_node, f"{framework}{mount} differs from express-session"
    return on_python


PYTHON = ("starlette", "flask")


# --- a Node user on a Python route ---------------------------------------------------------


def sees_and_changes(servers: Servers, site: Site) -> dict[str, Any]:
    pair, sid = login(site)
    seen = site.get("/session", cookie=pair)
    changed = site.post("/update", {"theme": "dark"}, cookie=pair)
    express = site.express().get("/session", cookie=pair).body
    return {
        "seen": (seen.body["id"] == sid, data_of(seen.body), seen.cookie),
        "changed": (changed.status, changed.cookie == pair),  # maxAge: Set-Cookie again
        "express": (express["id"] == sid, data_of(express)),
        "stored": data_of({"session": servers.stored(site, sid)}),
    }


@pytest.mark.parametrize(
    ("framework", "mount"),
    [(f, m) for f in PYTHON for m in ("/plain", "/file")]
    + [("fastapi", "/plain"), ("wsgi", "/plain")],
)
def test_a_python_route_sees_the_express_user_and_express_sees_its_change(
    servers: Servers, framework: str, mount: str
) -> None:
    seen = compare(servers, framework, mount, sees_and_changes)
    assert seen["seen"] == (True, {"user": "ada"}, None)
    assert seen["changed"] == (200, True)
    assert seen["express"] == (True, {"user": "ada", "theme": "dark"})
    assert seen["stored"] == {"user": "ada", "theme": "dark"}


def new_session(servers: Servers, site: Site) -> dict[str, Any]:
    created = site.post("/update", {"cart": [1]})
    sid = session_id_of(created.cookie)
    express = site.express().get("/session", cookie=created.cookie).body
    again = site.post("/update", {"cart": [1, 2]}, cookie=created.cookie)
    return {
        "created": (created.cookie is not None, sid == created.body["id"]),
        "express": (express["id"] == sid, express["loaded"], data_of(express)),
        "again": (again.body["id"] == sid, again.cookie == created.cookie),
        "stored": data_of({"session": servers.stored(site, created.body["id"])}),
    }


@pytest.mark.parametrize(
    ("framework", "mount"),
    [(f, m) for f in PYTHON for m in ("/plain", "/file")]
    + [("fastapi", "/plain"), ("wsgi", "/plain")],
)
def test_a_session_a_python_route_creates_is_accepted_by_express(
    servers: Servers, framework: str, mount: str
) -> None:
    seen = compare(servers, framework, mount, new_session)
    assert seen["created"] == (True, True)
    assert seen["express"] == (True, True, {"cart": [1]})
    assert seen["again"] == (True, True)
    assert seen["stored"] == {"cart": [1, 2]}


def unchanged_new_session(servers: Servers, site: Site) -> dict[str, Any]:
    reply = site.get("/session")
    stored = servers.stored(site, reply.body["id"])
    return {
        "answered": (reply.status, reply.body["loaded"], data_of(reply.body)),
        "set_cookie": [cookie_attributes(value)[0] for value in reply.set_cookies],
        "stored": stored and {**stored, "cookie": _without_clock(stored["cookie"])},
    }


def _without_clock(cookie: dict[str, Any]) -> dict[str, Any]:
    """A stored cookie with what the clock decides left out: its expiry, and the millisecond
    express-session's ``originalMaxAge`` can lose (its Cookie computes it as ``expires -
    Date.now()`` just after setting ``expires``: 3599999 when a millisecond ticked between)."""
    age = cookie.get("originalMaxAge")
    if isinstance(age, int):
        age = round(age / 1000) * 1000
    return {**cookie, "expires": "<date>", "originalMaxAge": age}


@pytest.mark.parametrize(
    ("framework", "mount"),
    [(f, m) for f in PYTHON for m in ("/plain", "/file", "/roll", "/resave", "/uninit")]
    + [("fastapi", "/plain"), ("wsgi", "/plain")],
)
def test_an_unchanged_new_session_is_neither_saved_nor_sent(
    servers: Servers, framework: str, mount: str
) -> None:
    seen = compare(servers, framework, mount, unchanged_new_session)
    assert seen.pop("answered") == (200, False, {})
    if mount == "/uninit":  # save_uninitialized=True: saved and sent all the same
        assert len(seen["set_cookie"]) == 1 and data_of({"session": seen["stored"]}) == {}
    else:
        assert seen == {"set_cookie": [], "stored": None}


# --- express-session's options ---------------------------------------------------------------


def set_cookies(servers: Servers, site: Site) -> dict[str, Any]:
    """Which responses carry a Set-Cookie: an unchanged new session, an unchanged loaded
    one (twice), a changed loaded one."""
    pair, _ = login(site)
    return {
        "new unchanged": site.get("/session").cookie is not None,
        "loaded unchanged": [site.get("/session", cookie=pair).cookie == pair for _ in "ab"],
        "loaded touched": site.get("/touch", cookie=pair).cookie == pair,
        "loaded changed": site.post("/update", {"n": 1}, cookie=pair).cookie == pair,
    }


@pytest.mark.parametrize("framework", PYTHON)
@pytest.mark.parametrize("mount", ["/plain", "/roll", "/browser"])
def test_which_responses_set_the_cookie(servers: Servers, framework: str, mount: str) -> None:
    seen = compare(servers, framework, mount, set_cookies)
    rolling, expires = mount == "/roll", mount != "/browser"
    assert seen == {
        "new unchanged": False,
        "loaded unchanged": [rolling, rolling],
        "loaded touched": rolling,
        "loaded changed": rolling or expires,  # a browser-session cookie is never sent again
    }


def stored_expiry(servers: Servers, site: Site) -> dict[str, Any]:
    """An unchanged loaded session: is the stored session written again (resave: the
    cookie's new expiry in it) or only its TTL reset (connect-redis touch: EXPIRE)?"""
    pair, sid = login(site)
    key = servers.redis.key(sid)
    before = servers.stored(site, sid)["cookie"]["expires"]
    servers.redis.raw.expire(key, 100)
    time.sleep(0.005)  # a later expiry than the login's, to the millisecond
    site.get("/session", cookie=pair)
    return {
        "rewritten": servers.stored(site, sid)["cookie"]["expires"] != before,
        "ttl reset": servers.redis.raw.ttl(key) > 3000,
    }


@pytest.mark.parametrize("framework", PYTHON)
@pytest.mark.parametrize("mount", ["/plain", "/resave"])
def test_resave_writes_an_unchanged_session_and_otherwise_it_is_touched(
    servers: Servers, framework: str, mount: str
) -> None:
    seen = compare(servers, framework, mount, stored_expiry)
    assert seen == {"rewritten": mount == "/resave", "ttl reset": True}


def forged_cookies(servers: Servers, site: Site) -> dict[str, Any]:
    pair, sid = login(site)
    signed = pair.split("=", 1)[1]
    forged = {
        "unsigned": f"connect.sid={sid}",
        "no s: prefix": "connect.sid=" + signed.removeprefix("s%3A"),
        "bad mac": pair[:-3] + ("AAA" if not pair.endswith("AAA") else "BBB"),
        "another secret": cookie_pair(sid, "not the secret"),
        "no mac": f"connect.sid=s%3A{sid}",
    }
    seen: dict[str, Any] = {}
    for name, cookie in forged.items():
        reply = site.get("/session", cookie=cookie)
        changed = site.post("/update", {"forged": name}, cookie=cookie)
        seen[name] = (
            reply.body["id"] == sid,
            reply.body["loaded"],
            changed.cookie is not None and session_id_of(changed.cookie) != sid,
        )
    seen["stored"] = data_of({"session": servers.stored(site, sid)})
    seen["rotated"] = site.get("/session", cookie=cookie_pair(sid, SECRETS[1])).body["loaded"]
    return seen


@pytest.mark.parametrize("framework", PYTHON)
def test_a_forged_cookie_gives_a_new_session_never_the_stored_one(
    servers: Servers, framework: str
) -> None:
    seen = compare(servers, framework, "/plain", forged_cookies)
    assert seen.pop("stored") == {"user": "ada"}
    assert seen.pop("rotated") is True  # signed with the older secret: still accepted
    assert set(seen.values()) == {(False, False, True)}


def unset(servers: Servers, site: Site) -> dict[str, Any]:
    pair, sid = login(site)
    reply = site.post("/unset", cookie=pair)
    stored = data_of({"session": servers.stored(site, sid)})
    return {"reply": (reply.status, reply.set_cookies), "stored": stored}


@pytest.mark.parametrize("framework", ["starlette", "wsgi"])
@pytest.mark.parametrize("mount", ["/plain", "/unset"])
def test_unset_destroy_drops_a_session_the_route_dropped(
    servers: Servers, framework: str, mount: str
) -> None:
    seen = compare(servers, framework, mount, unset)
    assert seen["reply"] == (200, [])
    assert (seen["stored"] is None) == (mount == "/unset")


def logout(servers: Servers, site: Site) -> dict[str, Any]:
    pair, sid = login(site)
    reply = site.post("/logout", cookie=pair)
    express = site.express().get("/session", cookie=pair).body
    # the old cookie, verified, names a session the store no longer has: a new one
    again = site.post("/update", {"n": 1}, cookie=pair)
    return {
        "reply": (reply.status, reply.set_cookies),
        "express": (express["id"] == sid, express["loaded"]),
        "stored": servers.stored(site, sid),
        "again": (again.body["id"] != sid, session_id_of(again.cookie) == again.body["id"]),
    }


@pytest.mark.parametrize(
    ("framework", "mount"),
    [(f, m) for f in PYTHON for m in ("/plain", "/file")]
    + [("fastapi", "/plain"), ("wsgi", "/plain")],
)
def test_destroy_in_a_python_route_logs_out_on_express_too(
    servers: Servers, framework: str, mount: str
) -> None:
    seen = compare(servers, framework, mount, logout)
    assert seen == {
        "reply": (200, []),
        "express": (False, False),
        "stored": None,
        "again": (True, True),
    }


def saved_by_the_route(servers: Servers, site: Site) -> dict[str, Any]:
    """A route that saves the session itself (``req.session.save()``), then changes it or
    not: what is stored, and which responses set the cookie."""
    seen: dict[str, Any] = {}
    for name, body in {
        "new, nothing": {},
        "new, before": {"before": {"a": 1}},
        "new, after": {"after": {"b": 2}},
        "new, both": {"before": {"a": 1}, "after": {"b": 2}},
    }.items():
        reply = site.post("/save", body)
        stored = servers.stored(site, reply.body["id"])
        seen[name] = (reply.cookie is not None, stored and data_of({"session": stored}))
    pair, sid = login(site)
    for name, body in {
        "loaded, nothing": {},
        "loaded, before": {"before": {"a": 1}},
        "loaded, after": {"after": {"b": 2}},
    }.items():
        reply = site.post("/save", body, cookie=pair)
        seen[name] = (reply.cookie is not None, data_of({"session": servers.stored(site, sid)}))
    return seen


@pytest.mark.parametrize("framework", [*PYTHON, "wsgi"])
def test_a_route_that_saves_the_session_itself(servers: Servers, framework: str) -> None:
    seen = compare(servers, framework, "/plain", saved_by_the_route)
    # express-session's quirk, kept: saved, but not changed, so no cookie for it
    assert seen["new, nothing"] == (False, {})
    assert seen["new, both"] == (True, {"a": 1, "b": 2})
    assert seen["loaded, after"] == (True, {"user": "ada", "a": 1, "b": 2})


def outside_the_cookie_path(servers: Servers, site: Site) -> Any:
    return site.get("/session").body["session"]


@pytest.mark.parametrize("framework", PYTHON)
def test_no_session_outside_the_cookie_path(servers: Servers, framework: str) -> None:
    assert compare(servers, framework, "/scoped", outside_the_cookie_path) is None


# --- the cookie itself -----------------------------------------------------------------------


def cookie_sent(servers: Servers, site: Site) -> dict[str, Any]:
    """The Set-Cookie of a new session and of a changed loaded one: its attributes in order,
    and its Expires as minutes from now."""

    def described(headers: list[str]) -> Any:
        if not headers:
            return None
        (header,) = headers
        attributes, expires = cookie_attributes(header)
        return attributes, None if expires is None else round((expires - time.time()) / 60)

    new = site.post("/update", {"n": 1})
    pair, _ = login(site)
    changed = site.post("/update", {"n": 2}, cookie=pair)
    return {"new": described(new.set_cookies), "changed": described(changed.set_cookies)}


@pytest.mark.parametrize("framework", PYTHON)
@pytest.mark.parametrize("mount", ["/plain", "/attrs", "/browser", "/auto"])
def test_the_cookie_python_sends_is_the_one_express_sends(
    servers: Servers, framework: str, mount: str
) -> None:
    seen = compare(servers, framework, mount, cookie_sent)
    if mount == "/attrs":
        assert seen["new"] == (
            [
                "connect.sid=<value>",
                "Domain=example.test",
                "Path=/",
                "Expires=<date>",
                "Partitioned",
                "Priority=High",
                "SameSite=Strict",
            ],
            120,
        )
    if mount == "/browser":  # no Expires; and a loaded one is never sent again
        assert seen == {
            "new": (["connect.sid=<value>", "Path=/", "HttpOnly"], None),
            "changed": None,
        }


def secure_cookies(servers: Servers, site: Site) -> dict[str, Any]:
    """A changed new session over http, over https as a proxy says (X-Forwarded-Proto)."""
    seen: dict[str, Any] = {}
    for proto in (None, "http", "https", "https, http", "HTTPS", "http, https"):
        headers = {} if proto is None else {"X-Forwarded-Proto": proto}
        reply = site.post("/update", {"n": 1}, headers=headers)
        stored = servers.stored(site, reply.body["id"])
        attributes = [cookie_attributes(value)[0] for value in reply.set_cookies]
        seen[str(proto)] = (attributes, stored is not None)
    return seen


@pytest.mark.parametrize("framework", PYTHON)
@pytest.mark.parametrize("mount", ["/proxy", "/auto"])
def test_secure_cookies_only_over_https(servers: Servers, framework: str, mount: str) -> None:
    seen = compare(servers, framework, mount, secure_cookies)
    secure = ["connect.sid=<value>", "Path=/", "Expires=<date>", "HttpOnly", "Secure"]
    if mount == "/proxy":  # saved all the same; the cookie only over https
        assert seen["None"] == ([], True) and seen["http, https"] == ([], True)
        assert seen["https"] == ([secure], True) and seen["HTTPS"] == ([secure], True)
    else:
        assert seen["None"] == ([[*secure[:-1], "SameSite=Lax"]], True)
        assert seen["https, http"] == ([[*secure, "SameSite=None"]], True)


def test_proxy_false_and_a_server_that_trusts_the_proxy_itself(servers: Servers) -> None:
    """``proxy=False`` never trusts X-Forwarded-Proto, as in express-session, but an ASGI
    server may have read it already: uvicorn (``proxy_headers``, on by default for
    127.0.0.1) sets ``scope["scheme"]`` from it, and the middleware can only take the
    scheme it is given. werkzeug leaves ``wsgi.url_scheme`` alone (unless ProxyFix)."""
    https = {"X-Forwarded-Proto": "https"}

    def secure_sent(site: Site) -> bool:
        return site.post("/update", {"n": 1}, headers=https).cookie is not None

    assert secure_sent(servers.site("node", "/noproxy")) is False
    assert secure_sent(servers.site("flask", "/noproxy")) is False
    assert secure_sent(servers.site("starlette", "/noproxy")) is True


# --- where Python differs on purpose -----------------------------------------------------------


def changed_meanwhile(servers: Servers, site: Site) -> dict[str, Any]:
    """A route changes the session while, during the request, Express changes it too."""
    pair, sid = login(site)
    express = site.express()
    reply = site.post(
        "/update-then",
        {"set": {"theme": "dark"}, "then": express.url("/update"), "body": {"cart": [7]}},
        cookie=pair,
    )
    assert reply.status == 200 and reply.body["then"] == 200, reply
    return data_of({"session": servers.stored(site, sid)})  # type: ignore[return-value]


@pytest.mark.parametrize("framework", [*PYTHON, "wsgi"])
def test_a_save_keeps_what_express_saved_during_the_request(
    servers: Servers, framework: str
) -> None:
    site = servers.site(framework, "/plain")
    express = servers.site("node", "/plain")
    # express-session writes the whole session it loaded: Express's own change is lost
    assert changed_meanwhile(servers, express) == {"user": "ada", "theme": "dark"}
    # the Python route writes its change into the session as the store holds it
    assert changed_meanwhile(servers, site) == {"user": "ada", "theme": "dark", "cart": [7]}


def destroyed_meanwhile(servers: Servers, site: Site) -> dict[str, Any]:
    """A route changes the session while, during the request, Express logs the user out."""
    pair, sid = login(site)
    reply = site.post(
        "/update-then",
        {"set": {"theme": "dark"}, "then": site.express().url("/logout")},
        cookie=pair,
    )
    assert reply.status == 200 and reply.body["then"] == 200, reply
    return {"set_cookie": reply.cookie is not None, "stored": servers.stored(site, sid)}


@pytest.mark.parametrize(
    ("framework", "mount"),
    [(f, m) for f in PYTHON for m in ("/plain", "/roll")] + [("wsgi", "/plain")],
)
def test_a_save_never_brings_back_a_session_express_destroyed(
    servers: Servers, framework: str, mount: str
) -> None:  # express-session saves the session it holds: the logged-out user is logged in again
    on_node = destroyed_meanwhile(servers, servers.site("node", mount))
    assert on_node["set_cookie"] is True
    assert {k: v for k, v in on_node["stored"].items() if k != "cookie"} == {
        "user": "ada",
        "theme": "dark",
    }
    # the Python route's save finds it gone: nothing written, no cookie
    on_python = destroyed_meanwhile(servers, servers.site(framework, mount))
    assert on_python == {"set_cookie": False, "stored": None}


def route_failed(servers: Servers, site: Site) -> dict[str, Any]:
    """A route changes the session, then fails: what is saved, what is sent."""
    pair, sid = login(site)
    failed = site.post("/update-fail", {"theme": "dark"}, cookie=pair)
    created = site.post("/update-fail", {"theme": "light"})
    return {
        "status": (failed.status, created.status),
        "set_cookie": (failed.cookie is not None, created.cookie is not None),
        "stored": data_of({"session": servers.stored(site, sid)}),
    }


def test_what_a_failed_route_leaves(servers: Servers) -> None:
    """express-session saves what a route changed before it failed (Express's error handler
    ends the response, and the save happens at its end), and so does Flask (its error
    handler's response goes through save_session). Under Starlette an unhandled exception
    passes through the middleware before any response starts (the 500 comes from Starlette's
    outermost ServerErrorMiddleware) and the bare WSGI middleware sees no start_response:
    nothing is saved or sent there, as in a rolled-back transaction."""
    node = route_failed(servers, servers.site("node", "/plain"))
    assert node == {
        "status": (500, 500),
        "set_cookie": (True, True),
        "stored": {"user": "ada", "theme": "dark"},
    }
    assert route_failed(servers, servers.site("flask", "/plain")) == node
    for framework in ("starlette", "wsgi"):
        assert route_failed(servers, servers.site(framework, "/plain")) == {
            "status": (500, 500),
            "set_cookie": (False, False),
            "stored": {"user": "ada"},
        }


# --- Flask's own flags -------------------------------------------------------------------------


def test_flask_session_modified_forces_a_save(servers: Servers) -> None:
    site = servers.site("flask", "/plain")
    forced = site.post("/force")  # a new session, no change, modified = True
    sid = session_id_of(forced.cookie)
    assert sid is not None and sid == forced.body["id"]
    assert servers.stored("/plain", sid) is not None
    express = servers.site("node", "/plain").get("/session", cookie=forced.cookie).body
    assert express["id"] == sid and data_of(express) == {}
    # a loaded session: saved (its expiry moves on) and its cookie sent again, as a change is
    pair, sid = login(site)
    before = servers.stored("/plain", sid)["cookie"]["expires"]
    time.sleep(0.005)
    assert site.post("/force", cookie=pair).cookie == pair
    assert servers.stored("/plain", sid)["cookie"]["expires"] != before
    # without it, an unchanged new session is neither saved nor sent
    assert site.get("/session").set_cookies == []


@pytest.mark.parametrize("mount", ["/plain", "/browser"])
def test_flask_s_session_flags(servers: Servers, mount: str) -> None:
    site = servers.site("flask", mount)
    permanent = mount == "/plain"  # a max age: a cookie that outlives the browser session
    new = site.post("/flags", {})
    assert new.body["before"] == {"new": True, "modified": False, "permanent": permanent}
    assert new.body["after"] == new.body["before"] and new.set_cookies == []
    changed = site.post("/flags", {"n": 1})
    assert changed.body["after"] == {"new": True, "modified": True, "permanent": permanent}
    pair, _ = login(site)
    loaded = site.post("/flags", {"n": 1}, cookie=pair)
    assert loaded.body["before"] == {"new": False, "modified": False, "permanent": permanent}
    assert loaded.body["after"] == {"new": False, "modified": True, "permanent": permanent}
