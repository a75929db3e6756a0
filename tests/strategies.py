"""Hypothesis strategies for the differential fuzz run: the awkward inputs, case-shaped.

Each strategy draws one case in the shape of tests/vectors/<op>.json (Python values; the
wire module encodes them for Node).
"""

from __future__ import annotations

import base64
import math
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


# --- cookie-session: the session in the cookie (tests/cookie_session_cases.py) ----------------
CS_NOW = 1795628562841
# names with dots and regex-special characters: the cookies package escapes them in its pattern
CS_NAMES = [
    "session",
    "session",
    "session",
    "sess",
    "my.session",
    "a+b",
    "x(y)",
    "s[1]",
    "^$",
    "a|b",
    "a\\b",
    "a*?",
    "a{2}",
    "\u00e9",
    "my session",
    "s.sig",
    "a-b",
]
# never data in a cookie-session Session (own _ctx, its getters, Object.prototype)
CS_AWKWARD_KEYS = [
    "isNew",
    "isChanged",
    "isPopulated",
    "_ctx",
    "__proto__",
    "constructor",
    "toString",
    "valueOf",
    "hasOwnProperty",
    "__lookupSetter__",
    "2",
    "01",
]
cs_keys = st.one_of(
    st.sampled_from(["keyboard cat", "new key", "old key", "", "\u00e9\U0001f600", "a\ud800b"]),
    texts,
    st.binary(max_size=40),
)
# cheap to draw: the fuzz makes hundreds of thousands (json_values costs several times more)
CS_LEAVES = [
    *TEXT_PIECES,
    "",
    "user",
    "\U0001f600",
    0,
    -1,
    1.5,
    1e21,
    1e-7,
    -0.0,
    2**53 + 2,
    5e-324,
    None,
    True,
    False,
]
cs_keys_of_data = st.sampled_from(
    [*CS_AWKWARD_KEYS, "0", "1", "10", "4294967295", "user", "cart", "", "\ud800", "\u00e9"]
)
cs_values = st.recursive(
    st.one_of(st.sampled_from(CS_LEAVES), st.integers(-(2**31), 2**31), st.text(max_size=3)),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(cs_keys_of_data, inner, max_size=3)
    ),
    max_leaves=6,
)
cs_data = st.dictionaries(cs_keys_of_data, cs_values, max_size=4)
B64_JUNK = [" ", "\t", "\n", "!", ".", "=", "==", "%3D", "\u0141", "\u013d", "\u00c4", "*", '"']
B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_"


def _b64(text: str) -> str:
    from engineio_session._js import utf8

    return base64.b64encode(utf8(text)).decode("ascii")


@st.composite
def cs_bodies(draw: st.DrawFn) -> str:
    """A cookie-session value: base64 JSON, or one of the ways it is not (quite) that."""
    from engineio_session import jsjson

    data = draw(cs_data)
    canonical = _b64(jsjson.dumps(data))
    kind = draw(st.integers(0, 11))
    if kind == 0:  # whitespace in the JSON: read, then rewritten
        return _b64(jsjson.dumps(data).replace(",", ", ").replace(":", " : ", 1))
    if kind == 1:  # JSON that may not be an object
        return _b64(jsjson.dumps(draw(cs_values if draw(st.booleans()) else json_values)))
    if kind == 2:  # not JSON
        return _b64(draw(texts))
    if kind == 3:
        return canonical.replace("+", "-").replace("/", "_")
    if kind == 4:
        return canonical.rstrip("=")
    if kind == 5:  # junk inside
        at = draw(st.integers(0, len(canonical)))
        return canonical[:at] + draw(st.sampled_from(B64_JUNK)) + canonical[at:]
    if kind == 6:
        return draw(headers)
    if kind == 7:  # raw bytes, invalid UTF-8 included
        return base64.b64encode(draw(st.binary(max_size=40))).decode("ascii")
    if kind == 8:
        return _b64("\ufeff" + jsjson.dumps(data))
    return canonical


def _cs_mutated_sig(draw: st.DrawFn, sig: str) -> str | None:
    kind = draw(st.integers(0, 9))
    if kind == 0:
        return draw(mutations(sig))
    if kind == 1:
        return None  # no .sig
    if kind == 2:
        return ""
    return sig


cs_valid_options = st.fixed_dictionaries(
    {},
    optional={
        "max_age": st.one_of(
            st.sampled_from([60000, 1, -1000, 1.5, 0, 999.999, 1e16, -1e16, -0.0]),
            st.integers(-(10**13), 10**13),
            st.floats(-1e16, 1e16),
        ),
        "expires": dates,
        "path": st.sampled_from(["/", "/app", "", "/a b", "/\u00e9", UNDEFINED]),
        "domain": st.sampled_from(["example.com", ".example.com", "localhost", "", "\u00e9.com"]),
        "same_site": st.sampled_from([True, False, "lax", "Strict", "NONE", ""]),
        "secure": st.sampled_from([True, False, UNDEFINED]),
        "http_only": st.booleans(),
        "partitioned": st.booleans(),
        "priority": st.sampled_from(["low", "Medium", "HIGH", ""]),
        "overwrite": st.booleans(),
    },
)
# what Node refuses only when it writes (cookie-session swallows the error and writes nothing)
cs_any_options = st.one_of(
    cs_valid_options,
    st.fixed_dictionaries(
        {},
        optional={
            "max_age": numbers,
            "path": paths,
            "domain": domains,
            "same_site": same_sites,
            "priority": priorities,
        },
    ),
)


