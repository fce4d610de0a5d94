"""Pre-trade checks: pure functions that deny with a stable reason code.

A denial is data, not an exception: the engine turns it into an `OrderDenied` event and
the order ends `DENIED`. Checks run in the order of `PRE_TRADE_CHECKS`; `first_denial`
stops at the first, `all_denials` collects every one (for previews).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ordergate.domain.accounts import margin_needed
from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import Order
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderType, Side

ALL_ORDER_TYPES: Final = frozenset(OrderType)


@dataclass(frozen=True, slots=True)
class TradingPolicy:
    """Limits that sit on top of the instruments' own grid.

    `allowed_symbols` None means every configured instrument; `min_qty` is a floor above
    each instrument's own minimum (the seed paper OMS's `OMS_MIN_QTY`).
    """

    allowed_symbols: frozenset[str] | None = None
    allowed_order_types: frozenset[OrderType] = ALL_ORDER_TYPES
    min_qty: Decimal | None = None


@dataclass(frozen=True, slots=True)
class Denial:
    code: ReasonCode
    reason: str


@dataclass(frozen=True, slots=True)
class PreTradeContext:
    """Everything the checks may look at; assembled by the engine, read-only here.

    `reference_price` is the price the order would trade at now (ask for a buy, bid for a
    sell) or None if no fresh price is known; `free_margin` is the account's free margin
    in the instrument's quote currency, after the margin its open orders reserve.
    """

    order: Order
    instrument: Instrument | None
    policy: TradingPolicy
    account_known: bool
    reference_price: Decimal | None
    position_qty: Decimal
    free_margin: Decimal


def expected_price(ctx: PreTradeContext) -> Decimal | None:
    """The price the checks assume the order trades at."""
    order = ctx.order
    if order.type.needs_price:
        return order.price
    if order.type is OrderType.STOP:
        return order.stop_price
    return ctx.reference_price


def check_account(ctx: PreTradeContext) -> Denial | None:
    if not ctx.account_known:
        return Denial(ReasonCode.UNKNOWN_ACCOUNT, f"account {ctx.order.account!r} is not known")
    return None


def check_symbol(ctx: PreTradeContext) -> Denial | None:
    symbol = ctx.order.symbol
    allowed = ctx.policy.allowed_symbols
    if ctx.instrument is None or (allowed is not None and symbol not in allowed):
        return Denial(ReasonCode.SYMBOL_NOT_ALLOWED, f"symbol {symbol!r} is not tradable here")
    return None


def check_order_type(ctx: PreTradeContext) -> Denial | None:
    if ctx.order.type not in ctx.policy.allowed_order_types:
        allowed = ", ".join(sorted(ctx.policy.allowed_order_types))
        return Denial(
            ReasonCode.ORDER_TYPE_NOT_ALLOWED,
            f"order type {ctx.order.type} is not allowed (allowed: {allowed})",
        )
    return None


def check_quantity(ctx: PreTradeContext) -> Denial | None:
    instrument = ctx.instrument
    assert instrument is not None
    qty = ctx.order.qty
    minimum = instrument.min_qty
    if ctx.policy.min_qty is not None and ctx.policy.min_qty > minimum:
        minimum = ctx.policy.min_qty
    if qty < minimum:
        return Denial(ReasonCode.QTY_BELOW_MIN, f"qty {qty} is below the minimum {minimum}")
    if instrument.max_qty is not None and qty > instrument.max_qty:
        return Denial(
            ReasonCode.QTY_ABOVE_MAX, f"qty {qty} is above the maximum {instrument.max_qty}"
        )
    if not instrument.is_on_step(qty):
        return Denial(
            ReasonCode.QTY_NOT_ON_STEP,
            f"qty {qty} is not a multiple of the lot step {instrument.lot_step}",
        )
    return None


def check_ticks(ctx: PreTradeContext) -> Denial | None:
    instrument = ctx.instrument
    assert instrument is not None
    order = ctx.order
    for name, value in (
        ("price", order.price),
        ("stop_price", order.stop_price),
        ("stop_loss", order.stop_loss),
        ("take_profit", order.take_profit),
    ):
        if value is not None and not instrument.is_on_tick(value):
            return Denial(
                ReasonCode.PRICE_NOT_ON_TICK,
                f"{name} {value} is not a multiple of the tick size {instrument.tick_size}",
            )
    return None


def check_reference_price(ctx: PreTradeContext) -> Denial | None:
    if expected_price(ctx) is None:
        return Denial(
            ReasonCode.NO_REFERENCE_PRICE,
            f"no current price for {ctx.order.symbol}: cannot size the risk of a market order",
        )
    return None


def check_min_notional(ctx: PreTradeContext) -> Denial | None:
    instrument = ctx.instrument
    price = expected_price(ctx)
    assert instrument is not None
    assert price is not None
    notional = instrument.notional(ctx.order.qty, price)
    if notional < instrument.min_notional:
        return Denial(
            ReasonCode.NOTIONAL_BELOW_MIN,
            f"notional {notional} is below the minimum {instrument.min_notional}",
        )
    return None


def check_reduce_only(ctx: PreTradeContext) -> Denial | None:
    order = ctx.order
    if not order.reduce_only:
        return None
    position = ctx.position_qty
    reduces = (position > ZERO and order.side is Side.SELL) or (
        position < ZERO and order.side is Side.BUY
    )
    if not reduces:
        return Denial(
            ReasonCode.REDUCE_ONLY_NO_POSITION,
            f"reduce-only {order.side} but the {order.symbol} position is {position}",
        )
    return None


def check_bracket(ctx: PreTradeContext) -> Denial | None:
    """A stop-loss must sit on the losing side of the entry, a take-profit on the winning."""
    order = ctx.order
    entry = expected_price(ctx)
    assert entry is not None
    buy = order.side is Side.BUY
    if order.stop_loss is not None and (
        order.stop_loss >= entry if buy else order.stop_loss <= entry
    ):
        side = "below" if buy else "above"
        return Denial(
            ReasonCode.INVALID_STOP_LOSS,
            f"stop_loss {order.stop_loss} must be {side} the entry price {entry}",
        )
    if order.take_profit is not None and (
        order.take_profit <= entry if buy else order.take_profit >= entry
    ):
        side = "above" if buy else "below"
        return Denial(
            ReasonCode.INVALID_TAKE_PROFIT,
            f"take_profit {order.take_profit} must be {side} the entry price {entry}",
        )
    return None


def check_margin(ctx: PreTradeContext) -> Denial | None:
    instrument = ctx.instrument
    price = expected_price(ctx)
    assert instrument is not None
    assert price is not None
    order = ctx.order
    needed = margin_needed(
        instrument, order.side, order.qty, price, ctx.position_qty, order.reduce_only
    )
    if needed > ctx.free_margin:
        return Denial(
            ReasonCode.INSUFFICIENT_MARGIN,
            f"needs {needed} {instrument.quote_currency} of margin, {ctx.free_margin} is free",
        )
    return None


# check_symbol and check_reference_price guard the checks after them: an instrument and an
# expected price exist from there on.
PRE_TRADE_CHECKS: Final[tuple[Callable[[PreTradeContext], Denial | None], ...]] = (
    check_account,
    check_symbol,
    check_order_type,
    check_quantity,
    check_ticks,
    check_reference_price,
    check_min_notional,
    check_reduce_only,
    check_bracket,
    check_margin,
)
_GUARDS: Final = frozenset({check_symbol, check_reference_price})


def first_denial(ctx: PreTradeContext) -> Denial | None:
    for check in PRE_TRADE_CHECKS:
        denial = check(ctx)
        if denial is not None:
            return denial
    return None


def all_denials(ctx: PreTradeContext) -> list[Denial]:
    """Every reason that would deny the order (stopping only where later checks can't run)."""
    denials: list[Denial] = []
    for check in PRE_TRADE_CHECKS:
        denial = check(ctx)
        if denial is None:
            continue
        denials.append(denial)
        if check in _GUARDS:
            break
    return denials
