"""The servers the handshake benchmark loads, and what it asks of each: start (a process of
its own, a free port, a start timeout), ``stats()``, stop (killed, even on a failure).

A :class:`Spec` names a server and its plain baseline; :func:`start` runs it on the
benchmark's :class:`Setup` (the sessions, the secret, the ping settings).
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.procs import PortProcess

if TYPE_CHECKING:
    from .sessions import Sessions

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "node-fixtures"
START_TIMEOUT = 30.0


@dataclass(frozen=True)
class Setup:
    """What every server of one run shares."""

    redis_url: str
    prefix: str  # the Redis sessions' key prefix
    file_path: str  # the session-file-store directory
    secret: str
    ping_interval: float  # seconds, the same on both sides
    ping_timeout: float
    logs: Path  # a directory for the servers' stderr
    #: Python servers count the objects their young collections promote (``--gc-detail``):
    #: a diagnosis, off in a measured run (it lists each young generation per collection,
    #: a cost that grows with the collections a server makes)
    gc_detail: bool = False

    @classmethod
    def of(cls, redis_url: str, sessions: Sessions, **settings: Any) -> Setup:
        """The setup of a run on ``sessions``: Engine.IO's default pings (25 s and 20 s, so
        that no handshaken socket ends during a run) unless ``settings`` say otherwise."""
        defaults: dict[str, Any] = {"ping_interval": 25.0, "ping_timeout": 20.0}
        return cls(
            redis_url=redis_url,
            prefix=sessions.prefix,
            file_path=str(sessions.file_path),
            secret=sessions.secret,
            logs=sessions.logs,
            **{**defaults, **settings},
        )


@dataclass(frozen=True)
class Spec:
    """One server: ``kind`` "node" or "python"; ``config`` its own settings (see
    node-fixtures/bench-eio-server.js and benchmarks/handshake/server.py); ``plain``: the key
    of the server its rate is divided by; ``store``: which sessions its requests carry
    ("redis" or "file": the cookie file of those sessions); ``loads``: whether each
    handshake must load a session."""

    key: str
    label: str
    kind: str
    config: dict[str, Any] = field(default_factory=dict)
    plain: str = ""
    store: str = "redis"
    loads: bool = False


def node_config(spec: Spec, setup: Setup) -> dict[str, Any]:
    config: dict[str, Any] = {
        "pingInterval": int(setup.ping_interval * 1000),
        "pingTimeout": int(setup.ping_timeout * 1000),
    }
    if spec.config.get("session"):
        store = {"type": "redis", "url": setup.redis_url, "prefix": setup.prefix}
        config["session"] = {"secret": setup.secret, "store": store}
    return config


def python_config(spec: Spec, setup: Setup) -> dict[str, Any]:
    return {
        "redis_url": setup.redis_url,
        "prefix": setup.prefix,
        "path": setup.file_path,
        "secret": setup.secret,
        "ping_interval": setup.ping_interval,
        "ping_timeout": setup.ping_timeout,
        "gc_detail": setup.gc_detail,
        **spec.config,
    }


def start(
    spec: Spec,
    setup: Setup,
    name: str | None = None,
    *,
    under: tuple[str, ...] = (),
    start_timeout: float = START_TIMEOUT,
) -> Server:
    """Start ``spec``'s server; ``under``: a command it runs under (callgrind)."""
    log = setup.logs / f"{name or spec.key}.log"
    if spec.kind == "node":
        node = shutil.which("node")
        if node is None:
            raise RuntimeError("node is not on PATH")
        script = str(FIXTURES / "bench-eio-server.js")
        command = [*under, node, script, json.dumps(node_config(spec, setup))]
        cwd = FIXTURES
    else:
        config = json.dumps(python_config(spec, setup))
        command = [*under, sys.executable, "-m", "benchmarks.handshake.server", config]
        cwd = ROOT
    process = PortProcess(
        spec.label, command, cwd=cwd, log=log, kill=True, start_timeout=start_timeout
    )
    try:
        process.port  # noqa: B018 (waits for it to listen, or raises with its stderr)
    except BaseException:
        process.stop()
        raise
    return Server(spec, process)


class Server:
    """A started server: ``url``, ``stats()``, ``stop()``."""

    def __init__(self, spec: Spec, process: PortProcess) -> None:
        self.spec = spec
        self.process = process
        self.url = process.url

    @property
    def handshake_url(self) -> str:
        return self.url + "/engine.io/?EIO=4&transport=polling"

    def stats(self) -> dict[str, Any]:
        with urllib.request.urlopen(self.url + "/bench/stats", timeout=10) as response:
            answer: dict[str, Any] = json.loads(response.read())
        return answer

    def alive(self) -> bool:
        return self.process.process.poll() is None

    def stop(self) -> None:
        """Kill it, and its children (gunicorn's worker), now."""
        children = _children(self.process.process.pid)
        self.process.stop()
        for child in children:
            with contextlib.suppress(ProcessLookupError):
                os.kill(child, signal.SIGKILL)

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _children(parent: int) -> list[int]:
    """The pids of the processes whose parent is ``parent``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == parent:
                found.append(int(entry.name))
    return found
