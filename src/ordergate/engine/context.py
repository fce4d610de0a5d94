"""What a decision can see and do inside one writer batch.

Decisions (placing, amending, translating venue events) read the state, the clock and the
market, and act only through the batch: `emit` applies an event to the state and queues
it for the journal; `send` queues a venue request for after the commit. Nothing they do
leaves the process before the batch is journaled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from ordergate.domain.events import Event
from ordergate.domain.limits import LimitsBook
from ordergate.engine.dispatch import VenueRequest
from ordergate.engine.guards import Guards
from ordergate.engine.ports import Clock, MarketData
from ordergate.engine.state import OmsState


@dataclass(slots=True)
class Batch:
    events: list[Event] = field(default_factory=list)
    requests: list[VenueRequest] = field(default_factory=list)
    delayed: list[tuple[float, VenueRequest]] = field(default_factory=list)
    # Accounts whose positions are in doubt and should be reconciled after the commit.
    reconcile: set[str] = field(default_factory=set)


@dataclass(slots=True)
class DecisionContext:
    state: OmsState
    clock: Clock
    market_data: MarketData
    limits: LimitsBook
    venue_live: bool = False
    venue_name: str = ""
    # Why the venue takes no orders until a person acts (None: it takes them).
    venue_halt: Callable[[], str | None] = lambda: None
    # Dry run: orders that pass pre-trade risk end PLANNED instead of being sent.
    dry_run: bool = False
    guards: Guards = field(default_factory=Guards)
    batch: Batch = field(default_factory=Batch)
    # Told of each event before it changes the state (the writer's published orders).
    before_emit: Callable[[Event], None] | None = None

    def emit(self, event: Event) -> None:
        if self.before_emit is not None:
            self.before_emit(event)
        self.state.apply(event)  # raises, changing nothing, if the event does not fit
        self.batch.events.append(event)

    def send(self, request: VenueRequest) -> None:
        self.batch.requests.append(request)

    def send_later(self, delay: float, request: VenueRequest) -> None:
        self.batch.delayed.append((delay, request))

    def now(self) -> int:
        return self.clock.now_ns()

    def take_batch(self) -> Batch:
        batch = self.batch
        self.batch = Batch()
        return batch
