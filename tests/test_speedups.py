"""The C accelerator (``src/engineio_session/_speedups.c``) gives the answers of the Python
code it stands in for, on every input: either the same answer, or it hands the input to
the Python code. Each test runs both on the same cases (the Python side with the
accelerator switched off in the module that calls it) and compares what comes out; the
spellings Node writes must be read in C, not handed back (else the accelerator would
silently do nothing). The Node vectors (test_vectors.py, test_fuzz.py) run through the C
code too, since it is what ``attach`` uses where it is built.
"""

from __future__ import annotations

import functools
import hmac
import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engineio_session import jsjson, sign
from engineio_session import options as options_module
from engineio_session._accel import speedups
from engineio_session._js import parse_date
from engineio_session.options import AttachOptions
from engineio_session.session import Session
from engineio_session.stores import base
from engineio_session.stores.redis import reads
from engineio_session.stores.redis.reads import parse_reply

from . import wire
from .core_cases import expected
from .strategies import getcookie_cases, json_values, texts

VECTORS = Path(__file__).parent / "vectors"

pytestmark = pytest.mark.skipif(speedups is None, reason="the C accelerator is not built")
S: Any = speedups


@contextmanager
def pure(module: Any) -> Iterator[None]:
    """``module`` without the accelerator, as where it is not built."""
    saved = module.speedups
    module.speedups = None
    try:
        yield
    finally:
        module.speedups = saved


def outcome(call: Callable[[], Any]) -> tuple[str, Any]:
    try:
        return "value", call()
    except Exception as error:
        return type(error).__name__, getattr(error, "need", str(error))


# --- HMAC-SHA256 ---------------------------------------------------------------------------


@given(st.binary(max_size=200), st.binary(max_size=300))
@example(b"k" * 64, b"")
@example(b"k" * 65, b"m" * 55)
@example(b"", b"m" * 56)
@example(b"k" * 200, b"m" * 119)
def test_hmac_is_hmac_sha256(key: bytes, message: bytes) -> None:
    assert S.hmac_sha256(S.hmac_sha256_key(key), message) == hmac.digest(key, message, "sha256")


def test_a_key_not_made_by_hmac_sha256_key_is_refused() -> None:
    with pytest.raises(TypeError):
        S.hmac_sha256(b"short", b"message")
    with pytest.raises(TypeError):
        S.signed_id("connect.sid", (b"short",), str, "connect.sid=s%3Aa." + "A" * 43)


# --- the signed session cookie in a Cookie header ------------------------------------------


def both_options(secrets: Any, name: str) -> tuple[tuple[str, Any], tuple[str, Any]]:
    accelerated = outcome(lambda: AttachOptions(secret=secrets, name=name))
    with pure(options_module):
        python = outcome(lambda: AttachOptions(secret=secrets, name=name))
    return accelerated, python


@settings(max_examples=1500)
@given(getcookie_cases())
def test_session_id_as_python(case: dict[str, Any]) -> None:
    accelerated, python = both_options(case["secrets"], case["name"])
    assert accelerated[0] == python[0]
    if accelerated[0] != "value":
        return
    header = case["header"]
    assert outcome(lambda: accelerated[1].session_id(header, None)) == outcome(
        lambda: python[1].session_id(header, None)
    )


def test_every_node_getcookie_vector_through_attach_s_path() -> None:
    """The Node vectors of express-session's getcookie, answered by ``attach``'s own path
    (``AttachOptions.session_id``, in C where it is built): Node's answer, every one."""
    cases = json.loads((VECTORS / "getcookie.json").read_text(encoding="utf-8"))["cases"]
    checked = 0
    for raw in cases:
        case = wire.decode({k: v for k, v in raw.items() if k not in ("result", "error")})
        try:
            options = AttachOptions(secret=case["secrets"], name=case["name"])
        except (TypeError, ValueError):
            continue  # a name or secret attach() refuses at once
        node = {k: v for k, v in raw.items() if k in ("result", "error")}
        want = expected("getcookie", node)["result"]
        assert options.session_id(case["header"], None) == want, case
        checked += 1
    assert checked >= 2000, checked


SID = "N9_tn5Y-objmEuEgqgpU23tnpLWPQZxs"


