"""cookie-session's cookie body: the session as base64 JSON, read into what its ``Session``
holds (cookie-session@2.1.1 ``encode``, ``decode``, ``Session.create``).

>>> encode({"user": "ada"}), decode("eyJ1c2VyIjoiYWRhIn0")
('eyJ1c2VyIjoiYWRhIn0=', {'user': 'ada'})
>>> decode(encode([1, 2])), decode(encode({"isNew": 1, "b": 2})), decode("not json") is None
({'0': 1, '1': 2}, {'b': 2}, True)
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping
from typing import Any

from . import jsjson
from ._buffer import buffer_from_base64
from .jsjson import _is_index

__all__ = ["NOT_DATA", "copy_data", "decode", "encode", "session_data"]

# Session() copies a key only `if (!(key in this))`: its own _ctx, the getters of
# Session.prototype, and everything on Object.prototype (Node 20) never become session data
NOT_DATA = frozenset(
    "_ctx isChanged isNew isPopulated constructor __defineGetter__ __defineSetter__ "  # noqa: SIM905
    "hasOwnProperty __lookupGetter__ __lookupSetter__ isPrototypeOf propertyIsEnumerable "
    "toString valueOf __proto__ toLocaleString".split()
)


def session_data(parsed: Any) -> dict[str, Any]:
    """What ``new Session(ctx, obj)`` holds for a value ``JSON.parse`` gave: ``for (key in
    obj)``, so an array or a string gives its indexes (a string's UTF-16 code units), a number,
    ``true`` or ``null`` nothing; in JS property order."""
    if isinstance(parsed, dict):
        items: Iterable[tuple[str, Any]] = parsed.items()
    elif isinstance(parsed, list):
        return {str(index): item for index, item in enumerate(parsed)}
    elif isinstance(parsed, str):
        units = parsed.encode("utf-16-le", "surrogatepass")
        return {
            str(index): units[2 * index : 2 * index + 2].decode("utf-16-le", "surrogatepass")
            for index in range(len(units) // 2)
        }
    else:
        return {}
    data = {key: value for key, value in items if key not in NOT_DATA}
    if any(_is_index(key) for key in data):
        indexed = sorted((key for key in data if _is_index(key)), key=int)
        data = {
            **{key: data[key] for key in indexed},
            **{key: value for key, value in data.items() if not _is_index(key)},
        }
    return data


def copy_data(data: Mapping[Any, Any]) -> dict[Any, Any]:
    """``Session.create(data)``: the keys a Session can take, as ``req.session = data`` does."""
    return {key: value for key, value in data.items() if key not in NOT_DATA}


def encode(data: Mapping[Any, Any]) -> str:
    """cookie-session's ``encode``: ``Buffer.from(JSON.stringify(body)).toString('base64')``."""
    return base64.b64encode(jsjson.dumps(data, name="session").encode("utf-8")).decode("ascii")


def decode(value: str) -> dict[str, Any] | None:
    """cookie-session's ``Session.deserialize``; None where it throws (a new session)."""
    body = buffer_from_base64(value).decode("utf-8", "replace")  # toString('utf8'): U+FFFD
    try:
        parsed = jsjson.loads(body)
    except ValueError:
        return None
    return session_data(parsed)
