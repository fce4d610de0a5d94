"""`paced`: a replay's steps at a steady pace on the event loop's clock.

The paper venue, NautilusTrader's simulated venue and the venue simulators all replay
bars at `bars_per_second`; this is the one loop they share.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Final

from ordergate.domain.errors import InvalidRequest

# Behind schedule by more than this, the pace starts a new schedule instead of replaying
# the backlog in one burst.
MAX_LAG_SECONDS: Final = 1.0


async def paced(step: Callable[[], bool], bars_per_second: float) -> None:
    """Call `step` `bars_per_second` times a second until it returns False or the task
    is cancelled.

    Steps are scheduled by the loop's monotonic time, so the pace does not drift. The
    loop sleeps before every step, even when late, so that other tasks (a venue's event
    consumer) run between steps.
    """
    if bars_per_second <= 0:
        raise InvalidRequest("bars_per_second must be positive")
    period = 1.0 / bars_per_second
    loop = asyncio.get_running_loop()
    due = loop.time()
    while True:
        await asyncio.sleep(max(due - loop.time(), 0.0))
        if not step():
            return
        due += period
        now = loop.time()
        if now - due > MAX_LAG_SECONDS:
            due = now
