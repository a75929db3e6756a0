"""A stored session is read value by value (src/engineio_session/session.py, ``_keyed`` and
``jsjson.scan_members``): its keys at once, each value parsed when first read, never a
different answer than parsing it whole, and a never-read value never counts as changed.
"""

from __future__ import annotations

import gc
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engineio_session import jsjson
from engineio_session.changes import Changes
from engineio_session.errors import CorruptSessionError
from engineio_session.session import Session
from engineio_session.stores.base import decode_session

from .strategies import json_keys, json_values

COOKIE = (
    '{"originalMaxAge":86400000,"expires":"2099-12-02T02:57:52.360Z","httpOnly":true,"path":"/"}'
)
STORED = (
    '{"cookie":' + COOKIE + ',"passport":{"user":"100178"},"user":{"id":100178,'
    '"roles":["member","beta"]},"flash":{},"n":12345678901234567890,"cart":[{"qty":2}]}'
)


def load(text: str = STORED) -> Session:
    return decode_session("RedisStore", "sid", text)


def test_keys_need_no_value_parsed() -> None:
    session = load()
    assert "passport" in session and "cookie" not in session and "nope" not in session
    assert list(session) == ["passport", "user", "flash", "n", "cart"] and len(session) == 5
    # objects and arrays stay text; a number (a string, a boolean, null) is kept as the
    # scan that checked it read it: it is no container, nothing for the collector
    assert session._raw is not None and set(session._raw) == {"passport", "user", "flash", "cart"}
    assert session._items == {
        "passport": None,
        "user": None,
        "flash": None,
        "n": 12345678901234567890.0,
        "cart": None,
    }


def test_a_value_is_parsed_when_first_read_and_only_that_one() -> None:
    session = load()
    user = session["user"]
    assert user == {"id": 100178, "roles": ["member", "beta"]} and session["user"] is user
    assert list(session) == ["passport", "user", "flash", "n", "cart"]
    assert session["user"] is user  # the value read first stays the object handed out
    assert session._raw is not None and set(session._raw) == {"passport", "flash", "cart"}
    assert session["passport"] == {"user": "100178"}
    assert session.get("n") == 12345678901234567890.0  # a double, as JSON.parse reads it
    assert session.get("missing", 7) == 7


def test_what_a_scan_keeps_is_nothing_the_collector_walks_into() -> None:
    session = load()
    assert "passport" in session
    gc.collect()
    assert session._items is not None and session._raw is not None
    assert not any(gc.is_tracked(value) for value in session._items.values())
    assert not gc.is_tracked(session._raw)  # strings only


def test_the_whole_data_equals_a_whole_parse() -> None:
    whole = json.loads(STORED)
    del whole["cookie"]
    session = load()
    assert session["user"]["roles"] == ["member", "beta"]  # one read first, then the rest
    assert dict(session) == {**whole, "n": 12345678901234567890.0}
    assert session.to_json() == {"cookie": json.loads(COOKIE), **dict(session)}
    assert session._raw is None


def test_set_and_delete_before_reading() -> None:
    session = load()
    session["user"] = "replaced"
    del session["cart"]
    session["new"] = [1]
    assert session._raw is not None and set(session._raw) == {"passport", "flash"}
    assert list(session) == ["passport", "user", "flash", "n", "new"]
    changes = Changes.of(session)
    assert changes.set == {"user": "replaced", "new": [1]} and list(changes.deleted) == ["cart"]
    with pytest.raises(KeyError):
        del session["cart"]


def test_a_value_changed_in_place_is_a_change_one_only_read_is_not() -> None:
    session = load()
    session["cart"][0]["qty"] = 3
    assert session["passport"]["user"] == "100178"
    assert Changes.of(session).set == {"cart": [{"qty": 3}]}


def test_a_copy_keeps_what_is_unread_and_parses_its_own_values() -> None:
    session = load()
    session["passport"]
    twin = Session("sid")
    twin.copy_from(session)
    assert twin["user"] == session["user"] and twin["user"] is not session["user"]
    assert twin == session


def test_a_duplicate_key_keeps_the_first_place_and_the_last_value() -> None:
    text = '{"cookie":' + COOKIE + ',"a":1,"b":2,"a":{"x":3}}'
    session = load(text)
    assert list(session) == ["a", "b"] and session["a"] == {"x": 3}


