"""attach() end to end: real servers in every async mode, real clients, real cookies.

One ``tests.apps.serve`` process per async mode (threading, eventlet, gevent, asgi/uvicorn,
aiohttp), all started at once and kept for the module. Each hosts several apps, one per
attach() configuration, at its own path:

    e / s     Engine.IO / Socket.IO, the defaults          ec / sc   create=True
    er / sr   required=True                                ex / sx   header=, reload=True,
    fa / fr   a store that really fails (Redis on a            auto_save=True, watch=0.2
              port that refuses), admit / reject                 (sx: auth_key= too)

The clients are python-engineio's and python-socketio's own (both transports), Node's
engine.io-client and socket.io-client (node-fixtures/clients.js), and raw handshakes where a
library would hide what is checked (a Set-Cookie, a 401, a 101 then a close).

``ATTACH_E2E_MODES=threading,asgi`` limits the modes (tests/test_compat.py runs that subset
against the oldest python-engineio / python-socketio we declare).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from engineio_session import Session, get_session_id
from engineio_session.stores import FileStore
from tests.apps.harness import (
    SECRETS,
    Serve,
    client,
    cookie_pair,
    node_clients,
    polling_handshake,
    saved_session,
    signed_value,
    wait_for,
    websocket_handshake,
)
from tests.node import require_node

ALL_MODES = ("threading", "eventlet", "gevent", "asgi", "aiohttp")
MODES = tuple(
    mode
    for mode in os.environ.get("ATTACH_E2E_MODES", ",".join(ALL_MODES)).split(",")
    if mode in ALL_MODES
)
KINDS = ("engineio", "socketio")
TRANSPORTS = ("polling", "websocket")
PATH = {"engineio": "e", "socketio": "s"}
WATCH = 0.2  # seconds between the watcher's reads

# What a client sees when a websocket-only handshake is rejected (required=True with no
# session, or the application's connect handler saying no), per async mode. gevent-websocket
# upgrades before the application runs: a 101, then a close.
WS_REJECTION = {"threading": 401, "eventlet": 401, "gevent": 101, "asgi": 401, "aiohttp": 401}
# Whether a websocket-only handshake can carry the Set-Cookie of create=True.
WS_SET_COOKIE = {
    "threading": False,
    "eventlet": False,
    "gevent": False,
    "asgi": True,
    "aiohttp": True,
}


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("attach-e2e")


@pytest.fixture(scope="module")
def store(root: Path) -> FileStore:
    """The session-file-store directory every default app reads."""
    return FileStore(root / "sessions")


def apps(root: Path, mode: str, closed_port: int) -> dict[str, Any]:
    base: dict[str, Any] = {"secret": SECRETS}
    # a store that really fails: Redis on a port that refuses (tests/conftest.py)
    failing = {"type": "redis", "url": f"redis://127.0.0.1:{closed_port}/0", "timeout": 1.0}
    live = {**base, "header": "X-Session", "reload": True, "auto_save": True, "watch": WATCH}
    create = {**base, "create": True, "cookie": {"max_age": 3_600_000}}
    return {
        "e": {"kind": "engineio", "attach": base},
        "s": {"kind": "socketio", "attach": base},
        "ec": {"kind": "engineio", "attach": create, "store": _own_store(root, mode, "ec")},
        "sc": {"kind": "socketio", "attach": create, "store": _own_store(root, mode, "sc")},
        "er": {"kind": "engineio", "attach": {**base, "required": True}},
        "sr": {"kind": "socketio", "attach": {**base, "required": True}},
        "ex": {"kind": "engineio", "attach": live},
        "sx": {"kind": "socketio", "attach": {**live, "auth_key": "session"}},
        "fa": {"kind": "engineio", "attach": base, "store": failing},
        "fr": {
            "kind": "engineio",
            "attach": {**base, "on_store_error": "reject"},
            "store": failing,
        },
    }


def _own_store(root: Path, mode: str, app: str) -> dict[str, Any]:
    return {"type": "file", "path": str(root / f"{app}-{mode}")}


@pytest.fixture(scope="module")
def servers(root: Path, store: FileStore, closed_port: int) -> Iterator[dict[str, Serve]]:
    """One server per async mode, started together."""
    started = {
        mode: Serve(
            {
                "mode": mode,
                "store": {"type": "file", "path": store.path},
                "apps": apps(root, mode, closed_port),
            },
            root / f"serve-{mode}.log",
        )
        for mode in MODES
    }
    try:
        for server in started.values():
            assert server.port
        yield started
    finally:
        for server in started.values():
            server.stop()


def user(request: pytest.FixtureRequest) -> str:
    return "ada " + request.node.name


# --- the matrix: every mode x kind x transport, a real cookie -------------------------------


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_python_client_gets_the_session(
    servers: dict[str, Serve],
    store: FileStore,
    mode: str,
    kind: str,
    transport: str,
    request: pytest.FixtureRequest,
) -> None:
    session = saved_session(store, user=user(request))
    url = servers[mode].url
    with client(kind, url, PATH[kind], transport, cookie=cookie_pair(session.id)) as c:
        hello = c.session()
        assert hello["id"] == session.id and hello["data"]["user"] == user(request)
        assert hello["in_connect"] is True  # the connect handler saw it in the environ
        assert c.command("get")["data"]["id"] == session.id
        changed = c.command("set", key="seen", value=f"{mode} {transport}")
        assert changed["data"]["data"]["seen"] == f"{mode} {transport}"
    stored = store.get(session.id)
    assert stored is not None and stored["seen"] == f"{mode} {transport}"


def test_cookie_signed_with_an_older_secret(servers: dict[str, Serve], store: FileStore) -> None:
    session = saved_session(store, user="rotated")
    for mode, server in servers.items():
        reply = polling_handshake(server.port, "e", cookie=cookie_pair(session.id, SECRETS[1]))
        assert reply.status == 200 and reply.session_message()["id"] == session.id, mode


@pytest.fixture(scope="module")
def node_results(servers: dict[str, Serve], store: FileStore) -> dict[str, Any]:
    """Node's clients, every mode x kind x transport at once (one node process), plus a
    required=True handshake with no cookie."""
    require_node()
    jobs: list[dict[str, Any]] = []
    for mode in MODES:
        for kind in KINDS:
            for transport in TRANSPORTS:
                name = f"{mode}-{kind}-{transport}"
                session = saved_session(store, user="node " + name)
                jobs.append(
                    {
                        "name": name,
                        "kind": kind,
                        "url": servers[mode].url,
                        "path": f"/{PATH[kind]}/",
                        "transport": transport,
                        "cookie": cookie_pair(session.id),
                        "expect": session.id,
                    }
                )
            session = saved_session(store, user="logout")
            jobs.append(
                {
                    "name": f"logout-{mode}-{kind}",
                    "kind": kind,
                    "url": servers[mode].url,
                    "path": f"/{PATH[kind]}x/",
                    "transport": "websocket",
                    "cookie": cookie_pair(session.id),
                    "then": "destroy",
                    "timeout_ms": 5000,
                }
            )
            jobs.append(
                {
                    "name": f"required-{mode}-{kind}",
                    "kind": kind,
                    "url": servers[mode].url,
                    "path": f"/{PATH[kind][0]}r/",
                    "transport": "polling",
                }
            )
    results = node_clients(jobs)
    for job in jobs:
        results[job["name"]]["expect"] = job.get("expect")
    return results


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_node_client_gets_the_session(
    node_results: dict[str, Any], mode: str, kind: str, transport: str
) -> None:
    name = f"{mode}-{kind}-{transport}"
    result = node_results[name]
    assert result["state"] == "session", result
    assert result["session"]["id"] == result["expect"]
    assert result["session"]["data"]["user"] == "node " + name
    assert result["get"]["id"] == result["expect"]  # and the connection carries on
    assert result["transport"] == transport


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_node_client_sees_the_server_close_after_a_logout(
    node_results: dict[str, Any], mode: str, kind: str
) -> None:
    """The session destroyed (watch=0.2): Node's own client over a websocket sees the close
    at once. engine.io-client handles a CLOSE packet only on polling, so the server must close
    the websocket itself (python-engineio's asyncio socket does not: _compat.async_disconnect)."""
    result = node_results[f"logout-{mode}-{kind}"]
    assert result["state"] == "closed-by-server", result
    assert result["after_ms"] < 1500, result
    if kind == "socketio":
        assert result["reason"] == "io server disconnect", result


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_node_client_refused_without_session(
    node_results: dict[str, Any], mode: str, kind: str
) -> None:
    result = node_results[f"required-{mode}-{kind}"]
    assert result["state"] == "error", result
    assert "401" in result["description"] or "401" in result["error"], result


# --- no valid cookie: no session (and 401 when required) --------------------------------------


def bad_cookies(session_id: str) -> dict[str, str]:
    good = cookie_pair(session_id)
    value = good.split("=", 1)[1]
    return {
        "forged": cookie_pair(session_id, secret="not the secret"),
        "unsigned": f"connect.sid={session_id}",
        "unsigned-s": f"connect.sid=s%3A{session_id}",
        "truncated": good[:-3],
        "tampered-id": good.replace(session_id[:4], session_id[:4][::-1], 1),
        "oversized": "connect.sid=" + value.replace("s%3A", "s%3A" + "x" * 5000, 1),
        "oversized-header": f"pad={'y' * 17000}; {good}",
        "other-name": "connect.sid2=" + value,
    }


@pytest.mark.parametrize("mode", MODES)
def test_bad_cookies_get_no_session(servers: dict[str, Serve], store: FileStore, mode: str) -> None:
    session = saved_session(store, user="victim")
    port = servers[mode].port
    for name, cookie in bad_cookies(session.id).items():
        reply = polling_handshake(port, "e", cookie=cookie)
        if reply.status == 200:
            assert reply.session_message() is None, (name, reply)
        else:  # a server may refuse a 17 KB header outright
            assert name == "oversized-header" and reply.status in (400, 431), (name, reply)
        required = polling_handshake(port, "er", cookie=cookie)
        assert required.status in ((401,) if reply.status == 200 else (400, 431)), name
    assert polling_handshake(port, "e").session_message() is None
    assert polling_handshake(port, "er").status == 401


@pytest.mark.parametrize("mode", MODES)
def test_bad_cookies_python_clients(servers: dict[str, Serve], store: FileStore, mode: str) -> None:
    """The same through python-socketio on a websocket: connected, with no session."""
    session = saved_session(store, user="victim")
    forged = cookie_pair(session.id, secret="not the secret")
    with client("socketio", servers[mode].url, "s", "websocket", cookie=forged) as c:
        assert c.command("get") == {"data": None}
        assert "session" not in c.inbox.kinds()


@pytest.mark.parametrize("mode", MODES)
def test_repeated_cookie_headers(servers: dict[str, Serve], store: FileStore, mode: str) -> None:
    """Two Cookie headers: Node joins them with '; '. Read from the raw headers under ASGI
    and aiohttp; under WSGI the server has joined them already (werkzeug and eventlet with
    ',', which hides a cookie in the second header from cookie.parse; gevent with '; ')."""
    session = saved_session(store, user="two headers")
    reply = polling_handshake(
        servers[mode].port,
        "e",
        raw_headers=[("Cookie", "theme=dark"), ("Cookie", cookie_pair(session.id))],
    )
    found = reply.session_message() is not None
    assert found == (mode in ("asgi", "aiohttp", "gevent")), reply


# --- create=True --------------------------------------------------------------------------


def created_id(reply: Any) -> str:
    cookies = reply.header("set-cookie")
    ours = [c for c in cookies if c.startswith("connect.sid=")]
    assert len(ours) == 1, reply.headers
    attributes = [part.strip() for part in ours[0].split(";")[1:]]
    assert "Path=/" in attributes and "HttpOnly" in attributes, ours
    assert any(a.startswith("Expires=") for a in attributes), ours
    pair = ours[0].split(";")[0]
    session_id = get_session_id(pair, secrets=[SECRETS[0]])  # signed with the first secret
    assert session_id is not None, pair
    return session_id


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_create_sets_cookie_on_polling_handshake(
    servers: dict[str, Serve], root: Path, mode: str, kind: str
) -> None:
    app = PATH[kind][0] + "c"
    reply = polling_handshake(servers[mode].port, app)
    assert reply.status == 200
    session_id = created_id(reply)
    saved = FileStore(root / f"{app}-{mode}").get(session_id)
    assert saved is not None and saved.cookie.original_max_age == 3_600_000
    if kind == "engineio":
        assert reply.session_message()["id"] == session_id
    # the cookie works: a client that sends it back gets that session
    with client(kind, servers[mode].url, app, "websocket", cookie=cookie_pair(session_id)) as c:
        assert c.session()["id"] == session_id


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_create_on_websocket_only_handshake(
    servers: dict[str, Serve], root: Path, mode: str, kind: str
) -> None:
    """ASGI and aiohttp put the Set-Cookie on the 101; the WSGI servers write their 101
    themselves, so there no session is created at all (none could ever be found again)."""
    app = PATH[kind][0] + "c"
    directory = FileStore(root / f"{app}-{mode}")
    before = set(directory.ids())
    reply = websocket_handshake(servers[mode].port, app)
    assert reply.status == 101 and not reply.closed
    # the OPEN packet came: python-engineio sends it over the websocket only once the connect
    # handler, where attach() saves a new session, has returned; so no wait is needed
    assert reply.packets[0][0] == "0", reply
    if WS_SET_COOKIE[mode]:
        session_id = created_id(reply)
        assert directory.get(session_id) is not None
        assert set(directory.ids()) - before == {session_id}
    else:
        assert not reply.header("set-cookie")
        assert set(directory.ids()) == before


# --- required=True and the application's own connect handler -------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_required(servers: dict[str, Serve], store: FileStore, mode: str, kind: str) -> None:
    app = PATH[kind][0] + "r"
    port = servers[mode].port
    assert polling_handshake(port, app).status == 401
    ws = websocket_handshake(port, app)
    assert ws.status == WS_REJECTION[mode], ws
    if ws.status == 101:  # gevent-websocket: the upgrade is done, then closed at once
        assert ws.closed and not [kind for kind, _ in ws.packets if kind == "0"], ws
    session = saved_session(store, user="allowed")
    assert polling_handshake(port, app, cookie=cookie_pair(session.id)).status == 200
    ok = websocket_handshake(port, app, cookie=cookie_pair(session.id))
    assert ok.status == 101 and not ok.closed


@pytest.mark.parametrize("mode", MODES)
def test_application_connect_handler_still_rejects(
    servers: dict[str, Serve], store: FileStore, mode: str
) -> None:
    """The app's connect handler (registered before attach) says no on ?reject=1: Engine.IO
    answers 401 (websocket-only: as WS_REJECTION), Socket.IO a CONNECT_ERROR for the
    namespace; no session event either way."""
    session = saved_session(store, user="rejected")
    cookie = cookie_pair(session.id)
    port = servers[mode].port
    assert polling_handshake(port, "e", cookie=cookie, query="&reject=1").status == 401
    ws = websocket_handshake(port, "e", cookie=cookie, query="&reject=1")
    assert ws.status == WS_REJECTION[mode] and ws.session_message() is None
    assert polling_handshake(port, "e", cookie=cookie).session_message()["id"] == session.id
    refused = websocket_handshake(
        port, "s", cookie=cookie, query="&reject=1", send="40", until="44"
    )
    texts = [kind + data for kind, data in refused.packets]
    assert refused.status == 101 and "44" in [t[:2] for t in texts], texts  # CONNECT_ERROR
    assert not [t for t in texts if '"session"' in t], texts


# --- header= and auth_key= ----------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_signed_value_in_a_header(
    servers: dict[str, Serve], store: FileStore, mode: str, kind: str
) -> None:
    session = saved_session(store, user="native app")
    headers = {"X-Session": signed_value(session.id)}
    with client(kind, servers[mode].url, PATH[kind] + "x", "websocket", headers=headers) as c:
        assert c.session()["id"] == session.id
    forged = {"X-Session": signed_value(session.id, "not the secret")}
    assert polling_handshake(servers[mode].port, "ex", headers=forged).session_message() is None


