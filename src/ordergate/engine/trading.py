"""`Trading`: what the entrypoints ask of ordergate, whoever runs the engines.

One process runs one partition's `Engine`; a node of a cluster runs the engines of the
partitions whose lease it holds, behind one router (`app.cluster.engines.ClusterEngines`).
Both are a `Trading`, so the REST API, the Python API and the tools never ask which one
they have. Commands are answered once journaled; reads answer as last journaled.

`mark_price` and `account_margin` are what a position's mark and an account's margin are
now, for any `Trading`.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Protocol

from ordergate.domain.accounts import CurrencyMargin, margin_by_currency
from ordergate.domain.instruments import Instrument
from ordergate.engine.commands import (
    ArmTrading,
    CancelOrder,
    ClearDirty,
    CloseAll,
    ClosePosition,
    PlaceOrder,
    ProcessSignal,
    ReplaceOrder,
    SetTargets,
    SetTradingState,
)
from ordergate.engine.placement import Preview
from ordergate.engine.queries import ReadModels
from ordergate.engine.reconcile import ReconciliationReport, Scope
from ordergate.engine.results import (
    CloseAllResult,
    Gates,
    HeldTargetOf,
    PlaceResult,
    SignalResult,
    TargetsResult,
)
from ordergate.engine.venue_reports import Quote
from ordergate.engine.views import OrderView


class Trading(Protocol):
    # --- commands -------------------------------------------------------------------------

    async def place(self, command: PlaceOrder) -> PlaceResult: ...

    async def process_signal(self, command: ProcessSignal) -> SignalResult: ...

    async def preview(self, command: PlaceOrder) -> Preview: ...

    async def set_targets(self, command: SetTargets) -> TargetsResult: ...

    async def cancel(self, command: CancelOrder) -> OrderView: ...

    async def replace(self, command: ReplaceOrder) -> OrderView: ...

    async def close_position(self, command: ClosePosition) -> OrderView: ...

    async def close_all(self, command: CloseAll) -> CloseAllResult: ...

    async def set_trading_state(self, command: SetTradingState) -> Gates: ...

    async def arm(self, command: ArmTrading) -> Gates: ...

    async def clear_dirty(self, command: ClearDirty) -> Gates: ...

    async def reconcile_accounts(
        self, accounts: Sequence[str] | None, scope: Scope
    ) -> list[ReconciliationReport]:
        """Reconcile these accounts (None: every account this process runs) now."""
        ...

    # --- reads, as last journaled ---------------------------------------------------------

    def order(self, order_id: str) -> OrderView | None: ...

    async def wait_for_venue(self, order_id: str, timeout: float) -> OrderView:
        """Wait until the venue has answered the order's latest request (or `timeout`)."""
        ...

    def order_margin(self, account: str) -> dict[str, Decimal]:
        """Margin the account's open orders reserve, per currency."""
        ...

    def held_targets(self, account: str | None = None) -> list[HeldTargetOf]:
        """The target positions as last journaled, of one account or all."""
        ...

    def quote(self, symbol: str) -> Quote | None: ...

    def now_ns(self) -> int:
        """The engines' time: the wall clock live, market-data time on the paper venue."""
        ...

    @property
    def gates(self) -> Gates: ...

    @property
    def accounts(self) -> list[str]: ...

    @property
    def instruments(self) -> dict[str, Instrument]: ...

    @property
    def running(self) -> bool:
        """Every engine runs and accepts commands."""
        ...

    @property
    def venue_name(self) -> str: ...

    @property
    def venue_live(self) -> bool: ...

    def venue_halt(self) -> str | None:
        """Why a venue takes no orders until a person acts (None: every venue takes them)."""
        ...

    @property
    def event_count(self) -> int: ...

    @property
    def order_count(self) -> int:
        """Orders held in memory: the open ones and the finished ones retention keeps."""
        ...

    @property
    def open_order_count(self) -> int: ...

    @property
    def retired_order_count(self) -> int:
        """Orders retired from memory (the journal and the read models keep them)."""
        ...

    @property
    def checkpoint_lag(self) -> tuple[int, float | None]:
        """(events journaled since the newest checkpoint written, its age in seconds;
        None: none written by this process yet), the worst over what runs here."""
        ...


def mark_price(trading: Trading, symbol: str) -> Decimal | None:
    """The price positions are marked at: the last trade or bar close."""
    quote = trading.quote(symbol)
    return None if quote is None else quote.last


async def account_margin(
    trading: Trading, reads: ReadModels, account: str
) -> dict[str, CurrencyMargin]:
    """Balance, equity, used and free margin per currency: journaled rows, current marks."""
    positions = await reads.positions(account)
    marks = {p.symbol: m for p in positions if (m := mark_price(trading, p.symbol)) is not None}
    balances = await reads.balances(account)
    return margin_by_currency(
        {b.currency: b.balance for b in balances},
        positions,
        trading.order_margin(account),
        trading.instruments,
        marks,
    )
