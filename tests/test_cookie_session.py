"""CookieSession, edge by edge. The exact strings here are what Node's cookie-session 2.1.1
wrote for the same input (the vectors pin thousands more: tests/test_vectors.py)."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any, get_args

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engineio_session import CookieRead, CookieSession, jsjson
from engineio_session import keygrip as keygrip_module
from engineio_session._buffer import buffer_from_base64
from engineio_session.cookie_session import (
    INSECURE,
    MAX_COOKIE_HEADER,
    MAX_COOKIE_VALUE,
    ReadStatus,
)
from engineio_session.keygrip import Keygrip, keygrip_sign

KEYS = ["new key", "old key"]
ADA = "eyJ1c2VyIjoiYWRhIn0="  # base64 of {"user":"ada"}
ADA_NEW = "cO1INW33O3XAyp5UpWNArUoPlwU"  # keygrip("new key").sign("session=" + ADA), from Node
ADA_OLD = "Q2VzN3RXw5d7r-dsK10M7Ld6h4Y"  # ... with "old key"
EPOCH = "expires=Thu, 01 Jan 1970 00:00:00 GMT"


def header_for(set_cookie: list[str]) -> str:
    """The Cookie header a browser sends back for these Set-Cookie values."""
    return "; ".join(value.split(";", 1)[0] for value in set_cookie)


@pytest.fixture
def sessions() -> CookieSession:
    return CookieSession(keys=KEYS)


# --- construction ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({}, ValueError, ".keys required."),
        ({"keys": []}, ValueError, "Keys must be provided."),
        ({"keys": [1]}, TypeError, "a key is a str or bytes"),
        ({"keys": KEYS, "name": ""}, ValueError, "argument name is invalid"),
        ({"keys": KEYS, "name": "a;b"}, ValueError, "argument name is invalid"),
        ({"keys": KEYS, "name": "a=b"}, ValueError, "argument name is invalid"),
        ({"keys": KEYS, "name": "\U0001f600"}, ValueError, "argument name is invalid"),
        ({"keys": KEYS, "name": b"session"}, TypeError, "name is the cookie's name"),
        ({"keys": KEYS, "path": "/a\nb"}, ValueError, "option path is invalid"),
        ({"keys": KEYS, "domain": "a\nb"}, ValueError, "option domain is invalid"),
        ({"keys": KEYS, "max_age": math.nan}, ValueError, "option maxAge is invalid"),
        ({"keys": KEYS, "max_age": math.inf}, ValueError, "option maxAge is invalid"),
        ({"keys": KEYS, "max_age": True}, TypeError, "option maxAge is invalid"),
        ({"keys": KEYS, "max_age": "1000"}, TypeError, "option maxAge is invalid"),
        ({"keys": KEYS, "priority": "urgent"}, ValueError, "option priority is invalid"),
        ({"keys": KEYS, "same_site": "auto"}, ValueError, "option sameSite is invalid"),
        ({"keys": KEYS, "same_site": "\u017ftrict"}, ValueError, "option sameSite is invalid"),
        ({"keys": KEYS, "expires": 0}, TypeError, "expires is a datetime"),
        ({"keys": KEYS, "secure": "yes"}, TypeError, "secure is a bool"),
    ],
)
def test_bad_arguments_fail_at_once(kwargs: dict[str, Any], error: type, message: str) -> None:
    with pytest.raises(error, match=message.replace(".", r"\.").replace("(", r"\(")):
        CookieSession(**kwargs)


def test_keys_may_be_one_key_bytes_or_absent_when_unsigned() -> None:
    assert CookieSession("new key").dump({"user": "ada"}) == CookieSession(["new key"]).dump(
        {"user": "ada"}
    )
    assert CookieSession([b"new key"]).load(f"session={ADA}; session.sig={ADA_NEW}") == {
        "user": "ada"
    }
    plain = CookieSession(signed=False)
    assert plain.dump({"user": "ada"}) == [f"session={ADA}; path=/; httponly"]
    assert plain.load(f"session={ADA}") == {"user": "ada"}


def test_repr_holds_no_key_and_no_session() -> None:
    sessions = CookieSession(keys=["secret key"])
    read = sessions.read(f"session={ADA}; session.sig={ADA_NEW}")
    assert "secret" not in repr(sessions) and "<1>" in repr(sessions)
    assert "ada" not in repr(read) and ADA not in repr(read)


# --- keygrip and base64 ----------------------------------------------------------------------


def test_keygrip_signs_as_node_and_finds_the_matching_key() -> None:
    assert keygrip_sign("session=" + ADA, "new key") == ADA_NEW
    grip = Keygrip(KEYS)
    assert grip.index("session=" + ADA, ADA_NEW) == 0
    assert grip.index("session=" + ADA, ADA_OLD) == 1
    assert grip.index("session=" + ADA, ADA_OLD + "=") == -1  # the exact spelling only
    assert grip.index("session=" + ADA, ADA_OLD.lower()) == -1
    # a str key is UTF-8 with a lone surrogate as U+FFFD, as Node's createHmac reads it
    assert keygrip_sign("x", "a\ud800b") == keygrip_sign("x", "a\ufffdb")
    assert keygrip_sign("x", b"k") == keygrip_sign("x", "k")


def test_a_signature_of_the_wrong_shape_costs_no_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_hmac(*args: object) -> bytes:
        raise AssertionError("an HMAC was computed")

    monkeypatch.setattr(keygrip_module, "_digest", no_hmac)
    grip = Keygrip(KEYS)
    for digest in ("", "short", ADA_NEW + "x", ADA_NEW[:-1] + "=", "\u00e9" * 27):
        assert grip.index("session=" + ADA, digest) == -1


@pytest.mark.parametrize(
    ("text", "hex_"),
    [
        ("eyJhIjoxfQ==", "7b2261223a317d"),
        ("eyJhIjoxfQ", "7b2261223a317d"),  # padding missing
        ("eyJhIj-x_Q", "7b2261223fb1fd"),  # base64url (from Node)
        ("QU JD", "414243"),  # junk skipped
        ("QUJD!!!", "414243"),
        ("QU=JD", "41"),  # an "=" stops it
        ("QUJDR", "414243"),  # a lone last character is dropped
        ("Q\u0141JD", "400243"),  # each UTF-16 unit by its low byte: U+0141 is "A"
        ("QU\u013dJD", "41"),  # ... and U+013D is "="
        ("", ""),
    ],
)
def test_base64_as_node_reads_it(text: str, hex_: str) -> None:
    assert buffer_from_base64(text).hex() == hex_


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("header", [None, "", ";", "theme=dark", "xsession=" + ADA, "Session=x"])
def test_no_cookie_is_absent(sessions: CookieSession, header: str | None) -> None:
    read = sessions.read(header)
    assert (read.status, read.data, read.set_cookie) == ("absent", None, ())
    assert sessions.load(header) is None


@pytest.mark.parametrize(
    "header",
    [f"session={ADA}", f"session={ADA}; session.sig=", f'session={ADA}; session.sig=""'],
)
def test_no_signature_is_unsigned_and_sends_nothing(sessions: CookieSession, header: str) -> None:
    read = sessions.read(header)
    assert (read.status, read.data, read.set_cookie) == ("unsigned", None, ())


def test_first_key_verifies(sessions: CookieSession) -> None:
    read = sessions.read(f"theme=dark; session={ADA}; session.sig={ADA_NEW}")
    assert (read.status, read.key_index, read.data, read.set_cookie) == (
        "verified",
        0,
        {"user": "ada"},
        (),
    )
    assert read.loaded


@pytest.mark.parametrize("https", [False, True])
def test_an_older_key_is_re_signed_without_the_cookie_options(https: bool) -> None:
    sessions = CookieSession(KEYS, max_age=60000, domain="example.com", same_site="lax")
    read = sessions.read(f"session={ADA}; session.sig={ADA_OLD}", https=https)
    assert (read.status, read.key_index, read.data) == ("rotated", 1, {"user": "ada"})
    secure = "; secure" if https else ""
    assert read.set_cookie == (f"session.sig={ADA_NEW}; path=/{secure}; httponly",)
    # the browser now holds a pair the first key verifies
    assert sessions.read(f"session={ADA}; session.sig={ADA_NEW}").status == "verified"


@pytest.mark.parametrize("https", [False, True])
def test_a_forged_signature_is_cleared_and_yields_no_session(https: bool) -> None:
    sessions = CookieSession(KEYS, domain="example.com")
    forged = keygrip_sign("session=" + ADA, "attacker key")
    read = sessions.read(f"session={ADA}; session.sig={forged}", https=https)
    assert (read.status, read.data) == ("forged", None)
    secure = "; secure" if https else ""  # no domain: the clearing misses a domain cookie
    assert read.set_cookie == (f"session.sig=; path=/; {EPOCH}{secure}; httponly",)


def test_each_part_tampered_is_refused(sessions: CookieSession) -> None:
    tampered_value = "eyJ1c2VyIjoiZXZlIn0="  # {"user":"eve"} with ada's signature
    assert sessions.read(f"session={tampered_value}; session.sig={ADA_NEW}").status == "forged"
    assert sessions.read(f"session={ADA}; session.sig={ADA_NEW[:-1]}A").status == "forged"
    # signed for another cookie name
    other = keygrip_sign("other=" + ADA, "new key")
    assert sessions.read(f"session={ADA}; session.sig={other}").status == "forged"
    assert CookieSession(KEYS, name="other").load(f"other={ADA}; other.sig={other}") == {
        "user": "ada"
    }


def test_the_first_occurrence_counts_as_in_the_cookies_package(sessions: CookieSession) -> None:
    good = f"session={ADA}; session.sig={ADA_NEW}"
    assert sessions.read(f"session=bad; {good}").status == "forged"
    assert sessions.read(f"{good}; session=bad").status == "verified"
    assert sessions.read(f"session.sig={ADA_NEW}; session={ADA}").status == "verified"
    # spaces after ';' are skipped, a tab is not; nothing is trimmed after the value
    assert sessions.read(f"a=1;   session={ADA}; session.sig={ADA_NEW}").status == "verified"
    assert sessions.read(f"\tsession={ADA}; session.sig={ADA_NEW}").status == "absent"
    assert sessions.read(f"session={ADA} ; session.sig={ADA_NEW}").status == "forged"


def test_quotes_are_stripped_as_slice_1_minus_1() -> None:
    sessions = CookieSession(KEYS)
    sig = keygrip_sign(f"session={ADA}", "new key")
    assert sessions.load(f'session="{ADA}"; session.sig="{sig}"') == {"user": "ada"}
    # a lone opening quote drops the last character, whatever it is
    cut = ADA[:-1]
    sig_cut = keygrip_sign(f"session={cut}", "new key")
    assert sessions.read(f'session="{ADA}; session.sig={sig_cut}').value == cut
    # ... and only half of an astral character (one UTF-16 unit)
    plain = CookieSession(signed=False)
    assert plain.read('session="ab\U0001f600').value == "ab\ud83d"


@pytest.mark.parametrize("name", ["my.session", "a+b", "x(y)", "s[1]", "^$", "a|b", "a\\b", "a*?"])
def test_names_with_regex_characters_are_literal(name: str) -> None:
    sessions = CookieSession(KEYS, name=name)
    pair = header_for(sessions.dump({"user": "ada"}))
    assert sessions.load(pair) == {"user": "ada"}
    look_alike = "".join("X" if not c.isalnum() else c for c in name)
    assert sessions.load(pair.replace(name + "=", look_alike + "=", 1)) is None


@pytest.mark.parametrize(
    ("body", "data"),
    [
        ('{"a":1}', {"a": 1}),
        ('{ "b" : 1 , "2":2, "1":1 }', {"1": 1, "2": 2, "b": 1}),  # JS property order
        ('{"a":1,"a":2}', {"a": 2}),
        ('[1,"x"]', {"0": 1, "1": "x"}),  # for (key in obj) over an array
        ('"a\\ud83d\\ude00"', {"0": "a", "1": "\ud83d", "2": "\ude00"}),  # a string's units
        ("5", {}),
        ("0", {}),
        ("null", {}),
        ("true", {}),
        ('{"isNew":1,"toString":2,"_ctx":3,"__proto__":4,"constructor":5,"b":6}', {"b": 6}),
    ],
)
def test_any_json_body_makes_the_session_node_makes(body: str, data: dict[str, Any]) -> None:
    plain = CookieSession(signed=False)
    value = buffer_to_b64(body)
    assert plain.load(f"session={value}") == data


@pytest.mark.parametrize("body", ["", "{", "{'a':1}", "NaN", '{"a":1}x', "\ufeff{}", "[1,]"])
def test_a_body_that_is_not_json_yields_no_session(body: str) -> None:
    plain = CookieSession(signed=False)
    assert plain.read(f"session={buffer_to_b64(body)}").data is None
    assert plain.load("session=!!!!") is None
    assert plain.load("session=") is None


def test_invalid_utf8_reads_as_u_fffd() -> None:
    value = __import__("base64").b64encode(b'{"a":"\xff"}').decode()
    assert CookieSession(signed=False).load(f"session={value}") == {"a": "\ufffd"}


def test_deep_nesting_reads_as_node_reads_it() -> None:
    body = '{"a":' + "[" * 1500 + "]" * 1500 + "}"
    value = buffer_to_b64(body)
    assert len(value) <= MAX_COOKIE_VALUE
    sessions = CookieSession(signed=False)
    data = sessions.load(f"session={value}")
    assert data is not None and jsjson.dumps(data) == body
    assert sessions.commit(sessions.read(f"session={value}"), data) == []  # canonical: no rewrite


def test_oversized_is_refused_before_any_hmac(monkeypatch: pytest.MonkeyPatch) -> None:
    sessions = CookieSession(KEYS)
    value = buffer_to_b64('{"a":"' + "x" * 3100 + '"}')
    assert len(value) > MAX_COOKIE_VALUE
    sig = keygrip_sign("session=" + value, "new key")

    def no_hmac(*args: object) -> bytes:
        raise AssertionError("an HMAC was computed")

    monkeypatch.setattr(keygrip_module, "_digest", no_hmac)
    read = sessions.read(f"session={value}; session.sig={sig}")
    assert (read.status, read.data, read.set_cookie) == ("oversized", None, ())
    long_header = "a=" + "x" * MAX_COOKIE_HEADER + f"; session={ADA}; session.sig={ADA_NEW}"
    assert sessions.read(long_header).status == "oversized"


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200), st.sampled_from([True, False]))
def test_any_header_is_an_answer_never_an_exception(header: str, signed: bool) -> None:
    sessions = CookieSession(KEYS, signed=signed)
    read = sessions.read(header)
    assert read.status in get_args(ReadStatus)
    sessions.load("session=" + header + "; session.sig=" + header)


# --- writing ---------------------------------------------------------------------------------


def test_dump_writes_every_option_in_node_order() -> None:
    sessions = CookieSession(
        KEYS,
        max_age=60000,
        domain="example.com",
        same_site="Lax",
        priority="HIGH",
        partitioned=True,
    )
    attrs = (
        "path=/; expires=Thu, 01 Jan 1970 00:01:00 GMT; domain=example.com; priority=high; "
        "samesite=lax; httponly; partitioned"
    )
    assert sessions.dump({"user": "ada"}, now=0) == [
        f"session={ADA}; {attrs}",
        f"session.sig={ADA_NEW}; {attrs}",
    ]


@pytest.mark.parametrize(
    ("kwargs", "https", "attrs"),
    [
        ({}, False, "path=/; httponly"),
        ({}, True, "path=/; secure; httponly"),  # secure=None follows the request
        ({"secure": False}, True, "path=/; httponly"),
        ({"secure": True}, True, "path=/; secure; httponly"),
        ({"http_only": False, "path": "/app"}, False, "path=/app"),
        ({"path": None}, False, "httponly"),
        ({"path": "/a;b"}, False, "path=/a;b; httponly"),  # cookies checks only field-content
        ({"path": ""}, False, "httponly"),
        ({"same_site": True}, False, "path=/; samesite=strict; httponly"),
        ({"same_site": False, "priority": ""}, False, "path=/; httponly"),
        ({"max_age": 1.9}, False, "path=/; expires=Thu, 01 Jan 1970 00:00:00 GMT; httponly"),
        ({"max_age": -1000}, False, "path=/; expires=Wed, 31 Dec 1969 23:59:59 GMT; httponly"),
        ({"max_age": 1e16}, False, "path=/; expires=Invalid Date; httponly"),
        ({"max_age": 0}, False, "path=/; httponly"),
        (
            {"expires": datetime(2030, 1, 2, 3, 4, 5, tzinfo=UTC)},
            False,
            "path=/; expires=Wed, 02 Jan 2030 03:04:05 GMT; httponly",
        ),
        (  # maxAge wins over expires
            {"expires": datetime(2030, 1, 2, tzinfo=UTC), "max_age": 1000},
            False,
            "path=/; expires=Thu, 01 Jan 1970 00:00:01 GMT; httponly",
        ),
    ],
)
def test_dump_options(kwargs: dict[str, Any], https: bool, attrs: str) -> None:
    value = CookieSession(KEYS, **kwargs).dump({"user": "ada"}, https=https, now=0)
    assert value == [f"session={ADA}; {attrs}", f"session.sig={ADA_NEW}; {attrs}"]


def test_dump_drops_what_a_session_cannot_hold_and_writes_nothing_empty() -> None:
    sessions = CookieSession(KEYS)
    assert sessions.dump({}) == []
    assert sessions.dump({"isNew": 1, "toString": 2, "__proto__": 3}) == []
    assert sessions.dump({"isNew": 1, "user": "ada"}) == sessions.dump({"user": "ada"})
    with pytest.raises(TypeError, match="mapping"):
        sessions.dump([("user", "ada")])  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="JSON cannot hold"):
        sessions.dump({"user": object()})


def test_dump_writes_js_json() -> None:
    plain = CookieSession(signed=False)
    data = {"b": 1, "2": -0.0, "d": datetime(2030, 1, 2, tzinfo=UTC), "n": 2**64}
    (cookie,) = plain.dump(data)
    value = cookie.split(";")[0].split("=", 1)[1]
    body = buffer_from_base64(value).decode()
    assert body == '{"2":0,"b":1,"d":"2030-01-02T00:00:00.000Z","n":18446744073709552000}'


def test_secure_over_http_is_an_error_where_node_writes_nothing() -> None:
    sessions = CookieSession(KEYS, secure=True)
    with pytest.raises(ValueError, match=INSECURE):
        sessions.dump({"user": "ada"})
    with pytest.raises(ValueError, match=INSECURE):
        sessions.clear()
    assert sessions.dump({"user": "ada"}, https=True)[0].endswith("; secure; httponly")


def test_too_long_for_a_browser_is_an_error_where_node_writes_it() -> None:
    sessions = CookieSession(KEYS)
    fits = {"long": "x" * 3000}
    assert len(sessions.dump(fits)[0].split(";")[0]) <= MAX_COOKIE_VALUE
    with pytest.raises(ValueError, match="browsers keep at most 4096"):
        sessions.dump({"long": "x" * 3100})


def test_clear_expires_both_cookies_with_the_options() -> None:
    sessions = CookieSession(KEYS, max_age=60000, domain="example.com", same_site=True)
    sig = keygrip_sign("session=", "new key")
    attrs = f"path=/; {EPOCH}; domain=example.com; samesite=strict; secure; httponly"
    assert sessions.clear(https=True) == [f"session=; {attrs}", f"session.sig={sig}; {attrs}"]
    assert CookieSession(signed=False).clear() == [f"session=; path=/; {EPOCH}; httponly"]


# --- commit: the response after a handler --------------------------------------------------------


def test_commit_unchanged_sends_only_what_the_read_sent(sessions: CookieSession) -> None:
    verified = sessions.read(f"session={ADA}; session.sig={ADA_NEW}")
    assert sessions.commit(verified, verified.data) == []
    rotated = sessions.read(f"session={ADA}; session.sig={ADA_OLD}")
    assert sessions.commit(rotated, rotated.data) == list(rotated.set_cookie)
    assert sessions.commit(sessions.read(None), {}) == []


def test_commit_rewrites_a_value_node_would_spell_differently(sessions: CookieSession) -> None:
    spaced = buffer_to_b64('{ "user": "ada" }')
    sig = keygrip_sign("session=" + spaced, "new key")
    read = sessions.read(f"session={spaced}; session.sig={sig}")
    assert read.data == {"user": "ada"}
    assert sessions.commit(read, read.data, now=0) == sessions.dump({"user": "ada"}, now=0)


def test_commit_changed_emptied_dropped(sessions: CookieSession) -> None:
    rotated = sessions.read(f"session={ADA}; session.sig={ADA_OLD}")
    changed = sessions.commit(rotated, {"user": "ada", "n": 1})
    # overwrite (the default) drops the re-signed .sig for the new pair
    assert changed == sessions.dump({"user": "ada", "n": 1})
    # emptied in place: written as {} (e30=), unlike a new empty session
    assert sessions.commit(rotated, {})[0].startswith("session=e30=; ")
    assert sessions.commit(rotated, None) == sessions.clear()
    keep_all = CookieSession(KEYS, overwrite=False)
    rotated = keep_all.read(f"session={ADA}; session.sig={ADA_OLD}")
    assert keep_all.commit(rotated, {"user": "ada", "n": 1}) == [
        *rotated.set_cookie,
        *keep_all.dump({"user": "ada", "n": 1}),
    ]


def test_commit_after_a_forged_read_writes_a_new_session_only_if_populated(
    sessions: CookieSession,
) -> None:
    forged = sessions.read(f"session={ADA}; session.sig={'A' * 27}")
    assert sessions.commit(forged, {}) == list(forged.set_cookie)
    assert sessions.commit(forged, {"user": "ada"}) == sessions.dump({"user": "ada"})


def test_round_trip_python_to_python(sessions: CookieSession) -> None:
    data = {"user": "ada", "cart": [1, {"x": None}], "\u00e9": "\U0001f600\ud800", "n": 1e21}
    loaded = sessions.load(header_for(sessions.dump(data)))
    assert loaded is not None and jsjson.dumps(loaded) == jsjson.dumps(data)
    assert isinstance(sessions.read(None), CookieRead)


def buffer_to_b64(text: str) -> str:
    return __import__("base64").b64encode(text.encode("utf-8")).decode("ascii")
