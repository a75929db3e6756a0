"""A Python Engine.IO / Socket.IO server with ``attach``, for the end-to-end tests.

    python -m tests.apps.serve '<config JSON>'

config: {
  "mode": "threading" | "eventlet" | "gevent" | "asgi" | "aiohttp",
  "kind": "engineio" | "socketio",
  "store": {"type": "file", "path": ..., "secret"?: ...}
         | {"type": "redis", "url": ..., "prefix"?: ...},
  "attach": {keyword arguments of attach(): secret, name, create, required, cookie, header,
             auth_key, reload, auto_save, watch, on_store_error},
  "cors": ["http://127.0.0.1:3000"] (optional: allowed origins, with credentials)
}

It prints one line ``{"port": N}`` once it listens, then serves until killed. The app:

- Engine.IO: on ``session`` it sends ``{"event": "session", "id", "data"}``; a message
  ``{"cmd": "get"}`` answers ``{"event": "get", "data": <session or null>}``;
  ``{"cmd": "set", "key", "value"}`` changes and saves; ``{"cmd": "touch"}``,
  ``{"cmd": "destroy"}`` and ``{"cmd": "reload"}`` do what they say and answer
  ``{"event": <cmd>, "data": ...}``.
- Socket.IO: on ``session`` it emits ``session`` with ``{"id", "data"}``; the events ``get``,
  ``set``, ``touch``, ``destroy``, ``reload`` answer through their ack.
- The application's own ``connect`` handler rejects a handshake whose query has
  ``reject=1`` (to show that attach keeps it working) and records whether the session was
  in the environ.
"""

from __future__ import annotations

import json
import socket
import sys
from typing import Any


def _mode_setup(mode: str) -> None:
    if mode == "eventlet":
        import eventlet

        eventlet.monkey_patch()
    elif mode == "gevent":
        from gevent import monkey

        monkey.patch_all()


def _store(config: dict[str, Any], is_async: bool) -> Any:
    kind = config["type"]
    if kind == "file":
        from engineio_session.stores import AsyncFileStore, FileStore

        cls = AsyncFileStore if is_async else FileStore
        return cls(config["path"], secret=config.get("secret"), ttl=config.get("ttl", 3600))
    if kind == "redis":
        prefix = config.get("prefix", "sess:")
        if is_async:
            import redis.asyncio

            from engineio_session.stores import AsyncRedisStore

            return AsyncRedisStore(redis.asyncio.Redis.from_url(config["url"]), prefix=prefix)
        import redis

        from engineio_session.stores import RedisStore

        return RedisStore(redis.Redis.from_url(config["url"]), prefix=prefix)
    raise ValueError(f"unknown store {kind}")


def _payload(session: Any) -> Any:
    return None if session is None else {"id": session.id, "data": dict(session)}


def build(config: dict[str, Any]) -> tuple[Any, Any]:
    """The server (engineio/socketio) with attach() applied, and the handle."""
    import engineio
    import socketio

    from engineio_session import ENVIRON_SESSION, attach

    mode = config["mode"]
    is_async = mode in ("asgi", "aiohttp")
    cors = config.get("cors")
    server_options: dict[str, Any] = {"async_mode": mode}
    if cors is not None:
        server_options["cors_allowed_origins"] = cors
        server_options["cors_credentials"] = True
    store = _store(config["store"], is_async)
    kind = config["kind"]
    if kind == "engineio":
        eio = (engineio.AsyncServer if is_async else engineio.Server)(**server_options)
        handle = attach(eio, store=store, **config["attach"])
        _engineio_app(eio, handle, is_async, ENVIRON_SESSION)
        return eio, handle
    sio = (socketio.AsyncServer if is_async else socketio.Server)(**server_options)
    handle = attach(sio, store=store, **config["attach"])
    _socketio_app(sio, handle, is_async, ENVIRON_SESSION)
    return sio, handle


def _rejects(environ: dict[str, Any]) -> bool:
    return "reject=1" in environ.get("QUERY_STRING", "")


