"""The handshake path: ``get_session_id`` and ``unsign`` on 10,000 distinct headers.

Realistic headers: four cookies, a signed ``connect.sid``, two secrets with the match on
the second (a rotation in progress), so every verify computes two HMACs. Nothing is cached
per header: every header is different.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from engineio_session import Signer, get_session_id, sign, unsign
from engineio_session.cookies import encode_uri_component
from tests.node import run_json

from .conftest import record

COUNT = 10_000
SECRETS = ["new secret, not yet used by any cookie", "the previous secret"]
NAME = "connect.sid"


def make_headers() -> tuple[list[str], list[str]]:
    rng = random.Random(2026)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    headers, signed = [], []
    for i in range(COUNT):
        sid = "".join(rng.choice(alphabet) for _ in range(32))
        value = sign(sid, SECRETS[1])
        signed.append(value)
        headers.append(
            f"_ga=GA1.2.{rng.randrange(10**9)}.{1700000000 + i}; theme=dark; "
            f"{NAME}={encode_uri_component('s:' + value)}; lang=en-US"
        )
    return headers, signed


HEADERS, SIGNED = make_headers()


@pytest.fixture(scope="module")
def node_times() -> dict[str, Any]:
    data = {"name": NAME, "secrets": SECRETS, "headers": HEADERS, "signed": SIGNED}
    times: dict[str, Any] = run_json("bench-core.js", data, timeout=300)
    return times


def test_get_session_id(benchmark: Any, node_times: dict[str, Any]) -> None:
    signer = Signer(SECRETS)

    def run() -> int:
        return sum(1 for header in HEADERS if get_session_id(header, NAME, secrets=signer))

    assert benchmark.pedantic(run, rounds=15, warmup_rounds=2) == COUNT
    record(
        "get_session_id (4 cookies, match on 2nd of 2 secrets)",
        benchmark,
        COUNT,
        node_times["getcookie_us"],
    )


def test_unsign(benchmark: Any, node_times: dict[str, Any]) -> None:
    signer = Signer(SECRETS)

    def run() -> int:
        return sum(1 for value in SIGNED if signer.unsign(value))

    assert benchmark.pedantic(run, rounds=15, warmup_rounds=2) == COUNT
    record("unsign (match on 2nd of 2 secrets)", benchmark, COUNT, node_times["unsign_us"])


def test_unsign_with_raw_secret_list(benchmark: Any) -> None:
    """The public ``unsign(value, [secrets])`` call, which reuses key schedules by secret."""

    def run() -> int:
        return sum(1 for value in SIGNED if unsign(value, SECRETS))

    assert benchmark.pedantic(run, rounds=10, warmup_rounds=1) == COUNT


# --- why cryptography's HMAC: the ways to compute one HMAC-SHA256 with a fixed key ---------
KEY = SECRETS[1].encode()
MESSAGES = [value.rsplit(".", 1)[0].encode() for value in SIGNED]


def _oneshot() -> Callable[[bytes], bytes]:
    return lambda message: hmac.digest(KEY, message, "sha256")


def _stdlib_copy() -> Callable[[bytes], bytes]:
    keyed = hmac.new(KEY, digestmod=hashlib.sha256)

    def mac(message: bytes) -> bytes:
        state = keyed.copy()
        state.update(message)
        return state.digest()

    return mac


def _pads_copy() -> Callable[[bytes], bytes]:
    block = KEY.ljust(64, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def mac(message: bytes) -> bytes:
        i = inner.copy()
        i.update(message)
        o = outer.copy()
        o.update(i.digest())
        return o.digest()

    return mac


def _cryptography_copy() -> Callable[[bytes], bytes]:
    keyed = crypto_hmac.HMAC(KEY, hashes.SHA256())

    def mac(message: bytes) -> bytes:
        state = keyed.copy()
        state.update(message)
        return state.finalize()

    return mac


@pytest.mark.parametrize(
    "backend",
    [_oneshot, _stdlib_copy, _pads_copy, _cryptography_copy],
    ids=[
        "hmac.digest one-shot",
        "hmac.new().copy()",
        "hashlib ipad/opad copy",
        "cryptography HMAC.copy()",
    ],
)
def test_hmac_backend(benchmark: Any, backend: Callable[[], Callable[[bytes], bytes]]) -> None:
    mac = backend()
    expected = hmac.digest(KEY, MESSAGES[0], "sha256")
    assert mac(MESSAGES[0]) == expected

    def run() -> None:
        for message in MESSAGES:
            mac(message)

    benchmark.pedantic(run, rounds=10, warmup_rounds=1)
