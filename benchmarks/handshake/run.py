"""The handshake benchmark of issue 10: ``make bench`` (``python -m benchmarks.handshake``).

What it measures. Each server, started alone in a process of its own, is loaded by wrk:
``--connections`` keep-alive connections, every request an Engine.IO polling handshake
(``GET /engine.io/?EIO=4&transport=polling``) carrying the Cookie of another of the
``--sessions`` sessions (default 20,000, rotated, so each handshake loads a different
session and no cache could carry the result). First a warm-up of ``--warmup`` seconds, then
the measured run of ``--duration`` seconds; the number is the measured run's completed
handshakes per second. "of its own plain rate" divides it by the rate of the same server
with nothing attached, measured in the same round. ``--repeat`` rounds go through every
server in turn (so a noisy neighbour hits all of them alike), every other round in the
reverse order (so an even number of rounds, four by default, goes through each order as
often: a drift within a round favours neither side); the tables give the range, and with
three rounds or more the median of the rounds' ratios (this shared machine moves a ratio by
about a tenth from round to round).

The servers (benchmarks/handshake/servers.py): Node engine.io 6 plain, and with
express-session 1.19 on connect-redis 10 (``engine.use(session(...))``, node-fixtures/
bench-eio-server.js); python-engineio's AsyncServer on uvicorn, plain and with
``attach(eio, store=AsyncRedisStore(...), secret=...)`` and a ``session`` handler
(benchmarks/handshake/server.py). The other paths: the threading server on gunicorn's
threaded worker (the production server python-engineio's docs name for threading; one
worker, 100 threads) plain, with ``RedisStore`` and with ``FileStore``; the AsyncServer
with ``AsyncFileStore``. Every server uses the same ping settings (``--ping-interval``,
``--ping-timeout``: Engine.IO's defaults, 25 s and 20 s), so the handshaken sockets, which
no client ever polls, live equally long on both sides; the tables report the sockets still
open and the server's RSS at the end of the measured run.

The sessions are made by Node (benchmarks/handshake/sessions.py): the express-session data
model saved by connect-redis in the local Redis under a prefix of this run's own, and by
session-file-store in a temporary directory; both are removed at the end.

Checked, outside the timed runs, so that a broken setup cannot be measured: a few
handshakes with valid cookies and one with a forged signature answer 200 with an Engine.IO
open packet, and a session server loaded exactly the valid ones (its ``session`` events /
express-session's ``req.session``, counted by the server). Checked after each timed run:
no socket error and no non-2xx answer, the server counted as many handshakes as wrk, and a
session server loaded a session on every one of them.

Probes (benchmarks/handshake/probes.py), beside them: the plain ASGI server whose
``connect`` handler verifies the cookie and awaits one ``redis.asyncio`` GET of the
session's key (no decoding, no Session, no event: the floor of one round trip per
handshake), the same with the GETs of one event-loop turn sent as one MGET (the
coalescing issue 10 proposes, measured before it is built), that MGET probe with each
session parsed and held by its connection (what holding a session costs the collector), the
MGET on a bare RESP connection (the floor of a round trip without redis-py) and a handshake
that only waits one turn of the loop (what suspending it costs); and the ``attach`` server
with its store's reads answered from memory (the session's own work without the socket).

Each row also gives the server's CPU time per handshake (user + system of the server
process, from its own stats: steadier than the rate on a shared machine) and, for the
Python servers, the part of it spent in the cyclic garbage collector, and the objects per
handshake that survived into the oldest generation (what every full collection walks).
Each round's line also says how many handshakes one MGET served (the coalescing at work) and
Redis's own time per handshake, from Redis's command counters (``INFO commandstats``) read
before and after the timed run; only one server is loaded at a time, so they are its own.

``--profile S`` also runs the ASGI + ``AsyncRedisStore`` server under py-spy for S seconds
of load (benchmarks/handshake/profile.py) and prints where the time goes.

Results: printed as two tables, and saved as JSON (``--json``, default
.benchmarks/handshake.json).
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import importlib.metadata
import json
import os
import platform
import signal
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import redis

from .load import Load, ensure_wrk, run_wrk
from .servers import FIXTURES, ROOT, Server, Setup, Spec, start
from .sessions import Sessions

MAIN = [
    Spec("node", "Node engine.io 6, plain", "node", plain="node"),
    Spec(
        "node-session",
        "Node engine.io 6 + express-session + connect-redis (`engine.use(session)`)",
        "node",
        {"session": True},
        plain="node",
        loads=True,
    ),
    Spec("asgi", "python-engineio + uvicorn, plain", "python", {"mode": "asgi"}, plain="asgi"),
    Spec(
        "asgi-redis",
        "python-engineio + uvicorn + `attach` + `AsyncRedisStore`",
        "python",
        {"mode": "asgi", "store": "redis"},
        plain="asgi",
        loads=True,
    ),
]
SYNC = {"mode": "threading"}
OTHER = [
    Spec("sync", "python-engineio threading + gunicorn, plain", "python", SYNC, plain="sync"),
    Spec(
        "sync-redis",
        "python-engineio threading + gunicorn + `attach` + `RedisStore`",
        "python",
        {**SYNC, "store": "redis"},
        plain="sync",
        loads=True,
    ),
    Spec(
        "sync-file",
        "python-engineio threading + gunicorn + `attach` + `FileStore`",
        "python",
        {**SYNC, "store": "file"},
        plain="sync",
        store="file",
        loads=True,
    ),
    Spec(
        "asgi-file",
        "python-engineio + uvicorn + `attach` + `AsyncFileStore`",
        "python",
        {"mode": "asgi", "store": "file"},
        plain="asgi",
        store="file",
        loads=True,
    ),
]
# what a session read could cost at best (benchmarks/handshake/probes.py)
PROBE = {"mode": "asgi", "store": None}
PROBES = [
    Spec(
        "asgi-get",
        "probe: python-engineio + uvicorn, `connect` verifies the cookie + one GET",
        "python",
        {**PROBE, "probe": "get"},
        plain="asgi",
        loads=True,
    ),
    Spec(
        "asgi-mget",
        "probe: the same, the GETs of one event-loop turn sent as one MGET",
        "python",
        {**PROBE, "probe": "mget"},
        plain="asgi",
        loads=True,
    ),
    Spec(
        "asgi-yield",
        "probe: `connect` awaits a future set at the next turn of the loop (no I/O)",
        "python",
        {**PROBE, "probe": "yield"},
        plain="asgi",
    ),
    Spec(
        "asgi-raw",
        "probe: the MGET of one turn on a bare RESP connection (no redis-py)",
        "python",
        {**PROBE, "probe": "raw"},
        plain="asgi",
        loads=True,
    ),
    Spec(
        "asgi-memory",
        "probe: `attach` + `AsyncRedisStore`, its reads answered from memory (no socket)",
        "python",
        {"mode": "asgi", "store": "redis-memory"},
        plain="asgi",
        loads=True,
    ),
    Spec(
        "asgi-mget-hold",
        "probe: the same, each session parsed (json.loads) and held by its connection",
        "python",
        {**PROBE, "probe": "mget-hold"},
        plain="asgi",
        loads=True,
    ),
]
# not in the default run: werkzeug's threaded server, to compare with gunicorn
WERKZEUG = {"mode": "threading", "wsgi_server": "werkzeug"}
EXTRA = [
    Spec(
        "werkzeug",
        "python-engineio threading + werkzeug, plain",
        "python",
        WERKZEUG,
        plain="werkzeug",
    ),
    Spec(
        "werkzeug-redis",
        "python-engineio threading + werkzeug + `attach` + `RedisStore`",
        "python",
        {**WERKZEUG, "store": "redis"},
        plain="werkzeug",
        loads=True,
    ),
]
SPECS = {spec.key: spec for spec in MAIN + OTHER + PROBES + EXTRA}
CHECKS = 5  # handshakes with valid cookies in the check before the timed runs


class SetupError(RuntimeError):
    """The setup does not do what the benchmark says it measures: nothing is reported."""


def handshake(server: Server, cookie: str | None) -> tuple[int, bytes]:
    url = urlsplit(server.handshake_url)
    connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
    try:
        headers = {"Cookie": cookie} if cookie is not None else {}
        connection.request("GET", f"{url.path}?{url.query}", headers=headers)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def forged(cookie: str) -> str:
    """``cookie`` with its MAC replaced by another valid-looking one."""
    value, mac = cookie.rsplit(".", 1)
    return value + "." + ("A" if mac[0] != "A" else "B") + mac[1:]


def check_server(server: Server, cookies: list[str]) -> None:
    """A few handshakes, outside the timed runs: each answers 200 with an open packet, and
    a session server loads the sessions of the valid cookies and not the forged one."""
    spec = server.spec
    before = server.stats()
    picked = [cookies[i * len(cookies) // CHECKS] for i in range(CHECKS)]
    for cookie in [*picked, forged(picked[0])]:
        status, body = handshake(server, cookie)
        if status != 200 or not body.startswith(b"0{") or "sid" not in json.loads(body[1:]):
            raise SetupError(f"{spec.label}: handshake answered {status} {body[:80]!r}")
    after = server.stats()
    connections = after["connections"] - before["connections"]
    loaded = after["loaded"] - before["loaded"]
    if connections != CHECKS + 1:
        raise SetupError(f"{spec.label}: {connections} handshakes counted, {CHECKS + 1} made")
    if loaded != (CHECKS if spec.loads else 0):
        raise SetupError(f"{spec.label}: {loaded} sessions loaded by {CHECKS} valid cookies")


def check_load(
    server: Server, load: Load, before: dict[str, Any], after: dict[str, Any], connections: int
) -> None:
    spec = server.spec
    if load.failed:
        raise SetupError(f"{spec.label}: wrk saw errors {load.errors}")
    counted = after["connections"] - before["connections"]
    # beyond wrk's count: the handshakes in flight when wrk stopped, and the warm-up's still
    # in flight when `before` was read (a threaded server stalled by a full collection or a
    # file lock can take longer than the pause after the warm-up): one per connection each
    if not load.requests <= counted <= load.requests + 2 * connections:
        raise SetupError(f"{spec.label}: {counted} handshakes counted, wrk had {load.requests}")
    loaded = after["loaded"] - before["loaded"]
    if spec.loads and abs(loaded - counted) > connections:
        raise SetupError(f"{spec.label}: {loaded} sessions loaded in {counted} handshakes")


def measure(
    spec: Spec, setup: Setup, sessions: Sessions, args: argparse.Namespace, round_: int
) -> dict[str, Any]:
    cookies = sessions.cookies[spec.store]
    lines = sessions.lines(spec.store)
    load_options = {"connections": args.connections, "threads": args.threads}
    with start(spec, setup, name=f"{spec.key}-{round_}") as server:
        check_server(server, lines)
        warm = run_wrk(server.handshake_url, cookies, seconds=args.warmup, **load_options)
        if warm.failed:
            raise SetupError(f"{spec.label}: wrk saw errors {warm.errors} in the warm-up")
        time.sleep(0.5)  # the warm-up's handshakes still in flight
        before = server.stats()
        reads_before = redis_reads(setup.redis_url)
        load = run_wrk(
            server.handshake_url,
            cookies,
            seconds=args.duration,
            start=len(lines) // 2,
            **load_options,
        )
        time.sleep(0.5)  # the handshakes in flight when wrk stopped
        after = server.stats()
        reads_after = redis_reads(setup.redis_url)
        if not server.alive():
            raise SetupError(f"{spec.label} died:\n{server.process.tail()}")
        check_load(server, load, before, after, args.connections)
    counted = after["connections"] - before["connections"]
    return {
        "rate": load.rate,
        "requests": load.requests,
        "seconds": load.seconds,
        "latency_p50_ms": load.latency_p50_ms,
        "latency_p99_ms": load.latency_p99_ms,
        "loaded": after["loaded"] - before["loaded"],
        "cpu_us": (after["cpu"] - before["cpu"]) / counted * 1e6,
        # Node's stats have no gc: its collector runs on threads of its own, partly
        "gc_us": (after.get("gc", 0.0) - before.get("gc", 0.0)) / counted * 1e6,
        # per generation: [collections, µs] per 1,000 handshakes
        "gc_by_generation": [
            [
                (later[0] - earlier[0]) / counted * 1000,
                (later[1] - earlier[1]) / counted * 1e9,
            ]
            for earlier, later in zip(
                before.get("gc_by_generation", [[0, 0.0]] * 3),
                after.get("gc_by_generation", [[0, 0.0]] * 3),
                strict=True,
            )
        ],
        # objects per handshake that survived a young collection: into generation 1, into 2
        "promoted": [
            (later - earlier) / counted
            for earlier, later in zip(
                before.get("promoted", [0, 0]), after.get("promoted", [0, 0]), strict=True
            )
        ],
        "sockets_open": after.get("sockets", after.get("clients")),
        "rss_mb": after["rss"] / 2**20,
        # the reads Redis answered during the run (every server of a round shares it, one
        # at a time): how many handshakes one MGET served, and Redis's own time per handshake
        "redis_reads": reads_per_handshake(reads_before, reads_after, counted),
    }


def redis_reads(url: str) -> dict[str, int]:
    """Redis's own counters so far (every client's, ``INFO commandstats``): GET and MGET
    calls, and the µs Redis spent on them."""
    client = redis.Redis.from_url(url)
    try:
        found = client.info("commandstats")
    finally:
        client.close()
    get, mget = found.get("cmdstat_get", {}), found.get("cmdstat_mget", {})
    return {
        "get_calls": int(get.get("calls", 0)),
        "mget_calls": int(mget.get("calls", 0)),
        "usec": int(get.get("usec", 0)) + int(mget.get("usec", 0)),
    }


def reads_per_handshake(
    before: dict[str, int], after: dict[str, int], handshakes: int
) -> dict[str, Any]:
    """A run's reads: GET and MGET calls, handshakes per MGET (None without MGETs), Redis's
    µs per handshake on them."""
    calls = {key: after[key] - before[key] for key in after}
    mgets = calls["mget_calls"]
    return {
        "get_calls": calls["get_calls"],
        "mget_calls": mgets,
        "handshakes_per_mget": handshakes / mgets if mgets else None,
        "redis_us": calls["usec"] / handshakes if handshakes else 0.0,
    }


def batches(reads: dict[str, Any]) -> str:
    """How many handshakes one MGET served, for a round line ("" where no MGET was sent)."""
    per_mget = reads["handshakes_per_mget"]
    if per_mget is None:
        return ""
    return f", {per_mget:.1f} handshakes per MGET, {reads['redis_us']:.1f} µs of Redis each"


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in ("python-engineio", "uvicorn", "h11", "redis", "gunicorn", "engineio-session"):
        with contextlib.suppress(importlib.metadata.PackageNotFoundError):
            found[name] = importlib.metadata.version(name)
    for name in ("engine.io", "express-session", "connect-redis", "redis", "session-file-store"):
        package = FIXTURES / "node_modules" / name / "package.json"
        found["node " + name] = json.loads(package.read_text())["version"]
    found["node"] = os.popen("node --version").read().strip()
    return found


def number(values: list[float], fmt: str) -> str:
    low, high = min(values), max(values)
    if fmt == "rate":
        a, b = f"{low:,.0f}", f"{high:,.0f}"
    else:
        a, b = f"{low:.2f}", f"{high:.2f}"
    text = a if a == b else f"{a}-{b}"
    if fmt != "ratio":
        return text
    if len(values) < 3 or a == b:
        return text + "x"
    # the rounds' median: the range is as wide as the noisiest round makes it
    return f"{text}x (median {statistics.median(values):.2f}x)"


def table(title: str, keys: Sequence[str], results: dict[str, Any]) -> list[str]:
    lines = [
        title,
        "",
        "| server | handshakes/s | of its own plain rate | server CPU µs per handshake "
        "| of plain, by CPU | open sockets, RSS at end |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for key in keys:
        if key not in results:
            continue
        row = results[key]
        rounds = row["rounds"]
        sockets = max(r["sockets_open"] for r in rounds)
        rss = max(r["rss_mb"] for r in rounds)
        lines.append(
            f"| {row['label']} | {number([r['rate'] for r in rounds], 'rate')} | "
            f"{number(row['ratios'], 'ratio')} | {number([r['cpu_us'] for r in rounds], 'rate')} | "
            f"{number(row['cpu_ratios'], 'ratio')} | {sockets:,}, {rss:,.0f} MB |"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.handshake", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds of warm-up")
    parser.add_argument(
        "--repeat",
        type=int,
        default=4,
        help="rounds over all the servers (an even number: each order as often as the other)",
    )
    parser.add_argument("--connections", type=int, default=20)
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--ping-interval", type=float, default=25.0)
    parser.add_argument("--ping-timeout", type=float, default=20.0)
    parser.add_argument(
        "--gc-detail",
        action="store_true",
        help="count the objects each young collection promotes (costs the servers time)",
    )
    parser.add_argument(
        "--servers",
        default="main,other,probes",
        help="main, other, probes, extra, or server keys: " + ", ".join(SPECS),
    )
    parser.add_argument(
        "--profile",
        type=float,
        default=0.0,
        help="seconds of py-spy on the ASGI + AsyncRedisStore server (0: none)",
    )
    parser.add_argument(
        "--profile-server",
        default="asgi-redis",
        help="the server --profile samples (a Python server's key: asgi-raw to compare)",
    )
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument("--json", type=Path, default=ROOT / ".benchmarks" / "handshake.json")
    args = parser.parse_args(argv)

    groups = {"main": MAIN, "other": OTHER, "probes": PROBES, "extra": EXTRA}
    specs: list[Spec] = []
    for name in args.servers.split(","):
        for spec in groups.get(name, [SPECS[name]] if name in SPECS else []):
            if spec not in specs:
                specs.append(spec)
        if name not in groups and name not in SPECS:
            parser.error(f"unknown server {name!r}")
    for spec in list(specs):  # every ratio needs its plain server in the same round
        if SPECS[spec.plain] not in specs:
            specs.insert(0, SPECS[spec.plain])

    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # so the servers are stopped
    ensure_wrk()
    needs_file = any(spec.store == "file" for spec in specs)
    print(f"making {args.sessions:,} sessions with Node ...", flush=True)
    results: dict[str, Any] = {}
    with Sessions(args.redis_url, args.sessions, file=needs_file) as sessions:
        print("  made in " + ", ".join(f"{k}: {v:.1f} s" for k, v in sessions.seconds.items()))
        setup = Setup.of(
            args.redis_url,
            sessions,
            ping_interval=args.ping_interval,
            ping_timeout=args.ping_timeout,
            gc_detail=args.gc_detail,
        )
        for round_ in range(1, args.repeat + 1):
            # every other round in the reverse order: a drift of the machine during a round
            # then favours plain in one round and its session server in the next
            for spec in specs if round_ % 2 else specs[::-1]:
                measured = measure(spec, setup, sessions, args, round_)
                row = results.setdefault(spec.key, {"label": spec.label, "rounds": []})
                row["rounds"].append(measured)
                print(
                    f"  round {round_} {spec.key}: {measured['rate']:,.0f}/s "
                    f"(p50 {measured['latency_p50_ms']:.1f} ms, p99 "
                    f"{measured['latency_p99_ms']:.1f} ms, {measured['cpu_us']:.0f} µs CPU "
                    f"of which {measured['gc_us']:.0f} µs GC "
                    f"({measured['gc_by_generation'][2][0]:.1f} full collections per 1,000"
                    + (
                        f", {measured['promoted'][1]:.0f} objects promoted to the oldest "
                        "generation per handshake"
                        if args.gc_detail
                        else ""
                    )
                    + "), "
                    f"{measured['sockets_open']:,} "
                    f"sockets, {measured['rss_mb']:.0f} MB{batches(measured['redis_reads'])})",
                    flush=True,
                )
        for key, row in results.items():
            plain = results[SPECS[key].plain]["rounds"]
            pairs = list(zip(row["rounds"], plain, strict=True))
            row["ratios"] = [r["rate"] / p["rate"] for r, p in pairs]
            row["cpu_ratios"] = [p["cpu_us"] / r["cpu_us"] for r, p in pairs]
        profile = None
        if args.profile > 0:
            from .profile import profile_server

            profile = profile_server(SPECS[args.profile_server], setup, sessions, args)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "versions": versions(),
        "machine": {"cpus": os.cpu_count(), "loadavg_at_end": os.getloadavg()},
        "results": results,
        "profile": profile,
    }
    args.json.write_text(json.dumps(report, indent=2) + "\n")
    main_keys = [spec.key for spec in MAIN]
    other_keys = [
        k
        for k in (
            "asgi",
            "sync",
            "sync-redis",
            "sync-file",
            "asgi-file",
            "asgi-get",
            "asgi-mget",
            "asgi-mget-hold",
            "asgi-raw",
            "asgi-memory",
            "asgi-yield",
            "werkzeug",
            "werkzeug-redis",
        )
        if k in results
    ]
    lines = [
        "",
        f"{args.sessions:,} distinct sessions, wrk {args.threads} thread(s) x "
        f"{args.connections} connections, {args.warmup:g} s warm-up + {args.duration:g} s "
        f"measured, {args.repeat} round(s); ping {args.ping_interval:g} s / "
        f"{args.ping_timeout:g} s on every server",
        "",
    ]
    if "asgi-redis" in results or "node-session" in results:
        lines += [*table("Handshakes with a session (Redis):", main_keys, results), ""]
    lines += table("Other paths:", other_keys, results)
    if profile is not None:
        lines += ["", *profile["text"]]
    print("\n".join(lines))
    print(f"\nsaved {args.json}")
    return 0
