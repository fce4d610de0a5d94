"""What the NautilusTrader venue's tests share: a venue on BTCUSDT with no replay, a hand
on its market, and requests."""

from __future__ import annotations

from decimal import Decimal

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderRequest
from ordergate.matching import FeedStep, PricePoint, ReplayFeed, SymbolUpdate
from ordergate.venues.nautilus import DEFAULT_QUOTE_SIZE, NautilusVenue

D = Decimal
ACCOUNT = "acct"
CASH = D(100_000)
T0 = 1_641_168_000_000_000_000  # 2022-01-03 00:00 UTC
MINUTE = 60_000_000_000

BTC = Instrument(
    symbol="BTCUSDT",
    base_currency="BTC",
    quote_currency="USDT",
    tick_size=D("0.1"),
    lot_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("5"),
    margin_rate=D("0.01"),
    maker_fee_rate=D("0.0002"),
    taker_fee_rate=D("0.00055"),
)


def make_venue(
    *, session: str = "s1", quote_size: Decimal = DEFAULT_QUOTE_SIZE, cash: Decimal = CASH
) -> NautilusVenue:
    return NautilusVenue(
        [BTC],
        ReplayFeed({}),
        {ACCOUNT: {"USDT": cash}},
        session=session,
        quote_size=quote_size,
    )


def step(venue: NautilusVenue, bid: str, ask: str, ts: int | None = None) -> int:
    """One market step, a minute after the venue's time unless `ts` says; its time."""
    at = venue.now_ns() + MINUTE if ts is None else ts
    point = PricePoint(D(bid), D(ask))
    venue.apply_step(FeedStep(at, (SymbolUpdate("BTCUSDT", at, (point,), D(bid)),)))
    return at


def request(
    coid: str,
    side: Side = Side.BUY,
    qty: str = "0.01",
    price: str | None = None,
    *,
    order_type: OrderType | None = None,
    stop: str | None = None,
    tif: TimeInForce | None = None,
    reduce_only: bool = False,
) -> VenueOrderRequest:
    kind = order_type or (OrderType.LIMIT if price is not None else OrderType.MARKET)
    default_tif = TimeInForce.IOC if kind is OrderType.MARKET else TimeInForce.GTC
    return VenueOrderRequest(
        client_order_id=coid,
        account=ACCOUNT,
        symbol="BTCUSDT",
        side=side,
        type=kind,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=None if stop is None else D(stop),
        time_in_force=tif or default_tif,
        reduce_only=reduce_only,
    )
