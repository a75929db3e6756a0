"""wrk, driven from Python: install it where missing, run one load, read its numbers.

The load is the one of issue 10: ``connections`` keep-alive connections, each request an
Engine.IO polling handshake (``GET /engine.io/?EIO=4&transport=polling``) with the Cookie
header of another session (cookies.lua rotates through the cookie file).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

LUA = Path(__file__).resolve().parent / "cookies.lua"


def ensure_wrk() -> str:
    """The path of wrk; installed from Debian's packages when missing (as root)."""
    found = shutil.which("wrk")
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise RuntimeError("wrk is missing: `apt-get install wrk` (as root) installs it")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "wrk"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env)
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}\n{done.stderr}")
    found = shutil.which("wrk")
    if found is None:
        raise RuntimeError("wrk was installed but is not on PATH")
    return found


@dataclass(frozen=True)
class Load:
    """One wrk run's result. ``rate``: completed requests per second of the run."""

    requests: int
    seconds: float
    errors: dict[str, int]  # connect, read, write, timeout: socket errors; status: non-2xx/3xx
    latency_p50_ms: float
    latency_p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


def run_wrk(
    url: str,
    cookies: Path,
    *,
    seconds: float,
    connections: int,
    threads: int,
    start: int = 0,
) -> Load:
    """``threads`` wrk threads, ``connections`` connections for ``seconds``, the requests
    carrying the cookies of ``cookies`` from line ``start`` on."""
    command = [
        ensure_wrk(),
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, round(seconds))}s",
        "--timeout",
        "10s",
        "-s",
        str(LUA),
        url,
        "--",
        str(cookies),
        str(start),
        str(threads),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next((x for x in done.stdout.splitlines() if x.startswith("WRK_JSON ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed (exit {done.returncode}):\n{done.stdout}\n{done.stderr}")
    answer = json.loads(line.removeprefix("WRK_JSON "))
    return Load(
        requests=answer["requests"],
        seconds=answer["duration_us"] / 1e6,
        errors={key: answer[key] for key in ("connect", "read", "write", "status", "timeout")},
        latency_p50_ms=answer["latency_p50_us"] / 1000,
        latency_p99_ms=answer["latency_p99_us"] / 1000,
    )
