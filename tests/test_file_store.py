"""FileStore / AsyncFileStore: session-file-store 1.5.0's rules, on a real directory.

The pure rules (file names, ids, isExpired) are checked without a disk, and against Node's
own session-file-helpers where JS semantics decide; every method then runs on a real
directory, through the sync store and the async one alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import os
import stat
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session import jsjson
from engineio_session._js import now_ms
from engineio_session.changes import Changes
from engineio_session.errors import CorruptSessionError, StoreError
from engineio_session.session import Cookie, Session
from engineio_session.stores import AsyncFileStore, FileStore
from engineio_session.stores.file import (
    FileFormat,
    is_expired,
    session_file_name,
    session_id_from_file,
)

from . import node
from .store_contract import AsyncDriver, SyncDriver, check_contract, check_method_kinds

SECRET = "keyboard cat"
COOKIE = {"originalMaxAge": None, "expires": None, "httpOnly": True, "path": "/"}


# --- names -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sid", "extension", "name"),
    [
        ("Dc3uMj6ewTvkSV5h1ZrU6LqJY5_73-AE", ".json", "Dc3uMj6ewTvkSV5h1ZrU6LqJY5_73-AE.json"),
        ("a.b", ".json", "a.b.json"),
        ("...", ".json", "....json"),
        ("é 😀 x", ".json", "é 😀 x.json"),
        ("abc", "", "abc"),
        ("abc", ".sess", "abc.sess"),
    ],
)
def test_file_name_is_sid_plus_extension(sid: str, extension: str, name: str) -> None:
    assert session_file_name(sid, extension) == name


@pytest.mark.parametrize(
    ("sid", "extension"),
    [
        ("", ".json"),
        (".", ".json"),
        ("..", ".json"),
        (".", ""),
        ("..", ""),
        ("../x", ".json"),
        ("a/b", ".json"),
        ("a\\b", ".json"),
        ("/etc/passwd", ""),
        ("..\\..\\windows", ".json"),
        ("x\x00y", ".json"),
    ],
)
def test_ids_that_could_leave_the_directory_are_refused(sid: str, extension: str) -> None:
    with pytest.raises(ValueError, match="is not a file name in the session directory"):
        session_file_name(sid, extension)
    assert not FileFormat("/tmp/x", file_extension=extension).reachable_id(sid)


def test_a_long_hostile_id_is_shortened_in_the_message() -> None:
    with pytest.raises(ValueError) as caught:
        session_file_name("../" * 100)
    assert len(str(caught.value)) < 150


def test_file_path_is_the_utf8_node_uses() -> None:
    fmt = FileFormat("/srv/sessions")
    assert fmt.file_path("é") == "/srv/sessions/é.json".encode()
    # a lone surrogate is U+FFFD in the name, as Node encodes the path string
    assert fmt.file_path("a\ud800") == "/srv/sessions/a\ufffd.json".encode()


FILES = ["a.json", "a.json.json", ".json", "a.JSON", "a.jsonx", "a", "a.json\n", "é.json", ""]
EXTENSIONS = [".json", "", ".j+on", ".$", "(x)", "[a]", ".*", "json", "a.json"]


def test_session_id_from_file_name() -> None:
    assert session_id_from_file("abc.json") == "abc"
    assert session_id_from_file("abc.json.json") == "abc.json"
    assert session_id_from_file(".json") == ""
    assert session_id_from_file("abc.txt") == ""
    assert session_id_from_file("abc.txt", "") == "abc.txt"


def test_session_id_and_listing_match_node() -> None:
    """sessionId() and filePattern.exec() (a RegExp built from the extension) as Node has them."""
    cases = [{"file": f, "ext": e} for f, e in itertools.product(FILES, EXTENSIONS)]
    answers = [answer["result"] for answer in node.answers("fileSessionId", cases)]
    ours = [
        {
            "id": session_id_from_file(c["file"], c["ext"]),
            "listed": FileFormat("/x", file_extension=c["ext"]).is_session_file(c["file"]),
        }
        for c in cases
    ]
    assert ours == answers


@pytest.mark.parametrize("extension", ["/x", "a\\b", "\x00"])
def test_an_extension_with_a_separator_is_refused(extension: str) -> None:
    with pytest.raises(ValueError, match="file_extension"):
        FileFormat("/x", file_extension=extension)


def test_options_are_checked() -> None:
    with pytest.raises(ValueError, match="secret must not be empty"):
        FileFormat("/x", secret="")
    with pytest.raises(TypeError, match="ttl"):
        FileFormat("/x", ttl="3600")  # type: ignore[arg-type]
    assert FileFormat("a//b/../c").path == os.path.normpath("a//b/../c")


# --- isExpired -----------------------------------------------------------------------------------

MISSING = object()
LAST_ACCESS = [
    MISSING, None, True, False, 0, 1000, 999, 1e15, -5, 1.5,
    "1000", "", "  12 ", "0x10", "abc", "1e3", "Infinity", "-Infinity", "1_0",
    [], [1000], [1, 2], [None], {},
]  # fmt: skip
COOKIES = [
    MISSING, None, {}, {"originalMaxAge": None}, {"originalMaxAge": 0},
    {"originalMaxAge": 500}, {"originalMaxAge": -500}, {"originalMaxAge": "500"}, "str", [1],
]  # fmt: skip
TTLS = [0, 1, 3600, 0.0005]
NOWS = [0, 1000, 1500, 2000, 1e15 + 3_600_000]


def stored(cookie: Any, last_access: Any) -> dict[str, Any]:
    session: dict[str, Any] = {}
    if cookie is not MISSING:
        session["cookie"] = cookie
    if last_access is not MISSING:
        session["__lastAccess"] = last_access
    return session


def test_is_expired_rules() -> None:
    no_max_age = {"originalMaxAge": None}
    # the lifetime is ttl * 1000 without an originalMaxAge ...
    assert not is_expired(stored(no_max_age, 1000), ttl=1, now=2000)
    assert is_expired(stored(no_max_age, 1000), ttl=1, now=2001)
    # ... and originalMaxAge when it is truthy
    assert not is_expired(stored({"originalMaxAge": 500}, 1000), ttl=3600, now=1500)
    assert is_expired(stored({"originalMaxAge": 500}, 1000), ttl=3600, now=1501)
    assert not is_expired(stored({"originalMaxAge": 0}, 1000), ttl=1, now=2000)
    # !ttl: a zero lifetime is always expired
    assert is_expired(stored(no_max_age, 10**15), ttl=0, now=0)
    # no __lastAccess: undefined + ttl is NaN, and NaN < now is false: never expired
    assert not is_expired(stored(no_max_age, MISSING), ttl=0.001, now=1e15)
    # !session
    assert is_expired(None, ttl=3600, now=0)


def test_is_expired_matches_node() -> None:
    """helpers.isExpired on every odd value JSON can hold, with Node's clock pinned."""
    cases = [
        {"session": stored(cookie, last), "ttl": ttl, "now": now}
        for cookie, last, ttl, now in itertools.product(COOKIES, LAST_ACCESS, TTLS, NOWS)
    ]
    cases += [
        {"session": value, "ttl": 3600, "now": 0} for value in (None, 0, "", 5, "x", [], False)
    ]
    answers = [answer["result"] for answer in node.answers("fileIsExpired", cases)]
    ours = [is_expired(c["session"], ttl=c["ttl"], now=c["now"]) for c in cases]
    mismatches = [(c, a) for c, a, o in zip(cases, answers, ours, strict=True) if a != o]
    assert not mismatches, mismatches[:5]
    assert len(cases) > 4000


