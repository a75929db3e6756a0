"""The ratio of a session server to its plain server, both up at once and loaded in turn.

::

    python -m benchmarks.handshake.alternate [--servers asgi-redis,node-session] [--pairs 20]

The sequential rounds of ``python -m benchmarks.handshake`` measure each server for ten
seconds, one after another; on this shared machine the speed of the whole machine moves
by a tenth from one minute to the next, and a ratio of two measurements taken a quarter of
a minute apart moves with it. Here the session server and its plain server run side by
side (the same settings as there, each a process of its own) and wrk loads them in turn,
in slices of ``--slice`` seconds: ``--pairs`` pairs, the order swapped every pair, so a
drift of the machine falls on both alike. The ratio is of the sums: the handshakes each
served over its seconds under load, and the CPU time each spent per handshake (from its
own stats, read before and after every slice). The pairs' own ratios are printed too: one
slice alone still moves with the machine.

Checked as there: before the slices, a few handshakes with valid cookies and a forged one;
after each slice, no error, as many handshakes as wrk counted and, on the session server,
a session loaded on each.
"""

from __future__ import annotations

import argparse
import statistics
import time
from contextlib import ExitStack
from typing import Any

from .load import ensure_wrk, run_wrk
from .run import SPECS, SetupError, check_load, check_server
from .servers import Server, Setup, start
from .sessions import Sessions


def slice_of(
    server: Server, sessions: Sessions, store: str, seconds: float, start_at: int
) -> dict[str, Any]:
    """One slice of load on ``server``: its handshakes, seconds and CPU seconds."""
    before = server.stats()
    load = run_wrk(
        server.handshake_url,
        sessions.cookies[store],
        seconds=seconds,
        connections=20,
        threads=1,
        start=start_at,
    )
    time.sleep(0.3)  # the handshakes in flight when wrk stopped
    after = server.stats()
    check_load(server, load, before, after, 20)
    return {
        "handshakes": load.requests,
        "seconds": load.seconds,
        "cpu": after["cpu"] - before["cpu"],
    }


def alternate(
    key: str, setup: Setup, sessions: Sessions, pairs: int, seconds: float
) -> dict[str, Any]:
    spec = SPECS[key]
    plain_spec = SPECS[spec.plain]
    lines = sessions.lines(spec.store)
    totals = {side: {"handshakes": 0, "seconds": 0.0, "cpu": 0.0} for side in ("plain", key)}
    ratios = []
    with ExitStack() as stack:
        servers = {
            "plain": stack.enter_context(start(plain_spec, setup, name=f"{plain_spec.key}-alt")),
            key: stack.enter_context(start(spec, setup, name=f"{key}-alt")),
        }
        for server in servers.values():
            check_server(server, lines)
            run_wrk(
                server.handshake_url,
                sessions.cookies[spec.store],
                seconds=3,
                connections=20,
                threads=1,
            )
        at = 0
        for pair in range(pairs):
            order = ["plain", key] if pair % 2 == 0 else [key, "plain"]
            rates = {}
            for side in order:
                done = slice_of(servers[side], sessions, spec.store, seconds, at % len(lines))
                at += done["handshakes"]
                for field in ("handshakes", "seconds", "cpu"):
                    totals[side][field] += done[field]
                rates[side] = done["handshakes"] / done["seconds"]
            ratios.append(rates[key] / rates["plain"])
        for side, server in servers.items():
            if not server.alive():
                raise SetupError(f"{side} died:\n{server.process.tail()}")

    def rate(side: str) -> float:
        return totals[side]["handshakes"] / totals[side]["seconds"]

    def cpu_us(side: str) -> float:
        return totals[side]["cpu"] / totals[side]["handshakes"] * 1e6

    return {
        "label": spec.label,
        "plain_label": plain_spec.label,
        "rate": rate(key),
        "plain_rate": rate("plain"),
        "ratio": rate(key) / rate("plain"),
        "cpu_us": cpu_us(key),
        "plain_cpu_us": cpu_us("plain"),
        "cpu_ratio": cpu_us("plain") / cpu_us(key),
        "pair_ratios": ratios,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--servers", default="asgi-redis,node-session")
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--slice", type=float, default=2.0, help="seconds of each slice")
    parser.add_argument("--sessions", type=int, default=20_000)
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    args = parser.parse_args(argv)
    keys = args.servers.split(",")
    for key in keys:
        if key not in SPECS or SPECS[key].plain == key:
            parser.error(f"{key!r} is not a session server ({', '.join(SPECS)})")
    ensure_wrk()
    needs_file = any(SPECS[key].store == "file" for key in keys)
    results = []
    with Sessions(args.redis_url, args.sessions, file=needs_file) as sessions:
        setup = Setup.of(args.redis_url, sessions)
        for key in keys:
            result = alternate(key, setup, sessions, args.pairs, args.slice)
            results.append(result)
            pairs = result["pair_ratios"]
            print(
                f"  {key}: {result['ratio']:.3f}x by rate, {result['cpu_ratio']:.3f}x by CPU "
                f"(pairs {min(pairs):.2f}x to {max(pairs):.2f}x, median "
                f"{statistics.median(pairs):.2f}x)",
                flush=True,
            )
    print(
        f"\n{args.sessions:,} distinct sessions, wrk 1 thread x 20 connections; each session "
        f"server and its plain server up at once, {args.pairs} pairs of {args.slice:g} s "
        "slices, the order swapped every pair\n"
    )
    header = "| server | handshakes/s | of its plain rate | server CPU µs / handshake | by CPU |"
    print(header)
    print("|---|---:|---:|---:|---:|")
    for result in results:
        plain = f"{result['plain_rate']:,.0f} | 1.00x | {result['plain_cpu_us']:.0f} | 1.00x"
        print(f"| {result['plain_label']} | {plain} |")
        print(
            f"| {result['label']} | {result['rate']:,.0f} | **{result['ratio']:.2f}x** | "
            f"{result['cpu_us']:.0f} | {result['cpu_ratio']:.2f}x |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
