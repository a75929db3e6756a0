"""The C extension; everything else about the package is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "engineio_session._speedups",
            ["src/engineio_session/_speedups.c"],
            # optional: where it does not compile (no C compiler, no Python headers) the
            # pure-Python package still installs, build_ext only warns, and the package
            # runs on its Python code
            optional=True,
        )
    ]
)
