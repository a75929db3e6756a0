"""One place that runs a core vector or fuzz case through the Python port.

A case has the shape of tests/vectors/*.json (wire-decoded); ``python_answer`` returns the
answer in the shape Node gives, and ``expected`` says what the Python answer must be for a
given Node answer (the two deliberate differences are documented there).
"""

from __future__ import annotations

import math
from typing import Any

from engineio_session import get_session_id, jsjson, parse_cookie, serialize_cookie, sign, unsign
from engineio_session.session import Cookie

from . import cookie_session_cases, wire

OPS = (
    "parse",
    "serialize",
    "sign",
    "unsign",
    "getcookie",
    "json",
    "cookie",
    *cookie_session_cases.OPS,
)


def python_answer(op: str, case: dict[str, Any]) -> dict[str, Any]:
    if op in cookie_session_cases.OPS:
        return cookie_session_cases.python_answer(op, case)
    if op == "parse":
        return {"result": parse_cookie(case["header"])}
    if op == "serialize":
        try:
            return {
                "result": serialize_cookie(case["name"], case["value"], **case.get("options", {}))
            }
        except ValueError as error:
            return {"error": str(error)}
    if op == "sign":
        return {"result": sign(case["value"], case["secret"])}
    if op == "unsign":
        return {"result": unsign(case["signed"], case["secrets"])}
    if op == "getcookie":
        return {"result": get_session_id(case["header"], case["name"], secrets=case["secrets"])}
    if op == "json":
        try:
            return {"result": jsjson.dumps(jsjson.loads(case["text"]))}
        except ValueError:
            return {"error": "SyntaxError"}
    if op == "cookie":
        return {"result": cookie_snapshots(case)}
    raise ValueError(op)


def cookie_snapshots(case: dict[str, Any]) -> list[dict[str, Any]]:
    """express-session's Cookie through the case's steps, snapshotted as the vectors are."""
    options = {k: None if v is wire.UNDEFINED else v for k, v in case["options"].items()}
    cookie = Cookie(**options, now=case["now"])
    snapshots = [_snapshot(cookie, case["now"])]
    for step in case["steps"]:
        if step["op"] == "touch":
            cookie.touch(now=step["now"])
        elif step["op"] == "maxAge":
            cookie.set_max_age(step["value"], now=step["now"])
        else:
            cookie.set_expires(step["value"], now=step["now"])
        snapshots.append(_snapshot(cookie, step["now"]))
    return snapshots


def _snapshot(cookie: Cookie, now: int) -> dict[str, Any]:
    try:
        serialized: dict[str, Any] = {"result": cookie.serialize("connect.sid", "s:abc.def")}
    except ValueError as error:
        serialized = {"error": str(error)}
    max_age = cookie.max_age(now=now)
    return {
        "json": jsjson.dumps(cookie.to_json()),
        "maxAge": max_age,
        "serialize": serialized,
    }


def expected(op: str, node: dict[str, Any], case: dict[str, Any] | None = None) -> dict[str, Any]:
    """The Python answer that matches Node's answer ``node`` (to ``case``)."""
    if op in cookie_session_cases.OPS:
        assert case is not None
        return cookie_session_cases.expected(op, case, node)
    if op == "getcookie":
        # express-session treats an empty id as none (``if (!req.sessionID)``), and a cookie
        # name that is an Object.prototype property (``constructor``, ``__proto__``) makes
        # its getcookie throw, so the request fails with no session; we answer None.
        return {"result": node.get("result") or None}
    return node


def js_canonical(value: Any) -> Any:
    """``value`` with every surrogate pair held as two code points joined into one.

    Both spell the same JS string; Python's json joins the pairs Node writes, while a Python
    input may hold them apart. Lone surrogates stay as they are. NaN becomes None.
    """
    if isinstance(value, str):
        return value.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    if isinstance(value, dict):
        return {js_canonical(k): js_canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [js_canonical(item) for item in value]
    if isinstance(value, float) and math.isnan(value):
        return None  # NaN != NaN; and JSON (the vectors) writes it as null anyway
    return value


def mismatches(op: str, cases: list[dict[str, Any]], answers: list[dict[str, Any]]) -> list[str]:
    """Readable lines for every case where Python and Node disagree."""
    lines = []
    for case, node in zip(cases, answers, strict=True):
        want = js_canonical(expected(op, node, case))
        got = js_canonical(python_answer(op, case))
        if got != want:
            lines.append(f"{op} {case!r}: node {want!r}, python {got!r}")
        elif case.get("canonical") and node.get("result") != case["text"]:
            # the text is jsjson.dumps(value): Node must write exactly that back
            lines.append(f"{op} {case!r}: Node writes {node!r}, not the same bytes")
    return lines
