"""The coalesced reads of ``AsyncRedisStore`` on a bare RESP connection of their own.

Every handshake reads one key, and under load the reads of one event-loop turn go out as
one MGET (:mod:`..batch`). On that path redis-py's asyncio client costs several times the
round trip itself (its pool, stream reader, retry and timeout wrappers; 231 µs of CPU per
one-key MGET here against 76 µs on a bare connection, 318 against 90 µs for eight keys),
and that was most of what a session cost a handshake. So the store sends its coalesced
MGETs through :class:`PipelinedReads`: one connection, made from the settings of the
user's client, commands pipelined on it and their replies matched in order::

    reads = PipelinedReads.of(redis.asyncio.Redis(host="127.0.0.1", db=2, password="pw"))
    values = await reads.mget([b"sess:a", b"sess:b"])   # [b'{"cookie":...}', None]

Only what this path can reproduce exactly is taken: ``redis.asyncio.Connection`` (TCP) or
``UnixDomainSocketConnection``, with their database, username and password. A cluster, a
Sentinel or custom pool, TLS, a credential provider or a custom connection class keep
redis-py (:meth:`PipelinedReads.of` returns None). A connection that fails (Redis restarted,
an idle connection closed) is made again at once and the read sent once more (an MGET
changes nothing); the caller's deadline bounds it all, and a read it cancels closes the
connection, so a late reply can never answer a later read.
"""

from __future__ import annotations

import asyncio
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

from ..._accel import speedups
from ..batch import running_here

__all__ = ["IncompleteReplyError", "PipelinedReads", "RespError", "pack_command", "parse_reply"]


class RespError:
    """An error reply (``-ERR ...``), as :func:`parse_reply` returns it."""

    __slots__ = ("message",)

    def __init__(self, message: str) -> None:
        self.message = message

    def __eq__(self, other: object) -> bool:
        return isinstance(other, RespError) and other.message == self.message

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"RespError({self.message!r})"


class IncompleteReplyError(Exception):
    """The buffer ends inside a reply; ``need``: the length it must reach before a retry
    can get further (a bulk string's end), or 0 when unknown (a line's end)."""

    def __init__(self, need: int = 0) -> None:
        self.need = need


def pack_command(*args: bytes | str | int) -> bytes:
    """One command as a RESP array of bulk strings.

    >>> pack_command("MGET", b"sess:a", "sess:b")
    b'*3\\r\\n$4\\r\\nMGET\\r\\n$6\\r\\nsess:a\\r\\n$6\\r\\nsess:b\\r\\n'
    """
    parts = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def parse_reply(buffer: bytes | bytearray, position: int = 0) -> tuple[Any, int]:
    """The RESP2 reply that starts at ``position``, and where it ends; IncompleteReplyError if the
    buffer ends first, ValueError if it is not RESP.

    Bulk strings are bytes, simple strings str, errors :class:`RespError`, nulls None::

        >>> parse_reply(b"*3\\r\\n$2\\r\\nhi\\r\\n$-1\\r\\n:7\\r\\n")
        ([b'hi', None, 7], 21)
        >>> parse_reply(b"-ERR no\\r\\n+OK\\r\\n", 9)
        ('OK', 14)
    """
    if speedups is not None:  # an MGET's reply, in C (None: any other, read below)
        read: tuple[list[Any], int] | None = speedups.bulk_array(buffer, position)
        if read is not None:
            return read
    if buffer[position : position + 1] == b"$":  # a bulk string
        values: list[Any] = []
        after = _replies_into(values, buffer, position, 1)
        return values[0], after
    end = buffer.find(b"\r\n", position)
    if end < 0:
        raise IncompleteReplyError
    kind = buffer[position]
    if kind == 42:  # "*": an array
        count = int(buffer[position + 1 : end])
        if count < 0:
            return None, end + 2
        items: list[Any] = []
        return items, _replies_into(items, buffer, end + 2, count)
    line = bytes(buffer[position + 1 : end])
    if kind == 43:  # "+"
        return line.decode("utf-8", "replace"), end + 2
    if kind == 45:  # "-"
        return RespError(line.decode("utf-8", "replace")), end + 2
    if kind == 58:  # ":"
        return int(line), end + 2
    raise ValueError(f"not a RESP2 reply: type byte {kind!r}")


def _replies_into(items: list[Any], buffer: bytes | bytearray, position: int, count: int) -> int:
    """Read ``count`` replies from ``position`` into ``items``; where they end. A bulk string
    (each value of an MGET) is read here, without a call of its own."""
    for _ in range(count):
        end = buffer.find(b"\r\n", position)
        if end < 0:
            raise IncompleteReplyError
        if buffer[position] != 36:  # not "$"
            item, position = parse_reply(buffer, position)
            items.append(item)
            continue
        size = int(buffer[position + 1 : end])
        if size < 0:
            items.append(None)
            position = end + 2
            continue
        stop = end + 2 + size
        if len(buffer) < stop + 2:
            raise IncompleteReplyError(stop + 2)
        if buffer[stop : stop + 2] != b"\r\n":
            raise ValueError("a bulk string does not end with CRLF")
        items.append(bytes(buffer[end + 2 : stop]))
        position = stop + 2
    return position


