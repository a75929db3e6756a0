"""FileStore and a real Express app on session-file-store 1.5.0, sharing one directory.

Node (node-fixtures/session-server.js: express-session 1.19 on session-file-store) and
Python read and write the same files, plain and kruptein-encrypted: what one writes, the
other reads exactly, through the store's API and through a real HTTP request.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session import get_session_id, jsjson
from engineio_session._js import now_ms
from engineio_session.session import Session
from engineio_session.stores import FileStore
from engineio_session.stores._kruptein import decrypt
from tests.apps.harness import cookie_pair

from .node_session import NodeError, NodeSessionServer

SECRETS = ["s1", "s0"]
FILE_SECRET = "file secret \u00e9"
ENCRYPTION = [None, FILE_SECRET]
ENCRYPTION_IDS = ["plain", "encrypted"]

COOKIES = [
    {},
    {"maxAge": 60_000},
    {"maxAge": 60_000, "sameSite": "strict"},
    {"domain": "example.com", "path": "/", "httpOnly": False},
    {"maxAge": 3_600_000, "priority": "high", "partitioned": True, "sameSite": "lax"},
]
COOKIE_IDS = ["browser-session", "max-age", "same-site", "domain-path", "priority"]

DATA = {
    "user": "ada",
    "n": 1.5,
    "big": 2**53 + 2,
    "list": [1, None, "é", {"deep": [True, False]}],
    "text": '\u2028 😀 " \\ </script>',
    "10": "index key",
}


def node_server(
    directory: Path,
    *,
    secret: str | None = None,
    cookie: dict[str, Any] | None = None,
    **store: Any,
) -> NodeSessionServer:
    options: dict[str, Any] = {"type": "file", "path": str(directory), "retries": 0, **store}
    if secret is not None:
        options["secret"] = secret
    return NodeSessionServer(
        {"store": options, "session": {"secret": SECRETS, "cookie": cookie or {}}}
    )


def stored_text(store: FileStore, sid: str) -> str:
    """The session JSON in the file, decrypted if need be."""
    raw = Path(store.path, sid + ".json").read_text(encoding="utf-8")
    return decrypt(FILE_SECRET, raw) if store.format.encrypted else raw


@pytest.fixture
def fast_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory on tmpfs when there is one: session-file-store fsyncs every file it writes
    (about 3 ms each on a disk), which would dominate a test of thousands of sessions."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    directory = Path(tempfile.mkdtemp(prefix="engineio-session-", dir=shm))
    try:
        yield directory
    finally:
        shutil.rmtree(directory, ignore_errors=True)


# --- Node writes, Python reads -------------------------------------------------------------------


@pytest.mark.parametrize("secret", ENCRYPTION, ids=ENCRYPTION_IDS)
@pytest.mark.parametrize("cookie", COOKIES, ids=COOKIE_IDS)
def test_node_login_is_read_by_python(
    tmp_path: Path, cookie: dict[str, Any], secret: str | None
) -> None:
    with node_server(tmp_path, secret=secret, cookie=cookie) as node:
        set_cookie = node.login(DATA)
        sid = get_session_id(set_cookie, secrets=SECRETS)  # the Set-Cookie alone
        assert sid is not None
        store = FileStore(tmp_path, secret=secret)
        session = store.get(sid)
        assert session is not None
        assert session.to_json() == node.call("get", sid=sid)
        assert {key: session[key] for key in DATA} == DATA
        # and written back, it would be byte for byte the file Node wrote
        assert jsjson.dumps(session) == stored_text(store, sid)
        assert session.cookie.same_site == cookie.get("sameSite")
        # express-session reads originalMaxAge back as expires - Date.now(), a moment after
        # setting expires = now + maxAge: when the clock ticks in between it is 1 ms short
        max_age = cookie.get("maxAge")
        if max_age is None:
            assert session.cookie.original_max_age is None
        else:
            assert max_age - 1 <= session.cookie.original_max_age <= max_age  # type: ignore[operator]
        assert store.ids() == [sid] and store.length() == 1
        assert not store.expired(sid)


def test_expiry_agrees_with_node(tmp_path: Path) -> None:
    """With the same ttl, Node's get and ours agree on which files have expired."""
    now = now_ms()
    cookie = {"originalMaxAge": None, "expires": None, "httpOnly": True, "path": "/"}
    cases = {
        "fresh": {"cookie": cookie, "__lastAccess": now},
        "stale": {"cookie": cookie, "__lastAccess": now - 120_000},
        "timeless": {"cookie": cookie},
        "maxage": {"cookie": {**cookie, "originalMaxAge": 600_000}, "__lastAccess": now - 120_000},
        "short": {"cookie": {**cookie, "originalMaxAge": 1000}, "__lastAccess": now - 5000},
        "text": {"cookie": cookie, "__lastAccess": str(now)},
        "null": {"cookie": cookie, "__lastAccess": None},
    }
    for sid, content in cases.items():
        (tmp_path / f"{sid}.json").write_text(json.dumps(content))
    store = FileStore(tmp_path, ttl=60)
    with node_server(tmp_path, ttl=60) as node:
        for sid in cases:
            ours = store.get(sid)
            assert (None if ours is None else ours.to_json()) == node.call("get", sid=sid), sid
    assert sorted(store.reap()) == ["null", "short", "stale"]


