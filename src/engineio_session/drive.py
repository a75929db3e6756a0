"""Plans and their two drivers: the logic written once, the I/O made in the caller's style.

A *plan* is a generator that does no I/O itself: it yields a :class:`Call` for each call it
needs (a store read, an application handler, closing a connection) and is sent back the
call's result, or thrown its exception. :func:`run` makes the calls as they are, in this
thread; :func:`arun` awaits those that return an awaitable. So a handshake, a save or a SCAN
loop is written once, and a sync and an async shell differ only in which driver they use
(the sans-IO pattern of h11 and websockets, with a generator as the protocol object)::

    >>> def double_of(get, key):
    ...     value = yield Call(get, key)
    ...     return 2 * value
    >>> run(double_of({"a": 21}.get, "a"))
    42
    >>> import asyncio
    >>> async def get(key):
    ...     return {"a": 4}[key]
    >>> asyncio.run(arun(double_of(get, "a")))
    8

A plan is a plain unit test: step it by hand with ``plan.send`` and ``plan.throw`` and look
at each :class:`Call` it asks for (see :func:`steps`).
"""

from __future__ import annotations

import asyncio
import inspect
import types
from collections.abc import Callable, Generator
from typing import Any, TypeAlias, TypeVar

__all__ = ["AWAITABLES", "Call", "Plan", "arun", "call", "run", "steps"]

T = TypeVar("T")

#: a generator of :class:`Call` steps that is sent each call's result and returns a T
Plan: TypeAlias = Generator["Call", Any, T]


class Call:
    """One call a plan asks its driver to make: ``function(*args)``.

    >>> Call(len, "abc")
    Call(len, 'abc')
    >>> Call(len, "abc") == Call(len, "abc")
    True
    """

    __slots__ = ("args", "function")

    def __init__(self, function: Callable[..., Any], *args: Any) -> None:
        self.function = function
        self.args = args

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Call) and self.function == other.function and self.args == other.args
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        name = getattr(self.function, "__qualname__", None) or repr(self.function)
        return f"Call({', '.join([name, *map(repr, self.args)])})"


def call(function: Callable[..., Any], *args: Any) -> Plan[Any]:
    """A plan of one call: ``function(*args)``'s result (to compose with ``yield from``)."""
    return (yield Call(function, *args))


#: what most calls return on an event loop, known without inspect.isawaitable's checks
AWAITABLES = frozenset({types.CoroutineType, asyncio.Future, asyncio.Task})


class _Stepper:
    """Feeds outcomes to a plan; ``None`` once it returned (its value in ``result``)."""

    __slots__ = ("plan", "result")

    def __init__(self, plan: Plan[Any]) -> None:
        self.plan = plan
        self.result: Any = None

    def send(self, value: Any) -> Call | None:
        try:
            return self.plan.send(value)
        except StopIteration as done:
            self.result = done.value
            return None

    def throw(self, error: BaseException) -> Call | None:
        try:
            return self.plan.throw(error)
        except StopIteration as done:
            self.result = done.value
            return None

    def perform(self, step: Call) -> Call | None:
        try:
            value = step.function(*step.args)
        except BaseException as error:  # the plan decides: it may handle it or let it go
            return self.throw(error)
        return self.send(value)


def run(plan: Plan[T]) -> T:
    """Drive ``plan`` in this thread: each call is made as it is; its return value."""
    stepper = _Stepper(plan)
    step = stepper.send(None)
    while step is not None:
        step = stepper.perform(step)
    result: T = stepper.result
    return result


async def arun(plan: Plan[T]) -> T:
    """Drive ``plan`` on the event loop: a call that returns an awaitable is awaited."""
    # _Stepper inlined: the hot path of every handshake, one object fewer in flight
    send = plan.send
    try:
        step = send(None)
        while True:
            try:
                value = step.function(*step.args)
                if type(value) in AWAITABLES or inspect.isawaitable(value):
                    value = await value
            except BaseException as error:  # the plan decides: it may handle it or let it go
                step = plan.throw(error)
            else:
                step = send(value)
    except StopIteration as done:  # only the plan's own return: a call's is thrown into it
        result: T = done.value
        return result


def steps(plan: Plan[Any], answers: dict[Any, Any] | Callable[[Call], Any]) -> list[Call]:
    """Drive ``plan`` with canned answers and return the calls it made, for tests.

    ``answers`` maps a function to what it returns (an exception instance is raised), or is
    a function of the :class:`Call`. The plan's own return value is the last item's
    ``.result`` attribute on the list (see the example).

    >>> def plan():
    ...     a = yield Call(len, "x")
    ...     return a + 1
    >>> made = steps(plan(), {len: 41})
    >>> made, made.result
    ([Call(len, 'x')], 42)
    """
    made = _Calls()
    stepper = _Stepper(plan)
    step = stepper.send(None)
    while step is not None:
        made.append(step)
        answer = answers(step) if callable(answers) else answers[step.function]
        step = stepper.throw(answer) if isinstance(answer, BaseException) else stepper.send(answer)
    made.result = stepper.result
    return made


class _Calls(list[Call]):
    result: Any = None