@st.composite
def cs_header(draw: st.DrawFn, name: str, value: str, sig: str | None) -> str:
    parts = [f"{name}={value}"]
    if sig is not None:
        parts.insert(1 if draw(st.booleans()) or draw(st.booleans()) else 0, f"{name}.sig={sig}")
    for _ in range(draw(st.integers(0, 3))):
        other = draw(
            st.one_of(
                st.sampled_from(["theme=dark", f"x{name}=1", f"{name}x=1"]),
                headers,
                headers.map(lambda h: f"{name}={h}"),
                headers.map(lambda h: f"{name}.sig={h}"),
            )
        )
        parts.insert(draw(st.integers(0, len(parts))), other)
    separator = draw(st.sampled_from(["; ", ";", ";  ", " ; "]))
    return separator.join(parts)


@st.composite
def cs_signed_header(draw: st.DrawFn, name: str, keys: list[Any], signed: bool) -> str:
    from engineio_session.keygrip import keygrip_sign

    value = draw(cs_bodies())[:4000]
    signer = draw(st.one_of(st.just(keys[0]), st.sampled_from(keys), cs_keys))
    sig_name = draw(st.one_of(st.just(name), st.sampled_from(CS_NAMES)))
    sig: str | None = keygrip_sign(sig_name + "=" + value, signer)
    if draw(st.integers(0, 9)) == 0 and value:  # the value changed after signing
        at = draw(st.integers(0, len(value) - 1))
        value = value[:at] + ("B" if value[at] == "A" else "A") + value[at + 1 :]
    assert sig is not None
    sig = _cs_mutated_sig(draw, sig) if signed else None
    if draw(st.integers(0, 19)) == 0:
        value = '"' + value + '"'
    return draw(cs_header(name, value, sig))


@st.composite
def cs_base(draw: st.DrawFn) -> dict[str, Any]:
    signed = draw(st.integers(0, 9)) > 0
    keys: list[Any] | None = draw(st.lists(cs_keys, min_size=1, max_size=3))
    if not signed and draw(st.booleans()):
        keys = None
    return {
        "keys": keys,
        "name": draw(st.sampled_from(CS_NAMES)),
        "signed": signed,
        "https": draw(st.integers(0, 4)) == 0,
        "now": CS_NOW + draw(st.integers(0, 10**9)),
    }


@st.composite
def cookie_session_load_cases(draw: st.DrawFn) -> dict[str, Any]:
    case = draw(cs_base())
    keys = case["keys"] or ["k"]
    case["options"] = draw(cs_valid_options) if draw(st.integers(0, 2)) == 0 else {}
    case["header"] = draw(st.one_of(cs_signed_header(case["name"], keys, True), headers))
    return case


@st.composite
def cookie_session_write_cases(draw: st.DrawFn) -> dict[str, Any]:
    from engineio_session import jsjson
    from engineio_session.keygrip import keygrip_sign

    case = draw(cs_base())
    action = draw(st.sampled_from(["assign", "assign", "clear", "mutate", "mutate"]))
    case.update(action=action, header=None)
    if action == "mutate":
        case["options"] = draw(cs_valid_options)
        name, keys = case["name"], case["keys"] or ["k"]
        loaded = draw(cs_data)
        if draw(st.integers(0, 4)) > 0:
            value = _b64(jsjson.dumps(loaded))[:4000]
            signer = draw(st.one_of(st.just(keys[0]), st.sampled_from(keys), cs_keys))
            sig = keygrip_sign(f"{name}={value}", signer)
            case["header"] = f"{name}={value}; {name}.sig={sig}"
        else:
            case["header"] = draw(cs_signed_header(name, keys, case["signed"]))
        if draw(st.integers(0, 9)) == 0:
            case["data"] = None
        else:
            kept = {k: v for k, v in loaded.items() if draw(st.integers(0, 3)) > 0}
            case["data"] = {**kept, **draw(cs_data)} if draw(st.booleans()) else kept
    else:
        # options and names Node refuses when it writes; Python refuses them at once: with a
        # session to write, both say so (with nothing to write Node says nothing)
        risky = draw(st.integers(0, 4)) == 0
        case["options"] = draw(cs_any_options if risky else cs_valid_options)
        if draw(st.integers(0, 19)) == 0:
            risky = True
            case["name"] = draw(texts.filter(bool))
        if action == "assign":
            case["data"] = draw(cs_data)
            if risky:
                case["data"]["user"] = "ada"
        elif not math.isfinite(case["options"].get("max_age", 0)):
            # clearing, Node sets maxAge = null before checking it; Python refuses it at once
            del case["options"]["max_age"]
    return case


@st.composite
def cookie_session_base64_cases(draw: st.DrawFn) -> dict[str, Any]:
    if draw(st.booleans()):
        text = base64.b64encode(draw(st.binary(max_size=40))).decode("ascii")
        if draw(st.booleans()):
            text = text.rstrip("=")
        return {"text": text}
    piece = st.one_of(st.sampled_from(list(B64_ALPHABET)), st.sampled_from(B64_JUNK), any_char)
    return {"text": draw(st.lists(piece, max_size=40).map("".join))}


STRATEGIES.update(
    cookie_session_load=cookie_session_load_cases(),
    cookie_session_write=cookie_session_write_cases(),
    cookie_session_base64=cookie_session_base64_cases(),
)
