"""cookie-session on the handshake path: ``CookieSession.load`` on 10,000 distinct headers,
beside Node's cookies + keygrip + Buffer + JSON.parse on the same headers.

Realistic headers: three other cookies, then ``session`` (a small session as base64 JSON)
and ``session.sig``, signed with the second of two keys (a rotation in progress), so every
load computes two HMAC-SHA1s and the re-signed ``.sig``.
"""

from __future__ import annotations

import random
from typing import Any

import pytest

from engineio_session import CookieSession
from tests.node import run_json

from .conftest import record

COUNT = 10_000
KEYS = ["new key, not yet used by any cookie", "the previous key"]


def make_headers() -> list[str]:
    rng = random.Random(2026)
    old = CookieSession([KEYS[1]])
    headers = []
    for i in range(COUNT):
        data = {"user": f"user{i}", "roles": ["reader", "writer"][: rng.randrange(1, 3)], "n": i}
        pair = "; ".join(value.split(";", 1)[0] for value in old.dump(data))
        headers.append(f"_ga=GA1.2.{rng.randrange(10**9)}.{1700000000 + i}; theme=dark; {pair}")
    return headers


HEADERS = make_headers()


@pytest.fixture(scope="module")
def node_times() -> dict[str, Any]:
    data = {"name": "session", "keys": KEYS, "headers": HEADERS}
    times: dict[str, Any] = run_json("bench-cookie-session.js", data, timeout=300)
    return times


def test_cookie_session_load(benchmark: Any, node_times: dict[str, Any]) -> None:
    sessions = CookieSession(KEYS)

    def run() -> int:
        return sum(1 for header in HEADERS if sessions.load(header))

    assert benchmark.pedantic(run, rounds=15, warmup_rounds=2) == COUNT
    record(
        "CookieSession.load (3 cookies, match on 2nd of 2 keys)",
        benchmark,
        COUNT,
        node_times["load_us"],
    )
