"""Reaching the Node oracle in node-fixtures/ from the tests.

Node is required under CI (``CI=true``): there a missing ``node`` or an un-installed
node-fixtures/ fails the test; elsewhere it skips with the command that fixes it.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from . import procs, wire

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "node-fixtures"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_node() -> str:
    """The path of ``node``, with node-fixtures/node_modules installed; else fail or skip."""
    node = shutil.which("node")
    problem = None
    if node is None:
        problem = "node is not on PATH"
    elif not (FIXTURES / "node_modules").is_dir():
        problem = "node-fixtures/node_modules is missing (run `make install`)"
    if problem is not None:
        if IN_CI:
            pytest.fail(f"CI=true and the Node oracle is unavailable: {problem}")
        pytest.skip(problem)
    assert node is not None
    return node


def command(script: str, *args: str) -> list[str]:
    """``node node-fixtures/<script> <args>``: the arguments of a process to start in FIXTURES."""
    return [require_node(), str(FIXTURES / script), *args]


def run_json(script: str, payload: Any = None, *, timeout: float = 60.0) -> Any:
    """Run node-fixtures/<script> with ``payload`` as JSON on stdin; its stdout, parsed as JSON
    (a failed run raises, with its stderr)."""
    done = subprocess.run(
        command(script),
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=FIXTURES,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{script} failed (exit {done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout)


def answers(op: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Node's answers to ``cases`` of ``op`` (a function of node-fixtures/lib/answers.js), from
    one short ``oracle.js`` run: for a few batches, where a long-lived ``Oracle`` is not needed."""
    return _answers(run_json("oracle.js", {"op": op, "cases": cases}))


def _answers(reply: dict[str, Any]) -> list[dict[str, Any]]:
    if "fatal" in reply:
        raise RuntimeError("the Node oracle failed: " + reply["fatal"])
    decoded: list[dict[str, Any]] = wire.decode(reply["answers"])
    return decoded


class Oracle:
    """A long-lived ``node node-fixtures/oracle.js``: ask it a batch, get the batch's answers.

    >>> oracle = Oracle(); oracle.ask("parse", [{"header": "a=1"}]); oracle.close()
    [{'result': {'a': '1'}}]
    """

    def __init__(self) -> None:
        self._process = procs.spawn(command("oracle.js"), cwd=FIXTURES)
        self._lock = threading.Lock()
        self.asked = 0

    def ask(self, op: str, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
        assert self._process.stdin is not None and self._process.stdout is not None
        request = json.dumps({"op": op, "cases": cases})
        with self._lock:
            self._process.stdin.write(request + "\n")
            self._process.stdin.flush()
            line = self._process.stdout.readline()
        if not line:
            raise RuntimeError("the Node oracle exited")
        decoded = _answers(json.loads(line))
        self.asked += len(cases)
        return decoded

    def close(self) -> None:
        procs.stop(self._process)
