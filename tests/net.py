"""Loopback TCP ports for the tests: one that refuses, one that never answers, a free one.

``tests/conftest.py`` offers the first two as session fixtures (``closed_port``,
``black_hole``); ``free_port`` is for a program that binds the port itself.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

HOST = "127.0.0.1"


@contextmanager
def closed_port() -> Iterator[int]:
    """A port that refuses connections while the block runs: bound, never listening.

    Held bound, so nothing else (no other test, no client's ephemeral port) can take it
    and start answering on it.
    """
    with socket.socket() as held:
        held.bind((HOST, 0))
        yield held.getsockname()[1]


@contextmanager
def black_hole() -> Iterator[int]:
    """A port that accepts every connection and never answers (a server that hangs)."""
    listener = socket.socket()
    listener.bind((HOST, 0))
    listener.listen(128)
    held: list[socket.socket] = []

    def accept() -> None:  # so the backlog never fills up, however many connect
        while True:
            try:
                held.append(listener.accept()[0])
            except OSError:
                return

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        listener.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
        listener.close()
        thread.join(timeout=5)
        for connection in held:
            connection.close()


def free_port() -> int:
    """A port nothing listens on now, for a program that binds it itself (it may lose a
    race for it; only a port the test holds, as ``closed_port``, is certain)."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port
