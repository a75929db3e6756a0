"""The committed Node vectors, checked offline; and, where Node is present, regenerated."""

from __future__ import annotations

import filecmp
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from . import wire
from .core_cases import OPS, mismatches
from .node import FIXTURES, require_node

VECTORS = Path(__file__).parent / "vectors"


def load(op: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    data = json.loads((VECTORS / f"{op}.json").read_text(encoding="utf-8"))
    cases = data["cases"]
    inputs = [
        wire.decode({k: v for k, v in c.items() if k not in ("result", "error")}) for c in cases
    ]
    answers = [{k: v for k, v in c.items() if k in ("result", "error")} for c in cases]
    return inputs, answers


@pytest.mark.parametrize("op", OPS)
def test_python_matches_every_node_vector(op: str) -> None:
    inputs, answers = load(op)
    assert len(inputs) >= 3000
    wrong = mismatches(op, inputs, answers)
    assert not wrong, f"{len(wrong)} of {len(inputs)} {op} vectors differ:\n" + "\n".join(
        wrong[:20]
    )


def test_vectors_are_what_node_generates_now(tmp_path: Path) -> None:
    node = require_node()
    subprocess.run([node, "gen-vectors.js", "--out", str(tmp_path)], cwd=FIXTURES, check=True)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == sorted(f"{op}.json" for op in OPS)
    _, mismatch, errors = filecmp.cmpfiles(VECTORS, tmp_path, names, shallow=False)
    assert not mismatch and not errors, f"stale vectors, run `make vectors`: {mismatch + errors}"