def test_one_read_scans_only_as_far_as_its_member_and_keeps_only_its_value() -> None:
    session = load()
    passport = session["passport"]
    assert passport == {"user": "100178"} and session["passport"] is passport
    # no dict of the data yet: the connection holds one tracked object fewer
    assert session._items is None and session._first_key == "passport"
    gc.collect()
    assert not gc.is_tracked(passport)
    assert session["n"] == 12345678901234567890.0  # another key: the whole scan
    assert session._items is not None and session["passport"] is passport
    assert list(session) == ["passport", "user", "flash", "n", "cart"]
    assert session["user"]["id"] == 100178
    passport["user"] = "changed"  # changed in place: a change, as in express-session
    assert Changes.of(session).set == {"passport": {"user": "changed"}}


def test_a_read_never_stops_before_a_later_member_of_the_same_key() -> None:
    text = '{"cookie":' + COOKIE + ',"a":1,"p":{"u":1},"b":"a","a":{"x":3}}'
    session = load(text)
    assert session["p"] == {"u": 1} and session._first_key == "p"  # "p" comes once: stopped
    assert session["a"] == {"x": 3}  # "a" comes before "p" and again after it
    session = load(text)
    assert session["a"] == {"x": 3} and list(session) == ["a", "p", "b"]
    # the key's quoted form anywhere later (here a string value) is reason enough to go on
    session = load('{"cookie":' + COOKIE + ',"p":1,"q":"p"}')
    assert session["p"] == 1 and session._first_key is None and session._items is not None


def test_the_member_just_after_the_cookie_is_read_alone_where_nothing_can_repeat_it() -> None:
    at = len('{"cookie":' + COOKIE + ",")
    text = '{"cookie":' + COOKIE + ',"p":{"u":[1]},"q":2}'
    assert jsjson.first_member(text, at, "p") == ({"u": [1]}, text.index(',"q"'))
    last = '{"cookie":' + COOKIE + ',"p":"x"}'
    assert jsjson.first_member(last, at, "p") == ("x", len(last) - 1)
    # the scan decides: another key first, a later "p", an escape, white space, a
    # key that is a prefix of the member's, text after the object
    for other in (
        ',"q":2,"p":1}',
        ',"p":1,"r":{"p":2}}',
        ',"p":1,"r":"\\u0070"}',
        ',"p" :1}',
        ',"p":1 }',
        ',"px":1}',
        ',"p":1}x',
    ):
        assert jsjson.first_member('{"cookie":' + COOKIE + other, at, "p") is None, other
    with pytest.raises(ValueError, match="Expecting value"):
        jsjson.first_member('{"cookie":' + COOKIE + ',"p":[1,}', at, "p")
    session = load('{"cookie":' + COOKIE + ',"p":[1,}')
    with pytest.raises(CorruptSessionError, match="not JSON beyond its cookie"):
        session.get("p")
    # white space JSON.stringify never writes: the scan reads it as JSON.parse does
    assert load('{"cookie":' + COOKIE + ',"p": [1] ,"q":2}').get("p") == [1]


def test_a_text_that_escapes_anything_is_scanned_to_its_end() -> None:
    # an escaped key ("\u0061" is "a") could repeat one the plain search cannot see
    session = load('{"cookie":' + COOKIE + ',"a":1,"b":2,"\\u0061":3}')
    assert session["a"] == 3 and session._first_key is None


def test_a_live_copy_of_a_session_read_once_shares_that_value() -> None:
    session = load()
    passport = session["passport"]
    twin = Session("sid")
    twin.copy_from(session)
    assert twin["passport"] is passport and twin["user"] == session["user"]
    assert twin == session


def test_a_member_past_the_read_one_that_is_not_json_fails_when_first_reached() -> None:
    session = load('{"cookie":' + COOKIE + ',"passport":{"user":"u"},"a":[1,}')
    assert session["passport"] == {"user": "u"}
    with pytest.raises(CorruptSessionError, match="not JSON beyond its cookie"):
        len(session)


def test_a_member_that_is_not_json_fails_at_its_first_use_as_before() -> None:
    session = load('{"cookie":' + COOKIE + ',"a":[1,}')
    with pytest.raises(CorruptSessionError, match="not JSON beyond its cookie"):
        "a" in session  # noqa: B015


def test_nesting_deeper_than_recursion_falls_back_to_the_whole_parse() -> None:
    deep = "[" * 5000 + "]" * 5000
    session = load('{"cookie":' + COOKIE + ',"deep":' + deep + ',"b":1}')
    assert session["b"] == 1 and jsjson.dumps(session["deep"]) == deep


