"""The handshake's CPU cost without an HTTP server or a load generator: a steadier measure.

::

    python -m benchmarks.handshake.inprocess [--handshakes 4000] [--repeat 2]

The same ASGI applications as the wrk benchmark (server.py's ``async_app``: plain
python-engineio, ``attach`` + ``AsyncRedisStore``, the MGET probes) are called directly
with polling-handshake scopes, 20 at a time with ``asyncio.gather`` (as concurrent
requests reach the application), each with the Cookie of another Node-made session. Each
configuration runs in a fresh process; it prints the process CPU time per handshake, the
part of it in the cyclic collector, and the collections of each generation per 1,000
handshakes. No uvicorn, h11 or wrk shares the CPU, so on a noisy machine these numbers
move far less than the rate under wrk; the collection counts barely move at all, which
makes them the measure of what a change does to the objects a handshake leaves for the
collector. ``--instructions`` also counts the instructions of one handshake under
callgrind (plain, ``attach``, the MGET probe): they do not move with the machine at all,
so a change of 1% shows.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from .servers import ROOT
from .sessions import Sessions

BATCH = 20  # handshakes in flight together
WARMUP = 200

CONFIGS = {
    "plain": {"store": None},
    "attach + AsyncRedisStore": {"store": "redis"},
    "probe: MGET": {"store": None, "probe": "mget"},
    "probe: MGET + session held": {"store": None, "probe": "mget-hold"},
}


async def handshake(app: Any, cookie: str) -> None:
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/engine.io/",
        "raw_path": b"/engine.io/",
        "query_string": b"EIO=4&transport=polling",
        "root_path": "",
        "headers": [(b"host", b"localhost"), (b"cookie", cookie.encode("latin-1"))],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
    }
    status: list[int] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await app(scope, receive, send)
    if status != [200]:
        raise RuntimeError(f"a handshake answered {status}")


async def measure(config: dict[str, Any], cookies: list[str]) -> dict[str, Any]:
    from .server import async_app

    app, stats = async_app({"mode": "asgi", **config})
    for cookie in cookies[:WARMUP]:
        await handshake(app, cookie)
    measured = cookies[WARMUP:]
    gc.collect()
    collections = [generation["collections"] for generation in gc.get_stats()]
    gc_before = stats.gc_seconds
    cpu = time.process_time()
    for start in range(0, len(measured), BATCH):
        await asyncio.gather(*(handshake(app, c) for c in measured[start : start + BATCH]))
    cpu = time.process_time() - cpu
    count = len(measured)
    after = [generation["collections"] for generation in gc.get_stats()]
    reads = config.get("store") or config.get("probe")
    if reads and stats.counts["loaded"] < len(cookies):
        raise RuntimeError(f"{stats.counts['loaded']} of {len(cookies)} sessions loaded")
    return {
        "cpu_us": cpu / count * 1e6,
        "gc_us": (stats.gc_seconds - gc_before) / count * 1e6,
        "collections_per_1000": [
            (b - a) / count * 1000 for a, b in zip(collections, after, strict=True)
        ],
    }


def child(argument: str) -> None:
    """One configuration, in this (fresh) process: prints its measure as JSON."""
    task = json.loads(argument)
    cookies = Path(task["cookies"]).read_text().split()  # Cookie header values, one a line
    if "handshakes" in task:
        cookies = cookies[: WARMUP + task["handshakes"]]
    print(json.dumps(asyncio.run(measure(task["config"], cookies))))


def child_command(task: dict[str, Any]) -> list[str]:
    return [sys.executable, "-m", "benchmarks.handshake.inprocess", "--child", json.dumps(task)]


def instructions(task: dict[str, Any], fewer: int, more: int) -> float:
    """The instructions one handshake of ``task``'s application costs, counted by
    callgrind: two runs of the child, ``fewer`` and ``more`` measured handshakes (side by
    side, one a core), the difference divided by ``more - fewer``. Instructions do not
    move with a noisy neighbour as times do (two counts of the same code agree within a
    few tenths of a percent: the reply chunks of Redis vary a little)."""
    runs = [
        subprocess.Popen(
            [
                "valgrind",
                "--tool=callgrind",
                "--callgrind-out-file=/dev/null",
                *child_command({**task, "handshakes": count}),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        for count in (fewer, more)
    ]
    totals = []
    for run in runs:
        _, err = run.communicate(timeout=1800)
        found = re.search(r"Collected : (\d+)", err)
        if run.returncode != 0 or found is None:
            raise RuntimeError(f"callgrind failed:\n{err[-2000:]}")
        totals.append(int(found.group(1)))
    return (totals[1] - totals[0]) / (more - fewer)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--handshakes", type=int, default=4000)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument(
        "--instructions",
        action="store_true",
        help="also count each application's instructions per handshake with callgrind "
        "(valgrind; about 3 minutes)",
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return 0
    count = args.handshakes + WARMUP
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in CONFIGS}
    with Sessions(args.redis_url, count, file=False) as sessions:
        cookie_file = str(sessions.cookies["redis"])
        shared = {"redis_url": args.redis_url, "prefix": sessions.prefix}
        shared["secret"] = sessions.secret
        for _ in range(args.repeat):
            for name, config in CONFIGS.items():
                task = {"config": {**shared, **config}, "cookies": cookie_file}
                done = subprocess.run(
                    child_command(task),
                    capture_output=True,
                    text=True,
                    cwd=ROOT,
                    timeout=600,
                )
                if done.returncode != 0:
                    raise RuntimeError(f"{name} failed:\n{done.stderr}")
                rows[name].append(json.loads(done.stdout.splitlines()[-1]))
        counted: dict[str, float] = {}
        if args.instructions:
            if shutil.which("valgrind") is None:
                print("no valgrind here: instructions not counted (apt-get install valgrind)")
            elif args.handshakes < 400:
                print("--instructions counts 200 and up to 1,200 handshakes: give 400 or more")
            else:
                for name in ("plain", "attach + AsyncRedisStore", "probe: MGET"):
                    task = {"config": {**shared, **CONFIGS[name]}, "cookies": cookie_file}
                    counted[name] = instructions(task, 200, min(1200, args.handshakes))
    plain = rows["plain"]
    print(
        f"\n{args.handshakes:,} polling handshakes in process, {BATCH} at a time, each with "
        f"another Node-made session; {args.repeat} round(s), fresh process each\n"
    )
    print(
        "| application | CPU µs / handshake | of plain, by CPU | of which GC µs "
        "| collections per 1,000 (gen 0 / 1 / 2) |"
    )
    print("|---|---:|---:|---:|---:|")
    for name, measured in rows.items():
        cpu = [m["cpu_us"] for m in measured]
        ratios = [p["cpu_us"] / m["cpu_us"] for m, p in zip(measured, plain, strict=True)]
        gcs = [m["gc_us"] for m in measured]
        counts = " / ".join(f"{c:.1f}" for c in measured[-1]["collections_per_1000"])
        print(
            f"| {name} | {min(cpu):.0f}-{max(cpu):.0f} | {min(ratios):.2f}-{max(ratios):.2f}x "
            f"| {min(gcs):.0f}-{max(gcs):.0f} | {counts} |"
        )
    if counted:
        print("\nInstructions per handshake (callgrind, the collector on), a steady measure:\n")
        print("| application | instructions / handshake | of plain |")
        print("|---|---:|---:|")
        for name, count in counted.items():
            print(f"| {name} | {count:,.0f} | {counted['plain'] / count:.2f}x |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
