"""The suite's one way to wait: poll a condition until it holds, or fail saying what for.

A test waits on a condition, never on a `sleep`. `eventually` polls `condition()` (sync or
async, truthy when done) every `interval` seconds and returns its first truthy value; after
`timeout` seconds it raises `AssertionError` naming what it waited for and the last value it
saw. The timeout is generous on purpose: it is there to end a test that would hang, not to
measure anything, and the suite must pass on a loaded two-core machine. A test that means
to bound how long something takes asserts that itself.

`eventually_sync` is the same for code outside an event loop (a subprocess's readiness).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Awaitable, Callable
from typing import Final, TypeVar

T = TypeVar("T")

TIMEOUT: Final = 30.0  # seconds; a loaded machine, not a measurement
INTERVAL: Final = 0.01

Message = str | Callable[[], str] | Callable[[], Awaitable[str]] | None


async def eventually(
    condition: Callable[[], Awaitable[T] | T],
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    message: Message = None,
) -> T:
    """Return the first truthy `condition()`; fail after `timeout` seconds.

    `message` says what is waited for (a string, or a function, sync or async, called only
    on timeout for details gathered then); without it the condition's name is used.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        outcome = condition()
        value: T = await outcome if inspect.isawaitable(outcome) else outcome  # type: ignore[assignment]
        if value:
            return value
        if loop.time() > deadline:
            what = message() if callable(message) else message
            if inspect.isawaitable(what):
                what = await what
            raise AssertionError(_timed_out(condition, timeout, what, value))
        await asyncio.sleep(interval)


def eventually_sync(
    condition: Callable[[], T],
    *,
    timeout: float = TIMEOUT,
    interval: float = INTERVAL,
    message: str | Callable[[], str] | None = None,
) -> T:
    """`eventually` for callers without an event loop (it blocks the thread)."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            what = message() if callable(message) else message
            raise AssertionError(_timed_out(condition, timeout, what, value))
        time.sleep(interval)


def _timed_out(condition: object, timeout: float, what: object, last: object) -> str:
    named = what or getattr(condition, "__qualname__", None) or repr(condition)
    return f"timed out after {timeout} s waiting for {named} (last value: {last!r})"
