"""Writes back to a shared store never undo what Node did: against real Express apps on
connect-redis (one Redis, and a real cluster) and session-file-store, with the sync and the
async stores.

- a logout on Node (express-session ``destroy``) followed by a Python save, touch, whole
  replace, or ``auto_save`` at disconnect leaves the user logged out;
- Node and Python writing disjoint keys concurrently, 100 rounds: every key Node wrote
  survives, and every key Python wrote survives unless Node's own whole-object write of a
  copy it loaded before Python's save overwrote it (express-session's last writer wins:
  its own requests lose each other's changes the same way);
- two tabs of one session saving different keys concurrently, 100 rounds each: nothing lost.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from engineio_session import AsyncLiveSession, LiveSession, SessionGoneError, get_session_id
from engineio_session.stores import AsyncFileStore, AsyncRedisStore, FileStore, RedisStore
from tests.apps.inprocess import Driver

from .node_session import NodeSessionServer
from .redis_target import RedisTarget

SECRETS = ["write back secret"]
ROUNDS = 100


class Backend:
    """One shared store: the Node app on it, and Python stores (sync or async) on it."""

    def __init__(self, request: pytest.FixtureRequest, kind: str, tmp_path: Path) -> None:
        self.kind = kind
        self.closers: list[Callable[[], Any]] = []
        self.loop = asyncio.new_event_loop()
        if kind == "file":
            self.path = tmp_path / "sessions"
            self.path.mkdir()
            node_store: dict[str, Any] = {"type": "file", "path": str(self.path)}
        else:
            self.target = RedisTarget.of(request, kind, "write-back")
            node_store = self.target.node_store()
            self.closers.append(self.target.close)
        config = {
            "store": node_store,
            "session": {"secret": SECRETS, "cookie": {"maxAge": 3_600_000}},
        }
        self.node = NodeSessionServer(config)
        self.closers.append(self.node.close)

    def store(self, is_async: bool, *, on_this_loop: bool = True) -> Any:
        """A Python store on the backend; an async one's client is closed on this backend's
        event loop, unless ``on_this_loop`` is False (the caller's loop uses and closes it)."""
        if self.kind == "file":
            return (AsyncFileStore if is_async else FileStore)(self.path)
        if is_async:
            client = self.target.async_client()
            store = AsyncRedisStore(client, prefix=self.target.prefix)
            if on_this_loop:
                self.closers.append(lambda: self.loop.run_until_complete(store.aclose()))
                self.closers.append(lambda: self.loop.run_until_complete(client.aclose()))
            return store
        store = RedisStore(self.target.sync_client(), prefix=self.target.prefix)
        self.closers.append(store.close)
        return store

    def live(self, store: Any, sid: str, on_gone: Callable[[str], Any] | None = None) -> Any:
        """The session as attach() hands it out: loaded, bound to its store."""
        stored = self.run(store.get(sid))
        assert stored is not None
        cls = (
            AsyncLiveSession
            if isinstance(store, (AsyncFileStore, AsyncRedisStore))
            else LiveSession
        )
        return cls(stored, store, on_gone=on_gone)

    def run(self, value: Any) -> Any:
        return self.loop.run_until_complete(value) if asyncio.iscoroutine(value) else value

    def node_session(self, cookie: str) -> dict[str, Any]:
        status, body, _ = self.node.request("GET", "/session", cookie=cookie)
        assert status == 200
        return body  # type: ignore[no-any-return]

    def close(self) -> None:
        for close in reversed(self.closers):
            close()
        self.loop.close()


@pytest.fixture(params=["single", "cluster", "file"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Backend]:
    made = Backend(request, str(request.param), tmp_path)
    yield made
    made.close()


@pytest.fixture(params=[False, True], ids=["sync", "async"])
def is_async(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


def login(backend: Backend, **data: Any) -> tuple[str, str]:
    cookie = backend.node.login(data or {"user": "ada"})
    sid = get_session_id(cookie, secrets=SECRETS)
    assert sid is not None
    return cookie, sid


# --- a logout stays a logout ----------------------------------------------------------------


@pytest.mark.parametrize("write", ["save", "replace", "touch"])
def test_a_write_after_a_node_logout_leaves_the_user_logged_out(
    backend: Backend, is_async: bool, write: str
) -> None:
    store = backend.store(is_async)
    cookie, sid = login(backend)
    gone: list[str] = []
    live = backend.live(store, sid, on_gone=gone.append)
    assert backend.node.request("POST", "/logout", cookie=cookie)[0] == 200
    live["theme"] = "dark"
    with pytest.raises(SessionGoneError):
        if write == "save":
            backend.run(live.save())
        elif write == "replace":
            backend.run(live.save(replace=True))
        else:
            backend.run(live.touch())
    assert live.destroyed and gone == [sid]  # attach closes the connections through this
    assert backend.run(store.get(sid)) is None
    assert backend.node_session(cookie)["loaded"] is False
    if backend.kind != "file":  # session-file-store's get of a missing file fails (ENOENT)
        assert backend.node.call("get", sid=sid) is None


def test_auto_save_after_a_node_logout_leaves_the_user_logged_out(
    backend: Backend, is_async: bool, tmp_path: Path
) -> None:
    store = backend.store(is_async, on_this_loop=False)  # on the driver's event loop
    cookie, sid = login(backend)
    driver = Driver(
        is_async, "engineio", tmp_path / "unused", store=store, secret=SECRETS, auto_save=True
    )
    try:
        eio_sid = driver.handshake(cookie).sid
        driver.handle.get(eio_sid)["theme"] = "dark"
        assert backend.node.request("POST", "/logout", cookie=cookie)[0] == 200
        driver.close_connection(eio_sid)
    finally:
        if isinstance(store, AsyncRedisStore):
            driver.run(store.aclose())
            driver.run(store.client.aclose())
        driver.close()
    assert backend.run(backend.store(is_async).get(sid)) is None
    assert backend.node_session(cookie)["loaded"] is False


# --- nothing lost between Node and Python, or between tabs --------------------------------


def test_a_save_keeps_what_node_changed_since_the_load(backend: Backend, is_async: bool) -> None:
    """No concurrency at all: Python loaded the session, Node changed it, Python saves."""
    store = backend.store(is_async)
    cookie, sid = login(backend, user="ada", cart=[1])
    live = backend.live(store, sid)
    for n in range(5):
        backend.node.request("POST", "/update", cookie=cookie, body={f"node{n}": n})
        live[f"py{n}"] = n
        backend.run(live.save())
    session = backend.node_session(cookie)["session"]
    assert {f"node{n}" for n in range(5)} | {f"py{n}" for n in range(5)} <= set(session)
    assert session["cart"] == [1] and dict(live) == {
        k: v for k, v in session.items() if k != "cookie"
    }


def test_node_and_python_writing_at_once_lose_nothing_of_each_other(
    backend: Backend, is_async: bool
) -> None:
    store = backend.store(is_async)
    cookie, sid = login(backend)
    live = backend.live(store, sid)
    node_windows: list[tuple[float, float]] = []
    python_saves: dict[str, tuple[float, float]] = {}
    start = threading.Barrier(2)

    def node_writes() -> None:
        start.wait()
        for n in range(ROUNDS):
            began = time.monotonic()
            status, _, _ = backend.node.request(
                "POST", "/update", cookie=cookie, body={f"node{n}": n}
            )
            node_windows.append((began, time.monotonic()))
            assert status == 200

    writer = threading.Thread(target=node_writes)
    writer.start()
    start.wait()
    for n in range(ROUNDS):
        live[f"py{n}"] = n
        began = time.monotonic()
        backend.run(live.save())
        python_saves[f"py{n}"] = (began, time.monotonic())
    writer.join()
    session = backend.node_session(cookie)["session"]
    assert {f"node{n}" for n in range(ROUNDS)} <= set(session)  # Python never erases Node's
    lost = [key for key in python_saves if key not in session]
    for key in lost:  # only where a Node request (load ... whole write) spanned the save
        saved_from, saved_to = python_saves[key]
        assert any(began <= saved_to and saved_from <= ended for began, ended in node_windows), key
    print(
        f"\n{backend.kind}: Node kept {ROUNDS}/{ROUNDS}, Python {ROUNDS - len(lost)}/{ROUNDS} "
        "(the rest overwritten by Node's own concurrent whole writes)"
    )


def test_two_tabs_saving_at_once_lose_nothing(backend: Backend, is_async: bool) -> None:
    store = backend.store(is_async)
    cookie, sid = login(backend)
    tabs = [backend.live(store, sid), backend.live(store, sid)]
    if is_async:

        async def tab(live: Any, name: str) -> None:
            for n in range(ROUNDS):
                live[f"{name}{n}"] = n
                await live.save()

        async def both() -> None:
            await asyncio.gather(tab(tabs[0], "a"), tab(tabs[1], "b"))

        backend.run(both())
    else:
        other = backend.store(False) if backend.kind != "file" else store
        tabs[1] = backend.live(other, sid)

        def tab_thread(live: Any, name: str) -> None:
            for n in range(ROUNDS):
                live[f"{name}{n}"] = n
                live.save()

        threads = [
            threading.Thread(target=tab_thread, args=(tabs[0], "a")),
            threading.Thread(target=tab_thread, args=(tabs[1], "b")),
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    session = backend.node_session(cookie)["session"]
    expected = {f"a{n}" for n in range(ROUNDS)} | {f"b{n}" for n in range(ROUNDS)}
    assert expected <= set(session), sorted(expected - set(session))[:5]
