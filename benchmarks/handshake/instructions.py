"""The handshake benchmark's servers counted in instructions: the goal's ratio, steady.

::

    python -m benchmarks.handshake.instructions [--handshakes 1000]

The same uvicorn servers as the wrk benchmark (server.py: python-engineio's AsyncServer,
plain, with ``attach`` + ``AsyncRedisStore``, and with that store's reads answered from
memory), each run under callgrind. A client sends each of them the same polling handshakes,
20 keep-alive connections at a time, every one with the Cookie of another Node-made
session: a warm-up, then callgrind's counters are zeroed (``callgrind_control -z``), then
the measured handshakes, then the counters are dumped (``-d``). Instructions per handshake
of the whole server process (uvicorn, h11, python-engineio, ``attach``, redis-py's socket
work and the collector) do not move with a noisy neighbour as rates do: two counts of the
same code agree within a few tenths of a percent. "of plain" is plain's count divided by
the server's, the ratio the wrk benchmark's goal (0.85x) is about, without the machine's
moods; what it leaves out is what instructions do not show (cache misses, the time a
handshake waits for Redis while nothing else is ready to run).

Checked: every handshake answers 200 and, for a session server, loaded its session (the
server's ``loaded`` count, read from ``/bench/stats``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from .run import MAIN, PROBES
from .servers import ROOT, Setup, Spec, start
from .sessions import Sessions

CONNECTIONS = 20
WARMUP = 300
#: the wrk benchmark's own servers: plain, attach on Redis, attach reading from memory
SERVERS = ("asgi", "asgi-redis", "asgi-memory")
#: a Python server under callgrind takes a while to import everything and listen
START_TIMEOUT = 300.0


async def _handshakes(port: int, cookies: list[str]) -> None:
    """Send one polling handshake per cookie over ``CONNECTIONS`` keep-alive connections;
    RuntimeError unless each answers 200."""
    pending = iter(cookies)

    async def client() -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for cookie in pending:
                writer.write(
                    b"GET /engine.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: bench\r\n"
                    b"Cookie: " + cookie.encode("latin-1") + b"\r\n\r\n"
                )
                head = await reader.readuntil(b"\r\n\r\n")
                if not head.startswith(b"HTTP/1.1 200"):
                    raise RuntimeError(f"a handshake answered {head[:40]!r}")
                length = re.search(rb"(?i)\r\ncontent-length: *(\d+)", head)
                if length is not None:
                    await reader.readexactly(int(length.group(1)))
                else:  # chunked: the body ends with its last, empty chunk
                    await reader.readuntil(b"\r\n0\r\n\r\n")
        finally:
            writer.close()

    await asyncio.gather(*(client() for _ in range(CONNECTIONS)))


def _callgrind_control(option: str, pid: int) -> None:
    subprocess.run(["callgrind_control", option, str(pid)], check=True, capture_output=True)


def _dumped_total(out: Path) -> int:
    """The instructions of the dump ``callgrind_control -d`` wrote (its ``.1`` part)."""
    for _ in range(100):
        for part in out.parent.glob(out.name + ".*.1"):
            found = re.search(r"^(?:summary|totals): (\d+)", part.read_text(), re.MULTILINE)
            if found is not None:
                return int(found.group(1))
        time.sleep(0.2)
    raise RuntimeError("callgrind wrote no dump")


def count(spec: Spec, setup: Setup, cookies: list[str], measured: int) -> float:
    """Instructions per handshake of ``spec``'s server under callgrind."""
    out = setup.logs / f"callgrind-{spec.key}"
    under = ("valgrind", "--tool=callgrind", f"--callgrind-out-file={out}.%p")
    with start(spec, setup, under=under, start_timeout=START_TIMEOUT) as server:
        port, pid = server.process.port, server.process.process.pid
        asyncio.run(_handshakes(port, cookies[:WARMUP]))
        _callgrind_control("-z", pid)  # counters to zero: the warm-up left out
        asyncio.run(_handshakes(port, cookies[WARMUP : WARMUP + measured]))
        _callgrind_control("-d", pid)  # what the measured handshakes cost
        total = _dumped_total(out)
        stats = server.stats()
    if stats["connections"] != WARMUP + measured:
        raise RuntimeError(f"{stats['connections']} handshakes of {WARMUP + measured} counted")
    if spec.loads and stats["loaded"] != WARMUP + measured:
        raise RuntimeError(f"{stats['loaded']} of {WARMUP + measured} sessions loaded")
    return total / measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handshakes", type=int, default=1000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    args = parser.parse_args()
    if shutil.which("callgrind_control") is None:
        print("no valgrind here: the servers' instructions are not counted")
        print("(apt-get install valgrind)")
        return 0
    specs = {spec.key: spec for spec in MAIN + PROBES}
    with Sessions(args.redis_url, WARMUP + args.handshakes, file=False) as sessions:
        # Engine.IO's default pings, as in the wrk benchmark: no socket ends during the run
        setup = Setup.of(args.redis_url, sessions)
        cookies = sessions.lines("redis")
        counted = {
            specs[key].label: count(specs[key], setup, cookies, args.handshakes) for key in SERVERS
        }
    print(
        f"\nInstructions per polling handshake of the whole server (callgrind; {args.handshakes:,}"
        f" handshakes after {WARMUP} of warm-up, {CONNECTIONS} connections, each handshake "
        "with another Node-made session):\n"
    )
    print("| server | instructions / handshake | of plain |")
    print("|---|---:|---:|")
    plain = next(iter(counted.values()))
    for name, instructions in counted.items():
        print(f"| {name} | {instructions:,.0f} | {plain / instructions:.3f}x |")
    results = ROOT / ".benchmarks"
    results.mkdir(exist_ok=True)
    (results / "instructions.json").write_text(json.dumps(counted, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
