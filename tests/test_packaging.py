"""The sdist and wheel build, and the wheel installs into a fresh venv with its extras:
it imports, its stores import, and its console script runs."""

from __future__ import annotations

import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

from engineio_session import __version__, sign

ROOT = Path(__file__).resolve().parent.parent


def test_build_install_and_run(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
    )
    wheels = list(dist.glob("*.whl"))
    sdists = list(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1
    assert wheels[0].name.startswith(f"engineio_session-{__version__}-")
    with zipfile.ZipFile(wheels[0]) as wheel:
        names = wheel.namelist()
    assert "engineio_session/py.typed" in names
    assert "engineio_session/stores/redis/store.py" in names
    with tarfile.open(sdists[0]) as sdist:
        assert any(name.endswith("/CHANGELOG.md") for name in sdist.getnames())

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", f"{wheels[0]}[redis,socketio]"],
        check=True,
        capture_output=True,
    )
    probe = (
        "import engineio_session, engineio_session.stores as s; "
        "from engineio_session.stores import RedisStore, AsyncRedisStore, FileStore; "
        "from engineio_session import attach, Session; "
        "print(engineio_session.__version__)"
    )
    out = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == __version__
    script = env / "bin" / "engineio-session"
    out = subprocess.run(
        [str(script), "sign", "abc", "--secret", "k"], check=True, capture_output=True, text=True
    )
    assert out.stdout.splitlines()[0] == "s:" + sign("abc", "k")