class _Connection(asyncio.Protocol):
    """One RESP connection: ``send(payload)`` writes a command and returns the future of its
    reply; replies answer the futures in the order their commands went."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._buffer = bytearray()
        self._need = 0
        self._waiting: deque[asyncio.Future[Any]] = deque()
        #: why the connection is unusable, once it is
        self.lost: BaseException | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport
        self.loop = asyncio.get_running_loop()  # the only loop it is used on (PipelinedReads)

    def send(self, payload: bytes) -> asyncio.Future[Any]:
        transport, loop = self.transport, self.loop
        if self.lost is not None or transport is None or loop is None or transport.is_closing():
            raise _connection_error("the connection is closed")
        future: asyncio.Future[Any] = loop.create_future()
        self._waiting.append(future)
        transport.write(payload)
        return future

    def data_received(self, data: bytes) -> None:
        buffer = self._buffer
        buffer += data
        if len(buffer) < self._need:
            return
        position = 0
        waiting = self._waiting
        try:
            while waiting and position < len(buffer):
                reply, position_after = parse_reply(buffer, position)
                position = position_after
                future = waiting.popleft()
                if future.done():  # its reader gave up; the reply is dropped, in its turn
                    continue
                if isinstance(reply, RespError):
                    future.set_exception(_response_error(reply.message))
                else:
                    future.set_result(reply)
            self._need = 0
        except IncompleteReplyError as incomplete:
            self._need = incomplete.need
        except (ValueError, IndexError) as error:
            self.abort(_connection_error(f"Redis answered something that is not RESP: {error}"))
            return
        if position and self._need:
            self._need -= position
        del buffer[:position]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(exc or _connection_error("Redis closed the connection"))

    def abort(self, error: BaseException) -> None:
        self._fail(error)
        if self.transport is not None:
            self.transport.abort()

    def _fail(self, error: BaseException) -> None:
        if self.lost is None:
            self.lost = (
                error
                if isinstance(error, _redis().ConnectionError)
                else (_connection_error(str(error) or type(error).__name__))
            )
        while self._waiting:
            future = self._waiting.popleft()
            if not future.done():
                future.set_exception(self.lost)


def _redis() -> Any:
    import redis

    return redis


def _connection_error(message: str) -> Exception:
    error: Exception = _redis().ConnectionError(message)
    return error


def _response_error(message: str) -> Exception:
    error: Exception = _redis().ResponseError(message)
    return error


def _values(reply: Any, keys: list[bytes]) -> list[bytes | None]:
    if not isinstance(reply, list) or len(reply) != len(keys):
        raise _response_error("MGET answered something else than one value per key")
    return reply


class _StartedRead:
    """One :meth:`PipelinedReads.start`: the reply on the connection becomes ``values``;
    a connection that fails is replaced and the read sent once more, as :meth:`mget`
    does; ``values`` cancelled gives the read up."""

    __slots__ = ("again", "connection", "keys", "payload", "reads", "reply", "values")

    def __init__(
        self,
        reads: PipelinedReads,
        keys: list[bytes],
        payload: bytes,
        connection: _Connection,
        reply: asyncio.Future[Any],
        loop: asyncio.AbstractEventLoop,
    ) -> None:
        self.reads = reads
        self.keys = keys
        self.payload = payload
        self.connection = connection
        self.reply = reply
        self.again: asyncio.Future[list[bytes | None]] | None = None
        self.values: asyncio.Future[list[bytes | None]] = loop.create_future()
        reply.add_done_callback(self._replied)
        self.values.add_done_callback(self._given_up)

    def _replied(self, reply: asyncio.Future[Any]) -> None:
        if self.values.done():
            return
        error = reply.exception()  # never cancelled: only the connection settles it
        if error is None:
            self._settle(reply.result)
        elif isinstance(error, _redis().ConnectionError):
            again = asyncio.ensure_future(self.reads._mget_again(self.keys, self.payload))
            self.again = again
            again.add_done_callback(self._answered_again)
        else:
            self.values.set_exception(error)

    def _answered_again(self, again: asyncio.Future[list[bytes | None]]) -> None:
        if again.cancelled():
            return  # only ever cancelled by _given_up, once values is done
        if self.values.done():
            again.exception()  # retrieved: nobody waits for it any more
            return
        self._settle(again.result)

    def _settle(self, reply: Callable[[], Any]) -> None:
        """``values`` answered with ``reply()`` checked as MGET's answer, or its error."""
        try:
            self.values.set_result(_values(reply(), self.keys))
        except Exception as error:
            self.values.set_exception(error)

    def _given_up(self, values: asyncio.Future[Any]) -> None:
        if not values.cancelled():
            return
        if self.again is not None:
            self.again.cancel()  # its own read closes its connection
        elif not self.reply.done():
            # the reply is still owed: close the connection, so that nothing still in it
            # can answer a later read
            self.connection.abort(_connection_error("a read was cancelled"))


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()


