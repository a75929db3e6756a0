"""The ``engineio-session`` command: decode, show, sign; exit codes; secrets from the env."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from engineio_session import Session, sign
from engineio_session.cli import main
from engineio_session.cookies import encode_uri_component
from engineio_session.stores import FileStore

SID = "Xq1dQmBq3CZYnI0PLKWmIY8XSEqMR7JJ"


def cookie_for(sid: str, secret: str, name: str = "connect.sid") -> str:
    return f"{name}={encode_uri_component('s:' + sign(sid, secret))}"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_decode_says_which_secret_verified(capsys: pytest.CaptureFixture[str]) -> None:
    header = "theme=dark; " + cookie_for(SID, "old")
    code, out, _ = run(capsys, "decode", header, "--secret", "new", "--secret", "old")
    assert code == 0
    assert f"session id: {SID}" in out and "secret #2 of 2" in out


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("theme=dark", "no cookie named 'connect.sid' (found: theme)"),
        (f"connect.sid={SID}", "not signed"),
        ("connect.sid=s%3Aabc.short", "malformed"),
        (cookie_for(SID, "other"), "bad signature: it matches none of the 1 secret(s)"),
    ],
)
def test_decode_explains_a_rejection(
    capsys: pytest.CaptureFixture[str], text: str, reason: str
) -> None:
    code, out, _ = run(capsys, "decode", text, "--secret", "new", "--json")
    assert code == 1
    answer = json.loads(out)
    assert answer["verified"] is False and reason in answer["reason"]


def test_decode_takes_a_bare_value_and_another_name(capsys: pytest.CaptureFixture[str]) -> None:
    value = "s:" + sign(SID, "k")
    assert run(capsys, "decode", value, "--secret", "k")[0] == 0
    assert run(capsys, "decode", encode_uri_component(value), "--secret", "k")[0] == 0
    header = cookie_for(SID, "k", name="app.sid")
    assert run(capsys, "decode", header, "--secret", "k", "--name", "app.sid")[0] == 0


def test_secrets_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ENGINEIO_SESSION_SECRET", "new\nold\n")
    code, out, _ = run(capsys, "decode", cookie_for(SID, "old"))
    assert code == 0 and "secret #2 of 2" in out
    monkeypatch.delenv("ENGINEIO_SESSION_SECRET")
    code, _, err = run(capsys, "decode", cookie_for(SID, "old"))
    assert code == 2 and "ENGINEIO_SESSION_SECRET" in err


def test_sign_gives_what_express_session_sets(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "sign", SID, "--secret", "k", "--json")
    assert code == 0
    answer = json.loads(out)
    assert answer["value"] == "s:" + sign(SID, "k")
    assert answer["cookie"] == cookie_for(SID, "k")


def test_show_from_a_file_store(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    store = FileStore(tmp_path)
    session = Session.new(SID, max_age=3_600_000)
    session["user"] = "ada"
    store.set(SID, session)
    url = tmp_path.as_uri()
    code, out, _ = run(capsys, "show", SID, "--store", url)
    assert code == 0 and '"user": "ada"' in out and "expires: " in out
    code, out, _ = run(
        capsys, "show", cookie_for(SID, "k"), "--store", url, "--secret", "k", "--json"
    )
    assert code == 0
    answer = json.loads(out)
    assert answer["session"]["user"] == "ada" and answer["expired"] is False
    assert answer["expires_local"] is not None
    assert run(capsys, "show", "nobody", "--store", url)[0] == 1
    assert run(capsys, "show", cookie_for(SID, "x"), "--store", url, "--secret", "k")[0] == 1


def test_show_from_an_encrypted_file_store(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    FileStore(tmp_path, secret="disk secret").set(SID, Session.new(SID))
    url = tmp_path.as_uri()
    monkeypatch.setenv("ENGINEIO_SESSION_STORE_SECRET", "disk secret")
    assert run(capsys, "show", SID, "--store", url)[0] == 0
    monkeypatch.delenv("ENGINEIO_SESSION_STORE_SECRET")
    code, out, _ = run(capsys, "show", SID, "--store", url)
    assert code == 1 and "corrupt" in out


def test_show_from_redis(capsys: pytest.CaptureFixture[str], redis_url: str) -> None:
    import redis

    from engineio_session.stores import RedisStore

    client = redis.Redis.from_url(redis_url)
    store = RedisStore(client, prefix="cli-test:")
    session = Session.new(SID, max_age=60_000)
    session["user"] = "grace"
    store.set(SID, session)
    try:
        url = redis_url + "?prefix=cli-test:"
        code, out, _ = run(capsys, "show", SID, "--store", url, "--json")
        assert code == 0 and json.loads(out)["session"]["user"] == "grace"
        assert run(capsys, "show", SID, "--store", redis_url)[0] == 1  # other prefix: none
    finally:
        store.destroy(SID)


def test_usage_and_connection_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "bogus")[0] == 2
    assert run(capsys, "show", SID, "--store", "ftp://x")[0] == 2
    assert run(capsys, "show", SID, "--store", "file:///no/such/dir")[0] == 2
    code, out, _ = run(capsys, "show", SID, "--store", "redis://127.0.0.1:1/0")
    assert code == 2 and "RedisStore" in out


def test_the_console_script_is_installed() -> None:
    script = Path(sys.executable).parent / "engineio-session"
    result = subprocess.run(
        [str(script), "sign", SID, "--secret", "k"], capture_output=True, text=True, check=True
    )
    assert result.stdout.splitlines()[0] == "s:" + sign(SID, "k")
