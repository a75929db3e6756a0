"""Reads of one event-loop tick, coalesced into one round trip.

Many handshakes arrive together under load; each asks for its own session. Rather than one
call each (a redis-py GET and its round trip, a worker-thread hop for a file), every ``get``
made during one turn of the event loop waits on a future, and at the next turn one call
asks for all of their keys at once (an MGET; one thread hop for every file)::

    batch = ReadBatch(lambda keys: client.mget(keys))
    first, second = await asyncio.gather(batch.get(b"sess:a"), batch.get(b"sess:b"))  # one MGET

A read is only ever answered by a round trip made after it was asked for, so a session the
Node app destroyed before a handshake began is never handed to it. One deadline bounds the
round trip for all of its readers (a timer for each would cost more than the read).

A store that can send a read at once, from a plain callback, gives ``start`` too: the
round trip then needs no task, no coroutine and no timeout scope of its own, only the
future ``start`` returns and one timer (what a batch costs is paid by every handshake
under load).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections import deque
from collections.abc import Awaitable, Callable, Hashable
from typing import Any, TypeGuard, cast

__all__ = ["ReadBatch", "running_here"]

Key = Hashable
Fetch = Callable[[list[Any]], Awaitable[list[Any]]]
#: ``start(keys)``: the future of the values, the read already sent; None where it cannot
#: be sent at once (``fetch`` then runs in a task). Cancelling the future gives the read up.
Start = Callable[[list[Any]], "asyncio.Future[list[Any]] | None"]


def running_here(
    loop: asyncio.AbstractEventLoop | None, thread: int
) -> TypeGuard[asyncio.AbstractEventLoop]:
    """Whether ``loop``, seen running in ``thread``, is the loop running now: it runs, and
    this is its thread (one loop runs in a thread at a time). Known without
    ``asyncio.get_running_loop()``, which makes a ``getpid`` system call each time."""
    return loop is not None and thread == threading.get_ident() and loop.is_running()


class ReadBatch:
    """Coalesce the reads asked for during one turn of the event loop into one ``fetch``."""

    def __init__(
        self,
        fetch: Fetch,
        wrap_error: Callable[[BaseException], BaseException],
        timeout: float | None = None,
        start: Start | None = None,
    ) -> None:
        self._fetch = fetch
        self._start = start
        self._wrap_error = wrap_error
        #: seconds the round trip may take; past it every reader gets the wrapped TimeoutError
        self._timeout = timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread = 0  # where _loop runs
        self._waiting: dict[Key, list[asyncio.Future[Any]]] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        #: the started reads in flight, oldest first, each with its deadline (loop time),
        #: and the one timer armed for the oldest (see _watch), on the loop they run on
        self._deadlines: deque[tuple[float, asyncio.Future[list[Any]]]] = deque()
        self._watchdog: asyncio.TimerHandle | None = None
        self._watch_loop: asyncio.AbstractEventLoop | None = None

    def get(self, key: Key) -> asyncio.Future[Any]:
        """A future of the value under ``key``, read at the next turn of the loop."""
        waiting = self._waiting
        loop = self._loop
        if not running_here(loop, self._thread):
            loop = asyncio.get_running_loop()
            if loop is not self._loop:
                waiting = None
                self._loop = loop
                self._thread = threading.get_ident()
        if waiting is None:
            waiting = self._waiting = {}
            loop.call_soon(self._flush, waiting)
        future: asyncio.Future[Any] = loop.create_future()
        waiting.setdefault(key, []).append(future)
        return future

    def _flush(self, waiting: dict[Key, list[asyncio.Future[Any]]]) -> None:
        if self._waiting is waiting:
            self._waiting = None
        keys = []  # the keys someone still waits for (a loop: no generator per key)
        for key, futures in waiting.items():
            for future in futures:
                if not future.done():
                    keys.append(key)
                    break
        if not keys:
            return  # every reader gave up (timed out, cancelled) before the turn came
        if self._start is not None:
            values = self._start(keys)
            if values is not None:
                if self._timeout is not None:
                    self._watch(values)
                values.add_done_callback(functools.partial(self._answer, waiting, keys))
                return
        task = asyncio.ensure_future(self._read(waiting, keys))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _read(self, waiting: dict[Key, list[asyncio.Future[Any]]], keys: list[Key]) -> None:
        try:
            async with asyncio.timeout(self._timeout):
                values = await self._fetch(keys)
            self._deliver(waiting, keys, values)
        except BaseException as error:
            self._fail(waiting, keys, error)
            if not isinstance(error, Exception):
                raise

    def _watch(self, values: asyncio.Future[list[Any]]) -> None:
        """Cancel the started read ``values`` if it is not done within the timeout. One
        timer for all the reads in flight, armed for the oldest (they are started in order,
        with one timeout): a timer per read would cost its allocation, two pushes into the
        loop's heap of timers (a server's heap holds two per open connection) and a
        cancelled timer kept there until it was due."""
        loop = values.get_loop()
        if self._watch_loop is not loop:  # a loop of its own: what the last one left is gone
            self._deadlines.clear()
            self._watchdog = None
            self._watch_loop = loop
        due = loop.time() + cast(float, self._timeout)
        self._deadlines.append((due, values))
        if self._watchdog is None:
            self._watchdog = loop.call_at(due, self._expire)

    def _expire(self) -> None:
        """The oldest read in flight may be past its deadline: cancel each that is, then
        wait for the next oldest."""
        self._watchdog = None
        loop = self._watch_loop
        deadlines = self._deadlines
        if loop is None:
            return
        now = loop.time()
        while deadlines:
            due, values = deadlines[0]
            if not values.done():
                if due > now:
                    break
                values.cancel()  # _answer: TimeoutError to each reader
            deadlines.popleft()
        if deadlines:
            self._watchdog = loop.call_at(deadlines[0][0], self._expire)

    def _answer(
        self,
        waiting: dict[Key, list[asyncio.Future[Any]]],
        keys: list[Key],
        values: asyncio.Future[list[Any]],
    ) -> None:
        """A started read is done: its values (or its failure; cancelled: the deadline)."""
        deadlines = self._deadlines
        while deadlines and deadlines[0][1].done():  # answered in order: the oldest go
            deadlines.popleft()
        if values.cancelled():
            self._fail(waiting, keys, TimeoutError())
            return
        error = values.exception()
        if error is not None:
            self._fail(waiting, keys, error)
            return
        try:
            self._deliver(waiting, keys, values.result())
        except ValueError as mismatch:
            self._fail(waiting, keys, mismatch)

    def _deliver(
        self, waiting: dict[Key, list[asyncio.Future[Any]]], keys: list[Key], values: list[Any]
    ) -> None:
        if len(values) != len(keys):
            raise ValueError(f"{len(values)} values read for {len(keys)} keys")
        for key, value in zip(keys, values, strict=True):
            for future in waiting[key]:
                if not future.done():
                    future.set_result(value)

    def _fail(
        self, waiting: dict[Key, list[asyncio.Future[Any]]], keys: list[Key], error: BaseException
    ) -> None:
        for key in keys:
            for future in waiting[key]:
                if not future.done():
                    future.set_exception(self._wrap_error(error))
