"""The composition root: settings → store, venue, engine. Nothing is built at import time.

Start-up order matters and is the same every time:
1. open the journal and fold it into state (replay);
2. build the venue; for the paper venue, move its market clock past the journal's last
   event and re-seed it with the journal's open orders, positions and cash (a simulated
   venue has no other memory);
3. start the engine: it journals changed instruments and settles orders a crash left in
   doubt (asking the venue by client order id, never resubmitting blindly);
4. fund configured paper accounts the journal has never seen;
5. start the market-data pace.

The API key store sits beside the journal (same SQLite file, its own tables and
connection; in memory for `:memory:`). It is opened here unless the caller passes one
(`ordergate serve` opens it first, to create and print the first admin key).
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import structlog

from ordergate.auth.ports import KeyStore
from ordergate.auth.provision import open_key_store
from ordergate.domain.accounts import CurrencyMargin, margin_by_currency
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.limits import LimitsBook
from ordergate.domain.orders import Order
from ordergate.domain.values import ZERO, OrderStatus, OrderType
from ordergate.engine.commands import AdjustBalance
from ordergate.engine.engine import Engine
from ordergate.engine.ports import (
    Clock,
    MarketData,
    VenueBalance,
    VenueOrderReport,
    VenuePosition,
)
from ordergate.engine.queries import ReadModels
from ordergate.engine.reconcile import ReconcilePolicy, Reconciler, Remedy
from ordergate.engine.state import OmsState
from ordergate.engine.views import OrderView
from ordergate.risk_config import load_limits
from ordergate.settings import Settings
from ordergate.store.memory import MemoryStore
from ordergate.store.sqlite import SqliteStore
from ordergate.venues.paper.market import PaperMarket, load_demo_market, load_market
from ordergate.venues.paper.restore import RestoredOrder
from ordergate.venues.paper.venue import PaperVenue

log = structlog.get_logger("ordergate.bootstrap")

# Orders the paper venue had accepted before a restart, by ordergate's last word on them.
_AT_VENUE = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL,
        OrderStatus.PENDING_REPLACE,
    }
)


@dataclass
class Application:
    """Everything the entrypoints need, wired once."""

    settings: Settings
    engine: Engine
    reads: ReadModels
    market: MarketData
    clock: Clock
    venue_name: str
    store: MemoryStore | SqliteStore
    keys: KeyStore
    limits: LimitsBook
    reconciler: Reconciler
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def mark(self, symbol: str) -> Decimal | None:
        quote = self.market.quote(symbol)
        return None if quote is None else quote.last

    def account_margin(self, account: str) -> dict[str, CurrencyMargin]:
        """Balance, equity, used and free margin per currency: journaled rows, current marks."""
        positions = self.reads.positions(account)
        marks = {p.symbol: m for p in positions if (m := self.mark(p.symbol)) is not None}
        return margin_by_currency(
            {b.currency: b.balance for b in self.reads.balances(account)},
            positions,
            self.engine.order_margin(account),
            self.engine.instruments,
            marks,
        )

    async def wait_for_venue(self, order_id: str) -> OrderView:
        return await self.engine.wait_for_venue(order_id, self.settings.api_wait_ms / 1000)

    async def aclose(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.reconciler.stop()
        await self.engine.stop()
        await self.store.close()
        self.keys.close()


def open_store(settings: Settings) -> MemoryStore | SqliteStore:
    if settings.in_memory:
        return MemoryStore()
    return SqliteStore(settings.db, synchronous=settings.sqlite_synchronous)


def load_paper_market(settings: Settings) -> PaperMarket:
    if settings.paper_data is None:
        return load_demo_market(loop=settings.paper_loop)
    return load_market(settings.paper_data, loop=settings.paper_loop)


def reconcile_policy(settings: Settings) -> ReconcilePolicy:
    try:
        remedies = {
            kind.lower(): Remedy(value.upper()) for kind, value in settings.reconcile.items()
        }
        return ReconcilePolicy(**remedies)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"bad reconciliation policy {settings.reconcile}: {exc}") from exc


def limits_book(settings: Settings) -> LimitsBook:
    """The risk file, then global limits from the environment (the seed's names included)."""
    overrides: dict[str, Any] = dict(settings.limits)
    if settings.min_qty is not None:
        overrides["min_qty"] = settings.min_qty
    if settings.allowed_symbols is not None:
        overrides["allowed_symbols"] = settings.allowed_symbols
    if set(settings.allowed_order_types) != set(OrderType):
        overrides["allowed_order_types"] = [str(t) for t in settings.allowed_order_types]
    return load_limits(settings.risk_file, overrides)


def reseed_paper_venue(venue: PaperVenue, state: OmsState) -> None:
    """Give a fresh in-memory paper venue the journal's open orders, positions and cash."""
    orders = [
        RestoredOrder(
            report=_report_of(order),
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
        )
        for order in state.open_orders.values()
        if order.status in _AT_VENUE and order.venue_acknowledged
    ]
    positions = [VenuePosition(p.account, p.symbol, p.qty, p.avg_price) for p in state.book]
    balances = [
        VenueBalance(account.account_id, ccy, amount)
        for account in state.accounts.values()
        for ccy, amount in sorted(account.balances.items())
    ]
    venue.restore(orders, positions, balances)


def _report_of(order: Order) -> VenueOrderReport:
    return VenueOrderReport(
        client_order_id=order.client_order_id,
        venue_order_id=order.venue_order_id,
        account=order.account,
        symbol=order.symbol,
        side=order.side,
        type=order.type,
        qty=order.qty,
        price=order.price,
        stop_price=order.stop_price,
        status=OrderStatus.PARTIALLY_FILLED if order.filled_qty > ZERO else OrderStatus.ACCEPTED,
        filled_qty=order.filled_qty,
        avg_fill_price=order.avg_fill_price,
        ts=order.updated_ts,
    )


async def build(settings: Settings, keys: KeyStore | None = None) -> Application:
    """Open the journal, replay it, wire the paper venue and start the engine.

    `keys`: the API key store to use (the application closes it); default: the one
    beside the journal.
    """
    store = open_store(settings)
    state = OmsState.replay(store.events())
    state.take_changes()
    market = load_paper_market(settings)
    venue = PaperVenue.from_market(market, settings.paper_balances, session=f"s{store.head_seq}")
    if state.last_ts:
        venue.seek(state.last_ts)
        reseed_paper_venue(venue, state)
    else:
        venue.advance()  # a fresh start: give the market its first prices
    limits = limits_book(settings)
    engine = Engine(
        state=state,
        instruments=market.instruments,
        journal=store,
        venue=venue,
        clock=venue,
        market_data=venue,
        limits=limits,
        max_batch=settings.max_batch,
        reconcile_policy=reconcile_policy(settings),
    )
    await engine.start()
    for account, balances in settings.paper_balances.items():
        if account in state.accounts:
            continue
        for currency, amount in sorted(balances.items()):
            await engine.adjust_balance(
                AdjustBalance(account, currency, amount, "paper account opened")
            )
    reconciler = Reconciler(
        venue,
        engine.reconcile,
        lambda: engine.accounts,
        settings.reconcile_interval_seconds,
        lambda: engine.first_event_ts,
    )
    engine.on_reconcile_needed(reconciler.request)
    await reconciler.run()  # on start: does the venue agree with the journal?
    reconciler.start()
    application = Application(
        settings=settings,
        engine=engine,
        reads=store,
        market=venue,
        clock=venue,
        venue_name=venue.name,
        store=store,
        keys=open_key_store(settings.db) if keys is None else keys,
        limits=limits,
        reconciler=reconciler,
    )
    if settings.paper_bars_per_second > 0:
        application.tasks.append(
            asyncio.create_task(venue.run(settings.paper_bars_per_second), name="paper-feed")
        )
    log.info(
        "ordergate started",
        db=settings.db,
        events=store.head_seq,
        orders=len(state.orders),
        open_orders=len(state.open_orders),
        instruments=sorted(state.instruments),
    )
    return application
