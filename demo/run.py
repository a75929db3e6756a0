"""``make demo``: the whole story, played by a real client against real servers.

An Express app (express-session on session-file-store in a temporary directory, or on the
local Redis with ``--store redis``) and a Python Engine.IO server (this library, on the same
store) start; a client logs in on Express, connects to Python with the cookie, and so on.
Each step is printed; any failure exits non-zero with the step that failed.

    python demo/run.py [--store file|redis|postgres|mysql|sqlite]   # play the flow, clean up
    python demo/run.py --serve [--store ...]                        # keep both up for a browser
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "node-fixtures"
SECRET = "demo secret " + uuid.uuid4().hex  # a fresh secret each run


class DemoFailedError(Exception):
    pass


def say(who: str, what: str) -> None:
    print(f"  {who:>8} | {what}", flush=True)


def step(number: int, title: str) -> None:
    print(f"\n{number}. {title}", flush=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def start(name: str, command: list[str], env: dict[str, str]) -> tuple[subprocess.Popen[str], int]:
    process = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **env}, stdout=subprocess.PIPE, text=True
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    if not line:
        process.wait(timeout=10)
        raise DemoFailedError(f"{name} did not start (exit code {process.returncode})")
    return process, int(json.loads(line)["port"])


def express(
    port: int, method: str, path: str, cookie: str | None = None, body: Any = None
) -> tuple[Any, str | None]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Content-Type": "application/json"}
    if cookie:
        headers["Cookie"] = cookie
    connection.request(
        method, path, body=None if body is None else json.dumps(body), headers=headers
    )
    response = connection.getresponse()
    data = json.loads(response.read() or b"null")
    if response.status != 200:
        raise DemoFailedError(f"Express answered {response.status} to {method} {path}: {data}")
    set_cookie = response.getheader("Set-Cookie")
    connection.close()
    return data, set_cookie.split(";", 1)[0] if set_cookie else None


def play(express_port: int, python_port: int) -> None:
    import engineio

    step(1, "A user logs in on the Express app")
    _, cookie = express(express_port, "POST", "/login", body={"user": "ada"})
    if cookie is None:
        raise DemoFailedError("Express set no session cookie")
    say("Express", f"POST /login -> Set-Cookie: {cookie[:40]}...")

    step(2, "The same browser connects to the Python Engine.IO server, with that cookie")
    messages: queue.Queue[Any] = queue.Queue()
    closed: queue.Queue[str] = queue.Queue()
    client = engineio.Client()
    client.on("message", lambda data: messages.put(data))
    client.on("disconnect", lambda *reason: closed.put("closed"))
    client.connect(f"http://127.0.0.1:{python_port}", headers={"Cookie": cookie})
    say("client", f"connected ({client.transport()}), sid {client.sid}")

    def receive(what: str) -> Any:
        try:
            data = messages.get(timeout=5)
        except queue.Empty:
            raise DemoFailedError(f"no {what} from Python within 5 s") from None
        return json.loads(data) if isinstance(data, str) else data  # engineio decodes JSON

    step(3, "Python fires `session`: it knows the Express user")
    greeting = receive("greeting")
    if greeting.get("hello") != "ada":
        raise DemoFailedError(f"Python did not recognise the user: {greeting}")
    say("Python", f"session event -> hello {greeting['hello']}, session {greeting['session']}")

    step(4, "The Python side changes the session and saves it")
    client.send({"set": {"theme": "dark", "lastSeenBy": "python"}})
    saved = receive("save confirmation")
    say("Python", f"saved {saved.get('saved')}")

    step(5, "Express reads the session on its next request and sees the change")
    me, _ = express(express_port, "GET", "/me", cookie=cookie)
    say("Express", f"GET /me -> {me['data']}")
    if me["data"].get("theme") != "dark":
        raise DemoFailedError("Express does not see the change Python saved")

    step(6, "The user logs out on Express")
    express(express_port, "POST", "/logout", cookie=cookie)
    say("Express", "POST /logout -> session destroyed")

    step(7, "The Python side notices and closes the realtime connection")
    started = time.monotonic()
    try:
        closed.get(timeout=5)
    except queue.Empty:
        raise DemoFailedError("Python did not notice the logout within 5 s") from None
    say("Python", f"noticed the logout in {time.monotonic() - started:.2f} s and disconnected")
    me, _ = express(express_port, "GET", "/me", cookie=cookie)
    say("Express", f"GET /me -> logged in: {me['loggedIn']}")
    client.disconnect()


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--store",
        choices=("file", "redis", "postgres", "mysql", "sqlite"),
        default=os.environ.get("STORE") or "file",
    )
    parser.add_argument("--serve", action="store_true", help="keep both servers up for a browser")
    args = parser.parse_args()
    # `kill` (SIGTERM) ends the demo like Ctrl-C: through the cleanup below, servers included
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))

    workdir = Path(tempfile.mkdtemp(prefix="engineio-session-demo-"))
    env = {
        "STORE": args.store,
        "SESSIONS": str(workdir / "sessions"),
        "REDIS_URL": os.environ.get("REDIS_URL", "redis://127.0.0.1:6379"),
        "REDIS_PREFIX": f"demo-sess:{uuid.uuid4().hex[:8]}:",
        "SECRET": SECRET,
        "NODE_PATH": str(FIXTURES / "node_modules"),
    }
    (workdir / "sessions").mkdir()
    sql = _sql_store(args.store, env, workdir)
    processes: list[subprocess.Popen[str]] = []
    where = {
        "file": "a temporary directory",
        "redis": f"Redis ({env['REDIS_URL']})",
    }.get(args.store) or sql
    print(f"engineio-session demo: Express and Python share sessions in {where}")
    try:
        express_port, python_port = free_port(), free_port()
        origin = f"http://127.0.0.1:{express_port}"
        python_url = f"http://127.0.0.1:{python_port}"
        node, _ = start(
            "the Express app",
            ["node", "demo/express_app.js"],
            {**env, "PORT": str(express_port), "PYTHON_URL": python_url},
        )
        processes.append(node)
        python, _ = start(
            "the Python server",
            [sys.executable, "demo/python_server.py"],
            {**env, "PORT": str(python_port), "ORIGINS": f"{origin},{python_url}"},
        )
        processes.append(python)
        say("Express", f"listening on {origin} (express-session, {args.store} store)")
        say("Python", f"listening on {python_url} (engineio + attach)")
        if args.serve:
            print(f"\nOpen {origin}/ in a browser: log in, connect to Python, ask Python to")
            print("change the session, look at what Express sees, log out.")
            print("Ctrl-C stops both servers.")
            try:
                node.wait()
            except KeyboardInterrupt:
                print()
            return 0
        play(express_port, python_port)
        print("\nThe demo ran to the end: Express and Python shared one session. OK")
        return 0
    except DemoFailedError as error:
        print(f"\nDEMO FAILED: {error}", file=sys.stderr)
        return 1
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(workdir, ignore_errors=True)
        if args.store == "redis":
            _clear_redis(env["REDIS_URL"], env["REDIS_PREFIX"])
        if args.store in ("postgres", "mysql"):
            _drop_sql(args.store, env)


PG_URL = "postgresql://postgres@127.0.0.1:5432/test"
MYSQL_URL = "mysql://root@127.0.0.1:3306/test"


def _sql_store(store: str, env: dict[str, str], workdir: Path) -> str:
    """The SQL demo's table, made the way the Node package makes its own (its DDL), and
    the store's settings for both sides (env); what to say it is."""
    name = f"demo_{uuid.uuid4().hex[:8]}"
    env["SQL_NAME"] = name
    if store == "postgres":
        import psycopg

        from engineio_session.stores import PGStore

        url = env["PG_URL"] = os.environ.get("PG_URL", PG_URL)
        with psycopg.connect(url, autocommit=True) as connection:  # its own schema:
            connection.execute(f'CREATE SCHEMA "{name}"')  # connect-pg-simple's index names
        _create(PGStore(url, schema_name=name, create_table=True))
        env["STORE_CONFIG"] = json.dumps({"type": "pg", "url": url, "schemaName": name})
        return f"PostgreSQL ({url}, connect-pg-simple, schema {name})"
    if store == "mysql":
        from engineio_session.stores import MySQLStore

        url = env["MYSQL_URL"] = os.environ.get("MYSQL_URL", MYSQL_URL)
        _create(MySQLStore(url, table_name=name, create_table=True))
        config = {
            "type": "mysql",
            "host": "127.0.0.1",
            "port": 3306,
            "user": "root",
            "password": "",
            "database": "test",
            "schema": {"tableName": name},
        }
        env["STORE_CONFIG"] = json.dumps(config)
        return f"MariaDB ({url}, express-mysql-session, table {name})"
    if store == "sqlite":
        from engineio_session.stores import KnexStore

        path = env["SQLITE_FILE"] = str(workdir / "sessions.db")
        _create(KnexStore("sqlite:///" + path, create_table=True))
        env["STORE_CONFIG"] = json.dumps(
            {"type": "knex", "client": "better-sqlite3", "filename": path}
        )
        return f"SQLite ({path}, connect-session-knex)"
    return ""


def _create(store: Any) -> None:
    """A store with ``create_table=True`` makes its table on its first call."""
    try:
        store.get("no session")
    finally:
        store.close()


def _drop_sql(store: str, env: dict[str, str]) -> None:
    name = env["SQL_NAME"]
    try:
        if store == "postgres":
            import psycopg

            with psycopg.connect(env["PG_URL"], autocommit=True) as connection:
                connection.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        else:
            import pymysql

            with pymysql.connect(host="127.0.0.1", user="root", database="test") as connection:
                connection.cursor().execute(f"DROP TABLE IF EXISTS `{name}`")
    except Exception as error:  # cleanup is best effort: say so
        print(f"(could not drop the demo's {name}: {error})", file=sys.stderr)


def _clear_redis(url: str, prefix: str) -> None:
    try:
        import redis

        client = redis.Redis.from_url(url, socket_timeout=2)
        keys = list(client.scan_iter(match=prefix + "*"))
        if keys:
            client.delete(*keys)
    except Exception as error:  # cleanup is best effort: say so
        print(f"(could not clean up Redis keys {prefix}*: {error})", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
