"""Which venue `serve` trades on, and what comes with it: clock, prices, instruments, cash.

- `paper` (the default): the embedded paper venue replaying bundled market data. It is
  its own clock and market data, forgets everything when the process stops, and is
  therefore moved past the journal's last event and re-seeded with the journal's open
  orders, positions and cash on every start.
- `bybit-sim`: ccxt's `bybit` class against a Bybit v5 simulator started in this process
  on loopback (replaying the bundled BTCUSDT bars, or a still market its `/sim/quote`
  control route moves), so the whole path ccxt included runs on one machine. The
  simulator starts empty and cannot be re-seeded, so a journal with history is refused:
  it would disagree with the venue from the first reconciliation. With `sim_url`, a
  simulator that runs on its own (`ordergate simulate bybit`) is traded on instead; it
  outlives ordergate's restarts, so any journal is fine.
- `ccxt`: a real exchange (`ORDERGATE_CCXT_*`). Instruments come from the exchange's
  markets, the clock is the wall clock, prices are its tickers polled over REST, and an
  account the journal has never seen opens with the balances the exchange reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

import structlog

from ordergate.config.settings import Settings
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import Order
from ordergate.domain.values import ZERO, OrderStatus
from ordergate.engine.clock import WallClock
from ordergate.engine.commands import AdjustBalance
from ordergate.engine.engine import Engine
from ordergate.engine.ports import Clock, MarketData, Venue
from ordergate.engine.state import OmsState
from ordergate.engine.venue_reports import VenueBalance, VenueOrderReport, VenuePosition
from ordergate.matching.market import PaperMarket, load_demo_market, load_market
from ordergate.matching.restore import RestoredOrder
from ordergate.venues.paper.venue import PaperVenue
from ordergate.venues.unassigned import NoQuotes, UnassignedVenue

log = structlog.get_logger("ordergate.venue_selection")

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

# The opening cash of an account the journal has not seen: currency -> amount.
OpeningBalances = Callable[[str], Awaitable[dict[str, Decimal]]]


@dataclass
class VenueWiring:
    """A connected venue and what the engine and the API need beside it.

    `feeds` are started once the engine runs (market-data pace, quote polling);
    `close` runs after the engine has stopped and disconnected the venue. `lanes`: the
    venue requests the engine keeps in flight at once; one for the paper venue, which
    answers in process and so keeps its fills in the order the engine decided.
    """

    venue: Venue
    clock: Clock
    market: MarketData
    instruments: list[Instrument]
    accounts: list[str]
    opening_balances: OpeningBalances
    opening_reason: str
    feeds: list[Callable[[], Coroutine[Any, Any, None]]] = field(default_factory=list)
    close: Callable[[], Awaitable[None]] | None = None
    lanes: int = 1


async def open_venue(
    settings: Settings,
    state: OmsState,
    session: str,
    holds: Callable[[str], bool] | None = None,
    may_send: Callable[[], bool] | None = None,
) -> VenueWiring:
    """The venue `settings` name, connected and ready for an engine over `state`.

    `holds`: the accounts of this partition, where a cluster spreads accounts over
    partitions (None: every account). The paper venue of a partition trades the
    configured accounts it holds. A ccxt venue trades one exchange account
    (`default_account`): the partition holding it connects, every other partition gets an
    `UnassignedVenue`. Every node of a cluster must trade on the same simulator, so
    `bybit-sim` needs `sim_url` there.

    `may_send`: a cluster node's partition lease. A ccxt venue asks it again as each
    request leaves, since a request can wait there (budget, throttle) long after the
    engine asked; the paper venue answers in process, so the engine's asking suffices.

    `mode = shadow`: the venue is built as above, then read and never sent to
    (`app.shadow_wiring`).
    """
    if settings.mode == "shadow":
        from ordergate.app.shadow_wiring import shadow_wiring

        real = await open_venue(
            settings.model_copy(update={"mode": "live"}), state, session, holds, may_send
        )
        return shadow_wiring(real, state, session)
    if settings.venue == "paper":
        if holds is not None:
            held = {a: b for a, b in settings.paper_balances.items() if holds(a)}
            settings = settings.model_copy(update={"paper_balances": held})
        return _paper(settings, state, session)
    if holds is None:
        # ccxt and the simulator are imported here, on first use: they take a second to
        # load, which a paper venue and the journal tools need not wait for.
        from ordergate.app.ccxt_wiring import open_bybit_sim, open_ccxt

        return await (
            open_bybit_sim(settings, state, may_send)
            if settings.venue == "bybit-sim"
            else open_ccxt(settings, may_send)
        )
    if settings.venue == "bybit-sim" and settings.sim_url is None:
        raise InvalidRequest(
            "the nodes of a cluster must trade on one simulator: run it on its own "
            "(ordergate simulate bybit) and give its URL (--sim-url)"
        )
    if holds(settings.default_account):
        return await open_venue(settings, state, session, may_send=may_send)
    name = "bybit-sim" if settings.venue == "bybit-sim" else settings.ccxt_exchange or "ccxt"
    return VenueWiring(
        venue=UnassignedVenue(name, live=settings.ccxt_live),
        clock=WallClock(),
        market=NoQuotes(),
        instruments=[],
        accounts=[],
        opening_balances=_no_balances,
        opening_reason="",
    )


async def _no_balances(account: str) -> dict[str, Decimal]:
    return {}


def _paper(settings: Settings, state: OmsState, session: str) -> VenueWiring:
    market = _paper_market(settings)
    venue = PaperVenue.from_market(market, settings.paper_balances, session=session)
    if state.last_ts:
        venue.seek(state.last_ts)
        reseed_paper_venue(venue, state)
    else:
        venue.advance()  # a fresh start: give the market its first prices
    balances = settings.paper_balances

    async def configured(account: str) -> dict[str, Decimal]:
        return dict(balances.get(account, {}))

    pace = settings.paper_bars_per_second
    return VenueWiring(
        venue=venue,
        clock=venue,
        market=venue,
        instruments=list(market.instruments),
        accounts=sorted(balances),
        opening_balances=configured,
        opening_reason="paper account opened",
        feeds=[lambda: venue.run(pace)] if pace > 0 else [],
    )


def _paper_market(settings: Settings) -> PaperMarket:
    if settings.paper_data is None:
        return load_demo_market(loop=settings.paper_loop)
    return load_market(settings.paper_data, loop=settings.paper_loop)


class Reseedable(Protocol):
    """A book in this process that forgets when it stops (the paper venue, a shadow book)."""

    def restore(
        self,
        open_orders: Sequence[VenueOrderReport | RestoredOrder],
        positions: Sequence[VenuePosition],
        balances: Sequence[VenueBalance],
    ) -> None: ...


def reseed_paper_venue(venue: Reseedable, state: OmsState) -> None:
    """Give a fresh in-memory book the journal's open orders, positions and cash."""
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


async def open_accounts(engine: Engine, wiring: VenueWiring) -> None:
    """Give each account the journal has never seen its opening cash."""
    for account in wiring.accounts:
        if account in engine.accounts:
            continue
        balances = await wiring.opening_balances(account)
        for currency, amount in sorted(balances.items()):
            await engine.adjust_balance(
                AdjustBalance(account, currency, amount, wiring.opening_reason)
            )
