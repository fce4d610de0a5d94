"""What a venue comes with once connected (`VenueWiring`), and how a book in this process
is re-seeded from the journal after a restart.

Apart from `venue_selection` so that the wirings it chooses between (ccxt, shadow) build
on these without importing the module that imports them.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Protocol

from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import Order
from ordergate.domain.values import ZERO, OrderStatus
from ordergate.engine.clock import WallClock
from ordergate.engine.ports import Clock, MarketData, Venue
from ordergate.engine.state import OmsState
from ordergate.engine.venue_reports import Quote, VenueBalance, VenueOrderReport, VenuePosition
from ordergate.matching.restore import RestoredOrder
from ordergate.venues.polled_quotes import PolledQuotes
from ordergate.venues.unassigned import NoQuotes, UnassignedVenue

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


class PolledVenue(Venue, Protocol):
    """A live venue on the wall clock whose prices are read by polling (ccxt, NautilusTrader
    live, MT5): its instruments are known once connected."""

    @property
    def instruments(self) -> list[Instrument]: ...

    async def fetch_quotes(self) -> list[Quote]: ...


async def polled_wiring(
    venue: PolledVenue, account: str, quote_poll_interval: float, lanes: int
) -> VenueWiring:
    """Connect `venue` (trading `account`), take its first prices, and wire the wall clock
    and the quote poll; an account the journal has not seen opens with the balances the
    venue reports. A failure after connecting disconnects it again."""
    await venue.connect()
    quotes = PolledQuotes(venue.fetch_quotes, quote_poll_interval)
    try:
        await quotes.refresh()
    except BaseException:
        with contextlib.suppress(Exception):
            await venue.disconnect()
        raise

    async def reported(name: str) -> dict[str, Decimal]:
        balances = await venue.get_balances(name)
        return {b.currency: b.balance for b in balances if b.balance != ZERO}

    return VenueWiring(
        venue=venue,
        clock=WallClock(),
        market=quotes,
        instruments=venue.instruments,
        accounts=[account],
        opening_balances=reported,
        opening_reason=f"opening balance reported by {venue.name}",
        feeds=[quotes.run],
        lanes=lanes,
    )


def unassigned_wiring(name: str, live: bool) -> VenueWiring:
    """A cluster partition that does not hold the venue's one account: nothing to trade."""
    return VenueWiring(
        venue=UnassignedVenue(name, live=live),
        clock=WallClock(),
        market=NoQuotes(),
        instruments=[],
        accounts=[],
        opening_balances=_no_balances,
        opening_reason="",
    )


async def _no_balances(account: str) -> dict[str, Decimal]:
    return {}


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
