"""The sdist and wheel build, and the wheel installs into a fresh venv with its extras:
it imports, its stores import, its compiled module imports, and its console script runs.
Under CI=true this environment must have the compiled module too."""

from __future__ import annotations

import fnmatch
import importlib.util
import os
import subprocess
import sys
import tarfile
import venv
import zipfile
from pathlib import Path

import pytest

from engineio_session import __version__, sign

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


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
    assert fnmatch.filter(names, "engineio_session/_speedups*.so"), names
    with tarfile.open(sdists[0]) as sdist:
        in_sdist = sdist.getnames()
    for shipped in ("/CHANGELOG.md", "/setup.py", "/src/engineio_session/_speedups.c"):
        assert any(name.endswith(shipped) for name in in_sdist), shipped

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
        "import engineio_session._speedups; "
        "print(engineio_session.__version__)"
    )
    out = subprocess.run([str(python), "-c", probe], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == __version__
    script = env / "bin" / "engineio-session"
    out = subprocess.run(
        [str(script), "sign", "abc", "--secret", "k"], check=True, capture_output=True, text=True
    )
    assert out.stdout.splitlines()[0] == "s:" + sign("abc", "k")


def test_compiled_module_in_this_environment() -> None:
    """The C extension is optional when installing, but CI never runs without it."""
    if importlib.util.find_spec("engineio_session._speedups") is None and not IN_CI:
        pytest.skip("engineio_session._speedups is not built here (no C compiler?)")
    import engineio_session._speedups  # noqa: F401
