"""connect-redis 10.0.0's keys, TTLs and serialisation, with no I/O: what both shells share.

The rules, as connect-redis has them (``index.ts``):

- key: ``prefix + sid`` (``prefix`` defaults to ``"sess:"``; only null/undefined take the
  default, ``""`` is kept), written as UTF-8 as Node writes it.
- TTL (``getTTL``): ``ttl(session)`` when ``ttl`` is a function; else, when the cookie has
  ``expires``, ``Math.ceil((expires - Date.now()) / 1000)``; else ``ttl``.
- ``set``: ``SET key value EX ttl`` (no ``EX`` with ``disable_ttl``). A TTL that is not
  positive deletes the key instead (``return this.destroy(sid)``), even with
  ``disable_ttl``.
- ``touch``: ``EXPIRE key ttl``, unless ``disable_touch`` or ``disable_ttl``.
- ``get``: ``GET`` then ``serializer.parse``; an empty value reads as no session (``!data``).
- ``ids``, ``length``, ``all``, ``clear``: ``SCAN MATCH <prefix>* COUNT scan_count``; the
  prefix is a glob pattern there, as in connect-redis.

And the writes back that never undo a logout (not in connect-redis): an update is a
compare-and-set (:data:`CAS_SCRIPT`: the new value is written only if the key still holds
exactly what was read), a replace is ``SET ... XX``.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeAlias, TypedDict

from ..._js import now_ms, number_to_string, utf8
from ...errors import NotificationsUnavailableError
from ...session import Session
from ..base import (
    DEFAULT_MAX_SESSION_BYTES,
    JSONSerializer,
    Serializer,
    check_size,
    decode_session,
)

__all__ = [
    "CAS_SCRIPT",
    "ENDED_EVENTS",
    "NOTIFY_ENABLED",
    "NOTIFY_NEEDED",
    "TTL",
    "Command",
    "RedisFormat",
    "RedisFormatKeywords",
    "config_value",
    "missing_notify_classes",
    "notify_setting",
]


#: ``ttl=``: seconds, or a function of the session giving the seconds (connect-redis ``ttl``)
TTL: TypeAlias = "float | Callable[[Session], float]"
#: a Redis command as ``execute_command`` takes it
Command: TypeAlias = tuple[str | bytes, ...]

#: the keyspace events after which a session's key no longer holds it: DEL, UNLINK and
#: GETDEL (and EXPIRE with a TTL that is not positive: connect-redis ``touch``) send
#: ``del``; the TTL ran out, ``expired``; maxmemory, ``evicted``; RENAME / MOVE away
ENDED_EVENTS = frozenset({"del", "expired", "evicted", "rename_from", "move_from"})
#: the ``notify-keyspace-events`` classes they need: K keyspace channels, g generic, x expired
NOTIFY_NEEDED = "Kgx"
#: what ``enable_notifications=True`` adds: those and e (evicted)
NOTIFY_ENABLED = "Kgxe"
#: the classes Redis's ``A`` stands for (keyspace-events.md: "Alias for g$lshzxetd")
_NOTIFY_ALL = "g$lshzxetd"
NOTIFY_CONFIG = "notify-keyspace-events"
#: KEYS[1] a session's key; ARGV[1] the SHA-1 (hex) of the value that was read, ARGV[2] the
#: new value, ARGV[3] its TTL in seconds ("" for none: ``disable_ttl``). Writes and answers 1
#: only if the key still holds what was read; 0 (nothing written) once it was changed or
#: deleted meanwhile: a compare-and-set that also works on a Redis Cluster (one key)
CAS_SCRIPT = """
local current = redis.call('GET', KEYS[1])
if not current or redis.sha1hex(current) ~= ARGV[1] then return 0 end
if ARGV[3] == '' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
end
return 1
"""


def missing_notify_classes(value: str, wanted: str = NOTIFY_NEEDED) -> str:
    """The classes of ``wanted`` that a ``notify-keyspace-events`` value lacks.

    >>> missing_notify_classes("")
    'Kgx'
    >>> missing_notify_classes("AKE"), missing_notify_classes("Ex"), missing_notify_classes("xgK")
    ('', 'Kg', '')
    >>> missing_notify_classes("gxK", NOTIFY_ENABLED)
    'e'
    """
    have = set(value)
    if "A" in have:
        have.update(_NOTIFY_ALL)
    return "".join(flag for flag in wanted if flag not in have)


def notify_setting(store: str, current: str | None, enable: bool) -> str | None:
    """What to CONFIG SET ``notify-keyspace-events`` to before subscribing, or None for
    nothing; NotificationsUnavailableError when it lacks classes and ``enable`` is off.
    ``current`` None: CONFIG GET was refused (a managed Redis): subscribe anyway."""
    if current is None:
        return None
    missing = missing_notify_classes(current, NOTIFY_ENABLED if enable else NOTIFY_NEEDED)
    if not missing:
        return None
    if not enable:
        raise NotificationsUnavailableError(
            store,
            f"Redis's notify-keyspace-events is {current!r}, without {missing!r}, so it sends "
            "no notification when a session's key is deleted or expires; add K, g and x to it "
            f"(CONFIG SET notify-keyspace-events {current + NOTIFY_ENABLED!r}, or redis.conf), "
            "or pass enable_notifications=True to the store to let it do that",
        )
    return current + missing


def config_value(reply: Any) -> str:
    """``notify-keyspace-events`` in a CONFIG GET reply (a dict; bytes or str keys)."""
    for key, value in dict(reply or {}).items():
        name = key.decode() if isinstance(key, bytes) else key
        if name == NOTIFY_CONFIG:
            return value.decode() if isinstance(value, bytes) else str(value)
    return ""


class RedisFormatKeywords(TypedDict, total=False):
    """The options of connect-redis's stored form that the Redis stores pass on to
    :class:`RedisFormat` (its signature holds their defaults), so each store names them
    once."""

    prefix: str | None
    ttl: TTL
    serializer: Serializer
    disable_ttl: bool
    disable_touch: bool
    scan_count: int
    max_session_bytes: int | None


class RedisFormat:
    """connect-redis's keys, TTLs and serialisation, with no I/O: what both shells share.

    >>> fmt = RedisFormat(prefix="sess:", ttl=3600)
    >>> fmt.key("abc")
    b'sess:abc'
    >>> session = Session.from_json("abc", {"cookie": {"originalMaxAge": 5000,
    ...     "expires": "1970-01-01T00:00:05.000Z"}, "user": "ada"})
    >>> fmt.ttl_for(session, now=1), fmt.ttl_for(session, now=5000)
    (5, 0)
    >>> command = fmt.set_command("abc", session, now=1)
    >>> command[:2], command[3:]
    (('SET', b'sess:abc'), ('EX', '5'))
    >>> command[2]
    b'{"cookie":{"originalMaxAge":5000,"expires":"1970-01-01T00:00:05.000Z"},"user":"ada"}'
    >>> fmt.set_command("abc", session, now=5000) is None   # not positive: destroy instead
    True
    >>> fmt.decode("abc", b'{"cookie":{"expires":null},"n":1}', now=0)["n"]
    1
    """

    __slots__ = (
        "_prefix_units",
        "disable_touch",
        "disable_ttl",
        "max_session_bytes",
        "prefix",
        "scan_count",
        "serializer",
        "store",
        "ttl",
    )

    def __init__(
        self,
        *,
        prefix: str | None = "sess:",
        ttl: TTL = 86400,
        serializer: Serializer = JSONSerializer,
        disable_ttl: bool = False,
        disable_touch: bool = False,
        scan_count: int = 100,
        max_session_bytes: int | None = DEFAULT_MAX_SESSION_BYTES,
        store: str = "RedisStore",
    ) -> None:
        # the constructor of connect-redis: `opts.prefix == null ? "sess:" : opts.prefix`,
        # `opts.ttl || 86400`, `opts.scanCount || 100` (so 0 and NaN take the default too)
        self.prefix = "sess:" if prefix is None else prefix
        self.ttl: TTL = ttl if callable(ttl) or _truthy(ttl) else 86400
        self.scan_count = scan_count if _truthy(scan_count) else 100
        self.serializer = serializer
        self.disable_ttl = disable_ttl
        self.disable_touch = disable_touch
        self.max_session_bytes = max_session_bytes
        self.store = store
        # JS String.prototype.length: UTF-16 code units
        self._prefix_units = len(self.prefix.encode("utf-16-le", "surrogatepass")) // 2

    def key(self, sid: str) -> bytes:
        """The Redis key of ``sid``: ``prefix + sid``, as UTF-8 (as Node writes it)."""
        return utf8(self.prefix + sid)

    @property
    def pattern(self) -> bytes:
        """SCAN's MATCH pattern: ``prefix + "*"`` (the prefix is a glob pattern here)."""
        return utf8(self.prefix + "*")

    def sid_of(self, key: bytes | str) -> str:
        """The sid in a key SCAN found: ``key.substring(prefix.length)``, as connect-redis."""
        text = key.decode("utf-8", "replace") if isinstance(key, bytes) else key
        if text.startswith(self.prefix):
            return text[len(self.prefix) :]
        # the pattern matched without the literal prefix (it holds a glob character): cut
        # the same number of UTF-16 code units that JS cuts
        units = text.encode("utf-16-le", "surrogatepass")[2 * self._prefix_units :]
        return units.decode("utf-16-le", "surrogatepass")

    @property
    def announce_channel(self) -> bytes:
        """The channel a ``disconnect_session`` is announced on to the other processes that
        watch this prefix (not connect-redis's: ours).

        >>> RedisFormat().announce_channel
        b'engineio-session:disconnect:sess:'
        """
        return utf8("engineio-session:disconnect:" + self.prefix)

    def keyspace_pattern(self, db: int = 0) -> bytes:
        """The PSUBSCRIBE pattern of this prefix's keyspace channels.

        The prefix is literal here (its glob characters escaped): a key is ``prefix + sid``.

        >>> RedisFormat().keyspace_pattern(2)
        b'__keyspace@2__:sess:*'
        >>> RedisFormat(prefix="a*b:").keyspace_pattern().decode() == r"__keyspace@0__:a\\*b:*"
        True
        """
        escaped = "".join("\\" + c if c in "*?[]\\" else c for c in self.prefix)
        return utf8(f"__keyspace@{int(db)}__:{escaped}*")

    def ended_id(self, channel: bytes | str, event: bytes | str) -> str | None:
        """The session id a keyspace notification says has ended, or None.

        ``channel`` is ``__keyspace@<db>__:<key>`` and ``event`` the event's name; only the
        :data:`ENDED_EVENTS` of keys under the prefix count (a ``set`` is a save).

        >>> fmt = RedisFormat()
        >>> fmt.ended_id(b"__keyspace@0__:sess:abc", b"del")
        'abc'
        >>> fmt.ended_id("__keyspace@3__:sess:abc", "expired")
        'abc'
        >>> fmt.ended_id(b"__keyspace@0__:sess:abc", b"set") is None
        True
        >>> fmt.ended_id(b"__keyspace@0__:other:abc", b"del") is None
        True
        """
        text = channel.decode("utf-8", "replace") if isinstance(channel, bytes) else channel
        name = event.decode("utf-8", "replace") if isinstance(event, bytes) else event
        if name not in ENDED_EVENTS or not text.startswith("__keyspace@"):
            return None
        _, found, key = text.partition("__:")  # the db is digits: the first "__:" ends it
        if not found or not key.startswith(self.prefix):
            return None
        return key[len(self.prefix) :]

    def ttl_for(self, session: Session, *, now: float | None = None) -> float:
        """connect-redis ``getTTL(sess)``: the TTL in seconds (may be zero, negative, NaN)."""
        if callable(self.ttl):
            return self.ttl(session)
        expires = session.cookie.expires_ms
        if expires is None:
            return self.ttl
        ms = expires - (now_ms() if now is None else now)
        return math.nan if math.isnan(ms) else math.ceil(ms / 1e3)

    def encode(self, session: Session) -> bytes:
        """``serializer.stringify(session)`` as the bytes Node would send."""
        return utf8(self.serializer.stringify(session.to_json()))

    def set_command(
        self, sid: str, session: Session, *, now: float | None = None
    ) -> Command | None:
        """The command ``set`` sends, or None when the TTL is not positive (then: destroy)."""
        ttl = self.ttl_for(session, now=now)
        if not ttl > 0:
            return None
        value = self.encode(session)
        if self.disable_ttl:
            return ("SET", self.key(sid), value)
        return ("SET", self.key(sid), value, "EX", number_to_string(ttl))

    def touch_command(
        self, sid: str, session: Session, *, now: float | None = None
    ) -> Command | None:
        """The command ``touch`` sends (``EXPIRE key ttl``), or None when touch is disabled."""
        if self.disable_touch or self.disable_ttl:
            return None
        return ("EXPIRE", self.key(sid), number_to_string(self.ttl_for(session, now=now)))

    def replace_command(
        self, sid: str, session: Session, *, now: float | None = None
    ) -> Command | None:
        """``set_command`` that writes only where the key still is (``SET ... XX``); None
        when the TTL is not positive (then: destroy)."""
        command = self.set_command(sid, session, now=now)
        return None if command is None else (*command, "XX")

    def cas_args(
        self, sid: str, read: bytes | str, session: Session, *, now: float | None = None
    ) -> tuple[Any, ...] | None:
        """``EVAL`` arguments that write ``session`` only if the key still holds ``read``
        (:data:`CAS_SCRIPT`); None when its TTL is not positive (nothing to write: it has
        expired)."""
        ttl = self.ttl_for(session, now=now)
        if not ttl > 0:
            return None
        seen = read if isinstance(read, bytes) else utf8(read)
        expiry = "" if self.disable_ttl else number_to_string(ttl)
        digest = hashlib.sha1(seen).hexdigest()
        return (CAS_SCRIPT, 1, self.key(sid), digest, self.encode(session), expiry)

    def decode(
        self, sid: str, raw: bytes | str | None, *, now: float | None = None
    ) -> Session | None:
        """The session GET returned, or None (no value, or expired); CorruptSessionError
        (SessionTooLargeError over ``max_session_bytes``)."""
        if not raw:
            return None
        limit = self.max_session_bytes
        if limit is not None and len(raw) > limit:  # check_size's own test, without its call
            check_size(self.store, sid, raw, limit)
        session = decode_session(self.store, sid, raw, self.serializer.parse)
        return None if session.expired(now=now) else session

    def decode_many(
        self, sids: Sequence[str], values: Iterable[bytes | str | None]
    ) -> list[Session | None]:
        """``get_many``: the session (or None) MGET returned for each of ``sids``, in order."""
        now = now_ms()
        return [self.decode(sid, raw, now=now) for sid, raw in zip(sids, values, strict=True)]

    def decode_all(
        self, keys: Sequence[bytes | str], values: Iterable[bytes | str | None]
    ) -> list[Session]:
        """``all()``: the sessions MGET returned for ``keys``, expired ones left out."""
        now = now_ms()
        sessions = []
        for key, raw in zip(keys, values, strict=True):
            session = self.decode(self.sid_of(key), raw, now=now)
            if session is not None:
                sessions.append(session)
        return sessions


def _truthy(value: float) -> bool:
    """JS truthiness of a number: not 0 and not NaN."""
    return bool(value) and not (isinstance(value, float) and math.isnan(value))