class PipelinedReads:
    """MGETs pipelined on one connection of their own (see the module's text)."""

    def __init__(
        self,
        *,
        host: str = "localhost",
        port: int = 6379,
        path: str | None = None,
        db: int = 0,
        username: str | None = None,
        password: str | None = None,
    ) -> None:
        self._address = (host, int(port), path)
        self._hello: list[bytes] = []  # what a new connection sends before any read
        if password is not None:
            auth = ("AUTH", username, password) if username else ("AUTH", password)
            self._hello.append(pack_command(*auth))
        if db:
            self._hello.append(pack_command("SELECT", int(db)))
        self._connection: _Connection | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0  # where _loop runs
        self._connecting: asyncio.Future[_Connection] | None = None

    @classmethod
    def of(cls, client: Any) -> PipelinedReads | None:
        """Reads made as ``client`` (a ``redis.asyncio.Redis``) would connect, or None when
        its settings are more than this path reproduces."""
        import redis.asyncio

        pool: Any = getattr(client, "connection_pool", None)
        if type(pool) not in (redis.asyncio.ConnectionPool, redis.asyncio.BlockingConnectionPool):
            return None  # a cluster, a Sentinel or custom pool
        settings = pool.connection_kwargs
        if settings.get("credential_provider") is not None:
            return None
        if settings.get("redis_connect_func") is not None:
            return None
        chosen = {
            key: settings[key]
            for key in ("db", "username", "password")
            if settings.get(key) is not None
        }
        if pool.connection_class is redis.asyncio.UnixDomainSocketConnection:
            return cls(path=settings["path"], **chosen)
        if pool.connection_class is redis.asyncio.Connection:
            return cls(
                host=settings.get("host", "localhost"), port=settings.get("port", 6379), **chosen
            )
        return None  # TLS, or a connection class of the application's own

    async def mget(self, keys: list[bytes]) -> list[bytes | None]:
        """``MGET keys``; redis.ConnectionError / ResponseError when it fails."""
        payload = pack_command("MGET", *keys)
        connection = await self._open()
        try:
            reply = await self._ask(connection, payload)
        except _redis().ConnectionError:
            return await self._mget_again(keys, payload)
        return _values(reply, keys)

    async def _mget_again(self, keys: list[bytes], payload: bytes) -> list[bytes | None]:
        # a connection Redis closed fails its first use: once more, on a new one
        return _values(await self._ask(await self._open(), payload), keys)

    def start(self, keys: list[bytes]) -> asyncio.Future[list[bytes | None]] | None:
        """``MGET keys`` sent now, from a plain callback, on the open connection: the future
        of the values (as :meth:`mget` returns them; cancel it to give the read up, which
        closes the connection as a cancelled :meth:`mget` does), or None where this loop
        has no open connection yet (await :meth:`mget`: it opens one)."""
        connection = self._connection
        if connection is None or connection.lost is not None:
            return None
        loop = connection.loop
        if loop is not self._loop or not running_here(loop, self._thread):
            return None
        payload = pack_command("MGET", *keys)
        try:
            reply = connection.send(payload)
        except _redis().ConnectionError:
            return None
        return _StartedRead(self, keys, payload, connection, reply, loop).values

    async def _ask(self, connection: _Connection, payload: bytes) -> Any:
        future = connection.send(payload)
        try:
            return await future
        except asyncio.CancelledError:
            # a deadline (or the caller) gave up while the reply is owed: close the
            # connection, so that nothing still in it can answer a later read
            connection.abort(_connection_error("a read was cancelled"))
            raise

    async def _open(self) -> _Connection:
        loop = asyncio.get_running_loop()
        connection = self._connection
        if loop is self._loop and connection is not None and connection.lost is None:
            return connection
        if loop is not self._loop:
            self._loop, self._connection, self._connecting = loop, None, None
            self._thread = threading.get_ident()
        if self._connecting is None or self._connecting.done():
            self._connecting = loop.create_task(self._connect())
            # retrieved here too: every reader that awaited it may have given up
            self._connecting.add_done_callback(_retrieve)
        # shielded: one reader's deadline must not cancel the connection others wait for
        return await asyncio.shield(self._connecting)

    async def _connect(self) -> _Connection:
        loop = asyncio.get_running_loop()
        host, port, path = self._address
        try:
            if path is not None:
                _, connection = await loop.create_unix_connection(_Connection, path)
            else:
                _, connection = await loop.create_connection(_Connection, host, port)
        except OSError as error:
            raise _connection_error(f"cannot connect to Redis: {error}") from error
        try:
            for command in self._hello:
                reply = await connection.send(command)
                if reply != "OK":
                    raise _response_error("Redis refused the connection's setup")
        except BaseException:
            connection.abort(_connection_error("the connection's setup failed"))
            raise
        self._connection = connection
        return connection

    async def aclose(self) -> None:
        """Close the connection (a later read makes a new one)."""
        connection, self._connection, self._connecting = self._connection, None, None
        if connection is not None and connection.transport is not None:
            connection.transport.close()
