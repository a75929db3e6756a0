"""The quarantine: every internal of python-engineio and python-socketio that ``attach``
relies on, one module per library, each pinned by a behaviour probe in tests/test_hooks.py.

Nothing outside :mod:`engineio_session.engineio`, :mod:`engineio_session.socketio` and
:mod:`engineio_session.attach` imports from here.
"""
