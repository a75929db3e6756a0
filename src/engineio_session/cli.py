"""``engineio-session``: decode a session cookie, show a stored session, sign an id.

For the person debugging production::

    engineio-session decode 'connect.sid=s%3A...; theme=dark' --secret NEW --secret OLD
    engineio-session decode 'session=eyJ...; session.sig=...' --key NEW --key OLD
    engineio-session decode eyJ... <the .sig value> --key NEW     # cookie-session, two values
    engineio-session show 'connect.sid=s%3A...' --store redis://127.0.0.1:6379/0 --secret NEW
    engineio-session show Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ --store file:///srv/app/sessions
    engineio-session show Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ --store 'sqlite:////srv/app/sessions.db'
    engineio-session show Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ \
        --store 'postgresql://app@db/app?package=sequelize&table=Sessions'
    engineio-session sign Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ --secret NEW

Secrets can come from the environment instead of the command line (and the shell
history): ``ENGINEIO_SESSION_SECRET``, one secret a line, newest first; cookie-session's
keys from ``ENGINEIO_SESSION_KEYS``, the same way; an encrypted file store's secret from
``ENGINEIO_SESSION_STORE_SECRET``. ``decode`` reads a cookie-session pair (``name`` and
``name.sig``) when it sees one, or when ``--key`` or two values are given; ``--unsigned``
shows what a cookie-session cookie holds without any key, as anybody can read it.
Exit codes: 0 ok, 1 rejected or not found, 2 usage or connection error. ``--json`` prints
one JSON object for scripts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from . import _version, jsjson
from .cookie_session import MAX_COOKIE_VALUE, CookieSession
from .cookies import decode_uri_component, encode_uri_component, parse_cookie
from .errors import SessionError
from .session import Session
from .signature import Signer

__all__ = ["main"]

OK, REJECTED, USAGE = 0, 1, 2
SECRET_ENV = "ENGINEIO_SESSION_SECRET"
KEYS_ENV = "ENGINEIO_SESSION_KEYS"
STORE_SECRET_ENV = "ENGINEIO_SESSION_STORE_SECRET"


class UsageError(Exception):
    """Bad arguments, or a store that cannot be reached: exit code 2."""


# --- decoding ------------------------------------------------------------------------------


def _secrets(given: list[str] | None) -> list[str]:
    if given:
        return given
    from_env = [line for line in os.environ.get(SECRET_ENV, "").splitlines() if line]
    if not from_env:
        raise UsageError(f"no secret: pass --secret, or set {SECRET_ENV} (one a line)")
    return from_env


def _looks_like_value(text: str) -> bool:
    return text.startswith(("s:", "s%3A", "s%3a")) or "=" not in text


def decode(text: str, name: str, secrets: list[str]) -> dict[str, Any]:
    """What express-session makes of ``text`` (a Cookie header, or just the cookie's value).

    The answer says whether it verifies, with which secret, and why not when it does not.
    """
    answer: dict[str, Any] = {"name": name, "verified": False, "id": None}
    if _looks_like_value(text):
        raw: str | None = text
        if "%" in text:
            try:
                raw = decode_uri_component(text)
            except ValueError:
                raw = text
    else:
        cookies = parse_cookie(text)
        raw = cookies.get(name)
        if raw is None:
            answer["reason"] = f"no cookie named {name!r} (found: {', '.join(cookies) or 'none'})"
            return answer
    assert raw is not None
    if raw[:2] != "s:":
        answer["reason"] = "not signed: express-session ignores a value without the s: prefix"
        return answer
    signed = raw[2:]
    dot = signed.rfind(".")
    answer["id"] = signed[:dot] if dot != -1 else signed
    if dot == -1 or len(signed) - dot - 1 != 43:
        answer["reason"] = "malformed: the signature is not 43 base64 characters after the last '.'"
        return answer
    for index, secret in enumerate(secrets):
        if Signer(secret).unsign(signed) is not None:
            answer.update(verified=True, secret_index=index, secret_count=len(secrets))
            return answer
    answer["reason"] = f"bad signature: it matches none of the {len(secrets)} secret(s)"
    return answer


def _keys(given: list[str] | None) -> list[str]:
    if given:
        return given
    from_env = [line for line in os.environ.get(KEYS_ENV, "").splitlines() if line]
    if not from_env:
        raise UsageError(f"no key: pass --key, or set {KEYS_ENV} (one a line)")
    return from_env


def cookie_session_name(text: str) -> str | None:
    """The name of the cookie-session pair in a Cookie header (``X`` beside ``X.sig``), or
    None when there is none; ``session`` first when there are several."""
    names = parse_cookie(text)
    pairs = [name for name in names if name + ".sig" in names]
    if "session" in pairs or not pairs:
        return "session" if pairs else None
    if len(pairs) > 1:
        raise UsageError(f"several cookie-session pairs ({', '.join(pairs)}): pass --name")
    return pairs[0]


_REASONS = {
    "absent": "no cookie named {name!r}",
    "oversized": f"oversized: over {MAX_COOKIE_VALUE} characters, refused unread",
    "unsigned": "not signed: no {name}.sig cookie (cookie-session ignores the session)",
    "forged": "bad signature: {name}.sig matches none of the {count} key(s)",
}


def decode_cookie_session(
    header: str, name: str, keys: list[str] | None, *, unsigned: bool = False
) -> dict[str, Any]:
    """What cookie-session makes of a Cookie header: the session, and how it verified."""
    sessions = CookieSession(keys, name, signed=not unsigned)
    read = sessions.read(header)
    answer: dict[str, Any] = {
        "kind": "cookie-session",
        "name": name,
        "status": read.status,
        "verified": read.status in ("verified", "rotated"),
        "session": None,
    }
    if not unsigned:
        answer["key_count"] = sessions.key_count
    if read.key_index is not None:
        answer["key_index"] = read.key_index
    if read.set_cookie:
        answer["set_cookie"] = list(read.set_cookie)  # what Node answers for this cookie
    if read.status in _REASONS:
        answer["reason"] = _REASONS[read.status].format(name=name, count=sessions.key_count)
    elif read.data is None:
        answer["reason"] = "the value is not base64 JSON: cookie-session starts a new session"
    else:
        # through JS JSON: lone surrogates escaped, numbers as Node prints them
        answer["session"] = json.loads(jsjson.dumps(read.data))
    return answer


def cmd_decode_cookie_session(args: argparse.Namespace) -> int:
    text: str = args.cookie
    if args.sig is not None:
        name = args.name or "session"
        header = f"{name}={text}; {name}.sig={args.sig}"
    else:
        header = text
        name = args.name or cookie_session_name(text) or "session"
    keys = None if args.unsigned else _keys(args.key)
    answer = decode_cookie_session(header, name, keys, unsigned=args.unsigned)
    if answer["status"] == "plain":
        human = f"cookie-session {name}: NOT verified (--unsigned)"
    elif answer["verified"]:
        index = answer["key_index"]
        human = f"cookie-session {name}: verified with key #{index + 1} of {answer['key_count']}"
        if index:
            human += " (an older key: Node re-signs the .sig on its response)"
    else:
        human = f"rejected: {answer['reason']}"
    if answer["session"] is not None:
        human += "\n" + json.dumps(answer["session"], indent=2, ensure_ascii=False)
    elif "reason" in answer and answer["status"] in ("verified", "rotated", "plain"):
        human += f"\nno session: {answer['reason']}"
    _print(args, answer, human)
    return OK if answer["session"] is not None else REJECTED


# --- stores by URL -------------------------------------------------------------------------


def open_store(url: str, store_secret: str | None) -> Any:
    """A sync store for ``url``: ``redis://host:port/db?prefix=sess:``, ``file:///dir``,
    ``postgresql://...``, ``mysql://...``, ``sqlite:///relative.db``, ``sqlite:////abs.db``
    (their options: :func:`_open_sql`)."""
    parts = urlsplit(url)
    query = {key: values[-1] for key, values in parse_qs(parts.query).items()}
    if parts.scheme in ("redis", "rediss"):
        try:
            import redis
        except ImportError:
            raise UsageError(
                "redis:// needs redis-py: pip install engineio-session[redis]"
            ) from None
        from .stores.redis import RedisStore

        base = parts._replace(query="").geturl()
        client = redis.Redis.from_url(base, socket_timeout=2, socket_connect_timeout=2)
        return RedisStore(client, prefix=query.get("prefix", "sess:"))
    if parts.scheme == "file":
        from .stores.file import FileStore

        path = unquote(parts.path)
        if not os.path.isdir(path):
            raise UsageError(f"no such directory: {path}")
        return FileStore(
            path,
            secret=store_secret or os.environ.get(STORE_SECRET_ENV) or None,
            file_extension=query.get("ext", ".json"),
        )
    if parts.scheme in ("postgresql", "postgres", "mysql", "mariadb", "sqlite"):
        # the query cut off as text: geturl() would make sqlite:///x.db into sqlite:/x.db
        return _open_sql(parts.scheme, url.partition("?")[0], query)
    raise UsageError(
        f"unknown store URL {url!r}: use redis://..., file:///path, postgresql://..., "
        "mysql://... or sqlite:///path"
    )


# ?package=: which Node package wrote the table (the URL says only which database)
_PACKAGES = {
    "connect-pg-simple": "pg",
    "pg-simple": "pg",
    "express-mysql-session": "mysql",
    "mysql-session": "mysql",
    "connect-session-knex": "knex",
    "knex": "knex",
    "connect-session-sequelize": "sequelize",
    "sequelize": "sequelize",
}
_DATABASES = {"pg": "postgres", "mysql": "mysql", "knex": "*", "sequelize": "postgres mysql"}


def _open_sql(scheme: str, base: str, query: dict[str, str]) -> Any:
    """A SQL store: the database from the URL's scheme, the Node package that wrote the
    table from ``?package=`` (``connect-pg-simple``, ``express-mysql-session``, ``knex``,
    ``sequelize``; by default the first for postgresql://, the second for mysql://, knex for
    sqlite://), the table from ``?table=`` (the package's default) and, for
    connect-pg-simple, the schema from ``?schema=``::

        postgresql://user@host/db?table=session&schema=public     connect-pg-simple
        mysql://user:pw@host/db?table=sessions                    express-mysql-session
        postgresql://user@host/db?package=knex&table=sessions     connect-session-knex
        mysql://user:pw@host/db?package=sequelize                 connect-session-sequelize
        sqlite:////srv/app/sessions.db                            connect-session-knex
    """
    database = "postgres" if scheme.startswith("postgres") else scheme.replace("mariadb", "mysql")
    default = {
        "postgres": "connect-pg-simple",
        "mysql": "express-mysql-session",
        "sqlite": "connect-session-knex",
    }[database]
    named = query.get("package", default)
    package = _PACKAGES.get(named)
    if package is None:
        raise UsageError(f"unknown ?package={named}: use {', '.join(sorted(_PACKAGES))}")
    if _DATABASES[package] != "*" and database not in _DATABASES[package].split():
        raise UsageError(f"?package={named} does not run on {scheme}://")
    if "schema" in query and package != "pg":
        raise UsageError("?schema= is connect-pg-simple's: with knex, ?table=schema.table")
    table = query.get("table")
    try:
        if package == "pg":
            from .stores.sql.pg import PGStore

            return PGStore(base, table_name=table or "session", schema_name=query.get("schema"))
        if package == "mysql":
            from .stores.sql.mysql import MySQLStore

            return MySQLStore(base, table_name=table or "sessions")
        if package == "knex":
            from .stores.sql.knex import KnexStore

            return KnexStore(base, table_name=table or "sessions")
        from .stores.sql.sequelize import SequelizeStore

        return SequelizeStore(base, table_name=table or "Sessions")
    except ImportError:
        extra = "postgres" if database == "postgres" else "mysql"
        raise UsageError(
            f"{scheme}:// needs its driver: pip install engineio-session[{extra}]"
        ) from None
    except ValueError as error:
        raise UsageError(str(error)) from None


def _local(ms: float | None) -> str | None:
    if ms is None:
        return None
    return datetime.fromtimestamp(ms / 1000).astimezone().isoformat(timespec="seconds")


def describe(session: Session) -> dict[str, Any]:
    expires = session.cookie.expires_ms
    return {
        "id": session.id,
        "expires_local": _local(expires),
        "expired": session.expired(),
        "session": session.to_json(),
    }


# --- commands ------------------------------------------------------------------------------


def _print(args: argparse.Namespace, payload: dict[str, Any], human: str) -> None:
    text = json.dumps(payload, ensure_ascii=False) if args.json else human
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate (JS strings hold them): escaped
        text = (
            json.dumps(payload) if args.json else human.encode("utf-8", "backslashreplace").decode()
        )
    print(text)


def _is_cookie_session(args: argparse.Namespace) -> bool:
    if args.key or args.unsigned or args.sig is not None:
        return True
    if args.secret:
        return False
    return "=" in args.cookie and cookie_session_name(args.cookie) is not None


def cmd_decode(args: argparse.Namespace) -> int:
    if _is_cookie_session(args):
        return cmd_decode_cookie_session(args)
    answer = decode(args.cookie, args.name or "connect.sid", _secrets(args.secret))
    if answer["verified"]:
        human = (
            f"session id: {answer['id']}\n"
            f"signature: verified with secret #{answer['secret_index'] + 1} "
            f"of {answer['secret_count']}"
        )
    else:
        human = f"rejected: {answer['reason']}"
        if answer["id"]:
            human += f"\nclaimed id: {answer['id']}"
    _print(args, answer, human)
    return OK if answer["verified"] else REJECTED


def cmd_show(args: argparse.Namespace) -> int:
    target: str = args.target
    args.name = args.name or "connect.sid"
    if "=" in target or target.startswith(("s:", "s%3A", "s%3a")):
        answer = decode(target, args.name, _secrets(args.secret))
        if not answer["verified"]:
            _print(args, answer, f"rejected: {answer['reason']}")
            return REJECTED
        sid: str = answer["id"]
    else:
        sid = target
    store = open_store(args.store, args.store_secret)
    try:
        session = store.get(sid)
    except SessionError as error:
        _print(args, {"id": sid, "error": str(error)}, f"error: {error}")
        return USAGE if type(error).__name__ == "StoreError" else REJECTED
    if session is None:
        _print(
            args, {"id": sid, "session": None}, f"no session {sid!r} in {args.store} (or expired)"
        )
        return REJECTED
    info = describe(session)
    human = (
        f"session id: {sid}\n"
        f"expires: {info['expires_local'] or 'when the browser closes (no maxAge)'}\n"
        + json.dumps(info["session"], indent=2, ensure_ascii=False)
    )
    _print(args, info, human)
    return OK


def cmd_sign(args: argparse.Namespace) -> int:
    secrets = _secrets(args.secret)
    args.name = args.name or "connect.sid"
    value = "s:" + Signer(secrets).sign(args.sid)
    cookie = f"{args.name}={encode_uri_component(value)}"
    _print(args, {"value": value, "cookie": cookie}, f"{value}\n{cookie}")
    return OK


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(
        prog="engineio-session",
        description="Decode express-session cookies and show the sessions Node stored.",
        epilog=f"Secrets: --secret (repeat for rotation, newest first) or ${SECRET_ENV}; "
        f"cookie-session keys: --key or ${KEYS_ENV}. An id or cookie that starts with '-' "
        "goes after --: engineio-session show --store URL -- -Xy...",
    )
    root.add_argument("--version", action="version", version=_version.__version__)
    commands = root.add_subparsers(dest="command", required=True)

    def common(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--secret", action="append", help="a secret (repeat: newest first)")
        sub.add_argument(
            "--name", help="cookie name (connect.sid; for cookie-session: the pair's, or session)"
        )
        sub.add_argument("--json", action="store_true", help="print one JSON object")

    decode_cmd = commands.add_parser("decode", help="verify a Cookie header or a cookie value")
    decode_cmd.add_argument(
        "cookie",
        help="'connect.sid=s%%3A...; other=1' or 'session=...; session.sig=...', or a value",
    )
    decode_cmd.add_argument(
        "sig", nargs="?", help="cookie-session: the .sig value, after the session value"
    )
    decode_cmd.add_argument(
        "--key", action="append", help=f"a cookie-session key (repeat: newest first; ${KEYS_ENV})"
    )
    decode_cmd.add_argument(
        "--unsigned", action="store_true", help="cookie-session: show the data, verify nothing"
    )
    common(decode_cmd)
    decode_cmd.set_defaults(run=cmd_decode)

    show = commands.add_parser("show", help="load and print a session from a store")
    show.add_argument("target", help="a session id, or a cookie (then --secret is needed)")
    show.add_argument(
        "--store",
        required=True,
        help="redis://host:6379/0?prefix=sess: | file:///dir | postgresql://... | mysql://... | "
        "sqlite:///path.db; SQL: ?package=knex|sequelize|... &table= (&schema=)",
    )
    show.add_argument(
        "--store-secret", help=f"an encrypted file store's secret (${STORE_SECRET_ENV})"
    )
    common(show)
    show.set_defaults(run=cmd_show)

    sign = commands.add_parser("sign", help="the cookie value express-session would set for an id")
    sign.add_argument("sid")
    common(sign)
    sign.set_defaults(run=cmd_sign)
    return root


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    # the store's own warnings repeat what the command prints: keep stderr to the point
    # (for this run only: main() called from a program leaves its logging as it was)
    logger = logging.getLogger("engineio_session")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        return _main(argv)
    finally:
        logger.setLevel(level)


def _main(argv: Sequence[str] | None) -> int:
    try:
        args = parser().parse_args(argv)
    except SystemExit as exit_:
        return int(exit_.code or 0) if exit_.code in (0, None) else USAGE
    try:
        code: int = args.run(args)
    except (UsageError, SessionError) as error:
        print(f"engineio-session: {error}", file=sys.stderr)
        return USAGE
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
