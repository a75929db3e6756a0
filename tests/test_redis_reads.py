"""The coalesced reads' bare RESP connection (src/engineio_session/stores/redis/reads.py):
the reply parser as plain unit tests, then the connection against the real Redis (AUTH as
an ACL user, SELECT, replies split anywhere, a killed connection, a hung server, a cancelled
read) and the clients it leaves to redis-py.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import socket
import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import redis
import redis.asyncio

from engineio_session.errors import StoreError
from engineio_session.stores import AsyncRedisStore
from engineio_session.stores.redis.reads import (
    IncompleteReplyError,
    PipelinedReads,
    RespError,
    _Connection,
    pack_command,
    parse_reply,
)

from .net import black_hole
from .test_coalesced_reads import counted

# --- the parser ---------------------------------------------------------------------------

REPLIES: list[tuple[bytes, Any]] = [
    (b"+OK\r\n", "OK"),
    (
        b"-WRONGPASS invalid username-password pair\r\n",
        RespError("WRONGPASS invalid username-password pair"),
    ),
    (b":-12\r\n", -12),
    (b"$0\r\n\r\n", b""),
    (b"$-1\r\n", None),
    (b"*-1\r\n", None),
    (b"*0\r\n", []),
    (b"$4\r\na\r\nb\r\n", b"a\r\nb"),  # CRLF inside a bulk string is data
    (b"*2\r\n*1\r\n:1\r\n$1\r\nx\r\n", [[1], b"x"]),
    (
        b"*3\r\n$3\r\n\xff\x00\xfe\r\n$-1\r\n-ERR in array\r\n",
        [b"\xff\x00\xfe", None, RespError("ERR in array")],
    ),
]


@pytest.mark.parametrize(("wire", "value"), REPLIES)
def test_each_reply_type(wire: bytes, value: Any) -> None:
    assert parse_reply(wire) == (value, len(wire))


@pytest.mark.parametrize(("wire", "value"), REPLIES)
def test_a_reply_cut_anywhere_is_incomplete(wire: bytes, value: Any) -> None:
    for cut in range(len(wire)):
        with pytest.raises(IncompleteReplyError):
            parse_reply(wire[:cut])


@pytest.mark.parametrize("wire", [b"!3\r\nabc\r\n", b"$x\r\n", b"$3\r\nabcde\r\n", b":1.5\r\n"])
def test_what_is_not_resp2_is_an_error(wire: bytes) -> None:
    with pytest.raises(ValueError):
        parse_reply(wire)


def test_a_command_packs_as_bulk_strings() -> None:
    assert pack_command("SELECT", 3) == b"*2\r\n$6\r\nSELECT\r\n$1\r\n3\r\n"
    packed = pack_command("MGET", b"k\r\n", "\u00e9")
    assert parse_reply(packed) == ([b"MGET", b"k\r\n", b"\xc3\xa9"], len(packed))


class FakeTransport(asyncio.Transport):
    def __init__(self) -> None:
        super().__init__()
        self.written: list[bytes] = []
        self.aborted = False

    def write(self, data: Any) -> None:
        self.written.append(bytes(data))

    def is_closing(self) -> bool:
        return self.aborted

    def abort(self) -> None:
        self.aborted = True


def test_replies_split_at_every_byte_answer_their_commands_in_order() -> None:
    values = [b"x" * 70_000, b""]
    wire = b"".join(
        [
            b"*2\r\n$70000\r\n" + b"x" * 70_000 + b"\r\n$0\r\n\r\n",
            b"-ERR nope\r\n",
            b"*2\r\n$-1\r\n$7\r\n\r\n$-1\r\n\r\n",
        ]
    )

    async def main() -> list[Any]:
        connection = _Connection()
        connection.connection_made(FakeTransport())
        futures = [connection.send(b"a"), connection.send(b"b"), connection.send(b"c")]
        rng = random.Random(7)
        position = 0
        while position < len(wire):
            step = rng.choice([1, 2, 3, 50, 4096])
            connection.data_received(wire[position : position + step])
            position += step
        return await asyncio.gather(*futures, return_exceptions=True)

    first, error, third = asyncio.run(main())
    assert first == values
    assert isinstance(error, redis.ResponseError) and "nope" in str(error)
    assert third == [None, b"\r\n$-1\r\n"]


def test_a_lost_connection_fails_every_read_in_it() -> None:
    async def main() -> list[Any]:
        connection = _Connection()
        connection.connection_made(FakeTransport())
        futures = [connection.send(b"a"), connection.send(b"b")]
        connection.data_received(b"$1\r\nx")  # the first reply, cut short
        connection.connection_lost(ConnectionResetError("reset by peer"))
        with pytest.raises(redis.ConnectionError):
            connection.send(b"c")
        return await asyncio.gather(*futures, return_exceptions=True)

    assert all(isinstance(e, redis.ConnectionError) for e in asyncio.run(main()))


def test_garbage_from_the_server_closes_the_connection() -> None:
    async def main() -> tuple[Any, bool]:
        connection = _Connection()
        transport = FakeTransport()
        connection.connection_made(transport)
        future = connection.send(b"a")
        connection.data_received(b"?what\r\n")
        return (await asyncio.gather(future, return_exceptions=True))[0], transport.aborted

    error, aborted = asyncio.run(main())
    assert isinstance(error, redis.ConnectionError) and aborted


# --- which clients take this path -------------------------------------------------------


def test_plain_tcp_and_unix_clients_take_it_with_their_database_and_credentials() -> None:
    tcp = PipelinedReads.of(redis.asyncio.Redis.from_url("redis://alice:pw@10.1.2.3:6380/4"))
    assert tcp is not None and tcp._address == ("10.1.2.3", 6380, None)
    assert tcp._hello == [pack_command("AUTH", "alice", "pw"), pack_command("SELECT", 4)]
    unix = PipelinedReads.of(redis.asyncio.Redis(unix_socket_path="/run/redis.sock", password="pw"))
    assert unix is not None and unix._address[2] == "/run/redis.sock"
    assert unix._hello == [pack_command("AUTH", "pw")]
    assert PipelinedReads.of(redis.asyncio.Redis())._hello == []  # type: ignore[union-attr]


def test_tls_custom_connections_and_credential_providers_keep_redis_py() -> None:
    class Mine(redis.asyncio.Connection):
        pass

    class Provider(redis.CredentialProvider):
        def get_credentials(self) -> tuple[str, str]:
            return ("u", "p")

    assert PipelinedReads.of(redis.asyncio.Redis.from_url("rediss://localhost:6380")) is None
    pool = redis.asyncio.ConnectionPool(connection_class=Mine)
    assert PipelinedReads.of(redis.asyncio.Redis(connection_pool=pool)) is None
    assert PipelinedReads.of(redis.asyncio.Redis(credential_provider=Provider())) is None
    assert AsyncRedisStore(redis.asyncio.Redis(credential_provider=Provider()))._pipelined is None


# --- against the real Redis ---------------------------------------------------------------


@pytest.fixture
def keys(redis_url: str) -> Iterator[list[bytes]]:
    raw = redis.Redis.from_url(redis_url)
    prefix = f"test:reads:{uuid.uuid4().hex[:8]}:"
    made = [f"{prefix}{n}".encode() for n in range(6)]
    raw.set(made[0], b"small")
    raw.set(made[1], b"\x00\xff" * 200_000)  # 400 kB: its reply comes in many pieces
    raw.set(made[2], "é\r\n$-1\r\n".encode())
    raw.rpush(made[3], b"a list")  # MGET answers nil for a key of another type
    yield made
    raw.delete(*made)
    raw.close()


def test_mget_answers_as_redis_py_does(redis_url: str, keys: list[bytes]) -> None:
    async def main() -> tuple[Any, Any]:
        client = redis.asyncio.Redis.from_url(redis_url)
        reads = PipelinedReads.of(client)
        assert reads is not None
        mine = await asyncio.gather(*(reads.mget(keys[n:] + keys[:n]) for n in range(6)))
        theirs = await asyncio.gather(*(client.mget(keys[n:] + keys[:n]) for n in range(6)))
        await reads.aclose()
        await client.aclose()
        return mine, theirs

    mine, theirs = asyncio.run(main())
    assert mine == theirs
    assert mine[0][:3] == [b"small", b"\x00\xff" * 200_000, "é\r\n$-1\r\n".encode()]
    assert mine[0][3:] == [None, None, None]


@pytest.fixture
def acl_user(redis_url: str) -> Iterator[tuple[str, str]]:
    raw = redis.Redis.from_url(redis_url)
    name, password = f"eio-reads-{uuid.uuid4().hex[:6]}", uuid.uuid4().hex
    raw.acl_setuser(name, enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all"])
    yield name, password
    raw.acl_deluser(name)
    raw.close()


def test_an_acl_user_on_another_database(
    redis_url: str, acl_user: tuple[str, str], keys: list[bytes]
) -> None:
    name, password = acl_user
    base = redis_url.rsplit("/", 1)[0]  # redis://host:port
    raw = redis.Redis.from_url(base + "/5")
    raw.set(keys[5], b"on db 5")
    url = base.replace("redis://", f"redis://{name}:{password}@") + "/5"

    async def main(url: str) -> Any:
        reads = PipelinedReads.of(redis.asyncio.Redis.from_url(url))
        assert reads is not None
        try:
            return await reads.mget([keys[0], keys[5]])
        finally:
            await reads.aclose()

    try:
        assert asyncio.run(main(url)) == [None, b"on db 5"]  # keys[0] is on db 0
        with pytest.raises(redis.ResponseError, match="WRONGPASS"):
            asyncio.run(main(url.replace(password, "wrong")))
    finally:
        raw.delete(keys[5])
        raw.close()


def test_a_killed_connection_is_made_again_at_once(redis_url: str, keys: list[bytes]) -> None:
    async def main() -> list[Any]:
        reads = PipelinedReads.of(redis.asyncio.Redis.from_url(redis_url))
        assert reads is not None
        first = await reads.mget(keys[:1])
        admin = redis.asyncio.Redis.from_url(redis_url)
        await admin.client_kill_filter(skipme=True, _type="normal", laddr=None, user=None)
        await admin.aclose()
        second = await reads.mget(keys[:1])  # the first try fails; the second one is fresh
        await reads.aclose()
        return [first, second]

    assert asyncio.run(main()) == [[b"small"], [b"small"]]


def test_a_hung_server_times_out_the_store_and_a_late_reply_answers_nothing() -> None:
    with black_hole() as port:

        async def main() -> tuple[Any, Any]:
            store = AsyncRedisStore(
                redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{port}"), timeout=0.2
            )
            found = await asyncio.gather(store.get("a"), store.get("b"), return_exceptions=True)
            pipelined = store._pipelined
            assert pipelined is not None and pipelined._connection is not None
            return found, pipelined._connection.lost

        found, lost = asyncio.run(main())
    assert all(isinstance(e, StoreError) and "no answer within 0.2 s" in str(e) for e in found)
    assert lost is not None  # the connection that owes the reply is closed


def test_a_cancelled_read_closes_the_connection_others_retry(
    redis_url: str, keys: list[bytes]
) -> None:
    async def main() -> list[Any]:
        reads = PipelinedReads.of(redis.asyncio.Redis.from_url(redis_url))
        assert reads is not None
        await reads.mget(keys[:1])  # connected
        cancelled = asyncio.ensure_future(reads.mget(keys[:1]))
        other = asyncio.ensure_future(reads.mget(keys[2:3]))
        await asyncio.sleep(0)  # both sent
        cancelled.cancel()
        results = await asyncio.gather(cancelled, other, return_exceptions=True)
        after = await reads.mget(keys[:1])
        await reads.aclose()
        return [*results, after]

    cancelled, other, after = asyncio.run(main())
    assert isinstance(cancelled, asyncio.CancelledError)
    assert other == ["é\r\n$-1\r\n".encode()]  # answered on a new connection
    assert after == [b"small"]


# --- a read sent at once, from the batch's callback (PipelinedReads.start) ------------------


@contextlib.contextmanager
def scripted(*replies: bytes) -> Iterator[int]:
    """A loopback "Redis" that answers its n-th command with ``replies[n]`` and then
    nothing more: a server that hangs while a connection to it is open."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    held: list[socket.socket] = []

    def serve() -> None:
        try:
            connection, _ = listener.accept()
        except OSError:
            return
        held.append(connection)
        for reply in replies:
            connection.recv(65536)
            connection.sendall(reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.close()
        thread.join(timeout=5)
        for connection in held:
            connection.close()


NIL = b"*1\r\n$-1\r\n"  # MGET of one key that is not there


def started_reads(store: AsyncRedisStore) -> list[bool]:
    """Record, for each batch, whether the store sent it at once (start) or awaited mget."""
    started: list[bool] = []
    real = store._start_mget

    def start(keys: list[bytes]) -> Any:
        values = real(keys)
        started.append(values is not None)
        return values

    store._start_mget = start  # type: ignore[method-assign]
    return started


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (b"-ERR not today\r\n", "ERR not today"),
        (b"*2\r\n$-1\r\n$-1\r\n", "MGET answered something else than one value per key"),
        (b"+OK\r\n", "MGET answered something else than one value per key"),
    ],
)
def test_a_started_read_answered_wrongly_fails_its_readers(reply: bytes, error: str) -> None:
    with scripted(NIL, reply) as port:

        async def main() -> tuple[list[Any], list[bool]]:
            store = AsyncRedisStore(redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{port}"))
            started = started_reads(store)
            first = await store.get("a")
            found = await asyncio.gather(store.get("b"), store.get("b"), return_exceptions=True)
            return [first, *found], started

        (first, *found), started = asyncio.run(main())
    assert first is None and started == [False, True]
    assert all(isinstance(e, StoreError) and error in str(e) for e in found)


def test_a_read_is_started_only_on_an_open_connection_of_its_loop(
    redis_url: str, keys: list[bytes]
) -> None:
    reads = PipelinedReads.of(redis.asyncio.Redis.from_url(redis_url))
    assert reads is not None

    async def main(connect: bool) -> Any:
        if connect:
            await reads.mget(keys[:1])
        started = reads.start(keys[:3])
        return started if started is None else await started

    assert asyncio.run(main(False)) is None  # nothing open yet: the batch awaits mget()
    assert asyncio.run(main(True)) == [b"small", b"\x00\xff" * 200_000, "é\r\n$-1\r\n".encode()]
    assert asyncio.run(main(False)) is None  # another loop: its connection is not this one's


def test_a_started_read_on_a_killed_connection_is_sent_once_more(
    redis_url: str, keys: list[bytes]
) -> None:
    async def main() -> Any:
        reads = PipelinedReads.of(redis.asyncio.Redis.from_url(redis_url))
        assert reads is not None
        await reads.mget(keys[:1])
        with redis.Redis.from_url(redis_url) as admin:  # blocking: the loop does not run
            admin.client_kill_filter(skipme=True, _type="normal", laddr=None, user=None)
        started = reads.start(keys[:1])
        assert started is not None  # the connection does not know yet
        found = await started
        await reads.aclose()
        return found

    assert asyncio.run(main()) == [b"small"]


def test_a_cancelled_started_read_closes_the_connection(redis_url: str, keys: list[bytes]) -> None:
    async def main() -> tuple[Any, Any]:
        reads = PipelinedReads.of(redis.asyncio.Redis.from_url(redis_url))
        assert reads is not None
        await reads.mget(keys[:1])
        connection = reads._connection
        assert connection is not None
        started = reads.start(keys[:1])
        assert started is not None
        started.cancel()
        await asyncio.sleep(0)
        after = await reads.mget(keys[:1])  # a new connection
        await reads.aclose()
        return connection.lost, after

    lost, after = asyncio.run(main())
    assert isinstance(lost, redis.ConnectionError) and after == [b"small"]


def test_a_started_read_past_the_deadline_times_out_and_closes_the_connection() -> None:
    with scripted(NIL) as port:

        async def main() -> tuple[Any, Any, list[bool]]:
            store = AsyncRedisStore(
                redis.asyncio.Redis.from_url(f"redis://127.0.0.1:{port}"), timeout=0.2
            )
            started = started_reads(store)
            first = await store.get("a")  # connects (awaits mget); answered
            pipelined = store._pipelined
            assert pipelined is not None and pipelined._connection is not None
            connection = pipelined._connection
            try:
                await store.get("b")  # sent at once on that connection, never answered
            except StoreError as error:
                return first, (error, connection.lost), started
            raise AssertionError("no timeout")

        first, (error, lost), started = asyncio.run(main())
    assert first is None and started == [False, True]
    assert "no answer within 0.2 s" in str(error) and lost is not None


def test_a_store_used_from_two_event_loops(redis_url: str, keys: list[bytes]) -> None:
    store = AsyncRedisStore(redis.asyncio.Redis.from_url(redis_url), prefix="")

    async def read() -> Any:
        return await store._mget(keys[:1])

    assert asyncio.run(read()) == [b"small"]
    assert asyncio.run(read()) == [b"small"]  # a new loop: a new connection


def test_a_save_reads_what_it_compares_through_the_same_reads(redis_url: str) -> None:
    from engineio_session.changes import Changes
    from engineio_session.session import Session

    prefix = f"test:reads:{uuid.uuid4().hex[:8]}:"

    async def main() -> tuple[list[list[bytes]], Any, Any]:
        client = redis.asyncio.Redis.from_url(redis_url)
        store = AsyncRedisStore(client, prefix=prefix)
        session = Session.new(max_age=60_000)
        session["user"] = "ada"
        await store.set(session.id, session)
        reads = counted(store)
        merged = await store.update(session.id, Changes({"n": 1}, (), None))
        gone = await store.update("never-stored", Changes({"n": 1}, (), None))
        await store.destroy(session.id)
        await store.aclose()
        await client.aclose()
        return reads, merged, gone

    reads, merged, gone = asyncio.run(main())
    assert len(reads) == 2 and all(len(keys) == 1 for keys in reads)
    assert merged is not None and dict(merged) == {"user": "ada", "n": 1}
    assert gone is None  # nothing written for a session the store does not hold
