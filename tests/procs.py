"""Child processes the tests talk to over stdin and stdout: ``spawn`` and ``stop`` them, and
``PortProcess``, a server that prints ``{"port": N}`` as its first line once it listens
(node-fixtures/session-server.js in tests/node_session.py, node-fixtures/browser-app.js,
``python -m tests.apps.serve`` in tests/apps/harness.py ``Serve``)."""

from __future__ import annotations

import contextlib
import json
import subprocess
import threading
from collections.abc import Mapping
from pathlib import Path
from subprocess import Popen
from typing import IO, Self

START_TIMEOUT = 30.0  # seconds for a server to print its port
STOP_TIMEOUT = 10.0  # seconds for a server to exit once asked, before it is killed


def spawn(
    command: list[str],
    *,
    cwd: Path,
    stderr: IO[bytes] | None = None,
    env: Mapping[str, str] | None = None,
) -> Popen[str]:
    """``command`` in ``cwd`` with stdin and stdout pipes (text, line-buffered); ``env``
    replaces the environment when given."""
    return subprocess.Popen(
        command,
        cwd=cwd,
        env=env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=stderr,
        text=True,
        encoding="utf-8",
        bufsize=1,
    )


def stop(process: Popen[str], *, kill: bool = False) -> None:
    """Close stdin (the Node fixtures exit at its end) and wait for the exit, killing it after
    STOP_TIMEOUT; or, with ``kill``, kill at once. Its pipes are closed after."""
    assert process.stdin is not None and process.stdout is not None
    if process.poll() is None and kill:
        process.kill()
    with contextlib.suppress(BrokenPipeError):
        process.stdin.close()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    process.stdout.close()


class PortProcess:
    """``command`` run in ``cwd``, its stdin and stdout pipes (text, line-buffered).

    ``port`` is the N of its first line, read on first use, for at most ``start_timeout``
    seconds: start several, then ask each for its port. A server that did not start is stopped
    and raises, with its stderr. stderr goes to the file ``log`` (``logs()`` reads it back), or
    with no log to the test's own stderr. ``stop()`` closes stdin (the Node apps exit at its end)
    and waits, or with ``kill=True`` (a server that serves until killed) kills at once.
    """

    def __init__(
        self,
        name: str,
        command: list[str],
        *,
        cwd: Path,
        log: Path | None = None,
        kill: bool = False,
        start_timeout: float = START_TIMEOUT,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.log = log
        self._kill = kill
        self._start_timeout = start_timeout
        self._log_file = open(log, "wb") if log is not None else None  # noqa: SIM115 (stop())
        self.process = spawn(command, cwd=cwd, stderr=self._log_file, env=env)
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            self._port = self._read_port()
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _read_port(self) -> int:
        stdout = self.process.stdout
        assert stdout is not None
        first: list[str] = []
        reader = threading.Thread(target=lambda: first.append(stdout.readline()), daemon=True)
        reader.start()
        reader.join(self._start_timeout)
        if not first or not first[0]:
            self.stop()
            why = f"did not start in {self._start_timeout} s" if not first else "exited at start"
            raise RuntimeError(f"{self.name} {why} (exit {self.process.returncode})\n{self.tail()}")
        return int(json.loads(first[0])["port"])

    def logs(self) -> str:
        """All it wrote to stderr so far ("" when that went to the test's own stderr)."""
        if self.log is None:
            return ""
        if self._log_file is not None and not self._log_file.closed:
            self._log_file.flush()
        return self.log.read_text(errors="replace")

    def tail(self) -> str:
        """The end of its stderr, for a failure message."""
        if self.log is None:
            return f"--- {self.name} stderr: in the test's captured stderr"
        return f"--- {self.name} stderr:\n" + self.logs()[-4000:]

    def stop(self) -> None:
        stop(self.process, kill=self._kill)
        if self._log_file is not None:
            self._log_file.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
