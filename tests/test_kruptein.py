"""kruptein 2.2.3's envelope (session-file-store's ``secret``): ours against Node's, both ways.

Every encrypt or decrypt costs one scrypt (N=16384, ~30 ms in either language), so the
cases here are few and chosen: byte-exact envelopes with Node's randomness fixed, Node to
Python and Python to Node with real randomness, and the refusals.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Iterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from engineio_session import jsjson
from engineio_session.stores import _kruptein
from engineio_session.stores._kruptein import KrupteinError, decrypt, encrypt

from . import node
from .wire import UNDEFINED

SECRET = "keyboard cat \u00e9\U0001f600"

# plaintexts that reach every branch of the encodings: the session JSON session-file-store
# hands kruptein, control characters and quotes (escaped by the second JSON.stringify), a
# lone surrogate (escaped by the first), astral characters, and nothing at all
PLAINTEXTS = [
    '{"cookie":{"originalMaxAge":null,"expires":null,"httpOnly":true,"path":"/"},"user":"ada"}',
    'q"\\/\x00\x1f\x7f\u00e9\u2028\ud800\U0001f600' * 4,
    "",
    "x" * 5000,
]

# Node's side: node.answers("krupteinSet" | "krupteinGet", items), kruptein configured as
# session-file-store configures it (node-fixtures/lib/answers.js), on items {secret, text,
# random?: the hex of the bytes crypto.randomBytes hands out, in the order kruptein asks}


def fixed_random(seed: int) -> tuple[list[bytes], Any]:
    """The three random values kruptein.set asks for, and a source that hands them out."""
    chunks = [hashlib.shake_256(f"{seed}:{n}".encode()).digest(n) for n in (128, 12, 128)]
    queue: Iterator[bytes] = iter(chunks)

    def random_bytes(n: int) -> bytes:
        chunk = next(queue)
        assert len(chunk) == n
        return chunk

    return chunks, random_bytes


# --- against Node ----------------------------------------------------------------------------


def test_envelopes_are_byte_for_byte_nodes() -> None:
    """With the same random bytes, Python writes exactly the envelope kruptein writes."""
    ours, items = [], []
    for seed, plaintext in enumerate(PLAINTEXTS):
        chunks, random_bytes = fixed_random(seed)
        ours.append(encrypt(SECRET, plaintext, random_bytes=random_bytes))
        items.append({"secret": SECRET, "text": plaintext, "random": [c.hex() for c in chunks]})
    answers = node.answers("krupteinSet", items)
    assert [answer.get("result") for answer in answers] == ours


def test_node_encrypts_python_decrypts() -> None:
    answers = node.answers("krupteinSet", [{"secret": SECRET, "text": t} for t in PLAINTEXTS])
    assert [decrypt(SECRET, answer["result"]) for answer in answers] == PLAINTEXTS


def test_python_encrypts_node_decrypts() -> None:
    envelopes = [encrypt(SECRET, plaintext) for plaintext in PLAINTEXTS]
    answers = node.answers("krupteinGet", [{"secret": SECRET, "text": e} for e in envelopes])
    # kruptein.get hands back the plaintext still JSON-encoded once (set encoded it again)
    assert [jsjson.loads(answer["result"]) for answer in answers] == PLAINTEXTS
    assert [answer["result"] for answer in answers] == [jsjson.dumps(p) for p in PLAINTEXTS]


def test_node_and_python_refuse_the_same_tampering() -> None:
    _, random_bytes = fixed_random(99)
    envelope = jsjson.loads(encrypt(SECRET, PLAINTEXTS[0], random_bytes=random_bytes))
    tampered = [
        {**envelope, "ct": flip(envelope["ct"])},
        {**envelope, "hmac": flip(envelope["hmac"])},
        {**envelope, "at": buffer_json(flip_bytes(bytes(envelope["at"]["data"])))},
        {**envelope, "aad": flip(envelope["aad"])},
        {**envelope, "iv": buffer_json(flip_bytes(bytes(envelope["iv"]["data"])))},
    ]
    texts = [jsjson.dumps(item) for item in tampered]
    answers = node.answers("krupteinGet", [{"secret": SECRET, "text": text} for text in texts])
    answers.append(node.answers("krupteinGet", [{"secret": "wrong", "text": texts[0]}])[0])
    # Node fails each one. The HMAC covers the ciphertext only (and the key, so the wrong
    # secret): those are refused as tampered. A changed tag, AAD or IV fails the decryption,
    # and there kruptein.get forgets to return: it calls back with the error, then again with
    # (null, undefined)
    tampered_with = {"error": "Encrypted session was tampered with!"}
    undecryptable = {"calls": [{"error": "Unable to decrypt ciphertext!"}, {"result": UNDEFINED}]}
    assert answers == [
        tampered_with,  # ct
        tampered_with,  # hmac
        undecryptable,  # at
        undecryptable,  # aad
        undecryptable,  # iv
        tampered_with,  # the wrong secret
    ], answers
    assert all("result" not in answer for answer in answers), answers
    for text in texts:
        with pytest.raises(KrupteinError):
            decrypt(SECRET, text)
    with pytest.raises(KrupteinError, match="tampered"):
        decrypt("wrong", texts[0])


# --- the format, in Python -----------------------------------------------------------------------


def flip(text: str) -> str:
    """The same string with its first character's low bit flipped."""
    return chr(ord(text[0]) ^ 1) + text[1:]


