"""Differential fuzzing: hypothesis draws cases, a long-lived Node process answers them.

``make test`` runs a bounded number (``FUZZ_CASES``, default 4,000 spread over the ops);
``make fuzz`` runs at least 1,000,000. Each hypothesis example is a batch of BATCH cases sent to
Node in one line; on a mismatch hypothesis shrinks the batch until the failing case stands out.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import wire
from .core_cases import OPS, mismatches
from .node import Oracle
from .strategies import STRATEGIES

TOTAL_CASES = int(os.environ.get("FUZZ_CASES", "4000"))
BATCH = 16
RANDOM = os.environ.get("FUZZ_RANDOM", "") == "1"  # make fuzz explores; make test is repeatable


@pytest.fixture(scope="module")
def oracle() -> Iterator[Oracle]:
    node_oracle = Oracle()
    yield node_oracle
    node_oracle.close()


@pytest.mark.parametrize("op", OPS)
def test_python_agrees_with_node(op: str, oracle: Oracle) -> None:
    per_op = TOTAL_CASES // len(OPS)
    before = oracle.asked

    @settings(
        max_examples=max(1, -(-per_op // BATCH)),
        deadline=None,
        derandomize=not RANDOM,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.lists(STRATEGIES[op], min_size=BATCH, max_size=BATCH))
    def check(cases: list[dict[str, Any]]) -> None:
        answers = oracle.ask(op, [wire.encode(case) for case in cases])
        wrong = mismatches(op, cases, answers)
        assert not wrong, "\n".join(wrong)

    check()
    asked = oracle.asked - before
    print(f"fuzz {op}: {asked} cases, 0 mismatches")
    assert asked >= per_op
