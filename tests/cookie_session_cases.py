"""The cookie-session ops of the vectors and the fuzz, run through the Python port.

A case has the shape of tests/vectors/cookie_session_*.json (wire-decoded), the same inputs
node-fixtures/lib/answers.js gives the real middleware. ``python_answer`` answers in Node's
shape; ``expected`` says what the Python answer must be for Node's answer, with the
deliberate differences (the refusals of cookie_session.py) spelled out there.
"""

from __future__ import annotations

from typing import Any

from engineio_session import CookieSession, jsjson
from engineio_session._buffer import buffer_from_base64
from engineio_session._js import utf8
from engineio_session.cookie_session import INSECURE, MAX_COOKIE_VALUE, CookieRead

from .wire import UNDEFINED

OPS = ("cookie_session_load", "cookie_session_write", "cookie_session_base64")
OVERSIZED = "oversized"  # set_error: Python refuses to write a cookie a browser would drop


def instance(case: dict[str, Any]) -> CookieSession:
    options = {key: None if value is UNDEFINED else value for key, value in case["options"].items()}
    return CookieSession(case["keys"], case["name"], signed=case["signed"], **options)


def _commit(
    sessions: CookieSession, read: CookieRead, data: dict[str, Any] | None, now: int
) -> dict[str, Any]:
    try:
        return {"set_cookie": sessions.commit(read, data, now=now)}
    except ValueError as error:
        if str(error).startswith(INSECURE):
            return {"set_cookie": list(read.set_cookie), "set_error": INSECURE}
        return {"set_error": OVERSIZED}


def mutated(loaded: dict[str, Any] | None, data: dict[str, Any]) -> dict[str, Any]:
    """The handler's in-place change: keys not in ``data`` deleted, the others assigned (an
    existing key keeps its place, as in JS)."""
    final = {key: value for key, value in (loaded or {}).items() if key in data}
    final.update(data)
    return final


def python_answer(op: str, case: dict[str, Any]) -> dict[str, Any]:
    if op == "cookie_session_base64":
        raw = buffer_from_base64(case["text"])
        return {"result": {"hex": raw.hex(), "utf8": raw.decode("utf-8", "replace")}}
    try:
        sessions = instance(case)
    except (TypeError, ValueError) as error:
        # Node throws the same message from cookies.set on each response, writing nothing
        return {"result": {"set_cookie": [], "set_error": str(error)}}
    now = case["now"]
    if op == "cookie_session_load":
        read = sessions.read(case["header"], https=case["https"])
        session = None if read.data is None else jsjson.dumps(read.data)
        # the handler leaves req.session as it is: a new one is empty
        unchanged = {} if read.data is None else read.data
        return {"result": {"session": session, **_commit(sessions, read, unchanged, now)}}
    if op == "cookie_session_write":
        action, https = case["action"], case["https"]
        if action == "mutate":
            read = sessions.read(case["header"], https=https)
            data = None if case["data"] is None else mutated(read.data, case["data"])
            return {"result": _commit(sessions, read, data, now)}
        fresh = CookieRead("absent", https=https)  # assign/clear never read the cookie
        data = case["data"] if action == "assign" else None
        return {"result": _commit(sessions, fresh, data, now)}
    raise ValueError(op)


def _too_long(set_cookie: list[str]) -> bool:
    for header in set_cookie:
        name, _, value = header.split(";", 1)[0].partition("=")
        if len(utf8(name)) + len(value) > MAX_COOKIE_VALUE:
            return True
    return False


def expected(op: str, case: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    """The Python answer that matches Node's answer ``node`` to ``case``.

    - A Cookie header over 16 KiB, or a cookie value over 4096 characters (``oversized`` in
      the case), is refused unread: no session and no Set-Cookie, where Node reads it.
    - A Set-Cookie that browsers would drop (name and value over 4096 bytes) is an error in
      Python (``set_error: "oversized"``, nothing else compared), where Node writes it.

    Compared as they are: ``secure=True`` without HTTPS (Node's cookies.set throws, and
    cookie-session writes nothing; Python raises with Node's message), and options or names
    Node refuses when it writes (Python refuses them when constructed, with Node's message;
    the cases give them a session to write, and a clear never a non-finite max_age, which
    Node's Cookie nulls before it checks it).
    """
    if op == "cookie_session_base64" or "result" not in node:
        return node
    result = dict(node["result"])
    if case.get("oversized"):
        return {"result": {"session": None, "set_cookie": []}}
    if _too_long(result.get("set_cookie", [])):
        result.pop("set_cookie")
        result["set_error"] = OVERSIZED
    return {"result": result}