def browser_headers(signed: str) -> list[str]:
    value = "s%3A" + signed.replace("+", "%2B").replace("/", "%2F").replace("=", "%3D")
    return [
        f"connect.sid={value}",
        f"theme=dark; connect.sid={value}",
        f"a=1;connect.sid={value}; b=2",
        f"connect.sid={value}; connect.sid=other",
    ]


@pytest.mark.parametrize("secret", ["keyboard cat", "é secret", b"\x00\xff bytes"])
def test_the_browser_spelling_is_read_in_c(secret: str | bytes) -> None:
    options = AttachOptions(secret=["other", secret])
    assert isinstance(options.cookie_id, functools.partial)
    keys = options.signer.keyed

    def never(header: str) -> str | None:
        raise AssertionError(f"handed back: {header!r}")

    signed = sign(SID, secret)
    for header in browser_headers(signed):
        assert S.signed_id("connect.sid", keys, never, header) == SID
        assert options.session_id(header, None) == SID
    forged = signed[:-2] + ("AA" if signed[-2:] != "AA" else "BA")
    for header in browser_headers(forged):
        assert S.signed_id("connect.sid", keys, never, header) is None
    for header in ("theme=dark", "connect.sid=abc", "connect.sid=s%3Aabc", ""):
        assert S.signed_id("connect.sid", keys, never, header) is None


@pytest.mark.parametrize(
    "header",
    [
        'connect.sid="s%3Aabc.def"',  # quoted
        "connect.sid= s%3Aabc",  # a blank to trim
        "xconnect.sid=1; connect.sid=s%3Aabc",  # the name first seen inside another key
        "connect.sid=s%3aabc",  # an escape in lower case
        "connect.sid=s%3Aabc%",  # a '%' with nothing after it
        "connect.sid=s%3Aabc%C3%A9",  # an escape no signed cookie holds
        "connect.sid=s%3Aé",  # not ASCII
        "connect.sid",  # no '='
    ],
)
def test_other_spellings_are_handed_to_python(header: str) -> None:
    seen: list[str] = []
    S.signed_id("connect.sid", (), lambda given: seen.append(given), header)
    assert seen == [header]


def test_the_name_proto_is_read_in_python() -> None:
    options = AttachOptions(secret="k", name="__proto__")  # cookie.parse's own rule for it
    assert options.cookie_id == options._cookie_id


# --- the stored session's cookie -----------------------------------------------------------

DATE = st.integers(0, 253402300799999).map(
    lambda ms: (
        datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    )
)
DATE_LIKE = st.text("0123456789-:.TZ+ ", min_size=20, max_size=27)
COOKIE_KEYS = st.one_of(
    st.sampled_from(
        ["originalMaxAge", "expires", "secure", "httpOnly", "domain", "path", "sameSite"]
    ),
    st.sampled_from(["partitioned", "priority", "__proto__", "cookie", "expires\\u0020"]),
    texts.map(json.dumps),
).map(lambda key: key if key.startswith('"') else json.dumps(key).replace("\\\\", "\\"))
COOKIE_VALUES = st.one_of(
    DATE.map(json.dumps),
    DATE_LIKE.map(json.dumps),
    st.sampled_from(
        [
            "null",
            "true",
            "false",
            "0",
            "-0",
            "86400000",
            "1.5e3",
            "1E+2",
            "-1.5",
            "01",
            "1.",
            "-",
            "1e",
            "NaN",
            "Infinity",
            "-Infinity",
            "{}",
            "[]",
            '"/"',
            '"a\\"b"',
            "nul",
            "",
        ]
    ),
    json_values.map(jsjson.dumps),
)


@st.composite
def stored_texts(draw: st.DrawFn) -> str:
    members = draw(st.lists(st.tuples(COOKIE_KEYS, COOKIE_VALUES), max_size=6))
    glue = draw(st.sampled_from([",", ",", ",", ", ", " ,"]))
    cookie = "{" + glue.join(f"{key}:{value}" for key, value in members) + "}"
    opening = draw(st.sampled_from(['{"cookie":', '{"cookie":', '{"cookie": ', '{"cookie" :']))
    rest = draw(
        st.sampled_from(
            [
                "}",
                ',"passport":{"user":"100633"}}',
                ',"cookie":{}}',
                ',"a":{"cookie":1}}',
                ',"a":"\\"cookie\\":"}',
                ',"a":1} ',
                ',"a":1',
                "",
                ',"a":"é"}',
                ',"a":"\u20ac"}',
                ',"a":"\U0001f600"}',
                "} x",
                '}"',
            ]
        )
    )
    return opening + cookie + rest