# --- Python writes, Node reads -------------------------------------------------------------------


@pytest.mark.parametrize("secret", ENCRYPTION, ids=ENCRYPTION_IDS)
def test_python_set_touch_destroy_reach_node(tmp_path: Path, secret: str | None) -> None:
    with node_server(tmp_path, secret=secret, cookie={"maxAge": 60_000}) as node:
        set_cookie = node.login({"user": "ada", "views": 1})
        sid = get_session_id(set_cookie, secrets=SECRETS)
        assert sid is not None
        store = FileStore(tmp_path, secret=secret)

        # set: a change made in Python is what Node loads
        session = store.get(sid)
        assert session is not None
        session["views"] = 2
        session["from"] = "python"
        before = now_ms()
        store.set(sid, session)
        assert before <= session["__lastAccess"] <= now_ms()
        assert node.call("get", sid=sid) == session.to_json()
        status, body, _ = node.request("GET", "/session", cookie=set_cookie)
        assert status == 200 and body["loaded"] and body["id"] == sid
        assert body["session"]["views"] == 2 and body["session"]["from"] == "python"

        # touch: only the cookie and __lastAccess change
        stamped = node.call("get", sid=sid)["__lastAccess"]
        other = Session.new(sid, max_age=120_000)
        other["views"] = 999  # not saved by touch
        store.touch(sid, other)
        touched = node.call("get", sid=sid)
        assert touched["cookie"] == other.cookie.to_json()
        assert touched["views"] == 2 and touched["__lastAccess"] >= stamped
        assert {k: v for k, v in touched.items() if k not in ("cookie", "__lastAccess")} == {
            "user": "ada",
            "views": 2,
            "from": "python",
        }

        # destroy: Node's store no longer has it, and Express starts a new session
        store.destroy(sid)
        with pytest.raises(NodeError, match="ENOENT"):
            node.call("get", sid=sid)
        status, body, _ = node.request("GET", "/session", cookie=set_cookie)
        assert status == 200 and not body["loaded"] and body["id"] != sid


@pytest.mark.parametrize("secret", ENCRYPTION, ids=ENCRYPTION_IDS)
def test_a_session_python_creates_is_loaded_by_express(tmp_path: Path, secret: str | None) -> None:
    store = FileStore(tmp_path, secret=secret)
    session = Session.new(max_age=60_000, same_site="lax")
    session["user"] = "grace"
    store.set(session.id, session)
    cookie = cookie_pair(session.id, SECRETS[0])  # signed as express-session signs it
    with node_server(tmp_path, secret=secret) as node:
        status, body, _ = node.request("GET", "/session", cookie=cookie)
        assert status == 200 and body["loaded"] and body["id"] == session.id
        assert body["session"]["user"] == "grace"
        assert body["session"]["cookie"]["sameSite"] == "lax"
        # the data was unchanged, so express-session called store.touch(): Python reads that
    touched = store.get(session.id)
    assert touched is not None and dict(touched) == {
        **session,
        "__lastAccess": touched["__lastAccess"],
    }
    assert touched["__lastAccess"] >= session["__lastAccess"]
    assert touched.cookie.expires_ms >= session.cookie.expires_ms


