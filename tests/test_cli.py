"""The ``engineio-session`` command: decode, show, sign; exit codes; secrets from the env."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from engineio_session import CookieSession, Session, sign
from engineio_session.cli import main
from engineio_session.cookies import encode_uri_component
from engineio_session.keygrip import keygrip_sign
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


# --- cookie-session pairs --------------------------------------------------------------------


def cs_pair(data: dict[str, object], key: str, name: str = "session") -> str:
    return "; ".join(v.split(";", 1)[0] for v in CookieSession([key], name).dump(data))


def test_decode_recognises_a_cookie_session_pair(capsys: pytest.CaptureFixture[str]) -> None:
    header = "theme=dark; " + cs_pair({"user": "ada", "x": "\ud800"}, "old")
    code, out, _ = run(capsys, "decode", header, "--key", "new", "--key", "old")
    assert code == 0
    assert "cookie-session session: verified with key #2 of 2" in out and "re-signs" in out
    assert '"user": "ada"' in out
    code, out, _ = run(capsys, "decode", header, "--key", "new", "--key", "old", "--json")
    answer = json.loads(out)
    assert answer["kind"] == "cookie-session" and answer["status"] == "rotated"
    assert answer["session"] == {"user": "ada", "x": "\ud800"}
    assert answer["key_index"] == 1 and answer["set_cookie"][0].startswith("session.sig=")


def test_decode_takes_the_two_values_and_another_name(capsys: pytest.CaptureFixture[str]) -> None:
    pair = cs_pair({"n": 1}, "k", name="app.sess")
    value, sig = (part.split("=", 1)[1] for part in pair.split("; "))
    code, out, _ = run(capsys, "decode", value, sig, "--key", "k", "--name", "app.sess", "--json")
    assert code == 0 and json.loads(out)["session"] == {"n": 1}
    # the pair's name is found in a header; the two values without --name are "session"'s
    assert run(capsys, "decode", pair, "--key", "k")[0] == 0
    assert run(capsys, "decode", value, sig, "--key", "k")[0] == 1


@pytest.mark.parametrize(
    ("make", "status", "reason"),
    [
        (lambda: cs_pair({"n": 1}, "attacker"), "forged", "matches none of the 1 key(s)"),
        (lambda: cs_pair({"n": 1}, "k").split(";")[0], "unsigned", "no session.sig cookie"),
        (lambda: "theme=dark", "absent", "no cookie named 'session'"),
        (
            lambda: "session=bm90IGpzb24=; session.sig=" + _sig("bm90IGpzb24="),
            "verified",
            "not base64 JSON",
        ),
    ],
)
def test_decode_explains_a_rejected_cookie_session(
    capsys: pytest.CaptureFixture[str], make: Any, status: str, reason: str
) -> None:
    code, out, _ = run(capsys, "decode", make(), "--key", "k", "--json")
    answer = json.loads(out)
    assert code == 1 and answer["status"] == status and reason in answer["reason"]
    assert answer["session"] is None


def _sig(value: str) -> str:
    return keygrip_sign("session=" + value, "k")


def test_cookie_session_keys_from_the_environment(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = cs_pair({"n": 1}, "old")
    monkeypatch.setenv("ENGINEIO_SESSION_KEYS", "new\nold\n")
    code, out, _ = run(capsys, "decode", pair)
    assert code == 0 and "key #2 of 2" in out
    monkeypatch.delenv("ENGINEIO_SESSION_KEYS")
    code, _, err = run(capsys, "decode", pair)
    assert code == 2 and "ENGINEIO_SESSION_KEYS" in err
    # a connect.sid header still goes to express-session's decode
    monkeypatch.setenv("ENGINEIO_SESSION_SECRET", "k")
    assert run(capsys, "decode", cookie_for(SID, "k"))[0] == 0


def test_unsigned_shows_what_anybody_can_read(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "decode", cs_pair({"user": "ada"}, "whatever"), "--unsigned")
    assert code == 0 and "NOT verified" in out and '"user": "ada"' in out


def test_several_pairs_need_a_name(capsys: pytest.CaptureFixture[str]) -> None:
    header = cs_pair({"n": 1}, "k", name="a") + "; " + cs_pair({"n": 2}, "k", name="b")
    code, _, err = run(capsys, "decode", header, "--key", "k")
    assert code == 2 and "--name" in err
    code, out, _ = run(capsys, "decode", header, "--key", "k", "--name", "b", "--json")
    assert code == 0 and json.loads(out)["session"] == {"n": 2}


def test_an_id_that_starts_with_a_dash_goes_after_double_dash(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    sid = "-" + SID[1:]  # uid-safe ids are base64url: one in 64 starts with "-"
    store = FileStore(tmp_path)
    store.set(sid, Session.new(sid, max_age=3_600_000))
    code, out, _ = run(capsys, "show", "--store", tmp_path.as_uri(), "--json", "--", sid)
    assert code == 0 and json.loads(out)["id"] == sid
    assert run(capsys, "sign", "--secret", "k", "--", sid)[1].startswith("s:-")
    assert run(capsys, "sign", "--secret", "k", sid)[0] == 2  # taken for an option
    assert "after --" in run(capsys, "--help")[1]


def test_main_leaves_the_library_s_log_level_as_it_was(
    capsys: pytest.CaptureFixture[str],
) -> None:
    logger = logging.getLogger("engineio_session")
    logger.setLevel(logging.INFO)
    try:
        run(capsys, "sign", SID, "--secret", "k")
        assert logger.level == logging.INFO
    finally:
        logger.setLevel(logging.NOTSET)
