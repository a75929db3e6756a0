"""PEP 3333 lets an app call ``start_response`` a second time, with ``exc_info``, to replace
the headers of a response that failed before its body: the WSGI middleware saves the
session once, and sends its cookie on whichever headers go out."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from engineio_session.core import ENVIRON_SESSION
from engineio_session.stores import FileStore
from engineio_session.wsgi import SessionMiddleware


class CountingFileStore(FileStore):
    """A real FileStore that counts its writes."""

    writes = 0

    def set(self, sid: str, session: Any) -> None:
        self.writes += 1
        super().set(sid, session)

    def update(self, sid: str, *args: Any, **kwargs: Any) -> Any:
        self.writes += 1
        return super().update(sid, *args, **kwargs)

    def touch(self, sid: str, session: Any) -> bool:
        self.writes += 1
        return super().touch(sid, session)


def failing_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    session = environ[ENVIRON_SESSION]
    if session.is_new:
        session["user"] = "ada"
    start_response("200 OK", [("Content-Type", "text/plain")])
    try:
        raise RuntimeError("the body failed before it was sent")
    except RuntimeError:
        start_response("500 Internal Server Error", [], sys.exc_info())
    return [b"failed"]


def test_a_second_start_response_saves_nothing_twice(tmp_path: Path) -> None:
    store = CountingFileStore(path=str(tmp_path))
    middleware = SessionMiddleware(failing_app, store=store, secret="s3cret")
    calls: list[tuple[str, list[tuple[str, str]]]] = []

    def start_response(status: str, headers: list[tuple[str, str]], *exc_info: Any) -> None:
        calls.append((status, headers))

    environ = {"PATH_INFO": "/", "wsgi.url_scheme": "http", "REQUEST_METHOD": "GET"}
    assert middleware(environ, start_response) == [b"failed"]
    assert [status for status, _ in calls] == ["200 OK", "500 Internal Server Error"]
    cookies = [[v for k, v in headers if k == "Set-Cookie"] for _, headers in calls]
    assert len(cookies[0]) == 1 and cookies[0] == cookies[1]
    assert store.writes == 1
    (sid,) = [path.stem for path in tmp_path.glob("*.json")]
    stored = store.get(sid)
    assert stored is not None and stored["user"] == "ada"
    # the session loaded again, unchanged: touched once, not once a start_response
    calls.clear()
    environ = {**environ, "HTTP_COOKIE": cookies[0][0].split(";")[0]}
    assert middleware(environ, start_response) == [b"failed"]
    assert len(calls) == 2
    assert store.writes == 2