def test_touch_writes_what_session_file_store_writes(tmp_path: Path) -> None:
    """The same touch, by Node and by Python, on the same stored session: the same file."""
    now = now_ms()
    cookie = {"originalMaxAge": 60_000, "expires": None, "httpOnly": True, "path": "/"}
    new_cookie = {"originalMaxAge": 90_000, "expires": None, "httpOnly": True, "path": "/x"}
    stored = {"cookie": cookie, "10": 1, "user": "ada", "__lastAccess": now}
    expired = {"cookie": cookie, "user": "ada", "__lastAccess": 5}
    for name, content in (("n1", stored), ("p1", stored), ("n2", expired), ("p2", expired)):
        (tmp_path / f"{name}.json").write_text(json.dumps(content))
    store = FileStore(tmp_path)
    with node_server(tmp_path) as node:
        node.call("touch", sid="n1", session={"cookie": new_cookie, "user": "ignored"})
        node.call("touch", sid="n2", session={"cookie": new_cookie, "user": "ignored"})
    given = Session.from_json("x", {"cookie": new_cookie, "user": "ignored"})
    store.touch("p1", given)
    store.touch("p2", given)

    def without_stamp(name: str) -> tuple[list[str], dict[str, Any]]:
        data = json.loads((tmp_path / f"{name}.json").read_text())
        assert data["__lastAccess"] >= now
        return list(data), {k: v for k, v in data.items() if k != "__lastAccess"}

    assert without_stamp("p1") == without_stamp("n1")
    assert without_stamp("p2") == without_stamp("n2")
    assert without_stamp("p2")[0] == ["cookie", "__lastAccess"]  # expired: started from {}


# --- property: random sessions, Node -> Python -> Node -------------------------------------------


def round_trip(node: NodeSessionServer, store: FileStore, sids: list[str], seed: int) -> None:
    node.call("roundtrip-generate", sids=sids, seed=seed)
    loaded = [store.get(sid) for sid in sids]
    assert all(session is not None for session in loaded)
    sessions = [session for session in loaded if session is not None]
    # Python reads what Node reads, and would write back Node's very bytes
    assert node.call("deep-equal", sids=sids, expected=[s.to_json() for s in sessions]) == []
    originals = [stored_text(store, sid) for sid in sids]
    assert [jsjson.dumps(session) for session in sessions] == originals
    # written under new ids, Node reads exactly what Python wrote (new __lastAccess included)
    copies = [f"{sid}-py" for sid in sids]
    for copy, session in zip(copies, sessions, strict=True):
        old = session["__lastAccess"]
        store.set(copy, session)
        assert session["__lastAccess"] >= old
    expected = [session.to_json() for session in sessions]
    assert node.call("deep-equal", sids=copies, expected=expected) == []
    # and the only difference in the bytes is the new stamp, in its place
    for sid, copy, original, session in zip(sids, copies, originals, sessions, strict=True):
        text = stored_text(store, copy)
        cut = original.rindex('"__lastAccess":')
        assert text == original[:cut] + f'"__lastAccess":{session["__lastAccess"]}}}', sid


def test_random_sessions_round_trip_plain(fast_dir: Path) -> None:
    store = FileStore(fast_dir)
    with node_server(fast_dir) as node:
        for batch in range(4):
            sids = [f"r{batch}-{i}" for i in range(500)]
            round_trip(node, store, sids, seed=1000 + 500 * batch)
    assert store.length() == 4000


def test_random_sessions_round_trip_encrypted(fast_dir: Path) -> None:
    store = FileStore(fast_dir, secret=FILE_SECRET)
    with node_server(fast_dir, secret=FILE_SECRET) as node:
        round_trip(node, store, [f"e{i}" for i in range(24)], seed=7)
