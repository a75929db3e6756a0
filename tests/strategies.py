"""Hypothesis strategies for the differential fuzz run: the awkward inputs, case-shaped.

Each strategy draws one case in the shape of tests/vectors/<op>.json (Python values; the
wire module encodes them for Node).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from hypothesis import strategies as st

from engineio_session import sign
from engineio_session.cookies import encode_uri_component

from .wire import UNDEFINED

# the pieces a Cookie header is made of, the awkward ones included (node-fixtures/lib/random.js)
HEADER_PIECES = [
    "=",
    ";",
    "; ",
    " ",
    "\t",
    '"',
    '""',
    ",",
    "%",
    "%2",
    "%zz",
    "%%",
    "%41",
    "%20",
    "%3B",
    "%3D",
    "%22",
    "%25",
    "%C3%A9",
    "%e2%82%ac",
    "%E2%82",
    "%F0%9F%98%80",
    "%ED%A0%80",
    "%C0%AF",
    "%F4%90%80%80",
    "%FF",
    "%80",
    "%C3",
    "%C3%28",
    "%F0%9F%98",
    "%EF%BF%BD",
    "a",
    "b",
    "x",
    "connect.sid",
    "sid",
    "__proto__",
    "constructor",
    "toString",
    "valueOf",
    "0",
    "1",
    "42",
    "s:",
    "é",
    "€",
    "😀",
    "\ud800",
    "\udc00",
    "\ud83d",
    "\n",
    "\r",
    "\x00",
    "\x0b",
    "\x7f",
    "\xa0",
    "\u3000",
    "\u2028",
    "+",
    "/",
    ".",
    "\\",
    "\ufeff",
]
TEXT_PIECES = [
    "a",
    "Z",
    "0",
    " ",
    ".",
    ":",
    "s:",
    "=",
    ";",
    '"',
    "\\",
    "/",
    "+",
    "-",
    "_",
    "%",
    "%41",
    "é",
    "ß",
    "€",
    "😀",
    "\ud800",
    "\udfff",
    "\x00",
    "\t",
    "\n",
    "\u2028",
    "\ufeff",
    "\uffff",
    "İ",
    "\u212a",
    "\ufffd",
]
NAMES = ["connect.sid", "sid", "a", "my session", "é", "__proto__", "constructor", "toString"]

any_char = st.characters(min_codepoint=0, max_codepoint=0x10FFFF, exclude_categories=())
header_piece = st.one_of(st.sampled_from(HEADER_PIECES), st.text(any_char, max_size=2))
headers = st.lists(header_piece, max_size=24).map("".join)
texts = st.lists(
    st.one_of(st.sampled_from(TEXT_PIECES), st.text(any_char, max_size=2)), max_size=10
).map("".join)
secrets = st.one_of(
    texts, st.binary(max_size=80), st.sampled_from(["keyboard cat", "new secret", ""])
)
uids = st.text(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", min_size=32, max_size=32
)
numbers = st.one_of(
    st.integers(-(2**60), 2**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.5, -0.5, 1e21, 1e-7, -0.0, 2.0**53 + 2]),
)
dates = st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31, 23, 59, 59)).map(
    lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=UTC)
)
priorities = st.one_of(st.sampled_from(["low", "Medium", "HIGH", "hi", "\u0131ow"]), texts)
same_sites = st.one_of(
    st.sampled_from([True, False, "lax", "Strict", "NONE", "auto", "\u017ftrict"]), texts
)
domains = st.one_of(
    st.sampled_from(["example.com", ".example.com", "-a.com", "a-.com", "x..y", "\u212aa.com"]),
    st.from_regex(r"\.?[a-zA-Z0-9-]{1,65}(\.[a-zA-Z0-9-]{1,65}){0,2}", fullmatch=True),
    texts,
)
paths = st.one_of(st.sampled_from(["/", "/a b", "/a;b", "/é"]), texts)


@st.composite
def serialize_cases(draw: st.DrawFn) -> dict[str, Any]:
    case: dict[str, Any] = {
        "name": draw(st.one_of(st.sampled_from([*NAMES, "", "a;", "!#$%&'*+-.^_`|~"]), texts)),
        "value": draw(texts),
    }
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "max_age": numbers,
                "expires": dates,
                "domain": domains,
                "path": paths,
                "http_only": st.booleans(),
                "secure": st.booleans(),
                "partitioned": st.booleans(),
                "priority": priorities,
                "same_site": same_sites,
            },
        )
    )
    if options or draw(st.booleans()):
        case["options"] = options
    return case


def mutations(signed: str) -> st.SearchStrategy[str]:
    dot = signed.rfind(".")
    return st.one_of(
        st.just(signed),
        st.integers(0, max(0, len(signed) - 1)).map(
            lambda i: signed[:i] + ("B" if signed[i : i + 1] == "A" else "A") + signed[i + 1 :]
        ),
        st.integers(0, len(signed)).map(lambda i: signed[:i]),
        st.sampled_from(["=", "==", " ", ".", "%3D"]).map(lambda tail: signed + tail),
        st.just(signed.upper()),
        st.just(signed[:dot]),
        st.just(signed.replace("+", "-").replace("/", "_")),
        st.just(signed + "." + signed[dot + 1 :]),
    )


@st.composite
def unsign_cases(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.lists(secrets, min_size=1, max_size=3))
    value = draw(st.one_of(uids, texts))
    signer = draw(st.one_of(st.sampled_from(keys), secrets))
    return {"signed": draw(mutations(sign(value, signer))), "secrets": keys}


def _encode(text: str) -> str:
    try:
        return encode_uri_component(text)
    except ValueError:
        return text


@st.composite
def getcookie_cases(draw: st.DrawFn) -> dict[str, Any]:
    keys = draw(st.lists(secrets, min_size=1, max_size=3))
    name = draw(st.sampled_from(NAMES[:3] + NAMES))
    value = draw(st.one_of(uids, texts))
    signer = draw(st.one_of(st.sampled_from(keys), secrets))
    prefix = draw(st.sampled_from(["s:", "s:", "s:", "", "S:", "s::"]))
    raw = draw(mutations(prefix + sign(value, signer)))
    wrapped = draw(st.sampled_from(["enc", "enc", "raw", "quoted"]))
    cookie_value = {"enc": _encode(raw), "raw": raw, "quoted": '"' + _encode(raw) + '"'}[wrapped]
    others = draw(
        st.lists(
            st.one_of(
                st.tuples(
                    st.sampled_from(["theme", "lang", "sid", "connect.sid", name]), headers
                ).map("=".join),
                headers,
            ),
            max_size=4,
        )
    )
    position = draw(st.integers(0, len(others)))
    pairs = [*others[:position], f"{name}={cookie_value}", *others[position:]]
    header = draw(st.sampled_from(["; ", ";", " ; ", ";\t"])).join(pairs)
    return {"header": header, "name": name, "secrets": keys}


# --- JSON values and express-session cookies -------------------------------------------------
json_keys = st.one_of(
    st.sampled_from(
        ["0", "1", "10", "01", "-1", "4294967294", "4294967295", "__proto__", "cookie"]
    ),
    texts,
)
json_numbers = st.one_of(
    st.integers(-(2**70), 2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [0.1, 1e21, 1e-7, 1e-6, 5e-324, -0.0, 2.0**53, 2**53 + 1, 1.7976931348623157e308]
    ),
)
json_values = st.recursive(
    st.one_of(st.none(), st.booleans(), json_numbers, texts, dates),
    lambda inner: st.one_of(
        st.lists(inner, max_size=5), st.dictionaries(json_keys, inner, max_size=5)
    ),
    max_leaves=20,
)


@st.composite
def json_cases(draw: st.DrawFn) -> dict[str, Any]:
    from engineio_session import jsjson

    if draw(st.booleans()):
        return {"text": jsjson.dumps(draw(json_values)), "canonical": True}
    # a text Node may write or a broken one: both sides must agree on what they make of it
    pieces = st.sampled_from(['{"a":', "[", "]", "}", ",", '"x"', "1e400", "-0", " ", "\\u", "NaN"])
    return {"text": draw(st.lists(st.one_of(pieces, texts), max_size=8).map("".join))}


NOW = 1795628562841


@st.composite
def cookie_cases(draw: st.DrawFn) -> dict[str, Any]:
    options = draw(
        st.fixed_dictionaries(
            {},
            optional={
                "max_age": st.one_of(st.integers(-(10**12), 10**12), st.floats(-1e16, 1e16)),
                "path": st.sampled_from(["/", "/app", "/a b", UNDEFINED]),
                "http_only": st.sampled_from([True, False, UNDEFINED]),
                "domain": st.sampled_from(["example.com", ".example.com", "bad domain"]),
                "secure": st.booleans(),
                "same_site": st.sampled_from([True, False, "lax", "Strict", "none", "auto"]),
                "partitioned": st.booleans(),
                "priority": st.sampled_from(["low", "Medium", "HIGH", "urgent"]),
            },
        )
    )
    steps = []
    now = NOW
    for kind in draw(st.lists(st.sampled_from(["touch", "maxAge", "expires"]), max_size=4)):
        now += draw(st.integers(0, 10**6))
        step: dict[str, Any] = {"op": kind, "now": now}
        if kind == "maxAge":
            step["value"] = draw(
                st.one_of(st.none(), st.integers(-(10**10), 10**10), st.floats(allow_nan=True))
            )
        elif kind == "expires":
            step["value"] = draw(st.one_of(st.none(), st.integers(-(10**15), 10**15)))
        steps.append(step)
    return {"options": options, "now": NOW, "steps": steps}


STRATEGIES: dict[str, st.SearchStrategy[dict[str, Any]]] = {
    "parse": st.builds(lambda h: {"header": h}, headers),
    "serialize": serialize_cases(),
    "sign": st.builds(lambda v, s: {"value": v, "secret": s}, st.one_of(uids, texts), secrets),
    "unsign": unsign_cases(),
    "getcookie": getcookie_cases(),
    "json": json_cases(),
    "cookie": cookie_cases(),
}
