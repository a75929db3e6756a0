"""Probes for the handshake benchmark: what a session read could cost at best, without
``attach`` (server.py's ``"probe"`` option; ``--servers probes``).

- ``get``: the ``connect`` handler verifies the cookie (``get_session_id``) and awaits one
  ``redis.asyncio`` GET of the session's key: one redis-py round trip per handshake, no
  decoding, no Session, no ``session`` event (the floor of today's design).
- ``mget``: the same, the GETs of the handshakes that wait in the same event-loop turn
  sent as one MGET (:class:`Coalescer`): the idea of issue 10, measured before it is built.
- ``raw``: ``mget`` through the store's own bare RESP connection
  (engineio_session/stores/redis/reads.py, ``PipelinedReads``) instead of redis-py: the
  round trip as ``AsyncRedisStore`` makes it, with no decoding, session or event;
- ``yield``: no read at all, the ``connect`` handler only awaits a future set at the next
  turn of the loop: what suspending the handshake once costs by itself;
- ``mget-hold``: ``mget``, and the value parsed (``json.loads``) and held for the life of
  the connection (:data:`HELD`, released at disconnect), as a connection holds its session:
  what keeping a parsed session per connection costs the collector, with no attach at all.

And one with ``attach``: the store ``"redis-memory"`` (:func:`memory_store`) is
``AsyncRedisStore`` with its coalesced reads answered from a table read from Redis at start:
the same batch, decoding, session and event, no socket. Beside ``raw`` (the socket, none of
the rest) it splits what ``attach`` costs into the session's own work and the round trip.

Each counts ``loaded`` when the value it read is a stored session, so the benchmark's checks
hold for them as for ``attach``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from engineio_session.stores.redis.store import AsyncRedisStore

#: the sessions ``mget-hold`` holds, by Engine.IO sid (the server's disconnect releases them)
HELD: dict[str, Any] = {}


class Coalescer:
    """``await coalescer.get(key)``: the keys asked for in one event-loop turn read with one
    MGET, sent at the end of that turn."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.pending: list[tuple[str, asyncio.Future[Any]]] = []

    def get(self, key: str) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        if not self.pending:
            loop.call_soon(self._flush)
        self.pending.append((key, future))
        return future

    def _flush(self) -> None:
        batch, self.pending = self.pending, []
        asyncio.get_running_loop().create_task(self._read(batch))

    async def _read(self, batch: list[tuple[str, asyncio.Future[Any]]]) -> None:
        try:
            values = await self.client.mget([key for key, _ in batch])
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), value in zip(batch, values, strict=True):
            if not future.done():
                future.set_result(value)


def connect_probe(config: dict[str, Any], count: Any) -> Any:
    """The async ``connect`` handler of probe ``config["probe"]``; ``count(name)`` counts."""
    import redis.asyncio

    from engineio_session import get_session_id

    if config["probe"] == "yield":
        waiting: list[Any] = []

        def wake() -> None:
            batch = waiting[:]
            del waiting[:]
            for future in batch:
                future.set_result(None)

        async def yielding(sid: str, environ: dict[str, Any]) -> None:
            count("connections")
            loop = asyncio.get_running_loop()
            future = loop.create_future()
            if not waiting:
                loop.call_soon(wake)
            waiting.append(future)
            await future

        return yielding
    client: Any = redis.asyncio.Redis.from_url(config["redis_url"])
    if config["probe"] == "raw":
        from engineio_session.stores.redis.reads import PipelinedReads

        client = PipelinedReads.of(client)  # its mget, without redis-py
    prefix = config["prefix"]
    secret = config["secret"]
    coalescer = Coalescer(client) if config["probe"] in ("mget", "mget-hold", "raw") else None
    hold = config["probe"] == "mget-hold"

    async def connect(sid: str, environ: dict[str, Any]) -> None:
        count("connections")
        session_id = get_session_id(environ.get("HTTP_COOKIE", ""), secrets=secret)
        if session_id is None:
            return
        key = prefix + session_id
        raw = await (coalescer.get(key) if coalescer is not None else client.get(key))
        if hold and raw is not None:
            HELD[sid] = json.loads(raw)
            raw = b'"passport"' if "passport" in HELD[sid] else b""
        if raw is not None and b'"passport"' in raw:
            count("sessions")
            count("loaded")

    return connect


def memory_store(redis_url: str, prefix: str) -> Any:
    """``AsyncRedisStore`` whose coalesced reads (``MGET``) are answered from memory: every
    key under ``prefix`` read once, now, from ``redis_url``. A batch is still made and sent
    at the end of a loop turn and its future still wakes its handshakes at the next one;
    only the socket is gone. Writes go to Redis as usual (the benchmark makes none)."""
    import redis
    import redis.asyncio

    reader = redis.Redis.from_url(redis_url)
    try:
        keys = list(reader.scan_iter(match=prefix + "*", count=1000))
        table = dict(zip(keys, reader.mget(keys), strict=True)) if keys else {}
    finally:
        reader.close()
    return _MemoryReads(table, redis.asyncio.Redis.from_url(redis_url), prefix=prefix)


class _MemoryReads(AsyncRedisStore):
    def __init__(self, table: dict[bytes, bytes | None], client: Any, **options: Any) -> None:
        super().__init__(client, **options)
        self._table = table

    # the hook the store sends its batches through (stores/redis/store.py)
    def _start_mget(self, keys: list[bytes]) -> asyncio.Future[list[Any]] | None:
        values: asyncio.Future[list[Any]] = asyncio.get_running_loop().create_future()
        values.set_result([self._table.get(key) for key in keys])
        return values
