"""A Python Engine.IO / Socket.IO server with ``attach``, for the end-to-end tests.

    python -m tests.apps.serve '<config JSON>'

config: {
  "mode": "threading" | "eventlet" | "gevent" | "asgi" | "aiohttp",
  "store": <store>,                      the default store of every app
  "kind": "engineio" | "socketio",       one app at the default path (/engine.io/, /socket.io/)
  "attach": {keyword arguments of attach(): secret, name, create, required, cookie, header,
             auth_key, reload, auto_save, watch, on_store_error},
  -- or, several apps in one process, each at its own path /<name>/ --
  "apps": {"<name>": {"kind": ..., "attach": {...}, "store"?: <store>,
            "manager"?: a Redis URL (Socket.IO: a Redis client manager)}, ...},
  "cors": ["http://127.0.0.1:3000"] (optional: allowed origins, with credentials),
  "log_level": "INFO" (optional: the level of the "engineio_session" logger; WARNING)
}
<store>: {"type": "file", "path": ..., "secret"?: ..., "ttl"?: ...}
       | {"type": "cookie-session", "keys": [...], "name"?: ...}  (attach(cookie_session=...))
       | {"type": "redis", "url": ..., "prefix"?: ..., "timeout"?: ...,
          "enable_notifications"?: bool, "client_name"?: ...}

It prints one line ``{"port": N}`` once it listens, then serves until killed. Each app:

- Engine.IO: on ``session`` it sends ``{"event": "session", "id", "data", "in_connect"}``
  (``in_connect``: the session was in the connect handler's environ). A message
  ``{"cmd": "get"}`` answers ``{"event": "get", "data": <{id, data} or null>}``;
  ``{"cmd": "set", "key", "value"}`` changes and saves; ``{"cmd": "put", "key", "value"}``
  changes without saving; ``{"cmd": "touch"}``, ``{"cmd": "destroy"}`` and
  ``{"cmd": "reload"}`` do what they say and answer ``{"event": <cmd>, "data": ...}``.
  The application's ``connect`` handler is registered before ``attach``, the others after.
- Socket.IO: on ``session`` it emits ``session`` with ``{"id", "data", "in_connect"}``; the
  events ``get``, ``set``, ``put``, ``touch``, ``destroy``, ``reload`` answer through their
  ack. Anything a client should never reach is reported to it: a ``session`` event whose
  payload is not a live session, a ``connect`` handler called with something that is not
  an environ (emitted as ``forged``), and a catch-all handler that saw an event named
  ``session``/``connect``/``disconnect`` (emitted as ``caught``).
- The application's own ``connect`` handler rejects a handshake whose query has
  ``reject=1`` (to show that attach keeps it working).
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
    if kind == "cookie-session":  # no store: attach(cookie_session=...)
        from engineio_session import CookieSession

        return CookieSession(keys=config["keys"], name=config.get("name", "session"))
    timeout = config.get("timeout", 2.0)
    if kind == "file":
        from engineio_session.stores import AsyncFileStore, FileStore

        cls = AsyncFileStore if is_async else FileStore
        return cls(
            config["path"],
            secret=config.get("secret"),
            ttl=config.get("ttl", 3600),
            timeout=timeout,
        )
    if kind == "redis":
        options = {
            "prefix": config.get("prefix", "sess:"),
            "timeout": timeout,
            "enable_notifications": config.get("enable_notifications", False),
        }
        # a client name shows in CLIENT LIST: the tests find the store's subscription by it
        name = config.get("client_name")
        if is_async:
            import redis.asyncio

            from engineio_session.stores import AsyncRedisStore

            client = redis.asyncio.Redis.from_url(config["url"], client_name=name)
            return AsyncRedisStore(client, **options)
        import redis

        from engineio_session.stores import RedisStore

        return RedisStore(redis.Redis.from_url(config["url"], client_name=name), **options)
    raise ValueError(f"unknown store {kind}")


def _payload(session: Any) -> Any:
    return None if session is None else {"id": session.id, "data": dict(session)}


def _is_live(session: Any) -> bool:
    from engineio_session import AsyncLiveSession, LiveSession
    from engineio_session.cookie_live import CookieLiveSession

    return isinstance(session, (LiveSession, AsyncLiveSession, CookieLiveSession))


def _rejects(environ: dict[str, Any]) -> bool:
    return "reject=1" in environ.get("QUERY_STRING", "")


def build(mode: str, app: dict[str, Any], default_store: Any, cors: Any) -> tuple[Any, Any]:
    """One server (engineio/socketio) with attach() applied, and its handle."""
    import engineio
    import socketio

    from engineio_session import attach

    is_async = mode in ("asgi", "aiohttp")
    server_options: dict[str, Any] = {"async_mode": mode}
    if cors is not None:
        server_options["cors_allowed_origins"] = cors
        server_options["cors_credentials"] = True
    store = _store(app["store"], is_async) if "store" in app else default_store
    from engineio_session import CookieSession

    source = {"cookie_session" if isinstance(store, CookieSession) else "store": store}
    if app["kind"] == "engineio":
        eio = (engineio.AsyncServer if is_async else engineio.Server)(**server_options)
        seen: dict[str, bool] = {}
        _engineio_connect(eio, seen, is_async)  # before attach: attach must keep it
        handle = attach(eio, **source, **app["attach"])
        _engineio_app(eio, handle, is_async, seen)
        return eio, handle
    manager = app.get("manager")  # a Redis URL: processes share rooms and emits
    if manager is not None:
        cls = socketio.AsyncRedisManager if is_async else socketio.RedisManager
        server_options["client_manager"] = cls(manager)
    sio = (socketio.AsyncServer if is_async else socketio.Server)(**server_options)
    handle = attach(sio, **source, **app["attach"])
    _socketio_app(sio, handle, is_async)
    return sio, handle


def _engineio_connect(eio: Any, seen: dict[str, bool], is_async: bool) -> None:
    from engineio_session import ENVIRON_SESSION

    def connect(sid: str, environ: dict[str, Any]) -> bool:
        seen[sid] = environ.get(ENVIRON_SESSION) is not None
        return not _rejects(environ)

    if is_async:

        async def connect_async(sid: str, environ: dict[str, Any]) -> bool:
            return connect(sid, environ)

        eio.on("connect", connect_async)
    else:
        eio.on("connect", connect)


def _engineio_app(eio: Any, handle: Any, is_async: bool, seen: dict[str, bool]) -> None:
    def hello(sid: str, session: Any) -> str:
        return json.dumps({"event": "session", **_payload(session), "in_connect": seen.get(sid)})

    if is_async:

        @eio.on("session")
        async def on_session(sid: str, session: Any) -> None:
            await eio.send(sid, hello(sid, session))

        @eio.on("message")
        async def message(sid: str, data: Any) -> None:
            request = data if isinstance(data, dict) else json.loads(data)
            session = handle.get(sid)
            command = request["cmd"]
            try:
                if session is not None:
                    if command in ("set", "put"):
                        session[request["key"]] = request["value"]
                        if command == "set":
                            await session.save()
                    elif command in ("touch", "destroy", "reload"):
                        await getattr(session, command)()
                reply = {"event": command, "data": _payload(handle.get(sid))}
            except Exception as error:  # the test reads the error
                reply = {"event": command, "error": f"{type(error).__name__}: {error}"}
            await eio.send(sid, json.dumps(reply))

        @eio.on("disconnect")
        async def disconnect(sid: str, *reason: Any) -> None:
            seen.pop(sid, None)

        return

    @eio.on("session")
    def on_session_sync(sid: str, session: Any) -> None:
        eio.send(sid, hello(sid, session))

    @eio.on("message")
    def message_sync(sid: str, data: Any) -> None:
        request = data if isinstance(data, dict) else json.loads(data)
        session = handle.get(sid)
        command = request["cmd"]
        try:
            if session is not None:
                if command in ("set", "put"):
                    session[request["key"]] = request["value"]
                    if command == "set":
                        session.save()
                elif command in ("touch", "destroy", "reload"):
                    getattr(session, command)()
            reply = {"event": command, "data": _payload(handle.get(sid))}
        except Exception as error:
            reply = {"event": command, "error": f"{type(error).__name__}: {error}"}
        eio.send(sid, json.dumps(reply))

    @eio.on("disconnect")
    def disconnect_sync(sid: str, *reason: Any) -> None:
        seen.pop(sid, None)


_RESERVED = ("session", "connect", "disconnect")


def _socketio_app(sio: Any, handle: Any, is_async: bool) -> None:
    from engineio_session import ENVIRON_SESSION

    seen: dict[str, bool] = {}

    def on_connect(sid: str, environ: Any) -> tuple[bool, Any]:
        """(accept, what to report as forged or None)"""
        session = environ.get(ENVIRON_SESSION) if isinstance(environ, dict) else None
        if not isinstance(environ, dict) or (session is not None and not _is_live(session)):
            return False, {"what": "connect", "environ": repr(environ)}
        seen[sid] = session is not None
        return not _rejects(environ), None

    def apply(sid: str, name: str, request: Any) -> tuple[Any, str | None]:
        """The session after a command's in-memory part, and the method to call on it."""
        session = handle.get(sid)
        if session is None or name == "get":
            return session, None
        if name in ("set", "put"):
            session[request["key"]] = request["value"]
            return session, ("save" if name == "set" else None)
        return session, name

    if is_async:

        @sio.event
        async def connect(sid: str, environ: Any, auth: Any = None) -> bool:
            accept, forged = on_connect(sid, environ)
            if forged is not None:
                await sio.emit("forged", forged, to=sid)
            return accept

        @sio.on("session")
        async def on_session(sid: str, session: Any) -> None:
            if not _is_live(session):
                await sio.emit("forged", {"what": "session", "payload": repr(session)}, to=sid)
                return
            await sio.emit("session", {**_payload(session), "in_connect": seen.get(sid)}, to=sid)

        @sio.on("*")
        async def catch_all(event: str, sid: str, *args: Any) -> None:
            if event in _RESERVED:
                await sio.emit("caught", event, to=sid)

        for name in ("get", "set", "put", "touch", "destroy", "reload"):

            async def run(sid: str, request: Any = None, _name: str = name) -> Any:
                try:
                    session, method = apply(sid, _name, request)
                    if method is not None:
                        await getattr(session, method)()
                    return {"data": _payload(handle.get(sid))}
                except Exception as error:
                    return {"error": f"{type(error).__name__}: {error}"}

            sio.on(name, run)

        @sio.on("emit_to_session")
        async def emit_to_session(sid: str, request: Any) -> Any:
            session = handle.get(sid)
            await handle.emit_to_session(session.id, "to_session", request)
            return {"data": None}

        @sio.on("disconnect_session")
        async def disconnect_session(sid: str, request: Any = None) -> Any:
            session = handle.get(sid)
            return {"data": await handle.disconnect_session(session.id)}

        return

    @sio.event
    def connect(sid: str, environ: Any, auth: Any = None) -> bool:
        accept, forged = on_connect(sid, environ)
        if forged is not None:
            sio.emit("forged", forged, to=sid)
        return accept

    @sio.on("session")
    def on_session_sync(sid: str, session: Any) -> None:
        if not _is_live(session):
            sio.emit("forged", {"what": "session", "payload": repr(session)}, to=sid)
            return
        sio.emit("session", {**_payload(session), "in_connect": seen.get(sid)}, to=sid)

    @sio.on("*")
    def catch_all_sync(event: str, sid: str, *args: Any) -> None:
        if event in _RESERVED:
            sio.emit("caught", event, to=sid)

    for name in ("get", "set", "put", "touch", "destroy", "reload"):

        def run_sync(sid: str, request: Any = None, _name: str = name) -> Any:
            try:
                session, method = apply(sid, _name, request)
                if method is not None:
                    getattr(session, method)()
                return {"data": _payload(handle.get(sid))}
            except Exception as error:
                return {"error": f"{type(error).__name__}: {error}"}

        sio.on(name, run_sync)

    @sio.on("emit_to_session")
    def emit_to_session_sync(sid: str, request: Any) -> Any:
        handle.emit_to_session(handle.get(sid).id, "to_session", request)
        return {"data": None}

    @sio.on("disconnect_session")
    def disconnect_session_sync(sid: str, request: Any = None) -> Any:
        return {"data": handle.disconnect_session(handle.get(sid).id)}


