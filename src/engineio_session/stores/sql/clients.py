"""Which database a store's first argument speaks, and the driver glue that runs plans on it.

connect-session-knex and connect-session-sequelize work on several databases; their stores
here take the dialect from what they are given: a URL's scheme, or the driver's own
connection or pool (recognised by the module its class comes from, so no driver is
imported to ask)::

    >>> glue_for("sqlite:///sessions.db", store="KnexStore")[1]
    <Dialect SQLite>
    >>> glue_for("redis://127.0.0.1", store="KnexStore")
    Traceback (most recent call last):
    ...
    ValueError: KnexStore takes a postgresql://, mysql:// or sqlite:// URL, not redis://...
"""

from __future__ import annotations

from typing import Any

from .dialect import MYSQL, POSTGRES, SQLITE, Dialect

__all__ = ["glue_for"]

_SCHEMES = {
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "mysql": "mysql",
    "mariadb": "mysql",
    "sqlite": "sqlite",
}
# the top-level module of a driver's connection and pool classes
_MODULES = {
    "psycopg": "postgresql",
    "psycopg_pool": "postgresql",
    "pymysql": "mysql",
    "aiomysql": "mysql",
    "sqlite3": "sqlite",
}


def _family(client: object) -> str | None:
    if isinstance(client, str):
        return _SCHEMES.get(client.partition(":")[0].lower())
    for kind in type(client).__mro__:
        family = _MODULES.get(kind.__module__.partition(".")[0])
        if family is not None:
            return family
    return None


def glue_for(
    client: object,
    *,
    store: str,
    families: tuple[str, ...] = ("postgresql", "mysql", "sqlite"),
    create: bool = False,
) -> tuple[Any, Dialect]:
    """(the driver glue module, the dialect) of ``client``; ``families``: the databases the
    Node package supports. ``create``: a SQLite file may be created (``create_table``)."""
    family = _family(client)
    if family not in families:
        schemes = ", ".join(f"{name}://" for name in families[:-1]) + f" or {families[-1]}://"
        if isinstance(client, str):
            raise ValueError(f"{store} takes a {schemes} URL, not {client.partition(':')[0]}://...")
        raise TypeError(
            f"{store} takes a {schemes} URL or a connection of psycopg, PyMySQL, aiomysql or "
            f"sqlite3 that its Node package supports, not {type(client).__name__}"
        )
    if family == "postgresql":
        from . import _psycopg

        return _psycopg, POSTGRES
    if family == "mysql":
        from . import _pymysql

        return _pymysql, MYSQL
    from . import _sqlite

    return _sqlite.Glue(create=create), SQLITE