def flip_bytes(data: bytes) -> bytes:
    return bytes([data[0] ^ 1]) + data[1:]


def buffer_json(data: bytes) -> dict[str, Any]:
    return {"type": "Buffer", "data": list(data)}


@pytest.fixture(scope="module")
def envelope() -> dict[str, Any]:
    parsed: dict[str, Any] = jsjson.loads(encrypt(SECRET, PLAINTEXTS[1]))
    return parsed


def test_envelope_layout(envelope: dict[str, Any]) -> None:
    """JSON.stringify({hmac, ct, iv, salt, aad, at}): latin1 strings and Buffer JSON."""
    assert list(envelope) == ["hmac", "ct", "iv", "salt", "aad", "at"]
    for name, size in (("iv", 12), ("salt", 128), ("at", 16)):
        assert envelope[name]["type"] == "Buffer"
        assert len(envelope[name]["data"]) == size
    assert len(envelope["hmac"]) == 64 and len(envelope["aad"]) == 64  # SHA-512, 1 char/byte
    assert max(map(ord, envelope["hmac"] + envelope["ct"] + envelope["aad"])) <= 0xFF
    # the ciphertext is the doubly JSON-encoded plaintext's UTF-8, so as long as that
    assert len(envelope["ct"]) == len(jsjson.dumps(PLAINTEXTS[1]).encode("utf-8"))


def test_hmac_hashes_the_ciphertext_string_as_utf8(envelope: dict[str, Any]) -> None:
    """kruptein writes the latin1 ciphertext *string* to the HMAC, which encodes it as UTF-8."""
    key = _kruptein._derive_key(SECRET.encode("utf-8"), bytes(envelope["salt"]["data"]))
    ct = envelope["ct"]
    assert any(ord(char) >= 0x80 for char in ct)  # else the quirk would not show
    as_utf8 = hmac.new(key, ct.encode("utf-8"), hashlib.sha512).digest()
    as_bytes = hmac.new(key, ct.encode("latin-1"), hashlib.sha512).digest()
    assert envelope["hmac"] == as_utf8.decode("latin-1") != as_bytes.decode("latin-1")


@pytest.mark.parametrize("plaintext", PLAINTEXTS[:3])
def test_round_trip(plaintext: str) -> None:
    assert decrypt(SECRET, encrypt(SECRET, plaintext)) == plaintext


