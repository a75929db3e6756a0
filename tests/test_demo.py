"""``make demo`` plays the whole flow and exits 0, on the file store, Redis, PostgreSQL,
MariaDB and SQLite;
``make demo-serve`` serves the page it names."""

from __future__ import annotations

import queue
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import IO

import pytest

from .node import require_node

ROOT = Path(__file__).resolve().parent.parent
STEPS = [
    "1. A user logs in on the Express app",
    "3. Python fires `session`: it knows the Express user",
    "hello ada",
    "GET /me -> {'user': 'ada'",
    "'theme': 'dark'",
    "noticed the logout in",
    "logged in: False",
    "The demo ran to the end",
]


@pytest.mark.parametrize("store", ["file", "redis", "postgres", "mysql", "sqlite"])
def test_demo_plays_the_whole_flow(store: str, request: pytest.FixtureRequest) -> None:
    require_node()
    service = {"redis": "redis_url", "postgres": "postgres_dsn", "mysql": "mysql_params"}
    if store in service:
        request.getfixturevalue(service[store])  # the server answers (CI: else a failure)
    result = subprocess.run(
        [sys.executable, "demo/run.py", "--store", store],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    for line in STEPS:
        assert line in result.stdout, f"missing {line!r} in:\n{result.stdout}"


def first_url(stdout: IO[str], timeout: float) -> str | None:
    """The URL of the first ``Open <url> ...`` line in ``timeout`` seconds (None: not printed,
    or the output ended). A thread reads, so a silent process cannot block past the deadline."""
    lines: queue.Queue[str] = queue.Queue()

    def read() -> None:
        for line in stdout:
            lines.put(line)
        lines.put("")  # the end of the output

    threading.Thread(target=read, daemon=True).start()
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        try:
            line = lines.get(timeout=left)
        except queue.Empty:
            break
        if not line:
            break
        if line.startswith("Open "):
            return line.split()[1]
    return None


def test_demo_serve_serves_the_page() -> None:
    require_node()
    process = subprocess.Popen(
        [sys.executable, "demo/run.py", "--serve"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = first_url(process.stdout, timeout=20)
        assert url is not None, "demo-serve printed no URL"
        with urllib.request.urlopen(url, timeout=5) as response:
            page = response.read().decode()
        assert "Express logs you in, Python knows who you are" in page
        assert "/engine.io.js" in page
    finally:
        process.terminate()
        process.wait(timeout=10)
    # and stopping it stops both servers
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)