def _listen() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(128)
    return sock


def _announce(port: int) -> None:
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()


def _apps(config: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    """The apps by path; None is the default path of the single-app form."""
    if "apps" in config:
        return dict(config["apps"])
    return {None: {"kind": config["kind"], "attach": config["attach"]}}


def _path_option(kind: str, path: str | None) -> dict[str, str]:
    if path is None:
        return {}
    return {"engineio_path" if kind == "engineio" else "socketio_path": path}


def serve(config: dict[str, Any]) -> None:
    import engineio
    import socketio

    mode = config["mode"]
    is_async = mode in ("asgi", "aiohttp")
    default_store = _store(config["store"], is_async) if "store" in config else None
    servers = [
        (path, app["kind"], build(mode, app, default_store, config.get("cors"))[0])
        for path, app in _apps(config).items()
    ]
    if mode == "asgi":
        import uvicorn

        asgi: Any = None
        for path, kind, server in servers:
            wrapper = engineio.ASGIApp if kind == "engineio" else socketio.ASGIApp
            asgi = wrapper(server, asgi, **_path_option(kind, path))
        sock = _listen()
        _announce(sock.getsockname()[1])
        uvicorn.Server(uvicorn.Config(asgi, log_level="warning", lifespan="off")).run(
            sockets=[sock]
        )
        return
    if mode == "aiohttp":
        import asyncio

        from aiohttp import web

        application = web.Application()
        for path, kind, server in servers:
            server.attach(application, **_path_option(kind, path))

        async def run() -> None:
            runner = web.AppRunner(application)
            await runner.setup()
            sock = _listen()
            site = web.SockSite(runner, sock)
            await site.start()
            _announce(sock.getsockname()[1])
            await asyncio.Event().wait()

        asyncio.run(run())
        return
    wsgi: Any = None
    for path, kind, server in servers:
        wrapper = engineio.WSGIApp if kind == "engineio" else socketio.WSGIApp
        wsgi = wrapper(server, wsgi, **_path_option(kind, path))
    serve_wsgi_app(mode, wsgi)


def serve_wsgi_app(mode: str, wsgi: Any) -> None:
    """Serve ``wsgi`` on a free port in ``mode`` (threading: werkzeug; eventlet; gevent with
    gevent-websocket), announce the port, and serve until killed."""
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
    import logging
    import warnings

    warnings.simplefilter("ignore", DeprecationWarning)  # eventlet's notice on import
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    logging.basicConfig(level=logging.WARNING, format="serve: %(name)s %(levelname)s %(message)s")
    settings = json.loads(sys.argv[1])
    logging.getLogger("engineio_session").setLevel(settings.get("log_level", "WARNING"))
    _mode_setup(settings["mode"])
    serve(settings)
