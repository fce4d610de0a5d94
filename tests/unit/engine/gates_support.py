"""Shared helpers for the risk-pack and gate tests (test_risk_*.py, test_gates_*.py).

Built on `engine_support`: a second instrument in the same quote currency, a market whose
quotes are fresh at the harness clock's start, an engine started with a `LimitsBook`, and
the assertion every denial test makes (DENIED with one code, journaled, nothing sent).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from engine_support import ACCOUNT, T0, Harness, Sessions
from tests.fakes import BTC, FakeMarket

from ordergate.domain.events import OrderDenied
from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import LimitsBook, RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderStatus, OrderType, Side, TradingState
from ordergate.engine.commands import PlaceOrder, SetTradingState
from ordergate.engine.views import OrderView

D = Decimal
MS = 1_000_000
BTC_PRICE = "50000"
ETH_PRICE = "3000"

# Settled in USDT like BTC, so one deposit funds both; a max qty the BTC fake lacks.
ETH = Instrument(
    symbol="ETHUSDT",
    base_currency="ETH",
    quote_currency="USDT",
    tick_size=D("0.01"),
    lot_step=D("0.01"),
    min_qty=D("0.01"),
    min_notional=D("5"),
    max_qty=D("100"),
    contract_size=D("1"),
    margin_rate=D("0.1"),
    maker_fee_rate=D("0.0002"),
    taker_fee_rate=D("0.0005"),
)
INSTRUMENTS = (BTC, ETH)


def fresh_market(ts: int = T0) -> FakeMarket:
    """BTC at 50,000 and ETH at 3,000 (bid = ask), quoted at `ts` (the harness start)."""
    market = FakeMarket()
    market.set(BTC.symbol, BTC_PRICE, ts=ts)
    market.set(ETH.symbol, ETH_PRICE, ts=ts)
    return market


def book_of(limits: RiskLimits | LimitsBook | None) -> LimitsBook:
    if isinstance(limits, LimitsBook):
        return limits
    return LimitsBook(global_limits=limits or RiskLimits())


async def start(
    sessions: Sessions,
    limits: RiskLimits | LimitsBook | None = None,
    *,
    market: FakeMarket | None = None,
    instruments: Iterable[Instrument] = INSTRUMENTS,
    **options: Any,
) -> Harness:
    """An engine over the fakes with `limits` (global limits, or a whole book)."""
    return await sessions.start(
        limits=book_of(limits),
        market=market if market is not None else fresh_market(),
        instruments=instruments,
        watch_interval=options.pop("watch_interval", None),
        **options,
    )


def quote(h: Harness, symbol: str, bid: str, ask: str | None = None, age_ms: int = 0) -> None:
    """Quote `symbol` as of `age_ms` before the harness clock's now."""
    h.market.set(symbol, bid, ask, ts=h.clock.now_ns() - age_ms * MS)


def order(
    side: Side = Side.BUY,
    qty: str = "0.1",
    *,
    symbol: str = BTC.symbol,
    price: str | None = None,
    account: str = ACCOUNT,
    **kw: Any,
) -> PlaceOrder:
    """A MARKET order, or a LIMIT one when `price` is given."""
    if price is not None:
        kw.setdefault("type", OrderType.LIMIT)
    return PlaceOrder(
        account=account,
        symbol=symbol,
        side=side,
        qty=D(qty),
        price=None if price is None else D(price),
        **kw,
    )


def state_change(
    state: TradingState,
    account: str | None = ACCOUNT,
    symbol: str | None = None,
    reason: str = "test",
) -> SetTradingState:
    """An operator ("ops") setting `state` for the account and/or instrument (None: all)."""
    return SetTradingState(state, reason, "ops", account=account, symbol=symbol)


async def placed(h: Harness, command: PlaceOrder) -> OrderView:
    """Place, wait until the engine and the fake venue are quiet, return the order."""
    view = await h.place(command)
    return await h.settled(view.order_id)


def assert_denied(h: Harness, view: OrderView, code: ReasonCode) -> None:
    """The order ended DENIED with `code`, journaled once, and never reached the venue."""
    assert view.status is OrderStatus.DENIED
    assert view.reason_code == code
    assert view.reason
    assert [e.reason_code for e in h.events(OrderDenied, view.order_id)] == [code]
    assert h.venue.requests("submit", view.client_order_id) == []


def assert_sent(h: Harness, view: OrderView) -> None:
    """The order passed the checks and its submit reached the venue."""
    assert view.status not in (OrderStatus.DENIED, OrderStatus.NEW), view.reason
    assert h.events(OrderDenied, view.order_id) == []
    assert h.venue.requests("submit", view.client_order_id) == [view.client_order_id]
