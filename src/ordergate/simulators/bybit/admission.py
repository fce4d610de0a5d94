"""Order requests read from Bybit parameters, and the terms Bybit checks before matching.

What is refused here is refused synchronously with Bybit's code and creates nothing:
an unknown symbol or a malformed value (`10001`), off-grid or out-of-range quantities
(`10001`), and prices or trigger prices off the tick (`10001`) or outside the
instrument's range (`110003`). Features the simulator does not offer (TP/SL, trailing
stops, hedge-mode position indexes) are refused with `10001` rather than silently
ignored. Checks that need the account or the market (margin, reduce-only, duplicate
`orderLinkId`, the minimum notional of a market order, a trigger already passed) are
the exchange's; it uses `check_notional` from here.

Conditional orders: `triggerPrice` makes an order conditional. `triggerDirection` is
required with it (1: the price rises to the trigger, 2: it falls to it); `triggerBy`
may be `LastPrice` (the default), `MarkPrice` or `IndexPrice`. The simulator works a
conditional order with the paper engine's stop rule, which fires a buy on a rising
price and a sell on a falling one: a Buy falling or a Sell rising (Bybit's
market-if-touched use of direction) is refused with `10001`, as is a PostOnly
conditional order. A conditional Market order keeps the time in force it was placed
with (GTC by default, as Bybit lists untriggered stops), instead of becoming IOC.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeVar

from ordergate.domain.values import ZERO, OrderType, Side
from ordergate.simulators.bybit.config import InstrumentSpec
from ordergate.simulators.bybit.errors import BybitError, RetCode, params_error
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.records import TimeInForce, Trigger, TriggerBy, TriggerDirection

LINEAR: Final = "linear"
CATEGORIES: Final = frozenset(("linear", "inverse", "spot", "option"))
_SIDES: Final = {"Buy": Side.BUY, "Sell": Side.SELL}
_TYPES: Final = {"Limit": OrderType.LIMIT, "Market": OrderType.MARKET}
_ORDER_LINK_ID: Final = re.compile(r"^[A-Za-z0-9_-]{1,36}$")
_T = TypeVar("_T")
_UNSUPPORTED: Final = ("takeProfit", "stopLoss", "trailingStop", "tpslMode")
_DIRECTIONS: Final = {"1": TriggerDirection.RISE, "2": TriggerDirection.FALL}
# The direction the paper engine's stop rule fires each side's conditional order on.
_ENGINE_DIRECTION: Final = {Side.BUY: TriggerDirection.RISE, Side.SELL: TriggerDirection.FALL}


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
    trigger: Trigger | None = None


@dataclass(frozen=True, slots=True)
class OrderRef:
    """An order named by `orderId` or `orderLinkId` (Bybit prefers the id when both)."""

    symbol: str
    order_id: str | None
    order_link_id: str | None


@dataclass(frozen=True, slots=True)
class Amendment:
    """New terms for an open order; None keeps a term as it is."""

    ref: OrderRef
    qty: Decimal | None
    price: Decimal | None
    trigger_price: Decimal | None = None
    trigger_by: TriggerBy | None = None


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
    trigger = read_trigger(params, side)
    if trigger is not None and time_in_force is TimeInForce.POST_ONLY:
        raise params_error("params error: the simulator has no PostOnly conditional orders")
    price: Decimal | None = None
    if order_type is OrderType.LIMIT:
        price = params.decimal("price")
    elif time_in_force is TimeInForce.POST_ONLY:
        raise params_error("params error: a market order cannot be PostOnly")
    elif trigger is None and time_in_force is not TimeInForce.FOK:
        time_in_force = TimeInForce.IOC  # Bybit works market orders as IOC
    order_link_id = params.optional_text("orderLinkId") or ""
    if order_link_id and _ORDER_LINK_ID.match(order_link_id) is None:
        raise params_error(
            "params error: orderLinkId is up to 36 letters, digits, dashes or underscores"
        )
    check_terms(spec, order_type, qty, price)
    if trigger is not None:
        check_price(spec, trigger.price, "Trigger price")
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
        trigger=trigger,
    )


def read_trigger(params: Params, side: Side) -> Trigger | None:
    """The trigger of a conditional order; None without a `triggerPrice`."""
    price = params.optional_decimal("triggerPrice")
    if price is None:
        return None
    raw_direction = params.optional_text("triggerDirection")
    if raw_direction is None:
        raise params_error("params error: triggerDirection is required with triggerPrice")
    direction = _DIRECTIONS.get(raw_direction)
    if direction is None:
        raise params_error(f"params error: triggerDirection {raw_direction!r} is invalid")
    if direction is not _ENGINE_DIRECTION[side]:
        raise params_error(
            "params error: the simulator triggers a Buy on a rising price (triggerDirection 1) "
            "and a Sell on a falling one (2) only"
        )
    return Trigger(price, direction, read_trigger_by(params) or TriggerBy.LAST_PRICE)


def read_trigger_by(params: Params) -> TriggerBy | None:
    raw = params.optional_text("triggerBy")
    if raw is None:
        return None
    try:
        return TriggerBy(raw)
    except ValueError as exc:
        raise params_error(f"params error: triggerBy {raw!r} is invalid") from exc


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
    """Read `/v5/order/amend` parameters: a new quantity, price and/or trigger price."""
    ref = parse_order_ref(params, specs)
    for name in _UNSUPPORTED:
        if params.optional_text(name) is not None:
            raise params_error(f"params error: {name} is not supported by the simulator")
    qty = params.optional_decimal("qty")
    price = params.optional_decimal("price")
    trigger_price = params.optional_decimal("triggerPrice")
    if qty is None and price is None and trigger_price is None:
        raise params_error(
            "The order remains unchanged as the parameters entered match the existing ones."
        )
    if trigger_price is not None:
        check_price(specs[ref.symbol], trigger_price, "Trigger price")
    return Amendment(ref, qty, price, trigger_price, read_trigger_by(params))


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
    if price is not None:
        check_price(spec, price, "Order price")


def check_price(spec: InstrumentSpec, price: Decimal, what: str) -> None:
    """Refuse a price (or trigger price) off the tick or outside the instrument's range."""
    if price % spec.tick_size != ZERO:
        raise params_error(f"{what} has too many decimals (tick {spec.tick_size}).")
    if not spec.min_price <= price <= spec.max_price:
        raise BybitError(RetCode.PRICE_OUT_OF_RANGE, f"{what} is out of permissible range")


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
