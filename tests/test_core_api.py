"""The Python-side contract of the core: types, errors and helpers the vectors don't show."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engineio_session import (
    Signer,
    generate_session_id,
    get_session_id,
    parse_cookie,
    serialize_cookie,
    sign,
    unsign,
)
from engineio_session._js import number_to_string, utf8
from engineio_session.cookies import (
    cookie_finder,
    decode_uri_component,
    encode_uri_component,
    find_cookie,
    find_token_cookie,
    to_utc_string,
)

from .strategies import HEADER_PIECES, NAMES


@pytest.mark.parametrize(
    ("number", "text"),
    [
        (0, "0"),
        (-0.0, "0"),
        (1.0, "1"),
        (-1.5, "-1.5"),
        (0.1, "0.1"),
        (1e21, "1e+21"),
        (1e20, "100000000000000000000"),
        (123456789.125, "123456789.125"),
        (1e-6, "0.000001"),
        (1e-7, "1e-7"),
        (1.5e-7, "1.5e-7"),
        (2**53, "9007199254740992"),
        (2**53 + 1, "9007199254740992"),
        (2**70, "1.1805916207174113e+21"),
        (math.nan, "NaN"),
        (-math.inf, "-Infinity"),
        (5e-324, "5e-324"),
        (1.7976931348623157e308, "1.7976931348623157e+308"),
    ],
)
def test_number_to_string_is_ecmascript(number: float, text: str) -> None:
    assert number_to_string(number) == text


def test_utf8_replaces_lone_surrogates_like_node() -> None:
    assert utf8("a\ud800") == "a\ufffd".encode()
    assert utf8("\ud83d\ude00") == "😀".encode()  # a pair held as two code points
    assert utf8("\udc00\ud800") == "\ufffd\ufffd".encode()  # reversed: two lone ones


def test_decode_uri_component_rejects_what_js_rejects() -> None:
    for bad in ["%", "%4", "%zz", "%C3", "%C3%28", "%ED%A0%80", "%C0%AF", "%F4%90%80%80", "%FF"]:
        with pytest.raises(ValueError, match="URI malformed"):
            decode_uri_component(bad)
    assert decode_uri_component("%41%c3%A9%F0%9F%98%80x") == "Aé😀x"
    assert decode_uri_component("%2541") == "%41"  # one pass only


def test_encode_uri_component() -> None:
    assert encode_uri_component("aZ09-_.!~*'() ;/?:@&=+$,#é") == (
        "aZ09-_.!~*'()%20%3B%2F%3F%3A%40%26%3D%2B%24%2C%23%C3%A9"
    )
    assert encode_uri_component("\ud83d\ude00") == "%F0%9F%98%80"
    with pytest.raises(ValueError):
        encode_uri_component("\ud800")


def test_parse_cookie_requires_a_string() -> None:
    with pytest.raises(TypeError):
        parse_cookie(b"a=1")  # type: ignore[arg-type]


def test_find_cookie_equals_parse_cookie_lookup() -> None:
    header = 'x;a= "1%41" ; __proto__=p; a=2; b=%zz'
    for name in ["a", "b", "x", "__proto__", "missing", ""]:
        assert find_cookie(header, name) == parse_cookie(header).get(name)


# strategies' pieces, and those of the spellings find_token_cookie takes: the name inside
# longer ones, a signed value's escapes
_HEADER_PARTS = st.sampled_from(
    [*HEADER_PIECES, "xconnect.sid", "connect.sidx", "s%3A", "%2B", "%2F", "abc.def"]
)


@settings(max_examples=3000, deadline=None)
@given(st.lists(_HEADER_PARTS, max_size=14).map("".join))
def test_find_token_cookie_equals_find_cookie(header: str) -> None:
    """The short way attach reads its cookie agrees with cookie.parse's lookup everywhere."""
    for name in ("connect.sid", "a"):
        expected = parse_cookie(header).get(name)
        assert find_cookie(header, name) == expected
        assert find_token_cookie(header, name) == expected
    for name in (*NAMES, "a b", "a=b", "a;", 'a"', " a", ""):
        assert cookie_finder(name)(header, name) == find_cookie(header, name), name


