"""What a session costs a connection after its handshake: ``reload=True`` per message,
``auto_save`` at disconnect, memory per open connection.

::

    python -m benchmarks.handshake.connections [--seconds 10] [--hold 10000] [--only memory]

Every server is python-engineio's AsyncServer on uvicorn (benchmarks/handshake/server.py),
plain or with ``attach(eio, store=AsyncRedisStore(...), ...)``; the clients are
engine.io-client 6 over websocket in a Node process of their own
(node-fixtures/bench-eio-clients.js), each connection with the Cookie of another session
made by Node (connect-redis, as for the handshake benchmark).

- reload: ``--clients`` connections each send a message and wait for the echo, again and
  again; messages/s with no session, with a session, and with ``reload=True`` (each
  message fetches the session again first). Checked: with ``reload=True`` every message
  after a connection's first found a new session object (``handle.get(sid)``), and none
  did without it.
- auto_save: ``--clients`` loops open a connection, whose ``session`` handler changes the
  session, and close it once open; open+close cycles/s with ``auto_save`` off and on (a
  save at each disconnect), and the server's CPU time per cycle. Checked: after the run
  without it no stored session has the change, after the run with it the sessions of the
  connections have it.
- memory: ``--hold`` connections opened and held; the server's RSS before and with them all
  open, the difference divided by the connections: without a session and with one.

Results printed and saved as JSON (``--json``, default .benchmarks/connections.json).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import redis

from .servers import FIXTURES, ROOT, Server, Setup, Spec, start
from .sessions import Sessions

ASGI = {"mode": "asgi"}
REDIS = {"mode": "asgi", "store": "redis"}
PLAIN = Spec("asgi", "no session (plain python-engineio)", "python", ASGI)
SESSION = Spec("asgi-redis", "`attach` + `AsyncRedisStore`", "python", REDIS, loads=True)
RELOAD = Spec(
    "asgi-redis-reload",
    "`attach` + `AsyncRedisStore`, `reload=True`",
    "python",
    {**REDIS, "reload": True},
    loads=True,
)
MODIFY = Spec(
    "asgi-redis-modify",
    "`attach` + `AsyncRedisStore`, session changed, no `auto_save`",
    "python",
    {**REDIS, "modify": True},
    loads=True,
)
AUTO_SAVE = Spec(
    "asgi-redis-auto-save",
    "`attach` + `AsyncRedisStore`, session changed, `auto_save=True`",
    "python",
    {**REDIS, "modify": True, "auto_save": True},
    loads=True,
)


def raise_file_limit(needed: int) -> None:
    """Open files for ``needed`` connections (and their clients, which inherit the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = needed + 1024
    if soft >= want:
        return
    if hard < want and os.geteuid() == 0:
        hard = want
    if hard < want:
        raise RuntimeError(
            f"{needed} connections need `ulimit -n {want}` (the hard limit is {hard})"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))


