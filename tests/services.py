"""The real servers the tests talk to: find them, or start them (a Redis Cluster).

Every helper checks that its service really answers before a test relies on it. Under CI
(``CI=true``) a missing service fails the test; elsewhere it skips with the reason. The
session-scoped fixtures in ``tests/conftest.py`` wrap these helpers; use those in tests::

    def test_roundtrip(redis_url: str) -> None:
        client = redis.Redis.from_url(redis_url)
        ...

The checks speak just enough of each wire protocol to know the service is the right one and
accepts the credentials the tests use, so they need no database driver.
"""

from __future__ import annotations

import atexit
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, NoReturn, TypedDict

import pytest

if TYPE_CHECKING:
    import redis.asyncio.cluster
    import redis.cluster

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
HOST = "127.0.0.1"
TIMEOUT = 2.0  # seconds, for one check of one service


def require_service(name: str, reason: str) -> NoReturn:
    """Stop the current test: a failure under CI, a skip (with the reason) elsewhere."""
    message = f"{name} is unavailable: {reason}"
    if IN_CI:
        pytest.fail(f"CI=true and {message}")
    pytest.skip(message)


def _recv_exactly(sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = sock.recv(size - len(data))
        if not chunk:
            raise ConnectionError("the server closed the connection")
        data += chunk
    return data


def redis_command(port: int, *args: str, host: str = HOST, timeout: float = TIMEOUT) -> str:
    """Send one command to Redis and return its simple or bulk string reply.

    Any other reply (an error, a nil) raises ``ConnectionError``, as a dead server does.

    >>> redis_url()  # skips (fails under CI) when the local Redis is down
    'redis://127.0.0.1:6379/0'
    >>> redis_command(6379, "PING")
    'PONG'
    """
    encoded = [arg.encode() for arg in args]
    request = b"*%d\r\n" % len(encoded) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in encoded)
    with socket.create_connection((host, port), timeout=timeout) as sock:
        sock.sendall(request)
        with sock.makefile("rb") as reader:
            line = reader.readline()
            if line.startswith(b"+"):
                return line[1:].rstrip(b"\r\n").decode()
            if line.startswith(b"$") and int(line[1:]) >= 0:
                return reader.read(int(line[1:]) + 2)[:-2].decode()
    raise ConnectionError(f"Redis at {host}:{port} answered {args[0]} with {line!r}")


def redis_url() -> str:
    """The URL of the local Redis (127.0.0.1:6379, database 0), once it answers PING.

    >>> redis_url()
    'redis://127.0.0.1:6379/0'
    """
    try:
        reply = redis_command(6379, "PING")
    except OSError as error:
        require_service("Redis", f"{HOST}:6379 does not answer PING ({error})")
    if reply != "PONG":
        require_service("Redis", f"{HOST}:6379 answered PING with {reply!r}")
    return f"redis://{HOST}:6379/0"


def postgres_dsn() -> str:
    """A libpq URL for database ``test`` on the local PostgreSQL, user ``postgres``, no password.

    The check logs in for real (a startup message, then wait for ReadyForQuery), so a
    missing role or database, or a password prompt, is reported here, not inside a test.

    >>> postgres_dsn()
    'postgresql://postgres@127.0.0.1:5432/test'
    """
    user, database = "postgres", "test"
    params = b"user\0%b\0database\0%b\0\0" % (user.encode(), database.encode())
    startup = struct.pack("!ii", 8 + len(params), 196608) + params  # protocol 3.0
    try:
        with socket.create_connection((HOST, 5432), timeout=TIMEOUT) as sock:
            sock.sendall(startup)
            # AuthenticationOk ('R', 0), ParameterStatus..., then ReadyForQuery ('Z'); with
            # trust auth a missing role or database is an ErrorResponse after AuthenticationOk
            while True:
                kind, length = struct.unpack("!ci", _recv_exactly(sock, 5))
                body = _recv_exactly(sock, length - 4)
                if kind in (b"E", b"Z") or (kind == b"R" and body[:4] != b"\0\0\0\0"):
                    break
            sock.sendall(b"X\0\0\0\4")  # Terminate
    except OSError as error:
        require_service("PostgreSQL", f"{HOST}:5432 does not answer ({error})")
    if kind == b"E":  # fields of (code byte, text\0); 'M' is the message
        fields = {field[:1]: field[1:] for field in body.split(b"\0") if field}
        require_service("PostgreSQL", fields.get(b"M", body).decode(errors="replace"))
    if kind == b"R":
        require_service("PostgreSQL", f"{user}@{HOST}:5432/{database} wants a password")
    return f"postgresql://{user}@{HOST}:5432/{database}"