def test_find_token_cookie_takes_the_short_way_only_where_it_may() -> None:
    cases = {
        "connect.sid=s%3Aid.mac%2B%2F%3D": "s:id.mac+/=",
        "a=1;connect.sid=v": "v",
        "a=1; connect.sid=v; connect.sid=w": "v",
        "a=1;  connect.sid=v": "v",  # two blanks: find_cookie's way, same answer
        "connect.sid = v": "v",
        'connect.sid="v"': "v",
        "connect.sid= v ": "v",
        "connect.sid=%E2%82%AC": "€",
        "connect.sid=%zz": "%zz",
        "connect.sid=": "",
        "xconnect.sid=1; connect.sid=2": "2",
        "other=connect.sid; connect.sid=3": "3",
        "connect.sidx=1": None,
        "": None,
    }
    for header, value in cases.items():
        assert find_token_cookie(header, "connect.sid") == value, header
        assert parse_cookie(header).get("connect.sid") == value, header


def test_to_utc_string() -> None:
    assert to_utc_string(datetime(1, 1, 1, tzinfo=UTC)) == "Mon, 01 Jan 0001 00:00:00 GMT"
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2026, 11, 25, 19, 42, 42, 841000, tzinfo=plus_two)
    assert to_utc_string(moment) == "Wed, 25 Nov 2026 17:42:42 GMT"
    assert to_utc_string(datetime(2026, 11, 25, 17, 42, 42)) == "Wed, 25 Nov 2026 17:42:42 GMT"


def test_serialize_cookie_errors_are_value_errors_with_node_messages() -> None:
    with pytest.raises(ValueError, match="argument name is invalid"):
        serialize_cookie("a b", "c")
    with pytest.raises(ValueError, match="option maxAge is invalid"):
        serialize_cookie("a", "b", max_age=math.inf)
    with pytest.raises(ValueError, match="option domain is invalid"):
        serialize_cookie("a", "b", domain="\u212aelvin.com")
    with pytest.raises(ValueError, match="option domain is invalid"):
        serialize_cookie("a", "b", domain="example.com\n")  # Python's $ would allow this
    with pytest.raises(ValueError, match="option priority is invalid"):
        serialize_cookie("a", "b", priority="urgent")
    with pytest.raises(ValueError, match="option sameSite is invalid"):
        serialize_cookie("a", "b", same_site="auto")
    with pytest.raises(ValueError, match="option expires is invalid"):
        serialize_cookie("a", "b", expires="tomorrow")  # type: ignore[arg-type]


def test_sign_accepts_bytes_secrets_like_a_buffer() -> None:
    assert sign("abc", b"new secret") == sign("abc", "new secret")
    assert unsign(sign("abc", b"\x00\xff"), [b"\x00\xff"]) == "abc"


def test_rotation_signs_with_the_first_and_accepts_any() -> None:
    signer = Signer(["new", "old"])
    assert signer.sign("id") == sign("id", "new")
    assert signer.unsign(sign("id", "old")) == "id"
    assert signer.unsign(sign("id", "other")) is None
    assert unsign(sign("id", "old"), ["new", "old"]) == "id"


def test_signer_needs_a_secret() -> None:
    with pytest.raises(ValueError):
        Signer([])
    with pytest.raises(TypeError):
        unsign("a.b", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        sign(1, "s")  # type: ignore[arg-type]


def test_unsign_never_raises_on_hostile_input() -> None:
    good = sign("abc", "s")
    for signed in [
        "",
        ".",
        "abc",
        good + "=",
        good[:-1],
        good.replace(".", ".\u00e9"),
        "\ud800." + good,
    ]:
        assert unsign(signed, "s") is None


def test_get_session_id() -> None:
    value = "s:" + sign("abc", "old")
    header = "a=1; connect.sid=" + encode_uri_component(value)
    assert get_session_id(header, secrets=["new", "old"]) == "abc"
    assert get_session_id(header, "other", secrets="old") is None
    assert get_session_id(None, secrets="old") is None
    assert get_session_id("", secrets="old") is None
    assert get_session_id("connect.sid=abc", secrets="old") is None  # unsigned
    assert get_session_id("connect.sid=s%3A" + sign("", "old"), secrets="old") is None  # empty id
    assert get_session_id(header.replace("abc", "abd"), secrets="old") is None  # forged


def test_generate_session_id_has_uid_safe_shape() -> None:
    ids = {generate_session_id() for _ in range(1000)}
    assert len(ids) == 1000
    alphabet = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert all(len(i) == 32 and set(i) <= alphabet for i in ids)
