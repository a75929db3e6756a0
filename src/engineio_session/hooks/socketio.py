"""Where ``attach`` meets python-socketio: the internals it needs, all here
(tests/test_hooks.py probes each one's behaviour on the installed version; the attach
tests also run against the oldest declared release, 5.11).

A ``socketio.Namespace`` subclass is no route for this: python-socketio hands an event to a
decorator handler first and to a class-based namespace only where there is none, so a
namespace of ours would neither see every event nor run before the application's
``connect`` handler. These are used instead:

- ``sio._handle_connect(eio_sid, namespace, auth)``: wrapped on the instance, to take a
  session from the CONNECT ``auth`` payload before the namespace's ``connect`` handler runs
  and to fire ``session`` after it accepted.
- ``sio._handle_event(eio_sid, namespace, id, data)``: wrapped on the instance. Every client
  event reaches it, decoded by the server's own packet class (any serializer, binary
  attachments already joined), before a handler runs; ``data[0]`` is the event name. Events
  a client must not send are dropped there, and ``reload=True`` reloads there.
- ``sio._trigger_event(event, namespace, *args)``, to fire ``session`` to decorator
  handlers, class-based namespaces and catch-alls alike.
- ``sio._send_packet`` + ``sio.packet_class``, to refuse a namespace (CONNECT_ERROR) as
  ``_handle_connect`` itself does.

And the public ``sio.eio``, ``sio.disconnect`` and ``sio.manager`` (``sid_from_eio_sid``,
``eio_sid_from_sid``, ``get_namespaces``, ``is_connected``: the client manager interface).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = [
    "check_socketio",
    "connected_namespaces",
    "eio_sid_of",
    "refuse",
    "socket_sid",
    "trigger",
    "wrap_socketio",
]

# Socket.IO CONNECT_ERROR (socket.io-protocol v5), as python-socketio's packet.CONNECT_ERROR
_CONNECT_ERROR = 4


def check_socketio(sio: Any) -> None:
    """TypeError unless ``sio`` has the python-socketio internals used here."""
    for name in ("_handle_connect", "_handle_event", "_trigger_event", "_send_packet"):
        if not callable(getattr(sio, name, None)):
            raise TypeError(f"{type(sio).__name__} has no {name}(): unsupported python-socketio")
    for name in ("manager", "packet_class", "eio"):
        if not hasattr(sio, name):
            raise TypeError(f"{type(sio).__name__} has no {name}: unsupported python-socketio")


def wrap_socketio(
    sio: Any,
    connect: Callable[[Callable[..., Any], str, str, Any], Any],
    event: Callable[[Callable[..., Any], str, str, Any, Any], Any],
) -> None:
    """Route ``sio._handle_connect`` and ``sio._handle_event`` through ``connect`` and
    ``event``, which get the original bound method first: ``connect(original, eio_sid,
    namespace, auth)`` and ``event(original, eio_sid, namespace, id, data)``.

    On an AsyncServer both must return awaitables (python-socketio awaits them).
    """
    check_socketio(sio)
    original_connect = sio._handle_connect
    original_event = sio._handle_event

    def handle_connect(eio_sid: str, namespace: str, data: Any) -> Any:
        return connect(original_connect, eio_sid, namespace, data)

    def handle_event(eio_sid: str, namespace: str, id: Any, data: Any) -> Any:
        return event(original_event, eio_sid, namespace, id, data)

    sio._handle_connect = handle_connect
    sio._handle_event = handle_event


def socket_sid(sio: Any, eio_sid: str, namespace: str) -> str | None:
    """The Socket.IO sid of an Engine.IO connection in ``namespace``, if it is connected."""
    sid: str | None = sio.manager.sid_from_eio_sid(eio_sid, namespace)
    if sid is None or not sio.manager.is_connected(sid, namespace):
        return None
    return sid


def eio_sid_of(sio: Any, sid: str, namespace: str) -> str | None:
    """The Engine.IO sid of Socket.IO connection ``sid`` in ``namespace``."""
    eio_sid: str | None = sio.manager.eio_sid_from_sid(sid, namespace)
    return eio_sid


def connected_namespaces(sio: Any, eio_sid: str) -> list[tuple[str, str]]:
    """``(namespace, sid)`` for each namespace this Engine.IO connection is connected to."""
    found = []
    for namespace in list(sio.manager.get_namespaces()):
        sid = socket_sid(sio, eio_sid, namespace)
        if sid is not None:
            found.append((namespace, sid))
    return found


def trigger(sio: Any, event: str, namespace: str, *args: Any) -> Any:
    """Fire a Socket.IO event server-side, as the server fires ``connect``: decorator
    handlers, class-based namespaces and catch-alls all see it (a coroutine on an
    AsyncServer)."""
    return sio._trigger_event(event, namespace, *args)


def refuse(sio: Any, eio_sid: str, namespace: str, message: str) -> Any:
    """Refuse a namespace CONNECT as python-socketio does when its handler says no: a
    CONNECT_ERROR packet (``connect_error`` on the client). A coroutine on an AsyncServer."""
    return sio._send_packet(
        eio_sid,
        sio.packet_class(_CONNECT_ERROR, data={"message": message}, namespace=namespace),
    )
