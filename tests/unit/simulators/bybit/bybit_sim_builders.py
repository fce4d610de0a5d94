"""Builders of the simulator's unit tests: an exchange on a fake clock, and requests."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from ordergate.domain.values import OrderType, Side
from ordergate.matching import ExecutionRules
from ordergate.simulators.bybit.admission import NewOrder, OrderRef
from ordergate.simulators.bybit.config import DEFAULT_INSTRUMENTS
from ordergate.simulators.bybit.exchange import BybitExchange
from ordergate.simulators.bybit.market import quote_update
from ordergate.simulators.bybit.records import (
    StreamItem,
    TimeInForce,
    Trigger,
    TriggerBy,
    TriggerDirection,
)
from ordergate.simulators.ids import IdSource

D = Decimal
T0 = 1_700_000_000_000_000_000  # ns
CASH = D(100_000)


class FakeClock:
    """Wall time that moves only when told (1 ms per read keeps times distinct)."""

    def __init__(self) -> None:
        self.ns = T0

    def __call__(self) -> int:
        self.ns += 1_000_000
        return self.ns


def make_exchange(
    usdt: Decimal = CASH,
    rules: dict[str, ExecutionRules] | None = None,
    *,
    quoted: bool = True,
) -> tuple[BybitExchange, list[Sequence[StreamItem]]]:
    """An exchange with BTCUSDT at 50000 / 50000.1 and ETHUSDT at 3000 / 3000.05 (unless
    not `quoted`), and the list its batches are recorded in."""
    exchange = BybitExchange(
        DEFAULT_INSTRUMENTS,
        {"USDT": usdt},
        rules=rules or {},
        ids=IdSource(0),
        clock=FakeClock(),
    )
    batches: list[Sequence[StreamItem]] = []
    exchange.subscribe(batches.append)
    if quoted:
        quote(exchange, "BTCUSDT", "50000.0", "50000.1")
        quote(exchange, "ETHUSDT", "3000.00", "3000.05")
    return exchange, batches


def quote(exchange: BybitExchange, symbol: str, bid: str, ask: str) -> None:
    exchange.move_market([quote_update(symbol, D(bid), D(ask), None)])


def order(
    side: Side = Side.BUY,
    qty: str = "0.01",
    price: str | None = None,
    *,
    symbol: str = "BTCUSDT",
    link: str = "",
    tif: TimeInForce | None = None,
    reduce_only: bool = False,
) -> NewOrder:
    order_type = OrderType.MARKET if price is None else OrderType.LIMIT
    default_tif = TimeInForce.IOC if price is None else TimeInForce.GTC
    return NewOrder(
        symbol=symbol,
        side=side,
        order_type=order_type,
        qty=D(qty),
        price=None if price is None else D(price),
        time_in_force=tif or default_tif,
        order_link_id=link,
        reduce_only=reduce_only,
        close_on_trigger=False,
    )


def conditional(
    side: Side,
    trigger: str,
    price: str | None = None,
    qty: str = "0.01",
    *,
    link: str = "",
    tif: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
) -> NewOrder:
    """A BTCUSDT conditional order: a Buy rising to `trigger`, a Sell falling to it; a
    Market one without `price`."""
    direction = TriggerDirection.RISE if side is Side.BUY else TriggerDirection.FALL
    return NewOrder(
        symbol="BTCUSDT",
        side=side,
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        qty=D(qty),
        price=None if price is None else D(price),
        time_in_force=tif,
        order_link_id=link,
        reduce_only=reduce_only,
        close_on_trigger=False,
        trigger=Trigger(D(trigger), direction, TriggerBy.LAST_PRICE),
    )


def ref(order_id: str, symbol: str = "BTCUSDT") -> OrderRef:
    return OrderRef(symbol, order_id, None)
