"""The Python servers of the handshake benchmark, one per process.

::

    python -m benchmarks.handshake.server '<config JSON>'

config (every key optional but ``mode``):

- ``mode``: ``"asgi"`` (``engineio.AsyncServer(async_mode="asgi")`` on uvicorn) or
  ``"threading"`` (``engineio.Server(async_mode="threading")`` on gunicorn's threaded
  worker, one worker, ``threads`` threads; ``"wsgi_server": "werkzeug"`` for werkzeug's
  threaded server instead);
- ``store``: ``null`` (plain python-engineio), ``"redis"`` (``RedisStore`` /
  ``AsyncRedisStore`` on ``redis_url`` under ``prefix``), ``"file"`` (``FileStore`` /
  ``AsyncFileStore`` on ``path``) or, ASGI only, ``"redis-memory"`` (``AsyncRedisStore``
  with its reads answered from memory: probes.py's ``memory_store``); with a store,
  ``attach(eio, store=..., secret=secret)`` and a ``session`` handler;
- ``ping_interval``, ``ping_timeout`` (seconds), ``reload``, ``auto_save`` (``attach``'s
  options), ``modify``: the ``session`` handler changes the session (for ``auto_save``);
- ``probe`` (ASGI, no store): ``"get"``, ``"mget"``, ``"raw"``, ``"yield"`` or
  ``"mget-hold"``, a ``connect`` handler that reads the session's key itself (or only waits
  a turn of the loop: benchmarks/handshake/probes.py).

Every server has a ``connect`` handler, a ``message`` handler that sends the message back
and a ``disconnect`` handler. It prints ``{"port": N}`` once it listens, and serves until
killed. ``GET /bench/stats`` answers ``{connections, sessions, loaded, messages, reloaded,
sockets, rss, cpu, gc, gc_by_generation, promoted, pid}``: handshakes accepted, ``session``
events, those whose session is a benchmark session (it has the passport user
``bench-sessions.js`` stored), messages handled, messages that found another session object
than the connection's previous message did (``handle.get(sid)``: the reload of
``reload=True``), open Engine.IO sockets, the RSS of the process serving (bytes), the CPU
time it used (user + system, seconds, all its threads), the time spent in the cyclic garbage
collector (seconds, ``gc.callbacks``), per generation, the objects that survived young
collections (``promoted``: into generation 1, into 2; counted only with ``"gc_detail":
true``, as listing the young generations costs time) and its pid.
"""

from __future__ import annotations

import gc
import json
import os
import socket
import sys
import threading
import time
from typing import Any

import engineio

from engineio_session import attach

PAGE = os.sysconf("SC_PAGE_SIZE")


class Stats:
    def __init__(self, eio: Any, gc_detail: bool = False) -> None:
        self.eio = eio
        self.gc_detail = gc_detail
        self.gc_seconds = 0.0  # time in the cyclic garbage collector
        #: collections and seconds per generation (0, 1, 2)
        self.gc_by_generation = [[0, 0.0], [0, 0.0], [0, 0.0]]
        self._gc_started = 0.0
        #: objects that survived a collection of generation 0 (into 1) and of 1 (into 2):
        #: what handshakes leave for the older, costlier collections to walk
        self.promoted = [0, 0]
        self._young = 0
        gc.callbacks.append(self._gc)
        self.lock = threading.Lock()
        self.counts = {
            "connections": 0,
            "sessions": 0,
            "loaded": 0,
            "messages": 0,
            "reloaded": 0,
            "unseen": 0,
        }
        self.seen: dict[str, int] = {}  # the id() of each connection's session at its last message

    def _gc(self, phase: str, info: dict[str, Any]) -> None:
        generation_collected = info["generation"]
        if phase == "start":
            if self.gc_detail and generation_collected < 2:
                self._young = sum(len(gc.get_objects(g)) for g in range(generation_collected + 1))
            self._gc_started = time.perf_counter()
        else:
            if self.gc_detail and generation_collected < 2:
                self.promoted[generation_collected] += self._young - info["collected"]
            seconds = time.perf_counter() - self._gc_started
            self.gc_seconds += seconds
            generation = self.gc_by_generation[info["generation"]]
            generation[0] += 1
            generation[1] += seconds

    def add(self, name: str) -> None:
        with self.lock:
            self.counts[name] += 1

    def message(self, sid: str, handle: Any) -> None:
        """Count a message, and whether the connection's session object is another one than
        at its previous message: what ``reload=True`` does before each message."""
        self.add("messages")
        if handle is not None:
            # the previous object is still the handle's while the reload makes the next
            # one: two live objects, two ids
            current = id(handle.get(sid))
            previous = self.seen.get(sid)
            if previous is None:  # no earlier message, or one after the disconnect
                self.add("unseen")
            elif previous != current:
                self.add("reloaded")
            self.seen[sid] = current

    def body(self) -> bytes:
        with open("/proc/self/statm") as statm:
            rss = int(statm.read().split()[1]) * PAGE
        times = os.times()
        answer = {
            **self.counts,
            "sockets": len(self.eio.sockets),
            "rss": rss,
            "cpu": times.user + times.system,
            "gc": self.gc_seconds,
            "gc_by_generation": self.gc_by_generation,
            "promoted": self.promoted,
            "pid": os.getpid(),
        }
        return json.dumps(answer).encode()


