"""Where a loaded server's time goes: py-spy on the ASGI + ``AsyncRedisStore`` server (or
another Python server: ``--profile-server asgi-raw``).

``python -m benchmarks.handshake --servers asgi-redis --repeat 1 --profile 10``: the server
is started and warmed up as for a measured run, then ``py-spy record`` samples it (100 Hz,
idle samples included, by function; py-spy stops the process for the few µs of
each sample, so its stacks are whole) while wrk loads it. Printed: the share of samples
that are idle (the event loop waiting in ``select``: the server had nothing to do), the
share per package (by the leaf frame: own time), and the top functions by own time and by
total time (the share of samples with the function anywhere on the stack). The collapsed
stacks are kept (``.benchmarks/handshake-profile.txt``) for a flame graph.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from .load import run_wrk
from .servers import ROOT, Setup, Spec, start
from .sessions import Sessions

FRAME = re.compile(r"^(?P<function>.*) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")
TOP = 15
C_TRUNK = ("CPython internals (C)", "libc (system calls)", "?")


def py_spy() -> str:
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")
    if found is None:
        raise RuntimeError("py-spy is missing: `make install` installs it (the dev extra)")
    return found


def package(file: str) -> str:
    """The package a frame's file belongs to (py-spy names files from their sys.path
    entry: ``engineio/async_server.py``): engineio_session, engineio, asyncio, h11, ..."""
    if "engineio_session/" in file:
        return "engineio_session"
    if file.startswith("libc"):
        return "libc (system calls)"
    if native(file):
        return "CPython internals (C)"
    return file.split("site-packages/", 1)[-1].split("/", 1)[0].removesuffix(".py")


def native(file: str) -> bool:
    """A C frame (``--native``): libpython, libc, an extension module."""
    return not file.endswith(".py") and not file.startswith("<frozen")


def label(frame: str) -> tuple[str, str]:
    """(``function (file)``, package) of one collapsed-stack frame."""
    match = FRAME.match(frame)
    if match is None:
        return frame, "libc (system calls)" if frame.startswith("0x") else "?"
    file = match["file"]
    if match["function"].startswith("gc_collect"):
        return f"{match['function']} ({file})", "gc (the cyclic collector)"
    short = file.split("site-packages/", 1)[-1]
    short = short.split("src/", 1)[-1] if "engineio_session" in short else short
    return f"{match['function']} ({short})", package(file)


def summarize(raw: str) -> dict[str, Any]:
    """Own and total shares from py-spy's raw (collapsed) output."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    packages: Counter[str] = Counter()
    ours = collecting = 0
    samples = idle = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [label(frame) for frame in stack.split(";")]
        samples += count
        if not frames:
            continue
        leaf, leaf_package = frames[-1]
        if leaf.startswith(("select (", "poll (", "epoll")) or "selectors.py" in leaf:
            idle += count
            continue
        own[leaf] += count
        packages[leaf_package] += count
        # the C frames of the interpreter's trunk say nothing in "total"; the collector does
        for name in {name for name, pkg in frames if pkg not in C_TRUNK}:
            total[name] += count
        if any(pkg == "engineio_session" for _, pkg in frames):
            ours += count
        if any(pkg.startswith("gc ") for _, pkg in frames):
            collecting += count
    busy = samples - idle
    share = 100.0 / samples if samples else 0.0
    return {
        "samples": samples,
        "idle_pct": idle * share,
        "engineio_session_total_pct": ours * share,
        "gc_total_pct": collecting * share,
        "packages_own_pct": {k: v * share for k, v in packages.most_common()},
        "own_pct": [(k, v * share) for k, v in own.most_common(TOP)],
        # the event loop's trunk (in every busy sample) says nothing: left out
        "total_pct": [(k, v * share) for k, v in total.most_common() if v < 0.9 * max(busy, 1)][
            : TOP * 2
        ],
        "busy_samples": busy,
    }


def text(summary: dict[str, Any], rate: float, seconds: float, label: str) -> list[str]:
    lines = [
        f"Profile: {label} under load ({rate:,.0f} handshakes/s under py-spy, "
        f"{seconds:g} s, {summary['samples']:,} samples at 100 Hz; % of all samples)",
        f"  idle (event loop in select): {summary['idle_pct']:.1f}%   "
        f"stacks with an engineio_session frame: {summary['engineio_session_total_pct']:.1f}%   "
        f"in the cyclic GC: {summary['gc_total_pct']:.1f}%",
        "  own time by package: "
        + ", ".join(f"{k} {v:.1f}%" for k, v in summary["packages_own_pct"].items() if v >= 0.5),
        "  top own time:",
        *(f"    {v:5.1f}%  {k}" for k, v in summary["own_pct"]),
        "  top total time:",
        *(f"    {v:5.1f}%  {k}" for k, v in summary["total_pct"] if v >= 1.0),
    ]
    return lines


def profile_server(
    spec: Spec, setup: Setup, sessions: Sessions, args: argparse.Namespace
) -> dict[str, Any]:
    cookies = sessions.cookies[spec.store]
    output = ROOT / ".benchmarks" / "handshake-profile.txt"
    output.parent.mkdir(parents=True, exist_ok=True)
    seconds = args.profile
    load_options = {"connections": args.connections, "threads": args.threads}
    with start(spec, setup, name=f"{spec.key}-profile") as server:
        run_wrk(server.handshake_url, cookies, seconds=args.warmup, **load_options)
        pid = server.stats()["pid"]
        command = [
            py_spy(),
            "record",
            "--pid",
            str(pid),
            "--duration",
            str(round(seconds)),
            "--rate",
            "100",
            "--format",
            "raw",
            "--function",
            "--idle",
            "--native",
            "--output",
            str(output),
        ]
        result: dict[str, Any] = {}

        def record() -> None:
            done = subprocess.run(command, capture_output=True, text=True)
            result["exit"] = done.returncode
            result["stderr"] = done.stderr

        recorder = threading.Thread(target=record)
        recorder.start()
        time.sleep(0.5)  # py-spy attached
        load = run_wrk(server.handshake_url, cookies, seconds=seconds, **load_options)
        recorder.join(timeout=seconds + 60)
    if result.get("exit") != 0 or not output.exists():
        raise RuntimeError(f"py-spy failed: {result.get('stderr')}")
    summary = summarize(output.read_text())
    summary["text"] = text(summary, load.rate, seconds, spec.label)
    summary["stacks"] = str(output)
    return summary
