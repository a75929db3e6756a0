"""The Python half of the demo: an Engine.IO server that knows the Express user.

    SESSIONS=./sessions python demo/python_server.py      # or STORE=redis

env: PORT (0 = any), STORE ("file", "redis", "postgres", "mysql", "sqlite"), SESSIONS,
REDIS_URL, REDIS_PREFIX, PG_URL, MYSQL_URL, SQLITE_FILE, SQL_NAME, SECRET,
     ORIGINS (the origins allowed by CORS with credentials, comma-separated: the Express
     page's, and this server's own for Python's client, which sends it)

On ``session`` it greets the user; a message ``{"set": {...}}`` changes the session and
saves it where Express reads it; with ``watch=0.5`` it notices a logout within half a
second and closes that connection.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys

import engineio
import uvicorn

from engineio_session import attach
from engineio_session.stores import AsyncFileStore


def make_store() -> object:
    store = os.environ.get("STORE")
    if store == "postgres":
        from engineio_session.stores import AsyncPGStore

        return AsyncPGStore(os.environ["PG_URL"], schema_name=os.environ["SQL_NAME"])
    if store == "mysql":
        from engineio_session.stores import AsyncMySQLStore

        return AsyncMySQLStore(os.environ["MYSQL_URL"], table_name=os.environ["SQL_NAME"])
    if store == "sqlite":
        from engineio_session.stores import AsyncKnexStore

        return AsyncKnexStore("sqlite:///" + os.environ["SQLITE_FILE"])
    if store == "redis":
        import redis.asyncio

        from engineio_session.stores import AsyncRedisStore

        client = redis.asyncio.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"))
        return AsyncRedisStore(client, prefix=os.environ.get("REDIS_PREFIX", "sess:"))
    return AsyncFileStore(os.environ.get("SESSIONS", "./sessions"))


logging.basicConfig(format="    Python | %(message)s")
logging.getLogger("engineio_session").setLevel(logging.INFO)

eio = engineio.AsyncServer(
    async_mode="asgi",
    cors_allowed_origins=[o for o in os.environ.get("ORIGINS", "").split(",") if o],
    cors_credentials=True,
)
sessions = attach(
    eio, store=make_store(), secret=os.environ.get("SECRET", "keyboard cat"), watch=0.5
)


@eio.on("session")
async def on_session(sid: str, session: dict) -> None:
    await eio.send(sid, {"hello": session.get("user"), "session": dict(session)})


@eio.on("message")
async def on_message(sid: str, data: dict | str) -> None:
    session = sessions.get(sid)
    request = data if isinstance(data, dict) else json.loads(data)  # engineio decodes JSON
    if session is None:
        await eio.send(sid, {"error": "no session"})
    elif "set" in request:
        session.update(request["set"])
        await session.save()
        await eio.send(sid, {"saved": dict(session)})


def main() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", int(os.environ.get("PORT", "5000"))))
    print(json.dumps({"port": listener.getsockname()[1]}), flush=True)
    config = uvicorn.Config(engineio.ASGIApp(eio), log_level="warning", lifespan="off")
    uvicorn.Server(config).run(sockets=[listener])


if __name__ == "__main__":
    sys.exit(main())