def decoded(text: str) -> tuple[str, Any]:
    def read() -> Any:
        session = base.decode_session("RedisStore", "sid", text)
        return (
            session._rest,
            session._cookie_expires,
            type(session._cookie_expires),
            outcome(lambda: session.cookie.to_json()),
            outcome(lambda: dict(session)),  # a rest that is no JSON: its error, compared
        )

    return outcome(read)


@settings(max_examples=2000)
@given(stored_texts())
@example('{"cookie":{"originalMaxAge":86400000,"expires":"2026-02-31T23:59:59.999Z"}}')
@example('{"cookie":{"expires":"2026-01-01T24:00:00.000Z","expires":null},"a":1}')
@example('{"cookie":{"originalMaxAge":"1"},"a":1}')
@example('{"cookie":{}}')
def test_stored_session_as_python(text: str) -> None:
    accelerated = decoded(text)
    with pure(base):
        python = decoded(text)
    assert accelerated == python
    read = S.stored_cookie(text)
    if read is not None:
        assert accelerated[0] == "value" and accelerated[1][:2] == read


@settings(max_examples=300)
@given(
    st.one_of(st.none(), DATE),
    st.one_of(st.none(), st.integers(0, 10**10)),
    st.dictionaries(st.sampled_from(["passport", "user", "cart", "flash"]), json_values),
)
def test_what_express_session_writes_is_read_in_c(
    expires: str | None, max_age: int | None, data: dict[str, Any]
) -> None:
    cookie = {"originalMaxAge": max_age, "expires": expires, "httpOnly": True, "path": "/"}
    text = jsjson.dumps({"cookie": cookie, **data})
    read = S.stored_cookie(text)
    if read is None:
        # C reads one-byte text only (Python's str of Latin-1 characters), and a later
        # "cookie" member anywhere is the Python decoder's to weigh
        assert max(map(ord, text)) > 0xFF or text.find('"cookie":', 2) != -1
        return
    assert read[1] == (None if expires is None else parse_date(expires))
    session = base.decode_session("RedisStore", "sid", text)
    assert type(session) is Session and session.cookie.to_json() == cookie


@given(st.one_of(DATE, DATE_LIKE, texts))
@example("2024-02-29T00:00:00.000Z")
@example("0000-01-01T00:00:00.000Z")
@example("2026-02-31T23:59:59.999Z")
def test_dates_as_parse_date(text: str) -> None:
    ms = S.iso_date(text)
    if ms is not None:  # else parse_date alone answers
        assert type(ms) is int and ms == parse_date(text)


@given(st.integers(0, 253402300799999))
def test_every_to_json_date_is_read_in_c(ms: int) -> None:
    moment = datetime.fromtimestamp(ms / 1000, UTC)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
    assert S.iso_date(text) == ms == parse_date(text)


# --- the first value read of a stored session --------------------------------------------

MEMBER_KEYS = st.sampled_from(["passport", "user", "a", 'q"uote', "é", "\u20ac"])


@st.composite
def first_reads(draw: st.DrawFn) -> tuple[str, int, str]:
    members = draw(st.lists(st.tuples(MEMBER_KEYS, json_values), max_size=4))
    body = ",".join(jsjson.dumps(key) + ":" + jsjson.dumps(value) for key, value in members)
    text = '{"cookie":{}' + ("," + body if body else "") + "}"
    how = draw(st.sampled_from(["whole", "whole", "cut", "splice"]))
    if how == "cut":
        text = text[: draw(st.integers(0, len(text)))]
    elif how == "splice":
        at = draw(st.integers(0, len(text)))
        piece = draw(st.sampled_from([",", "}", '"', "\\", " ", "[", '"passport":1,', "x"]))
        text = text[:at] + piece + text[at:]
    index = draw(st.sampled_from([13, 13, 13, 12, 14, 0, len(text), len(text) + 3]))
    key = draw(st.one_of(MEMBER_KEYS, st.sampled_from([members[0][0]] if members else ["a"])))
    return text, index, key