@pytest.mark.parametrize("mode", MODES)
def test_signed_value_in_auth(servers: dict[str, Serve], store: FileStore, mode: str) -> None:
    session = saved_session(store, user="auth payload")
    url = servers[mode].url
    with client("socketio", url, "sx", "polling", auth={"session": signed_value(session.id)}) as c:
        assert c.session()["id"] == session.id
        assert c.command("get")["data"]["data"]["user"] == "auth payload"
    forged = {"session": signed_value(session.id, "not the secret")}
    with client("socketio", url, "sx", "polling", auth=forged) as c:
        assert c.command("get") == {"data": None}


# --- reload, auto_save, watch ---------------------------------------------------------------


@pytest.fixture
def live(servers: dict[str, Serve], store: FileStore) -> Callable[..., Any]:
    """``with live(mode, kind, transport, **data) as (c, session)``: a session saved with
    ``data`` (or ``session=``, saved already) and a client of ``kind`` with its cookie, on the
    ``ex`` / ``sx`` app (reload, auto_save, watch) of the server of ``mode``."""

    @contextmanager
    def connect(
        mode: str, kind: str, transport: str, session: Session | None = None, **data: Any
    ) -> Iterator[tuple[Any, Session]]:
        session = session or saved_session(store, **data)
        url, cookie = servers[mode].url, cookie_pair(session.id)
        with client(kind, url, PATH[kind] + "x", transport, cookie=cookie) as c:
            yield c, session

    return connect


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_reload_sees_what_the_store_holds_now(
    live: Any, store: FileStore, mode: str, kind: str
) -> None:
    with live(mode, kind, "polling", user="before") as (c, session):
        assert c.session()["data"]["user"] == "before"
        changed = store.get(session.id)
        assert changed is not None
        changed["user"] = "after"  # as the Node app would write it
        store.set(session.id, changed)
        assert c.command("get")["data"]["data"]["user"] == "after"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_auto_save_on_disconnect(live: Any, store: FileStore, mode: str, kind: str) -> None:
    with live(mode, kind, "websocket", user="auto") as (c, session):
        c.session()
        assert c.command("put", key="cart", value=[1, 2])["data"]["data"]["cart"] == [1, 2]
        assert "cart" not in store.get(session.id)  # type: ignore[operator]
    wait_for(lambda: store.get(session.id).get("cart") == [1, 2])  # type: ignore[union-attr]


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("mode", MODES)
def test_watch_notices_a_destroyed_session(
    live: Any, store: FileStore, mode: str, kind: str
) -> None:
    """watch=0.2: a session destroyed in the store (a logout) closes its connection within
    one watch interval plus a store read; Socket.IO clients are told "io server disconnect"
    (so they do not reconnect with the dead cookie)."""
    with live(mode, kind, "websocket", user="logout") as (c, session):
        c.session()
        started = time.monotonic()
        store.destroy(session.id)
        reason = c.inbox.expect("disconnect", timeout=3)
        noticed = time.monotonic() - started
    assert noticed < 1.5, noticed
    if kind == "socketio" and reason:  # python-socketio >= 5.12 passes the reason
        import socketio

        assert reason[0] == socketio.Client.reason.SERVER_DISCONNECT, reason


