"""`EngineObserver`: what the engine tells an observer that the journal cannot.

Most of what an operator measures is in the journaled event stream (orders by status,
denials, reconciliation mismatches), and is counted from the engine's subscription. A
few figures exist only in the moment: how long a journal append took and how many
events it carried, how long a venue request took and how it ended, a venue stream that
reconnected, when a placement began. The writer and the dispatcher report those here.

Calls are made on the engine's own loop, on its hot path: an observer must do no I/O,
take no lock and format no string; it adds to counters. `None` (the default) costs one
comparison per call site.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ordergate.domain.events import Event


class EngineObserver(Protocol):
    def journal_committed(self, last_seq: int, events: Sequence[Event], seconds: float) -> None:
        """One journal append of `events`, the last of them at `last_seq`, took `seconds`.
        Called right after the commit, before anything else hears of the events; the
        observer must not keep `events` (the writer reuses nothing, but the batch is
        large)."""
        ...

    def venue_request(
        self, request: str, outcome: str, error_class: str | None, seconds: float
    ) -> None:
        """A venue request (`submit`, `cancel`, `replace`, `query`) ended as `outcome`
        after `seconds`, retries included; `error_class` names the error's class in the
        venue error taxonomy (`rejected`, `retryable`, `ambiguous`, `unclassified`), if
        it ended in one."""
        ...

    def venue_reconnected(self) -> None:
        """The venue's stream reconnected (a websocket dropped and came back)."""
        ...

    def order_placed(self, order_id: str, started: float) -> None:
        """A placement whose command entered the engine at `started` (the monotonic
        `time.perf_counter()`) is journaled now as `order_id`."""
        ...
