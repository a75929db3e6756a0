"""The benchmark's sessions, made by Node and removed after: ``Sessions`` is a context.

``node-fixtures/bench-sessions.js`` saves ``count`` express-session sessions through the
real connect-redis 10 (in the local Redis, under a prefix of this run's own) and, when asked,
through session-file-store 1.5 (in a temporary directory), and writes a file of Cookie
header values (``connect.sid=s%3A<id>.<mac>``, signed with ``secret``) for each.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType
from typing import Self

import redis

from .servers import FIXTURES

SECRET = "bench handshake secret"


class Sessions:
    """``with Sessions(redis_url, count, file=True) as sessions:``: ``sessions.prefix``,
    ``sessions.directory`` (the temporary directory: the file store under ``files/``, the
    servers' logs under ``logs/``), ``sessions.cookies["redis"]`` / ``["file"]``."""

    def __init__(self, redis_url: str, count: int, *, file: bool) -> None:
        self.redis_url = redis_url
        self.count = count
        self.file = file
        self.secret = SECRET
        self.prefix = f"bench:handshake:{uuid.uuid4().hex[:8]}:sess:"
        self.directory = Path(tempfile.mkdtemp(prefix="eio-bench-"))
        self.file_path = self.directory / "files"
        self.logs = self.directory / "logs"
        self.logs.mkdir()
        self.cookies: dict[str, Path] = {}
        self.seconds: dict[str, float] = {}

    def __enter__(self) -> Self:
        try:
            store = {"type": "redis", "url": self.redis_url, "prefix": self.prefix}
            self._make("redis", store)
            if self.file:
                self.file_path.mkdir()
                self._make("file", {"type": "file", "path": str(self.file_path)})
        except BaseException:
            self.close()
            raise
        return self

    def _make(self, name: str, store: dict[str, str]) -> None:
        cookies = self.directory / f"cookies-{name}.txt"
        config = {"store": store, "count": self.count, "secret": self.secret}
        done = subprocess.run(
            [shutil.which("node") or "node", "bench-sessions.js"],
            input=json.dumps({**config, "cookies": str(cookies)}),
            capture_output=True,
            text=True,
            cwd=FIXTURES,
            timeout=600,
        )
        if done.returncode != 0:
            raise RuntimeError(f"bench-sessions.js failed ({name}):\n{done.stderr}")
        answer = json.loads(done.stdout)
        lines = cookies.read_text().split()
        if answer["count"] != self.count or len(set(lines)) != self.count:
            raise RuntimeError(f"{name}: {self.count} distinct sessions asked, {answer} made")
        self.cookies[name] = cookies
        self.seconds[name] = answer["seconds"]

    def lines(self, name: str) -> list[str]:
        return self.cookies[name].read_text().split()

    def close(self) -> int:
        """Remove the Redis keys and the directory; how many keys were removed."""
        removed = 0
        client = redis.Redis.from_url(self.redis_url)
        try:
            batch: list[bytes] = []
            for key in client.scan_iter(match=self.prefix + "*", count=1000):
                batch.append(key)
                if len(batch) == 1000:
                    removed += client.unlink(*batch)
                    batch = []
            if batch:
                removed += client.unlink(*batch)
        finally:
            client.close()
            shutil.rmtree(self.directory, ignore_errors=True)
        return removed

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
