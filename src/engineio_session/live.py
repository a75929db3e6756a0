"""A session bound to its store, as ``req.session`` is bound to ``req.sessionStore``.

What the ``session`` event hands to a handler: the user's data plus ``save()``,
``reload()``, ``touch()`` and ``destroy()``, plain calls on a sync server and coroutines on
an async one::

    @eio.on("session")
    async def on_session(sid, session):     # an AsyncLiveSession
        session["seen"] = session.get("seen", 0) + 1
        await session.save()                # the Node app sees it on its next request

``save()`` sends what this side changed (the keys set, replaced or deleted, and the cookie
if touched: :class:`~engineio_session.changes.Changes`) and the store applies it to the
session as it holds it now, so what the Node app or another tab saved meanwhile stays; the
session then holds the result. ``save(replace=True)`` is express-session's own write: the
whole session, the last writer wins. ``reload()`` replaces the data with what the store
holds now. ``touch()`` resets the expiry from the original max age (``rolling``) and tells
the store (``store.touch``, which extends a Redis TTL). ``destroy()`` removes it.

A write never brings back a session the store no longer holds (a logout on the Node app):
``save()`` and ``touch()`` then write nothing, mark the session ``destroyed``, close the
connections that hold it (when it came from ``attach``, as a logout noticed by ``watch``
is) and raise :class:`~engineio_session.errors.SessionGoneError`; ``reload()`` raises it
too, as express-session's does. A session this side created
(``attach(create=True)``) is written whole by its first save.

The logic of each method is written once, as a plan (:mod:`engineio_session.drive`);
:class:`LiveSession` drives it with plain calls, :class:`AsyncLiveSession` awaits it.
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import Any, NoReturn

from .changes import Changes
from .drive import Call, Plan, arun, run
from .errors import SessionGoneError
from .session import Session

__all__ = ["AsyncLiveSession", "LiveSession"]

#: what a live session calls when it finds its session gone: ``on_gone(session_id)``
OnGone = Callable[[str], Any]


class _BoundSession(Session):
    """A :class:`Session` bound to its store: the plans both shells drive."""

    __slots__ = ()  # Session holds the slots (see bind)

    def __init__(
        self, session: Session, store: Any, *, new: bool = False, on_gone: OnGone | None = None
    ) -> None:
        # no Cookie() and no data of its own: it takes what `session` holds (a shallow copy
        # of loaded data; still unparsed data stays so), without Session.__init__'s defaults
        self.id = session.id
        self.copy_from(session)
        self._bound(store, new, on_gone)

    @classmethod
    def bind(
        cls,
        session: Session,
        store: Any,
        *,
        new: bool = False,
        on_gone: OnGone | None = None,
        owned: bool = False,
    ) -> Any:
        """``session`` bound to ``store``: a copy (as ``cls(session, store)``), or, where
        the caller ``owned`` it (nobody else holds it: a store decoded it for this one
        read), the same object made live in place, one object and one copy fewer per
        handshake. A session of a subclass of Session is always copied.

        >>> from engineio_session.session import Session
        >>> session = Session("abc")
        >>> LiveSession.bind(session, store=None, owned=True) is session
        True
        >>> type(session).__name__, LiveSession.bind(Session("d"), None).destroyed
        ('LiveSession', False)
        """
        if owned and type(session) is Session:
            session.__class__ = cls
            live: _BoundSession = session  # type: ignore[assignment]
            live._bound(store, new, on_gone)
            return live
        return cls(session, store, new=new, on_gone=on_gone)

    def _bound(self, store: Any, new: bool, on_gone: OnGone | None) -> None:
        self.store = store
        #: True once destroy() ran, or the store was found not to hold it any more
        self.destroyed = False
        self._new = new
        self._on_gone = on_gone
        #: how many saves succeeded (the HTTP middleware: a route that saved itself)
        self.saves = 0

    @property
    def is_new(self) -> bool:
        """True while the store has never held this session (made here, not yet saved)."""
        return self._new

    def _gone(self) -> Generator[Call, Any, NoReturn]:
        self.destroyed = True
        if self._on_gone is not None:
            yield Call(self._on_gone, self.id)
        raise SessionGoneError(self.id)

    def _save(self, replace: bool) -> Plan[None]:
        if self.destroyed:
            raise SessionGoneError(self.id)
        if self._new:  # never stored: its first save creates it
            yield Call(self.store.set, self.id, self)
            self._new = False
        elif replace:
            if not (yield Call(self.store.replace, self.id, self)):
                yield from self._gone()
        else:
            merged = yield Call(self.store.update, self.id, Changes.of(self))
            if merged is None:
                yield from self._gone()
            self.copy_from(merged)
        self.mark_saved()
        self.saves += 1

    def _reload(self) -> Plan[None]:
        fresh = yield Call(self.store.get, self.id)
        if fresh is None:  # express-session's reload fails; the connection is left as it is
            self.destroyed = True
            raise SessionGoneError(self.id)
        self.copy_from(fresh)

    def _touch(self) -> Plan[None]:
        if self.destroyed:
            raise SessionGoneError(self.id)
        self.reset_max_age()
        if not (yield Call(self.store.touch, self.id, self)):
            yield from self._gone()

    def _destroy(self) -> Plan[None]:
        yield Call(self.store.destroy, self.id)
        self.destroyed = True


class LiveSession(_BoundSession):
    """A :class:`Session` with express-session's methods, on a sync store."""

    __slots__ = ()

    def save(self, *, replace: bool = False) -> None:
        """``req.session.save()``: write this side's changes (``replace=True``: the whole
        session) to the store; SessionGoneError if the store no longer holds it."""
        run(self._save(replace))

    def reload(self) -> None:
        """``req.session.reload()``: the store's current data; SessionGoneError if none."""
        run(self._reload())

    def touch(self) -> None:
        """Reset the expiry from the original max age, and tell the store."""
        run(self._touch())

    def destroy(self) -> None:
        """``req.session.destroy()``: remove the session from the store."""
        run(self._destroy())


class AsyncLiveSession(_BoundSession):
    """A :class:`Session` with express-session's methods as coroutines, on an async store."""

    __slots__ = ()

    async def save(self, *, replace: bool = False) -> None:
        """See :meth:`LiveSession.save`."""
        await arun(self._save(replace))

    async def reload(self) -> None:
        """See :meth:`LiveSession.reload`."""
        await arun(self._reload())

    async def touch(self) -> None:
        """See :meth:`LiveSession.touch`."""
        await arun(self._touch())

    async def destroy(self) -> None:
        """See :meth:`LiveSession.destroy`."""
        await arun(self._destroy())
