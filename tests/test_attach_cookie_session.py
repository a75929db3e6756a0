"""attach(server, cookie_session=CookieSession(...)): the session is in the browser's cookies.

In process (sync WSGI and async ASGI servers, Engine.IO and Socket.IO) and against the real
Express + cookie-session app (node-fixtures/cookie-session-server.js): what Node set fires
``session`` with Node's data; an unsigned or forged pair never does (``required``: 401); a
pair signed with an older key is re-signed on the handshake's response and a forged
signature cleared, as cookie-session does; ``save()`` puts the cookies on the response of
the request being handled (Node reads them back), and raises where no response is left.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session import CookieSession, attach
from engineio_session.cookie_live import CookieSessionSaveError
from engineio_session.stores import FileStore
from tests.apps.inprocess import Driver

from .test_interop_cookie_session import CookieSessionServer, header_for

KEYS = ["newest key", "older key"]


@pytest.fixture(scope="module")
def node() -> Iterator[CookieSessionServer]:
    with CookieSessionServer({"keys": KEYS}) as server:
        yield server


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def drivers(tmp_path: Path) -> Iterator[Callable[..., Driver]]:
    made: list[Driver] = []

    def make(is_async: bool, kind: str = "engineio", **options: Any) -> Driver:
        options.setdefault("cookie_session", CookieSession(keys=KEYS))
        driver = Driver(is_async, kind, tmp_path / "unused", store=None, plain=True)
        driver.handle = attach(driver.server, **options)
        made.append(driver)
        return driver

    yield make
    for driver in made:
        driver.close()


def login(node: CookieSessionServer, data: dict[str, Any], keys: list[str] | None = None) -> str:
    """The Cookie header of a browser that Express logged in with ``data``."""
    if keys is None:
        _, set_cookie = node.request("POST", "/login", body=data)
        return header_for(set_cookie)
    return header_for(CookieSession(keys=keys).dump(data))


def fired(driver: Driver, is_async: bool, then: Callable[[Any], Any] | None = None) -> list[Any]:
    """Record every ``session`` event (Engine.IO); ``then(session)`` runs in the handler."""
    seen: list[Any] = []

    def record(sid: str, session: Any) -> Any:
        seen.append(dict(session))
        return then(session) if then is not None else None

    if is_async:

        async def on_session(sid: str, session: Any) -> None:
            result = record(sid, session)
            if result is not None:
                await result

        driver.eio.on("session", on_session)
    else:
        driver.eio.on("session", record)
    return seen


def test_what_express_set_fires_session(
    drivers: Callable[..., Driver], is_async: bool, node: CookieSessionServer
) -> None:
    driver = drivers(is_async)
    seen = fired(driver, is_async)
    cookie = login(node, {"user": "ada", "roles": ["admin"], "n": 1})
    response = driver.handshake(cookie)
    assert response.status == 200 and seen == [{"user": "ada", "roles": ["admin"], "n": 1}]
    assert driver.handle.get(response.sid)["user"] == "ada"
    assert response.header("Set-Cookie") == []  # verified with the newest key: nothing sent


@pytest.mark.parametrize("tamper", ["unsigned", "forged", "other keys"])
def test_never_a_session_from_an_unsigned_or_forged_pair(
    drivers: Callable[..., Driver], is_async: bool, node: CookieSessionServer, tamper: str
) -> None:
    cookie = login(node, {"user": "ada"})
    if tamper == "unsigned":
        cookie = cookie.split("; ")[0]
    elif tamper == "forged":
        value = cookie.split("; ")[0].split("=", 1)[1]
        forged = header_for(CookieSession(keys=KEYS).dump({"user": "root"}))
        cookie = "session=" + forged.split("; ")[0].split("=", 1)[1] + "; " + cookie.split("; ")[1]
        assert value not in cookie
    else:
        cookie = login(node, {"user": "ada"}, keys=["somebody else's key"])
    driver = drivers(is_async)
    seen = fired(driver, is_async)
    response = driver.handshake(cookie)
    assert response.status == 200 and seen == [] and driver.handle.get(response.sid) is None
    if tamper != "unsigned":  # cookie-session clears a .sig that matches no key
        assert [c.split(";")[0] for c in response.header("Set-Cookie")] == ["session.sig="]
    assert drivers(is_async, required=True).handshake(cookie).status == 401


def test_an_older_key_is_re_signed_on_the_handshake_response(
    drivers: Callable[..., Driver], is_async: bool, node: CookieSessionServer
) -> None:
    cookie = login(node, {"user": "ada"}, keys=["older key"])
    driver = drivers(is_async)
    seen = fired(driver, is_async)
    response = driver.handshake(cookie)
    assert seen == [{"user": "ada"}]
    (resigned,) = response.header("Set-Cookie")
    assert resigned.startswith("session.sig=")
    # the browser's cookies after it: Express verifies them with its newest key
    value = cookie.split("; ")[0]
    answer, _ = node.request("GET", "/me", cookie=value + "; " + resigned.split(";")[0])
    assert answer["session"] == {"user": "ada"} and answer["isNew"] is False


def test_a_save_during_the_handshake_reaches_express(
    drivers: Callable[..., Driver], is_async: bool, node: CookieSessionServer
) -> None:
    driver = drivers(is_async)

    def change(session: Any) -> Any:
        session["seen_by"] = "python"
        return session.save()

    fired(driver, is_async, then=change)
    response = driver.handshake(login(node, {"user": "ada"}))
    cookies = response.header("Set-Cookie")
    assert [c.split("=")[0] for c in cookies] == ["session", "session.sig"]
    answer, _ = node.request("GET", "/me", cookie=header_for(cookies))
    assert answer["session"] == {"user": "ada", "seen_by": "python"}


def test_a_save_where_no_response_is_left_raises(
    drivers: Callable[..., Driver], is_async: bool, node: CookieSessionServer
) -> None:
    driver = drivers(is_async)
    errors: list[str] = []

    async def amessage(sid: str, data: Any) -> None:
        try:
            session = driver.handle.get(sid)
            session["late"] = True
            await session.save()
        except CookieSessionSaveError as error:
            errors.append(str(error))

    def message(sid: str, data: Any) -> None:
        try:
            session = driver.handle.get(sid)
            session["late"] = True
            session.save()
        except CookieSessionSaveError as error:
            errors.append(str(error))

    driver.eio.on("message", amessage if is_async else message)
    sid = driver.handshake(login(node, {"user": "ada"})).sid
    driver.post(sid, "4hello")
    assert len(errors) == 1 and "no response is left" in errors[0]


def test_socketio_save_in_a_polling_connect_goes_on_its_response(
    drivers: Callable[..., Driver], is_async: bool, node: CookieSessionServer
) -> None:
    """On Socket.IO ``session`` fires at the namespace CONNECT; over polling the CONNECT comes
    in a POST, whose response takes the Set-Cookie."""
    driver = drivers(is_async, "socketio")
    seen: list[Any] = []

    def record(sid: str, session: Any) -> Any:
        seen.append(dict(session))
        session["room"] = "lobby"
        return session.save()

    if is_async:

        async def on_session(sid: str, session: Any) -> None:
            await record(sid, session)

        driver.server.on("session", on_session)
    else:
        driver.server.on("session", record)
    eio_sid = driver.handshake(login(node, {"user": "ada"})).sid
    response = driver.request("POST", f"EIO=4&transport=polling&sid={eio_sid}", {}, b"40")
    assert seen == [{"user": "ada"}]
    cookies = response.header("Set-Cookie")
    answer, _ = node.request("GET", "/me", cookie=header_for(cookies))
    assert answer["session"] == {"user": "ada", "room": "lobby"}


def test_options_that_need_a_store_are_refused(tmp_path: Path) -> None:
    import engineio
    import socketio

    cookies = CookieSession(keys=KEYS)
    for option in ({"watch": 1}, {"reload": True}, {"auto_save": True}, {"header": "X-S"}):
        with pytest.raises(TypeError):
            attach(engineio.Server(), cookie_session=cookies, **option)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        attach(socketio.Server(), cookie_session=cookies, auth_key="session")
    with pytest.raises(TypeError):
        attach(engineio.Server(), store=FileStore(tmp_path), secret="s", cookie_session=cookies)
    with pytest.raises(TypeError):
        attach(engineio.Server(), secret="s")  # neither a store nor a cookie_session


def test_the_session_event_with_node_clients(node: CookieSessionServer, tmp_path: Path) -> None:
    """Express logs in with cookie-session; Node's engine.io-client and socket.io-client,
    polling and websocket, bring the cookies to Python servers that fire ``session``."""
    from tests.apps.harness import Serve
    from tests.node import run_json

    cookie = login(node, {"user": "ada", "n": 7})
    for mode in ("threading", "asgi"):
        config = {
            "mode": mode,
            "store": {"type": "cookie-session", "keys": KEYS},
            "apps": {
                "e": {"kind": "engineio", "attach": {}},
                "s": {"kind": "socketio", "attach": {}},
            },
        }
        with Serve(config, tmp_path / f"{mode}.log") as server:
            jobs = [
                {
                    "name": f"{kind}-{transport}",
                    "kind": kind,
                    "url": server.url,
                    "path": f"/{kind[0]}/",
                    "transport": transport,
                    "cookie": cookie,
                }
                for kind in ("engineio", "socketio")
                for transport in ("polling", "websocket")
            ]
            results = run_json("clients.js", jobs, timeout=60)
        for result in results:
            assert result["state"] == "session", (mode, result)
            assert result["session"]["data"] == {"user": "ada", "n": 7}, (mode, result)


def test_json_is_what_node_reads(node: CookieSessionServer) -> None:
    """A guard on the helpers above: Node's /me answers the data Python dumps."""
    answer, _ = node.request(
        "GET", "/me", cookie=header_for(CookieSession(keys=KEYS).dump({"a": 1}))
    )
    assert json.dumps(answer["session"]) == '{"a": 1}'