@pytest.mark.parametrize("mode", [m for m in MODES if m in ("threading", "asgi")])
def test_watch_notices_an_expired_session(live: Any, store: FileStore, mode: str) -> None:
    session = Session.new(max_age=600)
    session["user"] = "short"
    store.set(session.id, session)
    with live(mode, "engineio", "polling", session=session) as (c, _):
        c.session()
        c.inbox.expect("disconnect", timeout=3)


# --- forged Socket.IO events ----------------------------------------------------------------

FORGED_PACKETS = [
    '2["session",{"user":"admin"}]',
    '21-["session",{"user":"admin"}]',  # an attachment count on a plain EVENT
    '2[ "session",{"user":"admin"}]',  # JSON whitespace
    '2["\\u0073ession",{"user":"admin"}]',  # a JSON escape
    '27["session",{"user":"admin"}]',  # with an ack id
    '2["connect",{"engineio_session.session":{"user":"admin"},"QUERY_STRING":""}]',
    '2["disconnect","forged"]',
]


@pytest.mark.parametrize("mode", MODES)
def test_client_cannot_forge_reserved_events(
    servers: dict[str, Serve], store: FileStore, mode: str
) -> None:
    session = saved_session(store, user="honest")
    cookie = cookie_pair(session.id)
    with client("socketio", servers[mode].url, "s", "websocket", cookie=cookie) as c:
        assert c.session()["id"] == session.id
        for packet in FORGED_PACKETS:
            c.client.eio.send(packet)
        c.client.eio.send('51-["session",{"_placeholder":true,"num":0}]')  # binary
        c.client.eio.send(b"\x01")
        answer = c.command("get")  # everything sent before has been handled by now
        assert answer["data"]["data"] == {"user": "honest", **_last_access(answer)}
        assert c.inbox.kinds().count("session") == 1, c.inbox.received
        assert "forged" not in c.inbox.kinds() and "caught" not in c.inbox.kinds()