def stored_texts() -> st.SearchStrategy[str]:
    """A session as express-session stores it: its cookie first, then any data."""

    def stored(data: dict[str, Any]) -> str:
        rest = jsjson.dumps(data)[1:]  # '}' or '"key":...}'
        return '{"cookie":' + COOKIE + ("" if rest == "}" else ",") + rest

    keys = json_keys.filter(lambda key: key != "cookie")
    return st.dictionaries(keys, json_values, max_size=6).map(stored)


def texts_with_repeated_keys() -> st.SearchStrategy[str]:
    """Stored texts whose members may repeat a key (JSON.parse: the last value wins, in
    the first one's place), some escaping characters, some not."""
    keys = st.sampled_from(["a", "b", "p", "é", 'q"', "a\\"])
    member = st.tuples(keys, json_values).map(
        lambda pair: jsjson.dumps(pair[0]) + ":" + jsjson.dumps(pair[1])
    )
    return st.lists(member, max_size=6).map(
        lambda members: '{"cookie":' + COOKIE + "".join("," + m for m in members) + "}"
    )


@settings(max_examples=300, deadline=None)
@given(texts_with_repeated_keys(), st.lists(st.sampled_from(["a", "b", "p", "é", "x"])))
def test_reads_in_any_order_answer_as_json_parse_with_repeated_keys(
    text: str, reads: list[str]
) -> None:
    whole: dict[str, Any] = jsjson.loads(text)
    del whole["cookie"]
    session = load(text)
    for key in reads:
        assert session.get(key) == whole.get(key)
    assert list(session) == list(whole) and dict(session) == whole


@settings(max_examples=300, deadline=None)
@given(stored_texts(), st.lists(json_keys, max_size=4))
def test_any_session_reads_as_its_whole_parse(text: str, reads: list[str]) -> None:
    whole: dict[str, Any] = jsjson.loads(text)
    del whole["cookie"]
    session = load(text)
    for key in reads:  # some values first, in any order
        assert session.get(key) == whole.get(key)
    assert list(session) == list(whole)
    assert jsjson.dumps(session.to_json()) == jsjson.dumps(jsjson.loads(text))
    assert Changes.of(session).empty


def test_a_save_before_any_read_sends_no_change() -> None:
    assert Changes.of(load()).empty  # nothing scanned yet when the save asks
    session = load()
    session["flash"] = {"info": "hi"}  # a set before any read
    assert Changes.of(session).set == {"flash": {"info": "hi"}}


def test_the_cookie_is_made_when_first_asked_for_and_expiry_needs_none() -> None:
    session = load()
    assert session._cookie is None and not session.expired()
    assert session.expired(now=4_102_444_800_000)  # 2100-01-01: after 2099-12-02
    cookie = session.cookie
    assert session.cookie is cookie and session._cookie_fields is None
    assert cookie.to_json() == json.loads(COOKIE) and not session.expired()
    cookie.set_max_age(1_000, now=0)  # a change through it is the session's
    assert session.to_json()["cookie"]["originalMaxAge"] == 1_000
    assert session.expired(now=1_000) and not session.expired(now=999)


def test_a_loaded_session_keeps_no_dict_of_its_cookie_until_one_is_made() -> None:
    session = load()
    assert session._cookie is None and session._cookie_fields is None  # read again later
    session.mark_saved()  # a new baseline: the Cookie is made from the old one first
    assert session.cookie.to_json() == json.loads(COOKIE)
    # a cookie given apart from the text it came with is kept as given
    apart = Session.from_stored_text("sid", {"expires": None}, STORED, rest=len(COOKIE) + 10)
    assert apart._cookie_fields == {"expires": None} and apart.cookie.expires is None


def test_a_live_copy_takes_the_cookie_not_made_yet() -> None:
    session = load()
    twin = Session("sid")
    twin.copy_from(session)
    assert twin._cookie is None and twin.cookie.to_json() == json.loads(COOKIE)
    assert twin.expired(now=4_102_444_800_000) and not twin.expired()


def test_a_cookie_that_is_no_cookie_fails_the_load() -> None:
    for cookie in ('{"expires":5}', '{"expires":"soon"}', '{"originalMaxAge":"1"}', "[]"):
        with pytest.raises(CorruptSessionError):
            load('{"cookie":' + cookie + ',"a":1}')
