"""Python web apps with express-session's sessions, for tests/test_web_*.py.

    python -m tests.apps.web '<config JSON>'

config: {
  "server": "asgi" | "threading" | "eventlet" | "gevent",   uvicorn; werkzeug, eventlet, gevent
  "stores": {"<name>": {"type": "redis", "url", "prefix"} | {"type": "file", "path"}, ...},
  "secret": [...],
  "apps": [{"mount": "/plain" | "", "framework": "starlette" | "fastapi" | "flask" | "wsgi",
            "store": "<name>", "options": {keyword arguments of the middleware},
            "socketio": false}, ...]
}

Each app is mounted at its ``mount`` ("" is the root, served for every other path) and has
the routes of node-fixtures/web-server.js, so a test runs one request sequence on both:

    GET  /session      {id, new, loaded, session: the session's JSON, or null}
    POST /update       merge the body into the session
    POST /update-then  {set, then, body?}: merge ``set``, then POST ``body`` to the URL
                       ``then`` with this request's Cookie (another app acting meanwhile)
    POST /update-fail  merge the body, then raise (the framework answers 500)
    POST /save         {before, after}: merge ``before``, save the session, merge ``after``
    POST /logout       destroy the session
    POST /unset        drop the session (what ``unset`` acts on; not in Flask: 501)
    GET  /touch        reset the cookie's max age
    POST /force        Flask only: ``session.modified = True`` and nothing else
    POST /flags        Flask only: Flask's ``new``, ``modified``, ``permanent`` before and
                       after the body is merged into the session

``"socketio": true`` on the root app: ASGI mounts a ``socketio.ASGIApp`` at /socket.io/
inside the app the middleware wraps, with ``attach()`` on the same store; Flask runs
Flask-SocketIO (``manage_session=False``) in the server's mode with ``attach(socketio.server,
...)``. Their events are described in :func:`_flask_socketio` and tests.apps.serve.

It prints ``{"port": N}`` once it listens, then serves until killed.
"""

from __future__ import annotations

import json
import sys
import urllib.request
from typing import Any

from tests.apps.serve import _announce, _listen, _mode_setup, serve_wsgi_app