def _last_access(answer: dict[str, Any]) -> dict[str, Any]:
    data = answer["data"]["data"]
    return {"__lastAccess": data["__lastAccess"]} if "__lastAccess" in data else {}


# --- store failures -------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_store_failure_admits_or_rejects(
    servers: dict[str, Serve], store: FileStore, mode: str
) -> None:
    session = saved_session(store, user="unreachable")
    cookie = cookie_pair(session.id)
    port = servers[mode].port
    admitted = polling_handshake(port, "fa", cookie=cookie)
    assert admitted.status == 200 and admitted.session_message() is None
    assert polling_handshake(port, "fr", cookie=cookie).status == 401
    ws = websocket_handshake(port, "fr", cookie=cookie)
    assert ws.status == WS_REJECTION[mode]
    # no cookie: the store is never asked, nothing fails
    assert polling_handshake(port, "fr").status == 200
    logs = wait_for(lambda: "rejecting it" in servers[mode].logs() and servers[mode].logs())
    assert "going on without a session" in logs
    mac = cookie.rsplit(".", 1)[1]
    for secret in (*SECRETS, mac, session.id, cookie):
        assert secret not in logs


def test_server_logs_hold_no_secrets(
    servers: dict[str, Serve], store: FileStore, live: Any
) -> None:
    """No secret in any server's log, and no handler of ours failed (python-engineio logs
    "<event> handler error" with the traceback): after the whole module, and, run alone,
    after what makes the servers log (store failures, forged cookies, a watched logout)."""
    session = saved_session(store, user="logged")
    cookie = cookie_pair(session.id)
    for mode, server in servers.items():
        for app in ("fa", "fr", "e", "er", "ec"):
            polling_handshake(server.port, app, cookie=cookie)
            polling_handshake(server.port, app, cookie=cookie_pair(session.id, "not the secret"))
        with live(mode, "engineio", "websocket", user="watched") as (c, watched):
            c.session()
            store.destroy(watched.id)
            c.inbox.expect("disconnect", timeout=3)
        logs = wait_for(
            lambda server=server: (
                "rejecting it" in server.logs()
                and "going on without a session" in server.logs()
                and server.logs()
            )
        )
        for secret in (*SECRETS, cookie, cookie.rsplit(".", 1)[1], session.id, watched.id):
            assert secret not in logs, mode
        assert "handler error" not in logs, (mode, logs)
        assert "engineio_session ERROR" not in logs, (mode, logs)
