"""A session bound to its store, as ``req.session`` is bound to ``req.sessionStore``.

What the ``session`` event hands to a handler: the user's data plus ``save()``,
``reload()``, ``touch()`` and ``destroy()``, plain calls on a sync server and coroutines on
an async one::

    @eio.on("session")
    async def on_session(sid, session):     # an AsyncLiveSession
        session["seen"] = session.get("seen", 0) + 1
        await session.save()                # the Node app sees it on its next request

express-session semantics: ``save()`` writes the whole session (``store.set``);
``reload()`` replaces the data with what the store holds now and fails if it is gone;
``touch()`` resets the expiry from the original max age (``rolling``) and tells the store
(``store.touch``, which extends a Redis TTL); ``destroy()`` removes it from the store.
"""

from __future__ import annotations

from .errors import SessionError
from .session import Session
from .stores.base import AsyncStore, Store

__all__ = ["AsyncLiveSession", "LiveSession", "SessionGoneError"]


class SessionGoneError(SessionError):
    """``reload()`` found no session: destroyed (a logout) or expired."""

    def __init__(self, sid: str) -> None:
        self.sid = sid
        super().__init__("failed to load session")  # express-session's message


class _BoundSession(Session):
    """A :class:`Session` bound to its store: what both shells share."""

    __slots__ = ("destroyed", "store")

    def __init__(self, session: Session, store: Store | AsyncStore) -> None:
        # no Cookie() of its own and no per-key copy: it holds what `session` holds
        super().__init__(session.id, session.cookie)
        self.copy_from(session)
        self.store = store
        #: True once destroy() ran, or the watcher saw the session gone
        self.destroyed = False

    def _reloaded(self, fresh: Session | None) -> None:
        if fresh is None:
            self.destroyed = True
            raise SessionGoneError(self.id)
        self.copy_from(fresh)


class LiveSession(_BoundSession):
    """A :class:`Session` with express-session's methods, on a sync store."""

    __slots__ = ()
    store: Store

    def save(self) -> None:
        """``req.session.save()``: write the session to the store."""
        self.store.set(self.id, self)
        self.loaded_hash = self.hash()

    def reload(self) -> None:
        """``req.session.reload()``: the store's current data; SessionGoneError if none."""
        self._reloaded(self.store.get(self.id))

    def touch(self) -> None:
        """Reset the expiry from the original max age, and tell the store."""
        self.reset_max_age()
        self.store.touch(self.id, self)

    def destroy(self) -> None:
        """``req.session.destroy()``: remove the session from the store."""
        self.store.destroy(self.id)
        self.destroyed = True


class AsyncLiveSession(_BoundSession):
    """A :class:`Session` with express-session's methods as coroutines, on an async store."""

    __slots__ = ()
    store: AsyncStore

    async def save(self) -> None:
        await self.store.set(self.id, self)
        self.loaded_hash = self.hash()

    async def reload(self) -> None:
        self._reloaded(await self.store.get(self.id))

    async def touch(self) -> None:
        self.reset_max_age()
        await self.store.touch(self.id, self)

    async def destroy(self) -> None:
        await self.store.destroy(self.id)
        self.destroyed = True