def test_readable_adds_the_cookie_rule() -> None:
    fmt = FileFormat("/x", ttl=3600)
    session = Session("a", Cookie(max_age=1000, now=0))
    session["__lastAccess"] = 10_000  # the file's rule: alive until 10_000 + 1000
    assert not fmt.node_expired(session, 10_500)
    assert session.cookie.expired(now=10_500)
    assert not fmt.readable(session, 10_500)


# --- bytes: encode / decode without a disk ------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"", "not JSON"),
        (b"{", "not JSON"),
        (b'\xef\xbb\xbf{"cookie":{}}', "not JSON"),  # fs.readFile keeps a BOM; JSON.parse fails
        (b"null", "not an object"),
        (b"[1]", "not an object"),
        (b'"text"', "not an object"),
        (b'{"user":"ada"}', "no cookie"),
        (b'{"cookie":5}', "cookie"),
        (b'{"cookie":{"expires":"soon"}}', "not a date"),
        (b'{"hmac":"x","ct":"y","iv":{}}', "this store has no secret"),
    ],
)
def test_corrupt_bytes(raw: bytes, reason: str, caplog: pytest.LogCaptureFixture) -> None:
    fmt = FileFormat("/x")
    with (
        caplog.at_level(logging.WARNING, "engineio_session"),
        pytest.raises(CorruptSessionError, match=reason) as caught,
    ):
        fmt.decode("sid1", raw)
    assert caught.value.store == "FileStore" and caught.value.sid == "sid1"
    # raised, not logged: whoever catches it logs it, once (ours only: another test's
    # client thread may log meanwhile)
    assert [r for r in caplog.records if r.name.startswith("engineio_session")] == []


