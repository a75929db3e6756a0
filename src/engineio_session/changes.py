"""What this side changed in a session, applied to the session as the store holds it now.

express-session saves a session by writing the whole object back (``store.set``): the last
writer wins, and whatever the Node app or another tab wrote since this copy was loaded is
lost. Here a save sends only what a Python handler changed: the top-level keys it set,
replaced or deleted, and the cookie when it was touched. A store applies those
:class:`Changes` to what it holds at that moment, atomically, so a change made elsewhere
survives, and a session that is gone (a logout) stays gone::

    >>> from engineio_session.session import Session
    >>> loaded = Session.from_json("abc", {"cookie": {"expires": None}, "user": "ada", "n": 1})
    >>> loaded["n"] = 2; del loaded["user"]; loaded["theme"] = "dark"
    >>> changes = Changes.of(loaded)
    >>> changes
    Changes(set={'n': 2, 'theme': 'dark'}, deleted=['user'], cookie=None)
    >>> now = Session.from_json("abc", {"cookie": {"expires": None}, "user": "ada", "n": 1,
    ...     "cart": [7]})                                # Node added a cart meanwhile
    >>> dict(changes.apply(now))
    {'n': 2, 'cart': [7], 'theme': 'dark'}

Keys are compared by their JSON text (as the store would hold them), so a value changed in
place (``session["cart"].append(8)``) is a change, and ``1`` and ``true`` are not the same.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from . import jsjson
from .session import Cookie, Session

__all__ = ["Changes"]


def _json(value: Any) -> str:
    return jsjson.dumps(value, name="session")


class Changes:
    """Top-level keys set (``set``) or deleted (``deleted``), and the new cookie (``cookie``,
    None when the cookie was not changed). ``read``: the stored JSON text they were computed
    against, when known (:meth:`of`): a store may first write them onto it with no read of
    its own, if it still holds exactly that (a compare-and-set), and read only if not."""

    __slots__ = ("cookie", "deleted", "read", "set")

    def __init__(
        self,
        set: Mapping[str, Any] | None = None,
        deleted: Iterable[str] = (),
        cookie: Cookie | None = None,
        *,
        read: str | None = None,
    ) -> None:
        self.set: dict[str, Any] = dict(set or {})
        self.deleted: list[str] = [key for key in deleted if key not in self.set]
        self.cookie = cookie
        self.read = read

    @classmethod
    def of(cls, session: Session) -> Changes:
        """What changed in ``session`` since it was loaded or last saved.

        A session the store never held (:meth:`Session.baseline` is None) changed in
        everything: all its keys and its cookie.
        """
        base = session.baseline()
        if base is None:
            return cls(dict(session), (), session.cookie.copy())
        changed = {
            key: value
            for key, value in session.read_items()  # a value never read is unchanged
            if key not in base or _json(value) != _json(base[key])
        }
        deleted = [key for key in base if key != "cookie" and key not in session]
        cookie = session.cookie.to_json()
        touched = _json(cookie) != _json(base.get("cookie"))
        new_cookie = session.cookie.copy() if touched else None
        return cls(changed, deleted, new_cookie, read=session.baseline_json())

    @property
    def empty(self) -> bool:
        """Nothing changed."""
        return not self.set and not self.deleted and self.cookie is None

    def apply(self, stored: Session) -> Session:
        """``stored`` (the store's current session) with these changes made to it.

        Deleted keys go, set keys take their new value (an existing key keeps its place in
        the object, a new one comes last, as in JS), and a changed cookie replaces the
        stored one; every other key stays as the store has it.
        """
        for key in self.deleted:
            stored.pop(key, None)
        for key, value in self.set.items():
            stored[key] = value
        if self.cookie is not None:
            stored.cookie = self.cookie.copy()
        return stored

    def __repr__(self) -> str:
        cookie = None if self.cookie is None else self.cookie.to_json()
        return f"Changes(set={self.set!r}, deleted={self.deleted!r}, cookie={cookie!r})"
