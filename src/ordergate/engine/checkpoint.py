"""Checkpoints: the engine's state as data, so a start replays only what came after.

A checkpoint is derived, never a source of truth: it says "the fold of the journal up to
`seq`, whose record hashes to `head_hash`, is this state". The journal keeps every event;
a missing or damaged checkpoint costs only time (`engine.replay.restore_state` then takes
an older one, or the beginning), and `ordergate verify-journal` checks each against a
full replay. Everything the fold holds is here, in the order its dicts hold it (iteration
order is behaviour: the oldest open order is canceled first), so a state restored from a
checkpoint and then fed the rest of the journal is the state a full replay builds.

The payload is JSON (the codec's encoding: decimals as strings), zlib-compressed.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

import msgspec

from ordergate.domain.errors import CheckpointUnreadable
from ordergate.domain.events import (
    InstrumentMarkedDirty,
    OrderSnapshot,
    ReconciliationRecorded,
    SignalReceived,
    TargetsSet,
    TargetStep,
    TradingArmed,
    TradingStateChanged,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import Side

VERSION: Final = 1
CHECKPOINTS_KEPT: Final = 3  # per partition: an older one is there if the newest is damaged


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """Take a checkpoint once `every_events` events or `every_seconds` (with at least one
    event) have passed since the last, and on a clean stop. None turns a trigger off."""

    every_events: int | None = 100_000
    every_seconds: float | None = 300.0

    def __post_init__(self) -> None:
        if (self.every_events is not None and self.every_events < 1) or (
            self.every_seconds is not None and self.every_seconds <= 0
        ):
            raise ValueError(f"checkpoint policy out of range: {self}")

    def due(self, events_since: int, seconds_since: float) -> bool:
        if events_since <= 0:
            return False
        if self.every_events is not None and events_since >= self.every_events:
            return True
        return self.every_seconds is not None and seconds_since >= self.every_seconds


class PositionRecord(msgspec.Struct, frozen=True, gc=False):
    account: str
    symbol: str
    qty: Decimal
    avg_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    updated_ts: int
    openings: int


class AccountRecord(msgspec.Struct, frozen=True, gc=False):
    account_id: str
    balances: list[tuple[str, Decimal]]
    updated_ts: int


class CountedRecord(msgspec.Struct, frozen=True, gc=False):
    """What one open order is counted with (`OmsState._recount`)."""

    order_id: str
    account: str
    symbol: str
    side: Side
    qty: Decimal
    margin_currency: str | None
    margin: Decimal
    pending: bool


class TargetRecord(msgspec.Struct, frozen=True):
    """A held target: (account, strategy) and the set and step that gave it."""

    account: str
    strategy: str
    set_id: str
    ts: int
    step: TargetStep


class StateCheckpoint(msgspec.Struct, frozen=True):
    """Everything `OmsState` holds after folding the journal up to `seq`."""

    version: int
    partition: int
    seq: int
    journal_id: str | None
    instruments: list[Instrument]
    orders: list[OrderSnapshot]
    open_order_ids: list[str]
    positions: list[PositionRecord]
    accounts: list[AccountRecord]
    order_count: int
    first_ts: int
    last_ts: int
    reserved: list[tuple[str, str, Decimal]]
    open_qty: list[tuple[str, str, Side, Decimal]]
    open_count: list[tuple[str, str, Side, int]]
    order_symbols: list[tuple[str, list[tuple[str, int]]]]
    counted: list[CountedRecord]
    trading_states: list[TradingStateChanged]
    dirty: list[InstrumentMarkedDirty]
    armed: list[TradingArmed]
    last_reconciliation: list[ReconciliationRecorded]
    signals: list[SignalReceived]
    finished: list[tuple[str, int]]
    retired_keys: list[tuple[int, int, bytes]]
    retired_count: int
    # Added after version 1 was first written: older checkpoints read as these defaults.
    journal_mode: str = "live"
    target_sets: list[TargetsSet] = []
    targets: list[TargetRecord] = []


class StoredCheckpoint(msgspec.Struct, frozen=True):
    """A checkpoint as a journal store keeps it: where in the chain, and its payload."""

    seq: int
    head_hash: bytes
    ts: int
    payload: bytes


_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final = msgspec.json.Decoder(StateCheckpoint)


def encode(checkpoint: StateCheckpoint) -> bytes:
    """The payload: compressed at level 1, which keeps most of the gain for little time."""
    return zlib.compress(_ENCODER.encode(checkpoint), 1)


def decode(payload: bytes) -> StateCheckpoint:
    try:
        checkpoint = _DECODER.decode(zlib.decompress(payload))
    except (zlib.error, msgspec.DecodeError, ValueError) as exc:
        raise CheckpointUnreadable(f"checkpoint does not decode: {exc}") from exc
    if checkpoint.version != VERSION:
        raise CheckpointUnreadable(f"checkpoint v{checkpoint.version}; this reads v{VERSION}")
    return checkpoint
