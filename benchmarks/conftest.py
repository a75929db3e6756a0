"""Benchmarks, Python and Node side by side in one run: ``make bench``.

Each benchmark that has a Node counterpart records ``(python_us, node_us)`` in ``TABLE``;
the terminal summary prints the table with the ratio (Node time / Python time, so above 1
means Python is faster).
"""

from __future__ import annotations

from typing import Any

TABLE: dict[str, tuple[float, float]] = {}


def record(name: str, benchmark: Any, per_call: int, node_us: float) -> None:
    """Store the per-item Python time (best round, µs) beside Node's for ``name``."""
    python_us = benchmark.stats.stats.min / per_call * 1e6
    TABLE[name] = (python_us, node_us)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not TABLE:
        return
    write = terminalreporter.write_line
    write("")
    write("| benchmark | Python µs | Node µs | Node/Python |")
    write("|---|---:|---:|---:|")
    for name, (python_us, node_us) in TABLE.items():
        write(f"| {name} | {python_us:.2f} | {node_us:.2f} | {node_us / python_us:.1f}x |")