def test_a_plain_file_read_with_a_secret_is_corrupt() -> None:
    with pytest.raises(CorruptSessionError, match=r"cannot decrypt.*a plain session file"):
        FileFormat("/x", secret=SECRET).decode("sid1", b'{"cookie":{}}')


def test_invalid_utf8_reads_as_node_reads_it() -> None:
    session = FileFormat("/x").decode("s", b'{"cookie":{},"v":"\xff"}')
    assert session["v"] == "\ufffd"


def test_encoded_session_round_trips_plain_and_encrypted() -> None:
    text = jsjson.dumps(Session("s", Cookie(), {"u": "é"}))
    for fmt in (FileFormat("/x"), FileFormat("/x", secret=SECRET)):
        assert jsjson.dumps(fmt.decode("s", fmt.encode(text))) == text
    assert FileFormat("/x").encode(text) == text.encode("utf-8")


# --- on disk, sync and async alike ---------------------------------------------------------------


class Blocking:
    """An AsyncFileStore driven from a test as if it were sync (one event loop per call)."""

    def __init__(self, store: AsyncFileStore) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        if not asyncio.iscoroutinefunction(method):
            return method
        return lambda *args: asyncio.run(method(*args))


Factory = Callable[..., Any]


@pytest.fixture(params=["sync", "async"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path) -> Factory:
    def make(path: Path | None = None, **options: Any) -> Any:
        directory = tmp_path / "sessions" if path is None else path
        if request.param == "sync":
            return FileStore(directory, **options)
        return Blocking(AsyncFileStore(directory, **options))

    return make


def session_with(data: dict[str, Any], *, max_age: float | None = None) -> Session:
    session = Session.new(max_age=max_age)
    session.update(data)
    return session


def write(path: Path, value: Any) -> None:
    path.write_text(json.dumps(value), encoding="utf-8")


def test_the_directory_is_made_with_its_parents(make_store: Factory, tmp_path: Path) -> None:
    make_store(tmp_path / "a" / "b" / "c")
    assert (tmp_path / "a" / "b" / "c").is_dir()
    make_store(tmp_path / "a" / "b" / "c")  # and again: no error


def test_a_file_where_the_directory_should_be_is_a_store_error(
    make_store: Factory, tmp_path: Path
) -> None:
    (tmp_path / "taken").write_text("")
    with pytest.raises(StoreError, match="FileStore"):
        make_store(tmp_path / "taken")


def test_set_writes_what_node_writes(make_store: Factory, tmp_path: Path) -> None:
    store = make_store()
    session = session_with({"user": "ada", "10": 1, "2": [1e21, -0.0]}, max_age=60_000)
    before = now_ms()
    store.set("abc", session)
    # setLastAccess mutated the session we passed, and that is what was written
    assert before <= session["__lastAccess"] <= now_ms()
    raw = (tmp_path / "sessions" / "abc.json").read_text(encoding="utf-8")
    assert raw == jsjson.dumps(session)
    assert raw.startswith('{"2":[1e+21,0],"10":1,"cookie":{"originalMaxAge":60000,')
    assert raw.endswith(f',"__lastAccess":{session["__lastAccess"]}}}')
    assert os.listdir(tmp_path / "sessions") == ["abc.json"]  # no temporary file left


def test_get_returns_the_stored_session(make_store: Factory) -> None:
    store = make_store()
    session = session_with({"user": "ada", "nested": {"a": [1, None, "é"]}}, max_age=60_000)
    store.set("abc", session)
    loaded = store.get("abc")
    assert loaded == Session("abc", session.cookie, dict(session))
    assert loaded.id == "abc" and not loaded.modified
    assert store.get("nothere") is None


def test_set_again_keeps_the_key_order(make_store: Factory, tmp_path: Path) -> None:
    store = make_store()
    session = session_with({"a": 1})
    store.set("abc", session)
    session["b"] = 2
    store.set("abc", session)
    text = (tmp_path / "sessions" / "abc.json").read_text()
    assert list(json.loads(text)) == ["cookie", "a", "__lastAccess", "b"]


def test_unicode_ids_are_utf8_file_names(make_store: Factory, tmp_path: Path) -> None:
    store = make_store()
    store.set("é😀", session_with({"x": 1}))
    store.set("a\ud800", session_with({"x": 2}))
    names = sorted(os.listdir(os.fsencode(tmp_path / "sessions")))
    assert names == sorted(["é😀.json".encode(), "a\ufffd.json".encode()])
    assert store.get("é😀")["x"] == 1
    assert store.get("a\ufffd")["x"] == 2  # the same file, as in Node
    assert sorted(store.ids()) == sorted(["é😀", "a\ufffd"])


def test_refused_ids_never_reach_the_filesystem(make_store: Factory, tmp_path: Path) -> None:
    """A session outside the directory stays out of reach, whatever the id says."""
    store = make_store()
    write(tmp_path / "outside.json", {"cookie": COOKIE, "stolen": True})
    opened: list[Any] = []
    with record_opens(opened):
        assert store.get("../outside") is None
        assert store.expired("../outside") is True
        assert store.get("") is None
    here = [os.fsdecode(path) for path in opened if str(tmp_path) in os.fsdecode(path)]
    assert here == []
    with record_opens(opened):  # and the recording works: a reachable id is opened
        assert store.get("inside") is None
    here = [os.fsdecode(path) for path in opened if str(tmp_path) in os.fsdecode(path)]
    assert here == [str(tmp_path / "sessions" / "inside.json")]
    for method in ("set", "touch"):
        with pytest.raises(ValueError, match="not a file name"):
            getattr(store, method)("../evil", session_with({}))
    with pytest.raises(ValueError, match="not a file name"):
        store.destroy("../outside")
    assert (tmp_path / "outside.json").exists()
    assert not (tmp_path / "evil.json").exists()


_opens: list[list[Any]] = []
_hooked = False


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if event == "open" and _opens:
        _opens[-1].append(args[0])


@contextlib.contextmanager
def record_opens(into: list[Any]) -> Iterator[None]:
    """Every file ``open`` (Python's audit event) while inside, in any thread."""
    global _hooked
    if not _hooked:  # an audit hook cannot be removed: add one, once, and only if needed
        sys.addaudithook(_audit)
        _hooked = True
    _opens.append(into)
    try:
        yield
    finally:
        _opens.remove(into)


def test_a_name_too_long_to_exist_reads_as_none(make_store: Factory) -> None:
    assert make_store().get("x" * 5000) is None


def test_expiry_by_ttl_and_by_original_max_age(make_store: Factory, tmp_path: Path) -> None:
    store = make_store(ttl=60)
    directory = tmp_path / "sessions"
    now = now_ms()
    write(directory / "fresh.json", {"cookie": COOKIE, "__lastAccess": now - 30_000})
    write(directory / "stale.json", {"cookie": COOKIE, "__lastAccess": now - 61_000})
    # originalMaxAge, when set, replaces ttl (its expires is far off: only isExpired decides)
    long_cookie = {**COOKIE, "originalMaxAge": 3_600_000}
    write(directory / "long.json", {"cookie": long_cookie, "__lastAccess": now - 61_000})
    short_cookie = {**COOKIE, "originalMaxAge": 1000}
    write(directory / "short.json", {"cookie": short_cookie, "__lastAccess": now - 2000})
    assert store.get("fresh") is not None and not store.expired("fresh")
    assert store.get("stale") is None and store.expired("stale")
    assert store.get("long") is not None and not store.expired("long")
    assert store.get("short") is None and store.expired("short")
    assert store.expired("nothere")
    # expired files stay until reaped
    assert sorted(store.ids()) == ["fresh", "long", "short", "stale"]


def test_no_last_access_never_expires_by_the_file_rule(make_store: Factory, tmp_path: Path) -> None:
    """isExpired: undefined + ttl is NaN, and NaN < now is false (kept from Node)."""
    store = make_store(ttl=0.001)
    write(tmp_path / "sessions" / "old.json", {"cookie": COOKIE, "user": "ada"})
    assert store.get("old")["user"] == "ada"
    assert not store.expired("old")
    assert store.reap() == []


def test_ttl_zero_expires_every_session_without_max_age(make_store: Factory) -> None:
    store = make_store(ttl=0)
    store.set("a", session_with({}))
    store.set("b", session_with({}, max_age=60_000))
    assert store.get("a") is None and store.get("b") is not None


def test_an_expired_cookie_reads_as_none(make_store: Factory, tmp_path: Path) -> None:
    store = make_store()
    cookie = {**COOKIE, "originalMaxAge": None, "expires": "2000-01-01T00:00:00.000Z"}
    write(tmp_path / "sessions" / "a.json", {"cookie": cookie, "__lastAccess": now_ms()})
    assert store.get("a") is None
    assert not store.expired("a")  # session-file-store's own rule says alive


def test_touch_replaces_only_the_cookie(make_store: Factory, tmp_path: Path) -> None:
    store = make_store()
    original = session_with({"user": "ada"}, max_age=60_000)
    store.set("abc", original)
    stamped = original["__lastAccess"]
    time.sleep(0.002)
    other = session_with({"user": "mallory", "extra": 1}, max_age=120_000)
    store.touch("abc", other)
    text = (tmp_path / "sessions" / "abc.json").read_text()
    data = json.loads(text)
    assert data["cookie"] == other.cookie.to_json()
    assert data["user"] == "ada" and "extra" not in data
    assert data["__lastAccess"] > stamped
    assert list(data) == ["cookie", "user", "__lastAccess"]
    # helpers.touch stamps the object it re-read, not the session it was given
    assert "__lastAccess" not in other


def test_touch_of_an_expired_session_starts_from_nothing(
    make_store: Factory, tmp_path: Path
) -> None:
    store = make_store(ttl=1)
    write(tmp_path / "sessions" / "old.json", {"cookie": COOKIE, "user": "ada", "__lastAccess": 5})
    fresh = session_with({"user": "x"}, max_age=1000)
    store.touch("old", fresh)
    data = json.loads((tmp_path / "sessions" / "old.json").read_text())
    assert list(data) == ["cookie", "__lastAccess"]
    assert data["cookie"] == fresh.cookie.to_json()


def test_touch_of_a_missing_session_leaves_it_missing(make_store: Factory, tmp_path: Path) -> None:
    # Node's touch fails (ENOENT); writing the cookie would resurrect a logged-out session
    store = make_store()
    store.touch("new", session_with({"user": "x"}))
    assert not (tmp_path / "sessions" / "new.json").exists()


def test_destroy(make_store: Factory, tmp_path: Path) -> None:
    store = make_store()
    store.set("abc", session_with({}))
    store.destroy("abc")
    assert not (tmp_path / "sessions" / "abc.json").exists()
    store.destroy("abc")  # fs.remove: no error for a missing file


def test_ids_length_clear_and_their_neighbours(make_store: Factory, tmp_path: Path) -> None:
    directory = tmp_path / "sessions"
    store = make_store()
    for sid in ("a", "b", "c.d"):
        store.set(sid, session_with({}))
    (directory / "notes.txt").write_text("not a session")
    (directory / ".json").write_text("{}")  # sessionId gives '': counted, not an id
    (directory / "dir.json").mkdir()  # listed by readdir, never removed by clear()
    (directory / "dir.json" / "inner.json").write_text("{}")
    with open(os.path.join(os.fsencode(directory), b"\xff.json"), "wb") as raw:
        raw.write(b"{}")  # not UTF-8: readdir names it U+FFFD
    assert sorted(store.ids()) == ["a", "b", "c.d", "dir", "\ufffd"]
    assert store.length() == 6
    store.clear()
    assert sorted(os.listdir(directory)) == ["dir.json", "notes.txt"]
    assert store.ids() == ["dir"] and store.length() == 1


def test_another_extension_and_none(make_store: Factory, tmp_path: Path) -> None:
    store = make_store(tmp_path / "s", file_extension=".sess")
    store.set("a", session_with({}))
    (tmp_path / "s" / "b.json").write_text("{}")
    assert store.ids() == ["a"] and os.path.exists(tmp_path / "s" / "a.sess")
    bare = make_store(tmp_path / "bare", file_extension="")
    bare.set("a", session_with({"n": 1}))
    (tmp_path / "bare" / "b.json").write_text("{}")
    assert sorted(bare.ids()) == ["a", "b.json"] and bare.get("a")["n"] == 1


def test_reap_removes_what_is_expired(
    make_store: Factory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    directory = tmp_path / "sessions"
    store = make_store(ttl=60)
    now = now_ms()
    write(directory / "fresh.json", {"cookie": COOKIE, "__lastAccess": now})
    write(directory / "stale.json", {"cookie": COOKIE, "__lastAccess": now - 61_000})
    write(directory / "timeless.json", {"cookie": COOKIE})
    (directory / "broken.json").write_text("{nope")
    (directory / "dir.json").mkdir()
    with caplog.at_level(logging.WARNING, "engineio_session"):
        assert store.reap() == ["stale"]
    assert sorted(os.listdir(directory)) == [
        "broken.json",
        "dir.json",
        "fresh.json",
        "timeless.json",
    ]
    assert len(caplog.records) == 1 and "session 'broken' is corrupt" in caplog.text


@pytest.mark.parametrize(
    "content",
    [b"{nope", b"[]", b'{"user":"ada"}', b'{"cookie":"x"}'],
    ids=["not-json", "not-object", "no-cookie", "bad-cookie"],
)
def test_corrupt_files_raise_and_stay(
    make_store: Factory, tmp_path: Path, content: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    store = make_store()
    path = tmp_path / "sessions" / "bad.json"
    path.write_bytes(content)
    with (
        caplog.at_level(logging.WARNING, "engineio_session"),
        pytest.raises(CorruptSessionError) as caught,
    ):
        store.get("bad")
    assert caught.value.sid == "bad" and caught.value.store.endswith("FileStore")
    # raised, not logged: whoever catches it logs it, once (ours only: another test's
    # client thread may log meanwhile)
    assert [r for r in caplog.records if r.name.startswith("engineio_session")] == []
    with pytest.raises(CorruptSessionError):
        store.touch("bad", session_with({}))
    with pytest.raises(CorruptSessionError):
        store.expired("bad")
    assert path.read_bytes() == content  # never deleted, never rewritten


def test_a_directory_in_place_of_a_file_is_a_store_error(
    make_store: Factory, tmp_path: Path
) -> None:
    store = make_store()
    (tmp_path / "sessions" / "d.json").mkdir()
    with pytest.raises(StoreError) as caught:
        store.get("d")
    assert isinstance(caught.value.cause, IsADirectoryError)
    with pytest.raises(StoreError):
        store.destroy("d")


def test_new_files_get_nodes_mode_and_rewrites_keep_theirs(
    make_store: Factory, tmp_path: Path
) -> None:
    store = make_store()
    umask = os.umask(0)
    os.umask(umask)
    store.set("a", session_with({}))
    path = tmp_path / "sessions" / "a.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask  # fs.open(tmp, 'w', 0o666)
    path.chmod(0o600)
    store.set("a", session_with({}))  # write-file-atomic copies the old file's mode
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# --- encrypted -----------------------------------------------------------------------------------


def test_encrypted_files(make_store: Factory, tmp_path: Path) -> None:
    store = make_store(secret=SECRET)
    session = session_with({"user": "ada", "é": "\u2028"}, max_age=60_000)
    store.set("abc", session)
    text = (tmp_path / "sessions" / "abc.json").read_text(encoding="utf-8")
    assert list(json.loads(text)) == ["hmac", "ct", "iv", "salt", "aad", "at"]
    assert "ada" not in text
    assert store.get("abc") == Session("abc", session.cookie, dict(session))
    store.touch("abc", session_with({}, max_age=120_000))
    assert store.get("abc")["user"] == "ada"
    assert store.get("abc").cookie.original_max_age == 120_000


def test_encrypted_with_the_wrong_secret_or_none(make_store: Factory, tmp_path: Path) -> None:
    make_store(secret=SECRET).set("abc", session_with({"user": "ada"}))
    path = tmp_path / "sessions" / "abc.json"
    content = path.read_bytes()
    with pytest.raises(CorruptSessionError, match=r"cannot decrypt.*tampered") as caught:
        make_store(secret="other").get("abc")
    assert SECRET not in str(caught.value) and "other" not in str(caught.value)
    with pytest.raises(CorruptSessionError, match="this store has no secret"):
        make_store().get("abc")
    envelope = json.loads(content)
    envelope["ct"] = chr(ord(envelope["ct"][0]) ^ 1) + envelope["ct"][1:]
    path.write_text(json.dumps(envelope, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(CorruptSessionError, match="tampered"):
        make_store(secret=SECRET).get("abc")
    assert path.exists()


# --- atomic writes under concurrency -------------------------------------------------------------


@pytest.mark.parametrize("timeout", [None, 2.0], ids=["in-thread", "bounded"])
def test_a_reader_never_sees_half_a_file(tmp_path: Path, timeout: float | None) -> None:
    """Two writers replace one session with big and small versions; a reader keeps reading."""
    store = FileStore(tmp_path, timeout=timeout)
    versions = [
        session_with({"v": "small"}),
        session_with({"v": "big", "blob": ["x" * 1000] * 300}),  # ~300 kB
    ]
    store.set("same", versions[0])
    stop = threading.Event()
    seen: set[str] = set()
    failures: list[BaseException] = []

    def writer(index: int) -> None:
        mine = [Session.from_json("same", version.to_json()) for version in versions]
        try:
            while not stop.is_set():
                store.set("same", mine[index % 2])
                index += 1
        except BaseException as error:
            failures.append(error)

    def reader() -> None:
        try:
            while not stop.is_set():
                session = store.get("same")
                assert session is not None
                seen.add(session["v"])
        except BaseException as error:
            failures.append(error)

    threads = [threading.Thread(target=writer, args=(i,)) for i in (0, 1)]
    threads += [threading.Thread(target=reader) for _ in range(2)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)
    stop.set()
    for thread in threads:
        thread.join()
    assert not failures, failures[0]
    assert seen == {"small", "big"}
    assert os.listdir(tmp_path) == ["same.json"]


# --- deadlines -----------------------------------------------------------------------------------


@contextlib.contextmanager
def fifo_in_place_of(path: Path) -> Iterator[None]:
    """A FIFO at ``path``: opening it for reading blocks in the kernel until a writer comes.

    That is what a read on a hung network filesystem looks like from here. On the way out
    a writer opens and closes it, so the blocked worker thread ends.
    """
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(path)
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            os.close(os.open(path, os.O_WRONLY | os.O_NONBLOCK))


def test_a_read_that_blocks_is_a_store_error_after_the_timeout(tmp_path: Path) -> None:
    store = FileStore(tmp_path, timeout=0.2)
    with fifo_in_place_of(tmp_path / "stuck.json"):
        started = time.monotonic()
        with pytest.raises(StoreError, match=r"FileStore: no answer within 0\.2 s"):
            store.get("stuck")
        assert time.monotonic() - started < 1.5


def test_an_async_read_that_blocks_is_a_store_error_after_the_timeout(tmp_path: Path) -> None:
    store = AsyncFileStore(tmp_path, timeout=0.2)

    async def main() -> None:
        with fifo_in_place_of(tmp_path / "stuck.json"):
            started = time.monotonic()
            with pytest.raises(StoreError, match=r"AsyncFileStore: no answer within 0\.2 s"):
                await store.get("stuck")
            assert time.monotonic() - started < 1.5
            # the loop stays free meanwhile: other calls answer
            assert await store.length() == 1

    asyncio.run(main())


def test_async_calls_run_concurrently(tmp_path: Path) -> None:
    store = AsyncFileStore(tmp_path)

    async def main() -> list[Session | None]:
        sessions = [session_with({"n": n}) for n in range(20)]
        await asyncio.gather(*(store.set(f"s{n}", s) for n, s in enumerate(sessions)))
        return list(await asyncio.gather(*(store.get(f"s{n}") for n in range(20))))

    loaded = asyncio.run(main())
    assert [session["n"] for session in loaded if session is not None] == list(range(20))


def test_repr_shows_no_secret(tmp_path: Path) -> None:
    text = repr(FileStore(tmp_path, secret=SECRET, ttl=10))
    assert SECRET not in text and "encrypted" in text and "ttl=10" in text


def test_stores_satisfy_the_protocols(tmp_path: Path) -> None:
    check_method_kinds(FileStore(tmp_path), is_async=False)
    check_method_kinds(AsyncFileStore(tmp_path), is_async=True)


@pytest.mark.parametrize("secret", [None, "keyboard cat"])
def test_store_contract(tmp_path: Path, secret: str | None) -> None:
    awkward = "'%_\"*? é"
    check_contract(SyncDriver(FileStore(tmp_path / "sync", secret=secret)), awkward=awkward)
    with AsyncDriver(AsyncFileStore(tmp_path / "async", secret=secret)) as store:
        check_contract(store, awkward=awkward)


def test_update_reads_again_when_the_file_changed_under_it(tmp_path: Path) -> None:
    """A write by another process between the update's read and its own (Node's
    write-file-atomic renames a new file over it) is seen: what was swapped out is merged
    into again, so the Node app's change stays."""
    store = FileStore(tmp_path)
    store.set("abc", Session.new("abc", max_age=60_000))
    mine = store.get("abc")
    assert mine is not None
    mine["theme"] = "dark"
    files = store._files
    real_swap = files._swap
    node_writes = iter(range(2))

    def node_writes_first(sid: str, data: bytes, expected: Any) -> Any:
        n = next(node_writes, None)
        if n is not None:  # the Node app saves just before our rename
            theirs = json.loads((tmp_path / "abc.json").read_text())
            theirs[f"node{n}"] = n
            (tmp_path / "abc.new").write_text(json.dumps(theirs))
            os.replace(tmp_path / "abc.new", tmp_path / "abc.json")
        return real_swap(sid, data, expected)

    files._swap = node_writes_first  # type: ignore[method-assign]
    merged = store.update("abc", Changes.of(mine))
    assert merged is not None
    assert {k: merged[k] for k in ("node0", "node1", "theme")} == {
        "node0": 0,
        "node1": 1,
        "theme": "dark",
    }
    on_disk = json.loads((tmp_path / "abc.json").read_text())
    assert on_disk["theme"] == "dark" and on_disk["node1"] == 1


def test_no_write_brings_back_a_deleted_file(tmp_path: Path) -> None:
    """A delete (a logout) between the read and the rename: nothing is written."""
    store = FileStore(tmp_path)
    store.set("abc", Session.new("abc", max_age=60_000))
    mine = store.get("abc")
    assert mine is not None
    mine["x"] = 1
    files = store._files
    real_swap = files._swap

    def node_logs_out_first(sid: str, data: bytes, expected: Any) -> Any:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_path / "abc.json")
        return real_swap(sid, data, expected)

    files._swap = node_logs_out_first  # type: ignore[method-assign]
    assert store.update("abc", Changes.of(mine)) is None
    store.set("abc", mine)
    assert store.touch("abc", mine) is False
    store.set("abc", mine)
    assert store.replace("abc", mine) is False
    assert sorted(os.listdir(tmp_path)) == []  # no session, and no temporary file left


def test_threads_changing_one_session_take_turns(tmp_path: Path) -> None:
    """Two threads of one process saving the same session wait for each other: the second
    update starts only once the first is written, so neither has to build again (racing,
    one could lose every compare to the other and give up with "kept changing")."""
    store = FileStore(tmp_path)
    store.set("abc", Session.new("abc", max_age=60_000))
    tabs = [store.get("abc"), store.get("abc")]
    assert tabs[0] is not None and tabs[1] is not None
    tabs[0]["a"] = 1
    tabs[1]["b"] = 2
    files = store._files
    real_swap = files._swap
    first_in_swap = threading.Event()
    release_first = threading.Event()
    swaps: list[bytes] = []

    def swap(sid: str, data: bytes, expected: Any) -> Any:
        swaps.append(data)
        if len(swaps) == 1:  # the first update, paused between its read and its write
            first_in_swap.set()
            release_first.wait(5)
        return real_swap(sid, data, expected)

    files._swap = swap  # type: ignore[method-assign]
    first = threading.Thread(target=store.update, args=("abc", Changes.of(tabs[0])), name="first")
    second = threading.Thread(target=store.update, args=("abc", Changes.of(tabs[1])), name="second")
    first.start()
    assert first_in_swap.wait(5)
    second.start()
    second.join(0.3)
    assert second.is_alive(), "the second update did not wait for the first"
    release_first.set()
    first.join(5)
    second.join(5)
    assert len(swaps) == 2  # one swap each: nobody had to build again
    stored = store.get("abc")
    assert stored is not None and (stored["a"], stored["b"]) == (1, 2)
