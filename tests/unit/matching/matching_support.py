"""Builders for the tests of the matching core (`ordergate.matching`) and of the paper venue
built on it: instruments, price paths, steps and requests."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueEvent, VenueFill, VenueOrderRequest
from ordergate.matching import (
    ExecutionRules,
    FeedStep,
    MatchingEngine,
    PricePoint,
    SymbolUpdate,
    parse_timestamp_ns,
)
from ordergate.matching.core import CLOSED_ORDER_HISTORY

D = Decimal
T0 = parse_timestamp_ns("2024-01-02 00:00:00")  # a Tuesday, 00:00 UTC
MINUTE = 60_000_000_000
ACCOUNT = "acc"

BTC = Instrument(
    symbol="BTCUSDT",
    base_currency="BTC",
    quote_currency="USDT",
    tick_size=D("0.1"),
    lot_step=D("0.001"),
    min_qty=D("0.001"),
    min_notional=D("5"),
    contract_size=D(1),
    margin_rate=D("0.01"),
    maker_fee_rate=D("0.0002"),
    taker_fee_rate=D("0.00055"),
)
EURUSD = Instrument(
    symbol="EURUSD",
    base_currency="EUR",
    quote_currency="USD",
    tick_size=D("0.00001"),
    lot_step=D("0.01"),
    min_qty=D("0.01"),
    contract_size=D(100_000),
    margin_rate=D("0.01"),
)
BALANCES = {ACCOUNT: {"USDT": D(100_000), "USD": D(100_000)}}


def make_engine(
    *,
    balances: Mapping[str, Mapping[str, Decimal]] = BALANCES,
    rules: Mapping[str, ExecutionRules] | None = None,
    instruments: Sequence[Instrument] = (BTC, EURUSD),
    session: str = "s1",
    history: int = CLOSED_ORDER_HISTORY,
) -> MatchingEngine:
    return MatchingEngine(
        instruments,
        balances,
        session=session,
        rules=rules,
        start_ns=T0 - MINUTE,
        history=history,
    )


def points(*prices: str) -> tuple[PricePoint, ...]:
    """A path of points with bid = ask."""
    return tuple(PricePoint(D(price), D(price)) for price in prices)


def quoted(*pairs: tuple[str, str]) -> tuple[PricePoint, ...]:
    """A path of (bid, ask) points."""
    return tuple(PricePoint(D(bid), D(ask)) for bid, ask in pairs)


def step(minute: int, path: tuple[PricePoint, ...], symbol: str = "BTCUSDT") -> FeedStep:
    ts = T0 + minute * MINUTE
    last = path[-1]
    return FeedStep(ts, (SymbolUpdate(symbol, ts, path, (last.bid + last.ask) / 2),))


def walk(
    engine: MatchingEngine, minute: int, *prices: str, symbol: str = "BTCUSDT"
) -> list[VenueEvent]:
    """Apply one step whose points walk through `prices` (bid = ask)."""
    return engine.apply_step(step(minute, points(*prices), symbol))


def request(
    client_order_id: str,
    side: Side,
    order_type: OrderType,
    qty: str,
    price: str | None = None,
    stop_price: str | None = None,
    *,
    tif: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    symbol: str = "BTCUSDT",
    account: str = ACCOUNT,
) -> VenueOrderRequest:
    return VenueOrderRequest(
        client_order_id=client_order_id,
        account=account,
        symbol=symbol,
        side=side,
        type=order_type,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=None if stop_price is None else D(stop_price),
        time_in_force=tif,
        reduce_only=reduce_only,
    )


def submit(engine: MatchingEngine, req: VenueOrderRequest) -> list[VenueEvent]:
    return engine.submit(req)[1]


def fills_of(events: Sequence[VenueEvent]) -> list[VenueFill]:
    return [event for event in events if isinstance(event, VenueFill)]


def kinds(events: Sequence[VenueEvent]) -> list[str]:
    return [type(event).__name__ for event in events]


def position_qty(engine: MatchingEngine, symbol: str = "BTCUSDT") -> Decimal:
    found = [p.qty for p in engine.positions(ACCOUNT) if p.symbol == symbol]
    return found[0] if found else D(0)


def cash(engine: MatchingEngine, currency: str = "USDT") -> Decimal:
    return next(b.balance for b in engine.balances(ACCOUNT) if b.currency == currency)
