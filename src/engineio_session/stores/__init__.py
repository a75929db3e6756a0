"""Session stores, one module per Node store package; each a format plus sync/async shells."""

from ..errors import NotificationsUnavailableError
from .base import DEFAULT_TIMEOUT, AsyncStore, JSONSerializer, Serializer, Store

__all__ = [
    "DEFAULT_TIMEOUT",
    "AsyncStore",
    "JSONSerializer",
    "NotificationsUnavailableError",
    "Serializer",
    "Store",
]

from .file import AsyncFileStore, FileStore

__all__ += ["AsyncFileStore", "FileStore"]

# The Redis store needs redis-py (`pip install engineio-session[redis]`): imported on use.
_REDIS_NAMES = (
    "AsyncRedisStore",
    "AsyncSessionEnds",
    "RedisFormat",
    "RedisStore",
    "SessionEnds",
)
__all__ += list(_REDIS_NAMES)


def __getattr__(name: str) -> object:
    if name in _REDIS_NAMES:
        from . import redis

        return getattr(redis, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