def test_bytes_secret_is_the_same_key_as_its_utf8_string() -> None:
    text = encrypt(SECRET, "hello")
    assert decrypt(SECRET.encode("utf-8"), text) == "hello"


def test_each_envelope_is_fresh() -> None:
    first, second = encrypt(SECRET, "same"), encrypt(SECRET, "same")
    assert first != second


@pytest.mark.parametrize(
    "field",
    ["ct", "hmac", "aad", "at", "iv", "salt"],
)
def test_tampering_any_field_is_refused(envelope: dict[str, Any], field: str) -> None:
    value = envelope[field]
    changed = (
        flip(value) if isinstance(value, str) else buffer_json(flip_bytes(bytes(value["data"])))
    )
    with pytest.raises(KrupteinError) as caught:
        decrypt(SECRET, jsjson.dumps({**envelope, field: changed}))
    assert SECRET not in str(caught.value)


def test_wrong_secret_is_refused(envelope: dict[str, Any]) -> None:
    with pytest.raises(KrupteinError, match="tampered with! \\(or the secret is wrong\\)"):
        decrypt("not " + SECRET, jsjson.dumps(envelope))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: "not json", "not JSON"),
        (lambda e: "[1, 2]", "not a JSON object"),
        (lambda e: jsjson.dumps({k: v for k, v in e.items() if k != "ct"}), "'ct' is not a str"),
        (lambda e: jsjson.dumps({**e, "hmac": 5}), "'hmac' is not a str"),
        (lambda e: jsjson.dumps({**e, "aad": None}), "'aad' is not a str"),
        (lambda e: jsjson.dumps({**e, "iv": "abc"}), "'iv' is not a Buffer"),
        (lambda e: jsjson.dumps({**e, "salt": {"type": "Buffer", "data": [256]}}), "'salt'"),
        (lambda e: jsjson.dumps({**e, "salt": {"type": "Buffer", "data": [1.5]}}), "'salt'"),
        (lambda e: jsjson.dumps({**e, "at": {"type": "Uint8Array", "data": [1]}}), "'at'"),
        (lambda e: jsjson.dumps({**e, "at": buffer_json(b"short")}), "authentication tag"),
        (lambda e: jsjson.dumps({**e, "iv": buffer_json(b"1234")}), "4-byte IV"),
    ],
    ids=[
        "not-json",
        "array",
        "no-ct",
        "hmac-number",
        "aad-null",
        "iv-string",
        "byte-256",
        "byte-float",
        "not-buffer",
        "short-tag",
        "short-iv",
    ],
)
def test_bad_envelopes_are_refused_before_any_scrypt(
    envelope: dict[str, Any], change: Any, message: str
) -> None:
    with pytest.raises(KrupteinError, match=message):
        decrypt(SECRET, change(envelope))


def test_a_plaintext_that_is_no_json_string_is_refused() -> None:
    """kruptein.set of a string always double-encodes; anything else is not a session file."""
    salt, iv = os.urandom(128), os.urandom(12)
    key = _kruptein._derive_key(SECRET.encode(), salt)
    data = b'{"cookie":{}}'  # encoded once only
    sealed = AESGCM(key).encrypt(iv, data, b"aad")
    ct = sealed[:-16].decode("latin-1")
    text = jsjson.dumps(
        {
            "hmac": _kruptein._mac(key, ct).decode("latin-1"),
            "ct": ct,
            "iv": buffer_json(iv),
            "salt": buffer_json(salt),
            "aad": "aad",
            "at": buffer_json(sealed[-16:]),
        }
    )
    with pytest.raises(KrupteinError, match="not a JSON string"):
        decrypt(SECRET, text)


@pytest.mark.parametrize("secret", ["", b""])
def test_an_empty_secret_is_refused(secret: str | bytes) -> None:
    with pytest.raises(KrupteinError, match="Must supply a secret"):
        encrypt(secret, "x")
    with pytest.raises(KrupteinError, match="Must supply a secret"):
        decrypt(secret, "{}")