class MySQLParams(TypedDict):
    """Keyword arguments for ``pymysql.connect`` (and ``mysqlclient``'s ``MySQLdb.connect``)."""

    host: str
    port: int
    user: str
    password: str
    database: str


def _mysql_packet(sock: socket.socket) -> bytes:
    header = _recv_exactly(sock, 4)  # 3-byte little-endian length, 1-byte sequence id
    return _recv_exactly(sock, int.from_bytes(header[:3], "little"))


def mysql_params() -> MySQLParams:
    """Connection parameters for database ``test`` on the local MariaDB, root, no password.

    The check logs in for real (a HandshakeResponse41 with an empty password).

    >>> mysql_params()["database"]
    'test'
    """
    params = MySQLParams(host=HOST, port=3306, user="root", password="", database="test")
    # CLIENT_LONG_PASSWORD | CONNECT_WITH_DB | PROTOCOL_41 | SECURE_CONNECTION | PLUGIN_AUTH
    capabilities = 0x1 | 0x8 | 0x200 | 0x8000 | 0x80000
    login = struct.pack("<IIB23x", capabilities, 1 << 24, 33) + b"root\0\0test\0"
    login += b"mysql_native_password\0"
    try:
        with socket.create_connection((HOST, 3306), timeout=TIMEOUT) as sock:
            reply = greeting = _mysql_packet(sock)
            if greeting[:1] == b"\n":  # protocol 10: the server's greeting
                sock.sendall(len(login).to_bytes(3, "little") + b"\1" + login)
                reply = _mysql_packet(sock)
                if reply[:1] == b"\xfe":  # AuthSwitchRequest: an empty password is empty
                    sock.sendall(b"\0\0\0\3")
                    reply = _mysql_packet(sock)
                sock.sendall(b"\1\0\0\0\1")  # COM_QUIT
    except OSError as error:
        require_service("MariaDB", f"{HOST}:3306 does not answer ({error})")
    if reply[:1] == b"\xff":  # ERR packet: code, ['#', SQLSTATE,] message
        message = reply[9:] if reply[3:4] == b"#" else reply[3:]
        require_service("MariaDB", message.decode(errors="replace"))
    if reply[:1] != b"\0":
        require_service("MariaDB", f"{HOST}:3306 is not a MySQL server ({greeting[:20]!r})")
    return params


def _free_ports(count: int) -> list[int]:
    """``count`` free loopback ports P whose cluster bus ports P + 10000 are free too."""
    with ExitStack() as held:  # hold every probe open, so no port is handed out twice

        def bind(port: int) -> int | None:
            probe = held.enter_context(socket.socket())
            try:
                probe.bind((HOST, port))
            except OSError:
                return None
            port = probe.getsockname()[1]
            return port if port + 10000 <= 65535 else None

        ports: list[int] = []
        while len(ports) < count:
            port = bind(0)
            if port is not None and bind(port + 10000) is not None:
                ports.append(port)
    return ports


class _ServerExitedError(RuntimeError):
    """A redis-server of the cluster exited while starting (for instance, its port was taken)."""


