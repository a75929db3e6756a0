"""Session-scoped fixtures for the real servers (see ``tests/services.py``).

Each fixture checks its service once per test session; under CI (``CI=true``) a missing
service fails every test that asks for it, elsewhere those tests skip with the reason.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from . import net, services


@pytest.fixture(scope="session")
def redis_url() -> str:
    """``redis://127.0.0.1:6379/0``, once the local Redis answers PING."""
    return services.redis_url()


@pytest.fixture(scope="session")
def redis_cluster() -> Iterator[services.RedisCluster]:
    """One three-master Redis Cluster for the whole session, stopped at its end."""
    with services.RedisCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def postgres_dsn() -> str:
    """``postgresql://postgres@127.0.0.1:5432/test``, once PostgreSQL accepts that login."""
    return services.postgres_dsn()


@pytest.fixture(scope="session")
def mysql_params() -> services.MySQLParams:
    """``pymysql.connect(**mysql_params)`` arguments: root, no password, database ``test``."""
    return services.mysql_params()


@pytest.fixture(scope="session")
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound for the whole session, never listening."""
    with net.closed_port() as port:
        yield port


@pytest.fixture(scope="session")
def black_hole() -> Iterator[int]:
    """A loopback port that accepts connections and never answers."""
    with net.black_hole() as port:
        yield port
