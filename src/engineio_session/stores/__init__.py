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

# The SQL stores need their driver (`engineio-session[postgres]`, `[mysql]`; SQLite: the
# standard library's sqlite3): imported on use.
_SQL_NAMES = {
    "PGStore": "pg",
    "AsyncPGStore": "pg",
    "MySQLStore": "mysql",
    "AsyncMySQLStore": "mysql",
    "KnexStore": "knex",
    "AsyncKnexStore": "knex",
    "SequelizeStore": "sequelize",
    "AsyncSequelizeStore": "sequelize",
}
__all__ += list(_SQL_NAMES)


def __getattr__(name: str) -> object:
    if name in _REDIS_NAMES:
        from . import redis

        return getattr(redis, name)
    if name in _SQL_NAMES:
        import importlib

        return getattr(importlib.import_module(f".sql.{_SQL_NAMES[name]}", __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