class RedisCluster:
    """A throwaway Redis Cluster: three masters, no replicas, on free loopback ports.

    Each ``redis-server`` runs as a child process in its own temporary directory. ``start()``
    returns once ``CLUSTER INFO`` says ``cluster_state:ok`` on every node: about 2 s, the
    time Redis keeps a freshly started master out of service. ``stop()`` terminates the
    servers and removes the directories::

        with RedisCluster() as cluster:
            client = redis.cluster.RedisCluster(startup_nodes=cluster.startup_nodes)
            client.set("greeting", "hello")
            cluster.nodes  # [('127.0.0.1', 41234), ('127.0.0.1', 37311), ...]

    A missing ``redis-server`` or ``redis-cli`` fails (CI) or skips the test; a cluster
    that does not come up raises ``RuntimeError`` with the servers' logs.
    """

    MASTERS = 3
    FAST_NODE_TIMEOUT_MS = 1000

    def __init__(self, *, timeout: float = 10.0) -> None:
        self.timeout = timeout
        self.nodes: list[tuple[str, int]] = []
        self._processes: list[subprocess.Popen[bytes]] = []
        self._dirs: list[Path] = []

    @property
    def startup_nodes(self) -> list[redis.cluster.ClusterNode]:
        """The nodes as ``redis.cluster.RedisCluster(startup_nodes=...)`` takes them."""
        from redis.cluster import ClusterNode

        return [ClusterNode(host, port) for host, port in self.nodes]  # type: ignore[no-untyped-call]

    @property
    def async_startup_nodes(self) -> list[redis.asyncio.cluster.ClusterNode]:
        """The same for ``redis.asyncio.cluster.RedisCluster(startup_nodes=...)``."""
        from redis.asyncio.cluster import ClusterNode

        return [ClusterNode(host, port) for host, port in self.nodes]

    @property
    def url(self) -> str:
        """A ``redis://`` URL of one node, for ``RedisCluster.from_url``."""
        host, port = self.nodes[0]
        return f"redis://{host}:{port}/0"

    def start(self) -> RedisCluster:
        """Start the servers, join them into one cluster, wait until it serves."""
        for tool in ("redis-server", "redis-cli"):
            if shutil.which(tool) is None:
                require_service("Redis Cluster", f"`{tool}` is not on PATH")
        atexit.register(self.stop)
        try:
            for attempt in range(3):  # a probed port can be taken before redis-server binds it
                try:
                    self._start_servers()
                    break
                except _ServerExitedError:
                    self._stop_servers()
                    if attempt == 2:
                        raise
            self._create_cluster()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """Terminate the servers and remove their directories; safe to call twice."""
        atexit.unregister(self.stop)
        self._stop_servers()

    def __enter__(self) -> RedisCluster:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _start_servers(self) -> None:
        self.nodes = [(HOST, port) for port in _free_ports(self.MASTERS)]
        for _, port in self.nodes:
            directory = Path(tempfile.mkdtemp(prefix=f"redis-cluster-{port}-"))
            self._dirs.append(directory)
            with open(directory / "redis.log", "wb") as log:
                self._processes.append(
                    subprocess.Popen(
                        [
                            *("redis-server", "--cluster-enabled", "yes", "--port", str(port)),
                            *("--cluster-config-file", str(directory / "nodes.conf")),
                            *("--bind", HOST, "--save", "", "--appendonly", "no"),
                            *("--daemonize", "no", "--dir", str(directory)),
                            # pings every 0.5 s, so the nodes agree within redis-cli's first
                            # check (2 s to start, not 2 to 4 s); reset to 15 s once up
                            *("--cluster-node-timeout", str(self.FAST_NODE_TIMEOUT_MS)),
                        ],
                        stdin=subprocess.DEVNULL,
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
        # INFO names the server's pid: the port answers, and not from some other Redis
        pids = {
            port: process.pid
            for (_, port), process in zip(self.nodes, self._processes, strict=True)
        }
        self._wait_for(
            "answer INFO",
            lambda port: f"process_id:{pids[port]}\r\n" in redis_command(port, "INFO", "server"),
        )

    def _create_cluster(self) -> None:
        addresses = [f"{host}:{port}" for host, port in self.nodes]
        try:
            created = subprocess.run(
                [
                    *("redis-cli", "--cluster", "create", *addresses),
                    *("--cluster-replicas", "0", "--cluster-yes"),
                ],
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired as error:
            raise RuntimeError(f"`redis-cli --cluster create` hung: {error.stdout!r}") from None
        if created.returncode != 0:
            raise RuntimeError(
                f"`redis-cli --cluster create` failed:\n{created.stdout}{created.stderr}"
            )
        self._wait_for(
            "report cluster_state:ok",
            lambda port: "cluster_state:ok" in redis_command(port, "CLUSTER", "INFO"),
        )
        for _, port in self.nodes:  # the default: a busy CI machine must not fail a node
            redis_command(port, "CONFIG", "SET", "cluster-node-timeout", "15000")

    def _wait_for(self, what: str, ready: Callable[[int], bool]) -> None:
        deadline = time.monotonic() + self.timeout
        waiting = {port for _, port in self.nodes}
        while waiting:
            for process in self._processes:
                if process.poll() is not None:
                    raise _ServerExitedError(f"a redis-server exited early\n{self._logs()}")
            for port in sorted(waiting):
                try:
                    if ready(port):
                        waiting.discard(port)
                except OSError:
                    pass
            if waiting and time.monotonic() > deadline:
                raise RuntimeError(
                    f"Redis Cluster nodes {sorted(waiting)} did not {what} within "
                    f"{self.timeout}s\n{self._logs()}"
                )
            if waiting:
                time.sleep(0.02)

    def _logs(self) -> str:
        return "\n".join(
            f"--- {directory / 'redis.log'}\n"
            + (directory / "redis.log").read_text(errors="replace")[-2000:]
            for directory in self._dirs
            if (directory / "redis.log").exists()
        )

    def _stop_servers(self) -> None:
        for process in self._processes:
            process.terminate()
        for process in self._processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for directory in self._dirs:
            shutil.rmtree(directory, ignore_errors=True)
        self._processes, self._dirs, self.nodes = [], [], []