def post(url: str, cookie: str | None, body: Any) -> int:
    """POST ``body`` as JSON to ``url`` with ``cookie``; the status."""
    request = urllib.request.Request(
        url,
        data=json.dumps(body or {}).encode(),
        headers={"Content-Type": "application/json", "Cookie": cookie or ""},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()
        return int(response.status)


def describe(session: Any) -> dict[str, Any]:
    """What GET /session answers (Node's ``loaded``: the session has data of its own)."""
    if session is None:
        return {"id": None, "new": None, "loaded": False, "session": None}
    return {
        "id": session.id,
        "new": session.is_new,
        "loaded": len(session) > 0,
        "session": session.to_json(),
    }


def make_store(config: dict[str, Any], is_async: bool) -> Any:
    if config["type"] == "file":
        from engineio_session.stores import AsyncFileStore, FileStore

        return (AsyncFileStore if is_async else FileStore)(config["path"])
    if is_async:
        import redis.asyncio

        from engineio_session.stores import AsyncRedisStore

        return AsyncRedisStore(redis.asyncio.Redis.from_url(config["url"]), prefix=config["prefix"])
    import redis

    from engineio_session.stores import RedisStore

    return RedisStore(redis.Redis.from_url(config["url"]), prefix=config["prefix"])


# --- ASGI: Starlette and FastAPI ------------------------------------------------------------


def _starlette_routes() -> list[Any]:
    import asyncio

    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    async def get_session(request: Request) -> JSONResponse:
        return JSONResponse(describe(request.session))

    async def update(request: Request) -> JSONResponse:
        request.session.update(await request.json())
        return JSONResponse({"id": request.session.id})

    async def update_then(request: Request) -> JSONResponse:
        body = await request.json()
        request.session.update(body.get("set") or {})
        cookie = request.headers.get("cookie")
        status = await asyncio.to_thread(post, body["then"], cookie, body.get("body"))
        return JSONResponse({"id": request.session.id, "then": status})

    async def update_fail(request: Request) -> JSONResponse:
        request.session.update(await request.json())
        raise RuntimeError("the route failed")

    async def save(request: Request) -> JSONResponse:
        body = await request.json()
        request.session.update(body.get("before") or {})
        await request.session.save()
        request.session.update(body.get("after") or {})
        return JSONResponse({"id": request.session.id})

    async def logout(request: Request) -> JSONResponse:
        await request.session.destroy()
        return JSONResponse({"ok": True})

    async def unset(request: Request) -> JSONResponse:
        request.scope["session"] = None
        return JSONResponse({"ok": True})

    async def touch(request: Request) -> JSONResponse:
        request.session.reset_max_age()
        return JSONResponse({"id": request.session.id})

    return [
        Route("/session", get_session),
        Route("/update", update, methods=["POST"]),
        Route("/update-then", update_then, methods=["POST"]),
        Route("/update-fail", update_fail, methods=["POST"]),
        Route("/save", save, methods=["POST"]),
        Route("/logout", logout, methods=["POST"]),
        Route("/unset", unset, methods=["POST"]),
        Route("/touch", touch),
    ]


def _asgi_app(app: dict[str, Any], store: Any, secret: Any) -> Any:
    from starlette.applications import Starlette
    from starlette.middleware import Middleware
    from starlette.routing import Mount

    from engineio_session.asgi import SessionMiddleware

    options = app.get("options", {})
    if app["framework"] == "fastapi":
        from tests.apps.web_fastapi import fastapi_app

        return fastapi_app(store, secret, options)
    routes = _starlette_routes()
    if app.get("socketio"):
        import socketio

        from engineio_session import attach
        from tests.apps.serve import _socketio_app

        sio = socketio.AsyncServer(async_mode="asgi")
        handle = attach(sio, store=store, secret=secret)
        _socketio_app(sio, handle, True)
        routes.append(Mount("/socket.io", socketio.ASGIApp(sio)))
    middleware = [Middleware(SessionMiddleware, store=store, secret=secret, **options)]
    return Starlette(routes=routes, middleware=middleware)


def serve_asgi(config: dict[str, Any]) -> None:
    import uvicorn
    from starlette.routing import Mount, Router

    stores = {name: make_store(store, True) for name, store in config["stores"].items()}
    apps = sorted(config["apps"], key=lambda app: app["mount"] == "")  # the root one last
    router = Router(
        routes=[
            Mount(app["mount"] or "/", _asgi_app(app, stores[app["store"]], config["secret"]))
            for app in apps
        ]
    )
    sock = _listen()
    _announce(sock.getsockname()[1])
    server = uvicorn.Server(uvicorn.Config(router, log_level="warning", lifespan="off"))
    server.run(sockets=[sock])


# --- WSGI: Flask, Flask-SocketIO and a bare WSGI app ----------------------------------------


def _flask_app(app: dict[str, Any], store: Any, secret: Any, mode: str) -> Any:
    import flask
    from flask.sessions import NullSession

    from engineio_session.flask import ExpressSessionInterface

    application = flask.Flask(f"web{app['mount'].replace('/', '_')}")
    application.session_interface = ExpressSessionInterface(
        store=store, secret=secret, **app.get("options", {})
    )
    session: Any = flask.session

    @application.get("/session")
    def get_session() -> Any:
        current = session._get_current_object()
        return describe(None if isinstance(current, NullSession) else current)

    @application.post("/update")
    def update() -> Any:
        session.update(flask.request.get_json())
        return {"id": session.id}

    @application.post("/update-then")
    def update_then() -> Any:
        body = flask.request.get_json()
        session.update(body.get("set") or {})
        status = post(body["then"], flask.request.headers.get("Cookie"), body.get("body"))
        return {"id": session.id, "then": status}

    @application.post("/update-fail")
    def update_fail() -> Any:
        session.update(flask.request.get_json())
        raise RuntimeError("the route failed")

    @application.post("/save")
    def save() -> Any:
        body = flask.request.get_json()
        session.update(body.get("before") or {})
        session.save()
        session.update(body.get("after") or {})
        return {"id": session.id}

    @application.post("/logout")
    def logout() -> Any:
        session.destroy()
        return {"ok": True}

    @application.post("/unset")
    def unset() -> Any:
        return {"error": "Flask has no way to drop flask.session"}, 501

    @application.get("/touch")
    def touch() -> Any:
        session.reset_max_age()
        return {"id": session.id}

    @application.post("/force")
    def force() -> Any:
        session.modified = True
        return {"id": session.id}

    @application.post("/flags")
    def flags() -> Any:
        def now() -> dict[str, bool]:
            return {
                "new": session.new,
                "modified": session.modified,
                "permanent": session.permanent,
            }

        before = now()
        for key, value in (flask.request.get_json() or {}).items():
            session[key] = value
        return {"before": before, "after": now()}

    if app.get("socketio"):
        _flask_socketio(application, store, secret, mode)
    return application


def _flask_socketio(application: Any, store: Any, secret: Any, mode: str) -> None:
    """Flask-SocketIO beside the routes, as its documentation advises for server-side
    sessions shared with HTTP routes (``manage_session=False``), and ``attach()``.

    Events: ``session`` (from attach) emits ``session`` with ``{id, data, flask}``, where
    ``flask`` is ``flask.session`` in the handler (Flask-SocketIO opens it from the
    handshake's request); ``get`` answers ``{data: {id, data}, flask}``; ``flask_set``
    ``{key, value}`` changes ``flask.session`` and nothing else (Flask-SocketIO saves it after
    the event); ``set`` changes the live session and saves it."""
    import flask
    from flask_socketio import SocketIO, emit

    from engineio_session import attach

    socketio = SocketIO(application, manage_session=False, async_mode=mode)
    handle = attach(socketio.server, store=store, secret=secret)

    @socketio.on("session")
    def on_session(session: Any) -> None:
        current = flask.session
        emit("session", {"id": session.id, "data": dict(session), "flask": dict(current)})

    @socketio.on("get")
    def get(_: Any = None) -> Any:
        live = handle.get(flask.request.sid)  # type: ignore[attr-defined]
        data = None if live is None else {"id": live.id, "data": dict(live)}
        return {"data": data, "flask": dict(flask.session)}

    @socketio.on("flask_set")
    def flask_set(request: Any) -> Any:
        flask.session[request["key"]] = request["value"]
        return {"ok": True}

    @socketio.on("set")
    def set_(request: Any) -> Any:
        live = handle.get(flask.request.sid)  # type: ignore[attr-defined]
        live[request["key"]] = request["value"]
        live.save()
        return {"data": {"id": live.id, "data": dict(live)}}


def _wsgi_app(store: Any, secret: Any, options: dict[str, Any]) -> Any:
    """A bare WSGI app (no framework) behind engineio_session.wsgi.SessionMiddleware."""
    from engineio_session.core import ENVIRON_SESSION
    from engineio_session.wsgi import SessionMiddleware

    def app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        session = environ[ENVIRON_SESSION]
        route = environ["PATH_INFO"]
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = json.loads(environ["wsgi.input"].read(length) or b"null") if length else None
        answer: Any = {"id": session.id if session is not None else None}
        if route == "/session":
            answer = describe(session)
        elif route == "/update":
            session.update(body)
        elif route == "/update-then":
            session.update(body.get("set") or {})
            answer["then"] = post(body["then"], environ.get("HTTP_COOKIE"), body.get("body"))
        elif route == "/update-fail":
            session.update(body)
            raise RuntimeError("the route failed")
        elif route == "/save":
            session.update(body.get("before") or {})
            session.save()
            session.update(body.get("after") or {})
        elif route == "/logout":
            session.destroy()
        elif route == "/unset":
            environ[ENVIRON_SESSION] = None
        elif route == "/touch":
            session.reset_max_age()
        else:
            start_response("404 Not Found", [("Content-Type", "application/json")])
            return [b"null"]
        start_response("200 OK", [("Content-Type", "application/json")])
        return [json.dumps(answer).encode()]

    return SessionMiddleware(app, store=store, secret=secret, **options)


def serve_wsgi(config: dict[str, Any]) -> None:
    from werkzeug.middleware.dispatcher import DispatcherMiddleware

    mode = config["server"]
    stores = {name: make_store(store, False) for name, store in config["stores"].items()}
    mounts: dict[str, Any] = {}
    root: Any = None
    for app in config["apps"]:
        store = stores[app["store"]]
        if app["framework"] == "wsgi":
            built = _wsgi_app(store, config["secret"], app.get("options", {}))
        else:
            built = _flask_app(app, store, config["secret"], mode)
        if app["mount"]:
            mounts[app["mount"]] = built
        else:
            root = built
    serve_wsgi_app(mode, DispatcherMiddleware(root, mounts))


if __name__ == "__main__":
    import logging
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)  # eventlet's notice on import
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    logging.basicConfig(level=logging.WARNING, format="web: %(name)s %(levelname)s %(message)s")
    settings = json.loads(sys.argv[1])
    _mode_setup(settings["server"])
    if settings["server"] == "asgi":
        serve_asgi(settings)
    else:
        serve_wsgi(settings)
