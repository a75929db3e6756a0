"""A Starlette WebSocket route behind the ASGI SessionMiddleware: ``websocket.session`` is
the session Express stored (session-file-store, the real Node app of tests/web_sites.py),
as Starlette's own SessionMiddleware gives WebSocket routes their session; the middleware
saves nothing for a WebSocket (no response carries a cookie), an explicit save reaches
Express, and a forged cookie gives a new session that is never stored."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from starlette.testclient import TestClient
from starlette.websockets import WebSocket

from engineio_session.asgi import SessionMiddleware
from engineio_session.stores import AsyncFileStore
from tests.web_sites import SECRETS, NodeWeb, Site, session_id_of

from .node import require_node


@pytest.fixture(scope="module")
def sessions_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("asgi-websocket") / "sessions"


@pytest.fixture(scope="module")
def node(sessions_dir: Path) -> Iterator[NodeWeb]:
    require_node()
    file_store = {"type": "file", "path": str(sessions_dir)}
    web = NodeWeb({"redis": file_store, "file": file_store})  # every mount on the files
    try:
        assert web.port
        yield web
    finally:
        web.stop()


async def echo_session(websocket: WebSocket) -> None:
    """Sends what the session holds; ``{"save": {...}}`` changes it and saves it."""
    await websocket.accept()
    session = websocket.session
    await websocket.send_json({"id": session.id, "new": session.is_new, "data": dict(session)})
    message = await websocket.receive_json()
    if "save" in message:
        session.update(message["save"])
        await session.save()
    await websocket.send_json({"done": True})
    await websocket.close()


def client(sessions_dir: Path) -> TestClient:
    app = Starlette(routes=[WebSocketRoute("/live", echo_session)])
    store = AsyncFileStore(path=str(sessions_dir))
    return TestClient(SessionMiddleware(app, store=store, secret=SECRETS))


def express_login(node: NodeWeb) -> tuple[str, str]:
    reply = Site("node", node.port, "/file").post("/update", {"user": "ada"})
    sid = session_id_of(reply.cookie)
    assert reply.status == 200 and reply.cookie is not None and sid is not None, reply
    return reply.cookie, sid


def talk(sessions_dir: Path, cookie: str, message: dict[str, Any]) -> dict[str, Any]:
    with (
        client(sessions_dir) as test,
        test.websocket_connect("/live", headers={"cookie": cookie}) as websocket,
    ):
        first: dict[str, Any] = websocket.receive_json()
        websocket.send_json(message)
        assert websocket.receive_json() == {"done": True}
    return first


def test_a_websocket_route_sees_the_express_user(node: NodeWeb, sessions_dir: Path) -> None:
    cookie, sid = express_login(node)
    seen = talk(sessions_dir, cookie, {})
    assert (seen["id"], seen["new"], seen["data"]["user"]) == (sid, False, "ada")


def test_nothing_is_saved_unless_the_route_saves(node: NodeWeb, sessions_dir: Path) -> None:
    cookie, sid = express_login(node)
    before = node.get("file", sid)
    talk(sessions_dir, cookie, {})
    assert node.get("file", sid)["user"] == "ada"
    assert node.get("file", sid)["cookie"] == before["cookie"]  # not even touched
    talk(sessions_dir, cookie, {"save": {"theme": "dark"}})
    stored = node.get("file", sid)
    assert stored["user"] == "ada" and stored["theme"] == "dark"


def test_a_forged_cookie_gives_a_new_session_never_stored(
    node: NodeWeb, sessions_dir: Path
) -> None:
    cookie, sid = express_login(node)
    name, _, value = cookie.partition("=")
    forged = f"{name}={value[:-3]}abc"
    seen = talk(sessions_dir, forged, {})
    assert seen["new"] is True and seen["id"] != sid and seen["data"] == {}
    assert node.get("file", seen["id"]) is None
