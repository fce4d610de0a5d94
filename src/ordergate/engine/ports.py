"""Ports: what the engine needs from the outside world, as `typing.Protocol`s.

Adapters (venues, stores, clocks) implement these; the engine imports nothing else from
them. Venue adapters translate; they never mutate an order: they answer requests and
stream `VenueEvent`s (`engine.venue_reports`), and the engine turns those into domain
events. Journal stores keep `JournalRecord`s (`engine.records`), encoded by
`engine.codec` and linked by `engine.chain`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Protocol, runtime_checkable

from ordergate.domain.events import Event, OrderSnapshot, SignalReceived
from ordergate.engine.checkpoint import StoredCheckpoint
from ordergate.engine.records import JournalRecord
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)
from ordergate.engine.views import ReadModelChanges


class Clock(Protocol):
    """The only source of time: wall clock live, market-data time in paper and replay."""

    def now_ns(self) -> int: ...


class MarketData(Protocol):
    def quote(self, symbol: str) -> Quote | None: ...


class Venue(Protocol):
    """One execution venue. Requests raise `VenueError` subclasses, classified:
    `RetryableVenueError` (nothing happened), `RejectedByVenue` (refused for good),
    `AmbiguousVenueError` (it may have happened: ask by client order id before resending).
    A venue built with a `may_send` check (a cluster node's lease) asks it again as each
    request leaves, and raises `JournalFenced` instead of sending when it says no.
    State changes arrive on `events()`, in the venue's order.
    """

    @property
    def name(self) -> str: ...

    @property
    def live(self) -> bool:
        """Real money: new orders wait until an operator arms the account."""
        ...

    @property
    def acceptance_window(self) -> float:
        """Seconds after a request is sent during which the venue may still carry it out
        (a signed request's receive window, say). Until they have passed, a venue that
        does not know an order whose submit was ambiguous may yet place it; read once
        connected."""
        ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt: ...

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None: ...

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None: ...

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None: ...

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]: ...

    async def get_positions(self, account: str) -> list[VenuePosition]: ...

    async def get_balances(self, account: str) -> list[VenueBalance]: ...

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        """The account's executions at or after `since_ts`, as far back as the venue keeps."""
        ...

    def events(self) -> AsyncIterator[VenueEvent]: ...


# --- journal ----------------------------------------------------------------------------


@runtime_checkable
class VenueConnection(Protocol):
    """A venue that can say whether its connection works, for the health checks. A venue
    that is not one (the paper venue, in the process) has no connection to lose."""

    def connection_problem(self) -> str | None:
        """What is wrong with the connection now (None: it works)."""
        ...


@runtime_checkable
class VenueHalt(Protocol):
    """A venue that can stop taking orders until a person acts (a login that needs a
    device verification, say): it refuses every order meanwhile, and says why."""

    def halted(self) -> str | None:
        """Why the venue takes no orders now, beginning with a reason code (None: it does)."""
        ...


class RecordSource(Protocol):
    """Where a follower of the journal reads it: replay, the event relay, the audit file,
    export (every journal store, and a PostgreSQL snapshot's partition, is one)."""

    def records_after(self, after_seq: int = 0) -> AsyncIterator[JournalRecord]:
        """Stored records of this journal's partition after `after_seq`, in seq order."""
        ...


class RetiredOrders(Protocol):
    """Where retired orders are kept (`engine.retention`), read off the writer's path."""

    async def retired_orders(self, client_order_ids: Sequence[str]) -> dict[str, OrderSnapshot]:
        """The retired orders among these client order ids, by client order id."""
        ...

    async def retired_order_by_key(
        self, account: str, idempotency_key: str
    ) -> OrderSnapshot | None: ...


class RetiredSignals(Protocol):
    """Where trading signals retired with their last order are kept, read off the
    writer's path: a redelivered one is answered from here."""

    async def retired_signal(self, signal_id: str) -> SignalReceived | None: ...


class CheckpointReads(Protocol):
    """Where a partition's checkpoints are read (`engine.resume`, verification): a journal
    store, and a read-only snapshot of one that can write nothing."""

    async def checkpoint_seqs(self) -> list[int]:
        """The seqs of the checkpoints kept, newest first."""
        ...

    async def checkpoint(self, seq: int) -> StoredCheckpoint | None: ...

    async def record_hash(self, seq: int) -> bytes | None:
        """The hash of the journal record at `seq` (None: there is none)."""
        ...


class Checkpoints(CheckpointReads, Protocol):
    """Where a partition's checkpoints are kept (`engine.checkpoint`): derived data, the
    newest few only, each with the hash of the journal record at its seq."""

    async def write_checkpoint(self, seq: int, ts: int, payload: bytes) -> None:
        """Keep the state at `seq` (a journaled seq) and drop all but the newest few."""
        ...


class Journal(RecordSource, RetiredOrders, RetiredSignals, Checkpoints, Protocol):
    """Append-only, hash-chained event store of one partition, with read models in the
    same transaction.

    `append` raises `JournalFenced` when another node has taken the partition over, and
    `JournalError` for any other failure; either way nothing of the batch is stored.
    """

    @property
    def partition(self) -> int: ...

    async def append(self, events: Sequence[Event], changes: ReadModelChanges) -> int:
        """Durably append events and apply read-model changes atomically; return last seq.
        Retired orders (`changes.retired`) are kept by client order id and idempotency key,
        the newest snapshot of an order replacing an older one."""
        ...

    async def close(self) -> None: ...
