"""Probes for the handshake benchmark: what a session read could cost at best, without
``attach`` (server.py's ``"probe"`` option; ``--servers probes``).

- ``get``: the ``connect`` handler verifies the cookie (``get_session_id``) and awaits one
  ``redis.asyncio`` GET of the session's key: one redis-py round trip per handshake, no
  decoding, no Session, no ``session`` event (the floor of today's design).
- ``mget``: the same, the GETs of the handshakes that wait in the same event-loop turn
  sent as one MGET (:class:`Coalescer`): the idea of issue 10, measured before it is built.
- ``raw``: ``mget`` on a bare RESP connection (:class:`RawMget`) instead of redis-py: the
  floor of the round trip's CPU cost, which is what the store's own pipelined reads
  (engineio_session/stores/redis/reads.py) aim at;
- ``yield``: no read at all, the ``connect`` handler only awaits a future set at the next
  turn of the loop: what suspending the handshake once costs by itself;
- ``mget-hold``: ``mget``, and the value parsed (``json.loads``) and held for the life of
  the connection (:data:`HELD`, released at disconnect), as a connection holds its session:
  what keeping a parsed session per connection costs the collector, with no attach at all.

Each counts ``loaded`` when the value it read is a stored session, so the benchmark's checks
hold for them as for ``attach``.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

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
    if config["probe"] == "raw":
        return raw_probe(config, count)
    client = redis.asyncio.Redis.from_url(config["redis_url"])
    prefix = config["prefix"]
    secret = config["secret"]
    coalescer = Coalescer(client) if config["probe"] in ("mget", "mget-hold") else None
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


class RawMget(asyncio.Protocol):
    """A bare RESP connection for MGET: the floor of a round trip's CPU cost."""

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.waiters: list[Any] = []
        self.pending: list[tuple[bytes, Any]] = []
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def get(self, key: bytes) -> Any:
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        if not self.pending:
            loop.call_soon(self.flush)
        self.pending.append((key, future))
        return future

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        parts = [b"*%d\r\n$4\r\nMGET\r\n" % (len(batch) + 1)]
        for key, _ in batch:
            parts.append(b"$%d\r\n%s\r\n" % (len(key), key))
        self.waiters.append([f for _, f in batch])
        self.transport.write(b"".join(parts))

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while self.waiters:
            parsed = parse_mget(self.buffer)
            if parsed is None:
                return
            values, used = parsed
            del self.buffer[:used]
            for future, value in zip(self.waiters.pop(0), values, strict=True):
                future.set_result(value)


def parse_mget(buffer: bytearray) -> Any:
    end = buffer.find(b"\r\n")
    if end < 0:
        return None
    count = int(buffer[1:end])
    position = end + 2
    values: list[Any] = []
    for _ in range(count):
        end = buffer.find(b"\r\n", position)
        if end < 0:
            return None
        size = int(buffer[position + 1 : end])
        if size < 0:
            values.append(None)
            position = end + 2
            continue
        start = end + 2
        if len(buffer) < start + size + 2:
            return None
        values.append(bytes(buffer[start : start + size]))
        position = start + size + 2
    return values, position


def raw_probe(config: dict[str, Any], count: Any) -> Any:
    from engineio_session import get_session_id

    prefix = config["prefix"]
    secret = config["secret"]
    connection: list[RawMget] = []

    async def connect(sid: str, environ: dict[str, Any]) -> None:
        count("connections")
        session_id = get_session_id(environ.get("HTTP_COOKIE", ""), secrets=secret)
        if session_id is None:
            return
        if not connection:
            loop = asyncio.get_running_loop()
            _, protocol = await loop.create_connection(RawMget, "127.0.0.1", 6379)
            connection.append(protocol)
        raw = await connection[0].get((prefix + session_id).encode())
        if raw is not None and b'"passport"' in raw:
            count("sessions")
            count("loaded")

    return connect