def make_store(config: dict[str, Any], asynchronous: bool) -> Any:
    kind = config.get("store")
    if kind is None:
        return None
    if kind == "redis":
        from engineio_session.stores import AsyncRedisStore, RedisStore

        if asynchronous:
            import redis.asyncio

            return AsyncRedisStore(
                redis.asyncio.Redis.from_url(config["redis_url"]), prefix=config["prefix"]
            )
        import redis

        return RedisStore(redis.Redis.from_url(config["redis_url"]), prefix=config["prefix"])
    if kind == "redis-memory" and asynchronous:
        from .probes import memory_store

        return memory_store(config["redis_url"], config["prefix"])
    if kind == "file":
        from engineio_session.stores import AsyncFileStore, FileStore

        return AsyncFileStore(config["path"]) if asynchronous else FileStore(config["path"])
    raise ValueError(f"unknown store {kind!r}")


def options(config: dict[str, Any], mode: str) -> dict[str, Any]:
    return {
        "async_mode": mode,
        "ping_interval": config.get("ping_interval", 25),
        "ping_timeout": config.get("ping_timeout", 20),
    }


def attach_options(config: dict[str, Any]) -> dict[str, Any]:
    return {
        "secret": config["secret"],
        "reload": bool(config.get("reload")),
        "auto_save": bool(config.get("auto_save")),
    }


def async_app(config: dict[str, Any]) -> tuple[Any, Stats]:
    eio = engineio.AsyncServer(**options(config, "asgi"))
    stats = Stats(eio, bool(config.get("gc_detail")))
    store = make_store(config, asynchronous=True)
    modify = bool(config.get("modify"))

    if config.get("probe"):
        from .probes import connect_probe

        eio.on("connect", connect_probe(config, stats.add))
    else:

        @eio.on("connect")
        async def connect(sid: str, environ: dict[str, Any]) -> None:
            stats.add("connections")

    handle = attach(eio, store=store, **attach_options(config)) if store is not None else None

    @eio.on("message")
    async def message(sid: str, data: Any) -> None:
        stats.message(sid, handle)
        await eio.send(sid, data)

    @eio.on("disconnect")
    async def disconnect(sid: str, reason: Any) -> None:
        stats.seen.pop(sid, None)
        if config.get("probe"):
            from .probes import HELD

            HELD.pop(sid, None)

    if store is not None:

        @eio.on("session")
        async def session(sid: str, session: Any) -> None:
            stats.add("sessions")
            # what an app does first with the session: who is logged in (passport's user)
            passport = session.get("passport")
            if isinstance(passport, dict) and passport.get("user") is not None:
                stats.add("loaded")
            if modify:
                session["visits"] = session.get("visits", 0) + 1

    async def stats_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        body = stats.body()
        headers = [(b"content-type", b"application/json")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return engineio.ASGIApp(eio, other_asgi_app=stats_app), stats


def sync_app(config: dict[str, Any]) -> tuple[Any, Stats]:
    eio = engineio.Server(**options(config, "threading"))
    stats = Stats(eio, bool(config.get("gc_detail")))
    store = make_store(config, asynchronous=False)
    modify = bool(config.get("modify"))

    @eio.on("connect")
    def connect(sid: str, environ: dict[str, Any]) -> None:
        stats.add("connections")

    handle = attach(eio, store=store, **attach_options(config)) if store is not None else None

    @eio.on("message")
    def message(sid: str, data: Any) -> None:
        stats.message(sid, handle)
        eio.send(sid, data)

    @eio.on("disconnect")
    def disconnect(sid: str, reason: Any) -> None:
        stats.seen.pop(sid, None)

    if store is not None:

        @eio.on("session")
        def session(sid: str, session: Any) -> None:
            stats.add("sessions")
            # what an app does first with the session: who is logged in (passport's user)
            passport = session.get("passport")
            if isinstance(passport, dict) and passport.get("user") is not None:
                stats.add("loaded")
            if modify:
                session["visits"] = session.get("visits", 0) + 1

    def stats_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "application/json")])
        return [stats.body()]

    return engineio.WSGIApp(eio, wsgi_app=stats_app), stats


def announce(port: int) -> None:
    sys.stdout.write(json.dumps({"port": port}) + "\n")
    sys.stdout.flush()


def serve_asgi(config: dict[str, Any]) -> None:
    import uvicorn

    app, _ = async_app(config)
    # proto IPPROTO_TCP, as getaddrinfo gives it: asyncio sets TCP_NODELAY on the accepted
    # connections only then (with proto 0, Nagle + delayed ACK hold each response 40 ms)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(2048)
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", backlog=2048)
    )
    announce(listener.getsockname()[1])  # connections wait in the backlog until it accepts
    server.run(sockets=[listener])


def serve_gunicorn(config: dict[str, Any]) -> None:
    from gunicorn.app.base import BaseApplication

    class Application(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            settings = {
                "bind": "127.0.0.1:0",
                "workers": 1,  # python-engineio keeps its sockets in one process
                "worker_class": "gthread",
                "threads": config.get("threads", 100),
                "backlog": 2048,
                "keepalive": 30,
                "loglevel": "warning",
                "accesslog": None,
                "when_ready": lambda arbiter: announce(arbiter.LISTENERS[0].getsockname()[1]),
            }
            for key, value in settings.items():
                self.cfg.set(key, value)

        def load(self) -> Any:  # in the worker, after the fork
            return sync_app(config)[0]

    Application().run()


def serve_werkzeug(config: dict[str, Any]) -> None:
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, sync_app(config)[0], threaded=True)
    announce(server.server_port)
    server.serve_forever()


def main() -> None:
    config = json.loads(sys.argv[1])
    if config["mode"] == "asgi":
        serve_asgi(config)
    elif config.get("wsgi_server", "gunicorn") == "gunicorn":
        serve_gunicorn(config)
    else:
        serve_werkzeug(config)


if __name__ == "__main__":
    main()
