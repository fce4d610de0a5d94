"""Keeping NautilusTrader a guest in ordergate's process and event loop.

Two things NautilusTrader 1.221.0 does to its host are undone or prevented here:

- **The global loop policy.** Importing `nautilus_trader.system.kernel` (which
  `nautilus_trader.live.node` does) sets uvloop's policy for the whole process unless
  pytest is loaded, so every loop created afterwards (a `BlockingOms`'s, the next
  `asyncio.run`) would be uvloop in production and asyncio's own under test.
  `kept_loop_policy` puts the host's policy back after the import: ordergate runs on the
  loop its caller gives it, NautilusTrader shares it.
- **The loop's signal handlers.** A `TradingNode` given a loop sets SIGINT to its
  default and installs its own SIGTERM, SIGINT and SIGABRT handlers on the loop (which
  stop the node, not ordergate), and sets the loop's debug flag; in a thread other than
  the main one installing them even fails. `loop_left_alone` builds a node without that
  step (`NautilusKernel._setup_loop`, for the construction only) and restores the
  debug flag, so ordergate's own SIGINT/SIGTERM handling (uvicorn's, the runner's)
  stays in force and stops ordergate, which stops the node.

The kernel still makes a thread pool the loop's default executor; it is an ordinary
`ThreadPoolExecutor`, shut down with the loop, so it is left as it is.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from typing import Any


@contextlib.contextmanager
def kept_loop_policy() -> Iterator[None]:
    """Restore the event-loop policy in force before the block (around NT's imports)."""
    policy = asyncio.get_event_loop_policy()
    try:
        yield
    finally:
        asyncio.set_event_loop_policy(policy)


@contextlib.contextmanager
def loop_left_alone(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Build a `TradingNode` on `loop` inside this block: no signal handlers, same debug."""
    from nautilus_trader.system.kernel import NautilusKernel

    debug = loop.get_debug()
    original = NautilusKernel._setup_loop

    def _no_setup(self: Any) -> None:
        return None

    NautilusKernel._setup_loop = _no_setup  # type: ignore[method-assign]
    try:
        yield
    finally:
        NautilusKernel._setup_loop = original  # type: ignore[method-assign]
        loop.set_debug(debug)
