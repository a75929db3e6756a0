"""Node and Python on one Redis: express-session + connect-redis 10 beside RedisStore.

Each backend (one Redis, and a real three-master cluster) gets one key prefix shared by
both sides, and one ``node-fixtures/session-server.js`` per cookie configuration (all
started at once). Node logs users in over HTTP and Python reads what it stored; Python
writes and Node reads it back through its store and through a real request; thousands of
random sessions go Node -> Python -> Node unchanged, byte for byte.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from engineio_session import get_session_id, jsjson
from engineio_session.session import Session
from engineio_session.stores import AsyncRedisStore, RedisStore
from tests.apps.harness import cookie_pair

from .node_session import NodeSessionServer
from .redis_target import RedisTarget

SECRETS = ["the new secret", "the old secret"]
MINUTE = 60_000

# express-session cookie options, one session-server each. `secure: true` is left out: over
# plain http express-session does not send a secure cookie at all.
COOKIES: dict[str, dict[str, Any]] = {
    "browser-session": {},
    "max-age": {"maxAge": 3_600_000},
    "lax-domain-path": {"maxAge": MINUTE, "sameSite": "lax", "domain": "example.com", "path": "/"},
    "strict-priority": {
        "maxAge": MINUTE,
        "sameSite": "strict",
        "priority": "high",
        "httpOnly": False,
    },
    "none-partitioned": {
        "maxAge": MINUTE,
        "sameSite": "none",
        "secure": False,
        "partitioned": True,
    },
    "same-site-true": {"maxAge": MINUTE, "sameSite": True},
}
# connect-redis options, with a one-minute cookie
STORES: dict[str, dict[str, Any]] = {
    "ttl": {"ttl": 321},
    "disable-ttl": {"disableTTL": True},
}
# the RedisStore options that match each server's connect-redis options
PYTHON_OPTIONS: dict[str, dict[str, Any]] = {
    "ttl": {"ttl": 321},
    "ttl-browser-session": {"ttl": 321},
    "disable-ttl": {"disable_ttl": True},
}

USER_DATA = {
    "passport": {"user": "42"},
    "user": {"id": 42, "name": "Ada Lovelace é😀", "roles": ["admin", "ops"], "active": True},
    "cart": [{"sku": "A-1", "qty": 2, "price": 19.99}, None],
    "0": "an array-index key comes first in JS",
    "n": 2**53 + 2,
    "tiny": 5e-324,
    "line": "\u2028\u2029</script>",
}


class Backend(RedisTarget):
    """One Redis or cluster on one prefix: sync and async stores, and the Node servers."""

    def __init__(self, label: str, **where: Any) -> None:
        super().__init__(label, **where)
        self.runner = asyncio.Runner()
        self.async_redis = self.runner.run(self._async_client())
        self.nodes: dict[str, NodeSessionServer] = {}

    async def _async_client(self) -> Any:
        return self.async_client()

    def start(self) -> None:
        configs: dict[str, dict[str, Any]] = {}
        for name, cookie in COOKIES.items():
            configs[name] = {
                "store": self.node_store(),
                "session": {"secret": SECRETS, "cookie": cookie},
            }
        for name, options in STORES.items():
            configs[name] = {
                "store": self.node_store(**options),
                "session": {"secret": SECRETS, "cookie": {"maxAge": MINUTE}},
            }
        configs["ttl-browser-session"] = {
            "store": self.node_store(ttl=321),
            "session": {"secret": SECRETS},
        }
        with ThreadPoolExecutor(len(configs)) as pool:
            started = dict(zip(configs, pool.map(NodeSessionServer, configs.values()), strict=True))
        self.nodes.update(started)

    def store(self, **options: Any) -> RedisStore:
        return RedisStore(self.raw, prefix=self.prefix, **options)

    def async_store(self, **options: Any) -> AsyncRedisStore:
        return AsyncRedisStore(self.async_redis, prefix=self.prefix, **options)

    def close(self) -> None:
        for node in self.nodes.values():
            node.close()
        super().close()
        self.runner.run(self.async_redis.aclose())
        self.runner.close()


@pytest.fixture(scope="module", params=["single", "cluster"])
def backend(request: pytest.FixtureRequest) -> Iterator[Backend]:
    made = Backend.of(request, request.param, "interop")
    try:
        made.start()
        yield made
    finally:
        made.close()


def data_of(json_session: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in json_session.items() if key != "cookie"}


# --- Node writes, Python reads ----------------------------------------------------------------


@pytest.mark.parametrize("config", [*COOKIES, *STORES, "ttl-browser-session"])
def test_node_login_python_reads(backend: Backend, config: str) -> None:
    node = backend.nodes[config]
    pair = node.login(USER_DATA)
    sid = get_session_id(pair, secrets=SECRETS)  # from the Set-Cookie header alone
    assert sid is not None
    store = backend.store(**PYTHON_OPTIONS.get(config, {}))
    session = store.get(sid)
    assert session is not None and session.id == sid
    assert session.to_json() == node.call("get", sid=sid)
    assert jsjson.dumps(session) == node.call("raw", sid=sid)  # byte for byte
    assert data_of(session.to_json()) == USER_DATA

    cookie = COOKIES.get(config, {"maxAge": MINUTE} if config in STORES else {})
    if "maxAge" in cookie:  # expires - Date.now() read back: a millisecond may have passed
        assert cookie["maxAge"] - 50 <= session.cookie.original_max_age <= cookie["maxAge"]
    else:
        assert session.cookie.original_max_age is None
    assert session.cookie.same_site == cookie.get("sameSite")
    assert session.cookie.domain == cookie.get("domain")
    assert session.cookie.priority == cookie.get("priority")
    assert session.cookie.partitioned == cookie.get("partitioned")
    assert session.cookie.http_only == cookie.get("httpOnly", True)

    async_session = backend.runner.run(backend.async_store().get(sid))
    assert async_session == session

    # the TTL connect-redis set is the one RedisStore computes for this session
    node_ttl = node.call("ttl", sid=sid)
    assert node_ttl == backend.raw.ttl(backend.key(sid))
    if config == "disable-ttl":
        assert node_ttl == -1
    else:
        assert abs(node_ttl - store.format.ttl_for(session)) <= 1


# --- Python writes, Node reads ----------------------------------------------------------------


def test_python_changes_node_sees(backend: Backend) -> None:
    node = backend.nodes["lax-domain-path"]
    pair = node.login(USER_DATA)
    sid = get_session_id(pair, secrets=SECRETS)
    assert sid is not None
    store = backend.store()
    session = store.get(sid)
    assert session is not None
    session["views"] = 3
    session["user"]["roles"].append("billing")
    del session["cart"]
    store.set(sid, session)
    assert node.call("get", sid=sid) == session.to_json()
    assert node.call("raw", sid=sid) == jsjson.dumps(session)
    status, body, _ = node.request("GET", "/session", cookie=pair)
    assert status == 200 and body["loaded"] and body["id"] == sid
    assert data_of(body["session"]) == data_of(session.to_json())
    assert body["session"]["cookie"]["sameSite"] == "lax"


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_python_creates_node_loads(backend: Backend, mode: str) -> None:
    node = backend.nodes["max-age"]
    session = Session.new(max_age=3_600_000)
    session.update({"user": {"id": 7}, "from": "python " + mode})
    if mode == "sync":
        backend.store().set(session.id, session)
    else:
        backend.runner.run(backend.async_store().set(session.id, session))
    cookie = cookie_pair(session.id, SECRETS[0])  # as the browser sends it back
    status, body, _ = node.request("GET", "/session", cookie=cookie)
    assert status == 200 and body["loaded"] and body["id"] == session.id
    assert data_of(body["session"]) == dict(session)
    # Node changes it over HTTP; Python sees the change
    status, _, _ = node.request("POST", "/update", cookie=cookie, body={"n": 2})
    assert status == 200
    again = backend.store().get(session.id)
    assert again is not None and again["n"] == 2 and again["from"] == "python " + mode


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_python_destroys_node_sees(backend: Backend, mode: str) -> None:
    node = backend.nodes["max-age"]
    pair = node.login({"user": "ada"})
    sid = get_session_id(pair, secrets=SECRETS)
    assert sid is not None
    if mode == "sync":
        backend.store().destroy(sid)
    else:
        backend.runner.run(backend.async_store().destroy(sid))
    assert node.call("get", sid=sid) is None
    status, body, _ = node.request("GET", "/session", cookie=pair)
    assert status == 200 and not body["loaded"]


@pytest.mark.parametrize(
    ("config", "max_age", "options"),
    [
        ("max-age", MINUTE, {}),
        ("max-age", 90 * 86_400_000, {}),
        ("browser-session", None, {}),
        ("ttl", MINUTE, {"ttl": 321}),
        ("ttl", None, {"ttl": 321}),
        ("disable-ttl", MINUTE, {"disable_ttl": True}),
    ],
)
def test_ttls_agree(
    backend: Backend, config: str, max_age: int | None, options: dict[str, Any]
) -> None:
    """One session, set by Node and by Python, then touched by each: the same TTLs."""
    node = backend.nodes[config]
    store = backend.store(**options)
    session = Session.new(max_age=max_age)
    session["user"] = "ada"
    node_sid, python_sid = session.id + "-node", session.id + "-python"
    node.call("set", sid=node_sid, session=session.to_json())
    store.set(python_sid, session)
    node_ttl, python_ttl = node.call("ttl", sid=node_sid), backend.raw.ttl(backend.key(python_sid))
    assert abs(node_ttl - python_ttl) <= 1
    assert backend.raw.get(backend.key(node_sid)) == backend.raw.get(backend.key(python_sid))

    session.cookie.set_max_age(None if max_age is None else max_age * 2)
    node.call("touch", sid=node_sid, session=session.to_json())
    backend.runner.run(backend.async_store(**options).touch(python_sid, session))
    node_ttl, python_ttl = node.call("ttl", sid=node_sid), backend.raw.ttl(backend.key(python_sid))
    assert abs(node_ttl - python_ttl) <= 1


def test_expired_session_both_sides_delete(backend: Backend) -> None:
    """connect-redis's set of an expired session deletes the key; so does RedisStore's."""
    node = backend.nodes["max-age"]
    store = backend.store()
    session = Session.new(max_age=MINUTE)
    for sid in ("node-exp-" + session.id, "python-exp-" + session.id):
        store.set(sid, session)
    session.cookie.set_max_age(-1000)
    node.call("set", sid="node-exp-" + session.id, session=session.to_json())
    store.set("python-exp-" + session.id, session)
    assert backend.raw.exists(backend.key("node-exp-" + session.id)) == 0
    assert backend.raw.exists(backend.key("python-exp-" + session.id)) == 0


def test_ids_and_all_agree(backend: Backend) -> None:
    """Sessions that Node and Python wrote (and whatever the other tests left on the prefix):
    the same ids, count and sessions from both stores."""
    node = backend.nodes["max-age"]
    store = backend.store()
    ours = {get_session_id(node.login({"user": f"node {n}"}), secrets=SECRETS) for n in range(3)}
    for n in range(3):
        session = Session.new(max_age=MINUTE)
        session["user"] = f"python {n}"
        store.set(session.id, session)
        ours.add(session.id)
    assert None not in ours and len(ours) == 6
    assert ours <= set(store.ids())
    assert sorted(store.ids()) == sorted(node.call("ids"))
    assert store.length() == node.call("length")
    if backend.kind == "single":  # connect-redis's all() sends one MGET: CROSSSLOT on a cluster
        by_id = {entry.pop("id"): entry for entry in node.call("all")}
        assert ours <= by_id.keys()
        assert {session.id: session.to_json() for session in store.all()} == by_id


# --- property: random sessions Node -> Python -> Node -----------------------------------------

COUNT = 2000
BATCH = 200


def test_random_sessions_round_trip(backend: Backend) -> None:
    node = backend.nodes["max-age"]
    store = backend.store()
    async_store = backend.async_store()
    seed = int(time.time()) % 100_000 * 10_000  # fresh sessions each run, reproducible by seed
    for start in range(0, COUNT, BATCH):
        sids = [f"rt-{seed + start + i}" for i in range(BATCH)]
        expected = node.call("roundtrip-generate", sids=sids, seed=seed + start)
        new_sids = ["py-" + sid for sid in sids]
        use_async = (start // BATCH) % 2 == 1
        for sid, new_sid in zip(sids, new_sids, strict=True):
            if use_async:
                session = backend.runner.run(async_store.get(sid))
                assert session is not None, (seed, sid)
                backend.runner.run(async_store.set(new_sid, session))
            else:
                session = store.get(sid)
                assert session is not None, (seed, sid)
                store.set(new_sid, session)
        mismatches = node.call("deep-equal", sids=new_sids, expected=expected)
        assert mismatches == [], (seed, mismatches[:3])
        node_bytes = [backend.raw.get(backend.key(sid)) for sid in sids]
        python_bytes = [backend.raw.get(backend.key(sid)) for sid in new_sids]
        for sid, nb, pb in zip(sids, node_bytes, python_bytes, strict=True):
            assert pb == nb, (seed, sid)
        backend.raw.delete(*(backend.key(sid) for sid in sids + new_sids))
