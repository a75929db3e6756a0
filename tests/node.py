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

from . import wire

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


class Oracle:
    """A long-lived ``node node-fixtures/oracle.js``: ask it a batch, get the batch's answers.

    >>> oracle = Oracle(); oracle.ask("parse", [{"header": "a=1"}]); oracle.close()
    [{'result': {'a': '1'}}]
    """

    def __init__(self) -> None:
        node = require_node()
        self._process = subprocess.Popen(
            [node, str(FIXTURES / "oracle.js")],
            cwd=FIXTURES,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            bufsize=1,
        )
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
        reply = json.loads(line)
        if "fatal" in reply:
            raise RuntimeError("the Node oracle failed: " + reply["fatal"])
        self.asked += len(cases)
        answers: list[dict[str, Any]] = wire.decode(reply["answers"])
        return answers

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)
