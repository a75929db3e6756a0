"""The store contract, checked the same way on every store, sync and async, on its real server.

A store test module makes its stores and hands them here::

    from .store_contract import SyncDriver, AsyncDriver, check_contract, check_method_kinds

    def test_contract(tmp_path):
        check_method_kinds(FileStore(tmp_path), is_async=False)
        check_contract(SyncDriver(FileStore(tmp_path)))
        with AsyncDriver(AsyncFileStore(tmp_path)) as store:
            check_contract(store)

Each check writes sessions under fresh random ids and removes them at the end, so stores
that share a server with other tests (a Redis prefix, a table) do not collide.
"""

from __future__ import annotations

import asyncio
import inspect
import uuid
from typing import Any

from engineio_session.changes import Changes
from engineio_session.session import Session

#: the methods every store has, sync or async (shared/DESIGN.md and stores/base.py)
CONTRACT = ("get", "get_many", "set", "update", "replace", "touch", "destroy")


def check_method_kinds(store: Any, *, is_async: bool, methods: tuple[str, ...] = CONTRACT) -> None:
    """A sync store's methods are plain functions; an async store's are coroutine functions.

    (``isinstance`` against a Protocol checks only that the names exist: a sync store would
    pass as an async one.)
    """
    for name in methods:
        method = getattr(store, name, None)
        assert callable(method), f"{type(store).__name__} has no {name}()"
        assert inspect.iscoroutinefunction(method) == is_async, (
            f"{type(store).__name__}.{name} is {'not ' if is_async else ''}a coroutine function"
        )


class SyncDriver:
    """Calls a sync store's methods as they are."""

    def __init__(self, store: Any) -> None:
        self.store = store

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def __enter__(self) -> SyncDriver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass


class AsyncDriver:
    """Calls an async store's methods on an event loop of its own, as plain calls."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.loop = asyncio.new_event_loop()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.store, name)
        if not inspect.iscoroutinefunction(method):
            return method

        def call(*args: Any, **kwargs: Any) -> Any:
            return self.loop.run_until_complete(method(*args, **kwargs))

        return call

    def __enter__(self) -> AsyncDriver:
        return self

    def __exit__(self, *exc_info: object) -> None:
        close = getattr(self.store, "aclose", None)
        if close is not None:
            self.loop.run_until_complete(close())
        self.loop.close()


#: characters an id may hold that a store must take literally (SQL quoting and LIKE, globs)
AWKWARD = "'%_\\\"*?"


def new_id(awkward: str = AWKWARD) -> str:
    """A fresh session id ending with ``awkward`` characters."""
    return "c-" + uuid.uuid4().hex[:16] + awkward


def new_session(sid: str, **data: Any) -> Session:
    session = Session.new(sid, max_age=3_600_000)
    session.update(data)
    return session


#: what a store stamps on every write of its own (session-file-store: the time of the write)
STAMPS = ("__lastAccess",)


def data(session: Session) -> dict[str, Any]:
    """A session's data without the stamps a store adds on write."""
    return {key: value for key, value in session.items() if key not in STAMPS}


def check_contract(store: Any, *, awkward: str = AWKWARD) -> None:
    """Every method of the contract on one store (a SyncDriver or AsyncDriver); the ids end
    with ``awkward`` (the file store refuses ``\\``: no file name holds it)."""
    a, b, gone = new_id(awkward), new_id(awkward), new_id(awkward)
    try:
        # get / set / get_many
        assert store.get(a) is None
        store.set(a, new_session(a, user="ada", n=1))
        loaded = store.get(a)
        assert loaded is not None and loaded.id == a
        assert loaded["user"] == "ada" and loaded["n"] == 1 and not loaded.modified
        store.set(b, new_session(b, user="bob"))
        many = store.get_many([a, gone, b])
        assert [s.id if s is not None else None for s in many] == [a, None, b]
        assert many[2] is not None and many[2]["user"] == "bob"
        assert store.get_many([]) == []

        # update: this side's changes on top of what the store holds now
        mine = store.get(a)
        assert mine is not None
        theirs = store.get(a)
        assert theirs is not None
        theirs["cart"] = [1, 2]  # another writer (the Node app, another tab) meanwhile
        theirs["n"] = 5
        store.set(a, theirs)
        mine["theme"] = "dark"
        del mine["user"]
        merged = store.update(a, Changes.of(mine))
        assert merged is not None and merged.id == a
        assert data(merged) == {"n": 5, "cart": [1, 2], "theme": "dark"}
        stored = store.get(a)
        assert stored is not None and data(stored) == data(merged)
        assert not stored.modified

        # a write never brings back a session the store no longer holds
        store.destroy(a)
        assert store.get(a) is None
        assert store.update(a, Changes({"x": 1})) is None
        assert store.get(a) is None
        assert store.replace(a, new_session(a, user="mallory")) is False
        assert store.get(a) is None
        assert store.touch(a, new_session(a)) is False
        assert store.get(a) is None
        assert store.update(gone, Changes({"x": 1})) is None and store.get(gone) is None

        # replace: express-session's whole write, where the session still is
        whole = new_session(b, user="bob", role="admin")
        assert store.replace(b, whole) is True
        again = store.get(b)
        assert again is not None and data(again) == {"user": "bob", "role": "admin"}

        # touch where the session is
        assert store.touch(b, again) is True
        assert store.get(b) is not None

        # an expired session reads as None and is not written back to life
        expired = Session.new(a, max_age=3_600_000)
        expired["user"] = "old"
        store.set(a, expired)
        assert store.get(a) is not None
        stale = store.get(a)
        assert stale is not None
        stale.cookie.set_max_age(-1000)
        assert store.update(a, Changes(cookie=stale.cookie)) is None or store.get(a) is None
    finally:
        for sid in (a, b, gone):
            store.destroy(sid)
    for sid in (a, b, gone):
        assert store.get(sid) is None