def _engineio_app(eio: Any, handle: Any, is_async: bool, environ_key: str) -> None:
    seen: dict[str, bool] = {}

    if is_async:

        @eio.on("connect")
        async def connect(sid: str, environ: dict[str, Any]) -> bool:
            seen[sid] = environ.get(environ_key) is not None
            return not _rejects(environ)

        @eio.on("session")
        async def on_session(sid: str, session: Any) -> None:
            await eio.send(
                sid,
                json.dumps({"event": "session", **_payload(session), "in_connect": seen.get(sid)}),
            )

        @eio.on("message")
        async def message(sid: str, data: Any) -> None:
            request = json.loads(data)
            session = handle.get(sid)
            command = request["cmd"]
            try:
                if session is not None:
                    if command == "set":
                        session[request["key"]] = request["value"]
                        await session.save()
                    elif command in ("touch", "destroy", "reload"):
                        await getattr(session, command)()
                reply = {"event": command, "data": _payload(handle.get(sid))}
            except Exception as error:  # the test reads the error
                reply = {"event": command, "error": f"{type(error).__name__}: {error}"}
            await eio.send(sid, json.dumps(reply))

        return

    @eio.on("connect")
    def connect_sync(sid: str, environ: dict[str, Any]) -> bool:
        seen[sid] = environ.get(environ_key) is not None
        return not _rejects(environ)

    @eio.on("session")
    def on_session_sync(sid: str, session: Any) -> None:
        eio.send(
            sid, json.dumps({"event": "session", **_payload(session), "in_connect": seen.get(sid)})
        )

    @eio.on("message")
    def message_sync(sid: str, data: Any) -> None:
        request = json.loads(data)
        session = handle.get(sid)
        command = request["cmd"]
        try:
            if session is not None:
                if command == "set":
                    session[request["key"]] = request["value"]
                    session.save()
                elif command in ("touch", "destroy", "reload"):
                    getattr(session, command)()
            reply = {"event": command, "data": _payload(handle.get(sid))}
        except Exception as error:
            reply = {"event": command, "error": f"{type(error).__name__}: {error}"}
        eio.send(sid, json.dumps(reply))


def _socketio_app(sio: Any, handle: Any, is_async: bool, environ_key: str) -> None:
    seen: dict[str, bool] = {}

    def command(sid: str, name: str, request: Any) -> Any:
        session = handle.get(sid)
        if session is not None and name == "set":
            session[request["key"]] = request["value"]
        return session

    if is_async:

        @sio.event
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            seen[sid] = environ.get(environ_key) is not None
            return not _rejects(environ)

        @sio.on("session")
        async def on_session(sid: str, session: Any) -> None:
            await sio.emit("session", {**_payload(session), "in_connect": seen.get(sid)}, to=sid)

        for name in ("get", "set", "touch", "destroy", "reload"):

            async def run(sid: str, request: Any = None, _name: str = name) -> Any:
                try:
                    session = command(sid, _name, request)
                    if session is not None and _name != "get":
                        await getattr(session, "save" if _name == "set" else _name)()
                    return {"data": _payload(handle.get(sid))}
                except Exception as error:
                    return {"error": f"{type(error).__name__}: {error}"}

            sio.on(name, run)
        return

    @sio.event
    def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
        seen[sid] = environ.get(environ_key) is not None
        return not _rejects(environ)

    @sio.on("session")
    def on_session_sync(sid: str, session: Any) -> None:
        sio.emit("session", {**_payload(session), "in_connect": seen.get(sid)}, to=sid)

    for name in ("get", "set", "touch", "destroy", "reload"):

        def run_sync(sid: str, request: Any = None, _name: str = name) -> Any:
            try:
                session = command(sid, _name, request)
                if session is not None and _name != "get":
                    getattr(session, "save" if _name == "set" else _name)()
                return {"data": _payload(handle.get(sid))}
            except Exception as error:
                return {"error": f"{type(error).__name__}: {error}"}

        sio.on(name, run_sync)


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _announce(port: int) -> None:
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()


def serve(config: dict[str, Any]) -> None:
    mode = config["mode"]
    server, _ = build(config)
    kind = config["kind"]
    if mode == "asgi":
        import engineio
        import socketio
        import uvicorn

        app = (engineio.ASGIApp if kind == "engineio" else socketio.ASGIApp)(server)
        sock = _listen()
        _announce(sock.getsockname()[1])
        uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off")).run(sockets=[sock])
        return
    if mode == "aiohttp":
        import asyncio

        from aiohttp import web

        app = web.Application()
        server.attach(app)

        async def run() -> None:
            runner = web.AppRunner(app)
            await runner.setup()
            sock = _listen()
            site = web.SockSite(runner, sock)
            await site.start()
            _announce(sock.getsockname()[1])
            await asyncio.Event().wait()

        asyncio.run(run())
        return
    import engineio
    import socketio

    wsgi = (engineio.WSGIApp if kind == "engineio" else socketio.WSGIApp)(server)
    if mode == "threading":
        from werkzeug.serving import make_server

        httpd = make_server("127.0.0.1", 0, wsgi, threaded=True)
        _announce(httpd.server_port)
        httpd.serve_forever()
    elif mode == "eventlet":
        import eventlet
        import eventlet.wsgi

        listener = eventlet.listen(("127.0.0.1", 0))
        _announce(listener.getsockname()[1])
        eventlet.wsgi.server(listener, wsgi, log_output=False)
    elif mode == "gevent":
        from gevent import pywsgi
        from geventwebsocket.handler import WebSocketHandler

        httpd = pywsgi.WSGIServer(("127.0.0.1", 0), wsgi, handler_class=WebSocketHandler, log=None)
        httpd.start()
        _announce(httpd.server_port)
        httpd.serve_forever()
    else:
        raise ValueError(f"unknown mode {mode}")


if __name__ == "__main__":
    settings = json.loads(sys.argv[1])
    _mode_setup(settings["mode"])
    serve(settings)
