"""Order requests read from Bybit parameters, and the terms Bybit checks before matching.

What is refused here is refused synchronously with Bybit's code and creates nothing:
an unknown symbol or a malformed value (`10001`), off-grid or out-of-range quantities
(`10001`), and prices off the tick (`10001`) or outside the instrument's range
(`110003`). Features the simulator does not offer (conditional and TP/SL orders,
hedge-mode position indexes) are refused with `10001` rather than silently ignored.
Checks that need the account or the market (margin, reduce-only, duplicate
`orderLinkId`, the minimum notional of a market order) are the exchange's; it uses
`check_notional` from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeVar

from ordergate.domain.values import ZERO, OrderType, Side
from ordergate.venues.simulators.bybit.config import InstrumentSpec
from ordergate.venues.simulators.bybit.errors import BybitError, RetCode, params_error
from ordergate.venues.simulators.bybit.params import Params
from ordergate.venues.simulators.bybit.records import TimeInForce

LINEAR: Final = "linear"
CATEGORIES: Final = frozenset(("linear", "inverse", "spot", "option"))
_SIDES: Final = {"Buy": Side.BUY, "Sell": Side.SELL}
_TYPES: Final = {"Limit": OrderType.LIMIT, "Market": OrderType.MARKET}
_ORDER_LINK_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_T = TypeVar("_T")
_UNSUPPORTED: Final = ("triggerPrice", "takeProfit", "stopLoss", "trailingStop", "tpslMode")


@dataclass(frozen=True, slots=True)
class NewOrder:
    symbol: str
    side: Side
    order_type: OrderType
    qty: Decimal
    price: Decimal | None
    time_in_force: TimeInForce
    order_link_id: str
    reduce_only: bool
    close_on_trigger: bool


@dataclass(frozen=True, slots=True)
class OrderRef:
    """An order named by `orderId` or `orderLinkId` (Bybit prefers the id when both)."""

    symbol: str
    order_id: str | None
    order_link_id: str | None


@dataclass(frozen=True, slots=True)
class Amendment:
    ref: OrderRef
    qty: Decimal | None
    price: Decimal | None


def read_category(params: Params) -> str:
    """The `category`: required, one of Bybit's four."""
    category = params.text("category")
    if category not in CATEGORIES:
        raise params_error(f"params error: category {category!r} is invalid")
    return category


def read_symbol(params: Params, specs: Mapping[str, InstrumentSpec]) -> InstrumentSpec:
    symbol = params.text("symbol")
    spec = specs.get(symbol)
    if spec is None:
        raise params_error(f"params error: symbol invalid: {symbol}")
    return spec


def require_linear(params: Params) -> None:
    """Trading endpoints: only the linear category is simulated."""
    if read_category(params) != LINEAR:
        raise params_error("params error: the simulator trades the linear category only")


def parse_new_order(params: Params, specs: Mapping[str, InstrumentSpec]) -> NewOrder:
    """Read `/v5/order/create` parameters and check the order's terms."""
    require_linear(params)
    spec = read_symbol(params, specs)
    for name in _UNSUPPORTED:
        if params.optional_text(name) is not None:
            raise params_error(f"params error: {name} is not supported by the simulator")
    if params.integer("positionIdx", 0) != 0:
        raise params_error("params error: position idx not match position mode")
    side = _choice(params, "side", _SIDES)
    order_type = _choice(params, "orderType", _TYPES)
    qty = params.decimal("qty")
    raw_tif = params.optional_text("timeInForce") or TimeInForce.GTC.value
    try:
        time_in_force = TimeInForce(raw_tif)
    except ValueError as exc:
        raise params_error(f"params error: timeInForce {raw_tif!r} is invalid") from exc
    price: Decimal | None = None
    if order_type is OrderType.LIMIT:
        price = params.decimal("price")
    elif time_in_force is TimeInForce.POST_ONLY:
        raise params_error("params error: a market order cannot be PostOnly")
    elif time_in_force is not TimeInForce.FOK:
        time_in_force = TimeInForce.IOC  # Bybit works market orders as IOC
    order_link_id = params.optional_text("orderLinkId") or ""
    if order_link_id and _ORDER_LINK_ID.match(order_link_id) is None:
        raise params_error(
            "params error: orderLinkId is up to 36 letters, digits, dashes or underscores"
        )
    check_terms(spec, order_type, qty, price)
    return NewOrder(
        symbol=spec.symbol,
        side=side,
        order_type=order_type,
        qty=qty,
        price=price,
        time_in_force=time_in_force,
        order_link_id=order_link_id,
        reduce_only=params.flag("reduceOnly"),
        close_on_trigger=params.flag("closeOnTrigger"),
    )


def parse_order_ref(params: Params, specs: Mapping[str, InstrumentSpec]) -> OrderRef:
    """Read the order an amend or cancel names: a symbol and an id or link id."""
    require_linear(params)
    spec = read_symbol(params, specs)
    order_id = params.optional_text("orderId")
    order_link_id = params.optional_text("orderLinkId")
    if order_id is None and order_link_id is None:
        raise params_error("params error: orderId or orderLinkId is required")
    return OrderRef(spec.symbol, order_id, order_link_id)


def parse_amendment(params: Params, specs: Mapping[str, InstrumentSpec]) -> Amendment:
    """Read `/v5/order/amend` parameters: a new quantity and/or price."""
    ref = parse_order_ref(params, specs)
    for name in _UNSUPPORTED:
        if params.optional_text(name) is not None:
            raise params_error(f"params error: {name} is not supported by the simulator")
    qty = params.optional_decimal("qty")
    price = params.optional_decimal("price")
    if qty is None and price is None:
        raise params_error(
            "The order remains unchanged as the parameters entered match the existing ones."
        )
    return Amendment(ref, qty, price)


def check_terms(
    spec: InstrumentSpec, order_type: OrderType, qty: Decimal, price: Decimal | None
) -> None:
    """Refuse a quantity or price off the instrument's grid or limits."""
    if qty % spec.qty_step != ZERO:
        raise params_error(f"Order quantity has too many decimals (step {spec.qty_step}).")
    if qty < spec.min_order_qty:
        raise params_error("The number of contracts exceeds minimum limit allowed")
    maximum = spec.max_market_order_qty if order_type is OrderType.MARKET else spec.max_order_qty
    if qty > maximum:
        raise params_error("The number of contracts exceeds maximum limit allowed")
    if price is None:
        return
    if price % spec.tick_size != ZERO:
        raise params_error(f"Order price has too many decimals (tick {spec.tick_size}).")
    if not spec.min_price <= price <= spec.max_price:
        raise BybitError(RetCode.PRICE_OUT_OF_RANGE, "Order price is out of permissible range")


def check_notional(spec: InstrumentSpec, qty: Decimal, price: Decimal) -> None:
    """Refuse an order worth less than the minimum (reduce-only orders are exempt)."""
    if qty * price < spec.min_notional:
        raise BybitError(
            RetCode.NOTIONAL_TOO_LOW,
            f"Order does not meet minimum order value {spec.min_notional}{spec.quote_coin}",
        )


def _choice(params: Params, name: str, choices: Mapping[str, _T]) -> _T:
    raw = params.text(name)
    value = choices.get(raw)
    if value is None:
        raise params_error(f"params error: {name} {raw!r} is invalid")
    return value