@settings(max_examples=1500)
@given(first_reads())
@example(('{"cookie":{},"passport":{"user":"1"},"passport":2}', 13, "passport"))
@example(('{"cookie":{},"passport":[[[[1]]]]}', 13, "passport"))
@example(('{"cookie":{},"passport":nul}', 13, "passport"))
def test_first_member_as_python(case: tuple[str, int, str]) -> None:
    text, index, key = case
    accelerated = outcome(
        lambda: S.first_member(jsjson.scan_once, jsjson.first_member, text, index, key)
    )
    assert accelerated == outcome(lambda: jsjson.first_member(text, index, key))


def test_the_passport_user_is_read_in_c() -> None:
    text = '{"cookie":{"path":"/"},"passport":{"user":"100633"},"cart":[]}'

    def never(*args: Any) -> Any:
        raise AssertionError(f"handed back: {args!r}")

    assert S.first_member(jsjson.scan_once, never, text, 23, "passport") == ({"user": "100633"}, 51)


# --- Redis replies -------------------------------------------------------------------------

BULKS = st.lists(st.one_of(st.none(), st.binary(max_size=40)), max_size=8)


def resp(values: list[bytes | None]) -> bytes:
    parts = [b"*%d\r\n" % len(values)]
    for value in values:
        parts.append(b"$-1\r\n" if value is None else b"$%d\r\n%s\r\n" % (len(value), value))
    return b"".join(parts)


@st.composite
def replies(draw: st.DrawFn) -> tuple[bytes, int]:
    data = resp(draw(BULKS))
    how = draw(st.sampled_from(["whole", "cut", "splice", "prefix"]))
    if how == "cut":
        data = data[: draw(st.integers(0, len(data)))]
    elif how == "splice":
        at = draw(st.integers(0, len(data)))
        piece = draw(
            st.sampled_from([b"-", b"+", b"_", b" ", b"\r", b"\n", b"$", b"*", b":1\r\n", b"0"])
        )
        data = data[:at] + piece + data[at:]
    elif how == "prefix":
        data = draw(st.sampled_from([b"+OK\r\n", b"-ERR x\r\n", b":7\r\n", b"$2\r\nhi\r\n"])) + data
    position = draw(st.integers(0, min(len(data), 12)))
    return data, position


@settings(max_examples=1500)
@given(replies(), st.booleans())
@example((b"*1_0\r\n", 0), False)
@example((b"*-1\r\n", 0), False)
@example((b"*2\r\n$-2\r\n$1\r\na\r\n", 0), False)
@example((b"*1\r\n$01\r\na\r\n", 0), False)
@example((b"*1\r\n$1\r\nab\r\n", 0), False)
def test_replies_as_python(reply: tuple[bytes, int], as_bytearray: bool) -> None:
    data, position = reply
    buffer = bytearray(data) if as_bytearray else data
    accelerated = outcome(lambda: parse_reply(buffer, position))
    with pure(reads):
        python = outcome(lambda: parse_reply(buffer, position))
    assert accelerated == python


@given(BULKS)
def test_an_mget_reply_is_read_in_c(values: list[bytes | None]) -> None:
    data = b"+OK\r\n" + resp(values)
    assert S.bulk_array(data, 5) == (values, len(data))
    assert S.bulk_array(bytearray(data), 5) == (values, len(data))
    if data[5:] != b"*0\r\n":
        assert S.bulk_array(data[:-1], 5) is None  # incomplete: Python says how much is missing


def test_a_negative_position_is_python_s() -> None:
    assert S.bulk_array(b"*0\r\n", -1) is None
    with pure(reads):
        assert outcome(lambda: parse_reply(b"*0\r\n", 0)) == ("value", ([], 4))


def test_engineio_session_pure_switches_it_off() -> None:
    probe = (
        "from engineio_session._accel import speedups; "
        "from engineio_session.options import AttachOptions; "
        "options = AttachOptions(secret='k'); "
        "print(speedups, options.cookie_id == options._cookie_id)"
    )
    for pure_env, printed in (("1", "None True"), ("0", "False")):
        env = {**os.environ, "ENGINEIO_SESSION_PURE": pure_env}
        out = subprocess.run(
            [sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True
        )
        assert out.stdout.strip().endswith(printed), out.stdout