def clients(config: dict[str, Any], timeout: float) -> dict[str, Any]:
    command = [shutil.which("node") or "node", "bench-eio-clients.js", json.dumps(config)]
    done = subprocess.run(command, cwd=FIXTURES, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise RuntimeError(f"bench-eio-clients.js {config['mode']} failed:\n{done.stderr}")
    answer: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return answer


def echo(spec: Spec, setup: Setup, cookies: Path, args: argparse.Namespace) -> dict[str, Any]:
    with start(spec, setup, name=spec.key + "-echo") as server:
        before = server.stats()
        config = {
            "mode": "echo",
            "url": server.url,
            "cookies": str(cookies),
            "clients": args.clients,
            "warmup": args.warmup,
            "seconds": args.seconds,
        }
        answer = clients(config, timeout=args.warmup + args.seconds + 60)
        after = server.stats()
    messages = after["messages"] - before["messages"]
    reloaded = after["reloaded"] - before["reloaded"]
    unseen = after["unseen"] - before["unseen"]
    if messages < answer["messages"]:
        raise RuntimeError(f"{spec.label}: {messages} messages handled, {answer} echoed")
    if spec.config.get("reload"):
        # a message finds no earlier session object to differ from when it is its
        # connection's first, or is handled after its connection's disconnect (python-
        # engineio runs each message handler as a task: one the client sent just before
        # closing can run after the disconnect handler, with no session left to reload);
        # a reload whose store read failed keeps the session (logged by the server)
        if reloaded < messages - unseen or unseen > 2 * args.clients:
            raise RuntimeError(
                f"{spec.label}: {reloaded} reloads in {messages} messages, {unseen} without "
                f"an earlier session object\n{server.process.tail()}"
            )
    elif reloaded:
        raise RuntimeError(f"{spec.label}: {reloaded} new session objects without reload")
    if spec.loads and after["loaded"] - before["loaded"] != args.clients:
        raise RuntimeError(f"{spec.label}: not every connection has its session")
    return {
        "rate": answer["messages"] / answer["seconds"],
        "reloaded": reloaded,
        "cpu_us": (after["cpu"] - before["cpu"]) / messages * 1e6,
        **answer,
    }


def changed_sessions(setup: Setup) -> int:
    """How many stored sessions have the ``visits`` the modifying ``session`` handler sets."""
    client = redis.Redis.from_url(setup.redis_url)
    try:
        keys = list(client.scan_iter(match=setup.prefix + "*", count=1000))
        values = client.mget(keys) if keys else []
        return sum(1 for value in values if value is not None and b'"visits"' in value)
    finally:
        client.close()


def cycle(spec: Spec, setup: Setup, cookies: Path, args: argparse.Namespace) -> dict[str, Any]:
    with start(spec, setup, name=spec.key + "-cycle") as server:
        before = server.stats()
        config = {
            "mode": "cycle",
            "url": server.url,
            "cookies": str(cookies),
            "clients": args.clients,
            "warmup": args.warmup,
            "seconds": args.seconds,
        }
        answer = clients(config, timeout=args.warmup + args.seconds + 60)
        time.sleep(0.5)  # the last disconnects (and their saves)
        after = server.stats()
    loaded = after["loaded"] - before["loaded"]
    if loaded < answer["cycles"]:
        raise RuntimeError(f"{spec.label}: {loaded} sessions loaded in {answer} cycles")
    return {
        "rate": answer["cycles"] / answer["seconds"],
        "changed": changed_sessions(setup),
        "cpu_us": (after["cpu"] - before["cpu"]) / loaded * 1e6,
        **answer,
    }


def rss(server: Server) -> int:
    value: int = server.stats()["rss"]
    return value


def memory(spec: Spec, setup: Setup, cookies: Path, args: argparse.Namespace) -> dict[str, Any]:
    with start(spec, setup, name=spec.key + "-memory") as server:
        config = {
            "mode": "hold",
            "url": server.url,
            "cookies": str(cookies),
            "count": args.hold,
            "concurrency": 100,
        }
        time.sleep(1.0)
        before = server.stats()
        command = [shutil.which("node") or "node", "bench-eio-clients.js", json.dumps(config)]
        holder = subprocess.Popen(
            command,
            cwd=FIXTURES,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            stderr=subprocess.PIPE,
        )
        try:
            first: list[str] = []
            reader = threading.Thread(target=lambda: first.append(holder.stdout.readline()))  # type: ignore[union-attr]
            reader.start()
            reader.join(timeout=300)
            if not first or not first[0]:
                raise RuntimeError(f"the clients did not open {args.hold} connections")
            opened = json.loads(first[0])
            deadline = time.monotonic() + 60
            while server.stats()["sockets"] - before["sockets"] < args.hold:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{spec.label}: not every connection is open")
                time.sleep(0.2)
            time.sleep(2.0)  # settled
            after = server.stats()
        finally:
            holder.kill()
            holder.wait()
    if spec.loads and after["loaded"] - before["loaded"] != args.hold:
        raise RuntimeError(f"{spec.label}: {after['loaded'] - before['loaded']} sessions loaded")
    grown = after["rss"] - before["rss"]
    return {
        "rss_before_mb": before["rss"] / 2**20,
        "rss_after_mb": after["rss"] / 2**20,
        "bytes_per_connection": grown / args.hold,
        "open_seconds": opened["seconds"],
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.handshake.connections")
    parser.add_argument("--seconds", type=float, default=10.0, help="seconds measured")
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--hold", type=int, default=10_000, help="connections held open")
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--only", default="reload,auto_save,memory")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379")
    parser.add_argument("--json", type=Path, default=ROOT / ".benchmarks" / "connections.json")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    raise_file_limit(args.hold)
    results: dict[str, Any] = {}
    lines: list[str] = []
    with Sessions(args.redis_url, max(args.hold, 1000), file=False) as sessions:
        setup = Setup.of(args.redis_url, sessions)
        cookies = sessions.cookies["redis"]
        for round_ in range(args.repeat):
            if "reload" in only:
                for spec in (PLAIN, SESSION, RELOAD):
                    found = echo(spec, setup, cookies, args)
                    results.setdefault("reload", {}).setdefault(spec.label, []).append(found)
                    print(
                        f"  {round_ + 1} echo {spec.key}: {found['rate']:,.0f} messages/s",
                        flush=True,
                    )
            if "auto_save" in only:
                for spec in (MODIFY, AUTO_SAVE):  # without first: it must leave no change
                    found = cycle(spec, setup, cookies, args)
                    if spec is MODIFY and found["changed"] and round_ == 0:
                        raise RuntimeError("sessions were saved without auto_save")
                    if spec is AUTO_SAVE and not found["changed"]:
                        raise RuntimeError("auto_save saved no session")
                    results.setdefault("auto_save", {}).setdefault(spec.label, []).append(found)
                    print(
                        f"  {round_ + 1} cycle {spec.key}: {found['rate']:,.0f} cycles/s "
                        f"({found['changed']:,} sessions saved changed)",
                        flush=True,
                    )
            if "memory" in only:
                for spec in (PLAIN, SESSION):
                    found = memory(spec, setup, cookies, args)
                    results.setdefault("memory", {}).setdefault(spec.label, []).append(found)
                    print(
                        f"  {round_ + 1} memory {spec.key}: "
                        f"{found['bytes_per_connection'] / 1024:.1f} KiB/connection",
                        flush=True,
                    )
    lines += report(results, args)
    print("\n".join(lines))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    settings = {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()}
    args.json.write_text(json.dumps({"settings": settings, "results": results}, indent=2) + "\n")
    print(f"\nsaved {args.json}")
    return 0


def span(values: list[float], fmt: str) -> str:
    texts = [fmt.format(min(values)), fmt.format(max(values))]
    joiner = " to " if "+" in fmt or min(values) < 0 else "-"
    return texts[0] if texts[0] == texts[1] else joiner.join(texts)


def report(results: dict[str, Any], args: argparse.Namespace) -> list[str]:
    lines: list[str] = []
    if "reload" in results:
        rows = results["reload"]
        base = rows[PLAIN.label]
        lines += [
            "",
            f"reload: {args.clients} websocket connections, message + echo in a loop",
            "",
            "| server | messages/s | of plain | server CPU µs per message | over plain |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, runs in rows.items():
            rates = [r["rate"] for r in runs]
            ratios = [r["rate"] / b["rate"] for r, b in zip(runs, base, strict=True)]
            cpu = [r["cpu_us"] for r in runs]
            extra = [r["cpu_us"] - b["cpu_us"] for r, b in zip(runs, base, strict=True)]
            lines.append(
                f"| {label} | {span(rates, '{:,.0f}')} | {span(ratios, '{:.2f}x')} | "
                f"{span(cpu, '{:,.0f}')} | {span(extra, '{:+,.0f}')} |"
            )
    if "auto_save" in results:
        rows = results["auto_save"]
        base = rows[MODIFY.label]
        lines += [
            "",
            f"auto_save: {args.clients} loops of websocket open + close",
            "",
            "| server | cycles/s | of no auto_save | server CPU µs per cycle | over no auto_save |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, runs in rows.items():
            rates = [r["rate"] for r in runs]
            ratios = [r["rate"] / b["rate"] for r, b in zip(runs, base, strict=True)]
            cpu = [r["cpu_us"] for r in runs]
            extra = [r["cpu_us"] - b["cpu_us"] for r, b in zip(runs, base, strict=True)]
            lines.append(
                f"| {label} | {span(rates, '{:,.0f}')} | {span(ratios, '{:.2f}x')} | "
                f"{span(cpu, '{:,.0f}')} | {span(extra, '{:+,.0f}')} |"
            )
    if "memory" in results:
        rows = results["memory"]
        lines += [
            "",
            f"memory: {args.hold:,} websocket connections held open",
            "",
            "| server | RSS before | RSS with them | KiB per connection |",
            "|---|---:|---:|---:|",
        ]
        for label, runs in rows.items():
            lines.append(
                f"| {label} | {span([r['rss_before_mb'] for r in runs], '{:.0f} MB')} | "
                f"{span([r['rss_after_mb'] for r in runs], '{:.0f} MB')} | "
                f"{span([r['bytes_per_connection'] / 1024 for r in runs], '{:.1f}')} |"
            )
    return lines


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
