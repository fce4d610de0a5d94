"""Pre-trade checks: pure functions that deny with a stable reason code.

A denial is data, not an exception: the engine turns it into an `OrderDenied` event and
the order ends `DENIED`. The checks run in the order of `PRE_TRADE_CHECKS`: gates first
(trading state, arming, dirty instrument, feed health), then the order's own terms, then
limits that count the worst case, then rate and duplicate guards. `first_denial` stops at
the first; `all_denials` collects every one (for previews).

Everything a check looks at is in `PreTradeContext`, assembled by the engine; limits are
already resolved for the order's account, instrument and strategy (`LimitsBook`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from ordergate.domain.accounts import margin_needed
from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import RiskLimits
from ordergate.domain.orders import Order
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderType, Side, TradingState

BPS = Decimal(10_000)


@dataclass(frozen=True, slots=True)
class Denial:
    code: ReasonCode
    reason: str


@dataclass(frozen=True, slots=True)
class PreTradeContext:
    """Everything the checks may look at; assembled by the engine, read-only here.

    - `reference_price`: what the order would trade at now (ask for a buy, bid for a
      sell), None if no price is known; `quote_age_ms` its age.
    - `open_same_side` / `open_other_side`: remaining qty of the account's open,
      non-reduce-only orders in this instrument (the order itself excluded).
    - `gross_elsewhere`: the account's worst-case gross exposure in this instrument's
      quote currency, over its other instruments.
    - `equity`, `free_margin`: in this instrument's quote currency.
    - `venue_halt`, `trading_state`, `armed`, `dirty`, `feed_stale`: the gates
      (`venue_halt`: why the venue takes no orders until a person acts).
    - `duplicate_recent`, `pending_same_side`, `throttled`: the rate and duplicate guards
      (what the engine's bookkeeping says; the checks only read it).
    """

    order: Order
    instrument: Instrument | None
    limits: RiskLimits
    account_known: bool
    reference_price: Decimal | None
    quote_age_ms: int | None
    mark: Decimal | None
    position_qty: Decimal
    open_same_side: Decimal
    open_other_side: Decimal
    gross_elsewhere: Decimal
    equity: Decimal
    free_margin: Decimal
    trading_state: TradingState = TradingState.ACTIVE
    armed: bool = True
    dirty: str | None = None
    feed_stale: bool = False
    duplicate_recent: bool = False
    pending_same_side: bool = False
    throttled: str | None = None
    venue_halt: str | None = None


def expected_price(ctx: PreTradeContext) -> Decimal | None:
    """The price the checks assume the order trades at."""
    order = ctx.order
    if order.type.needs_price:
        return order.price
    if order.type is OrderType.STOP:
        return order.stop_price
    return ctx.reference_price


# --- gates ------------------------------------------------------------------------------


def check_venue_halt(ctx: PreTradeContext) -> Denial | None:
    if ctx.venue_halt is not None:
        return Denial(ReasonCode.VENUE_HALTED, f"the venue takes no orders: {ctx.venue_halt}")
    return None


def check_trading_state(ctx: PreTradeContext) -> Denial | None:
    state = ctx.trading_state
    if state is TradingState.HALTED:
        return Denial(ReasonCode.TRADING_HALTED, "trading is halted (kill switch): cancels only")
    if state is TradingState.REDUCING and not ctx.order.reduce_only:
        return Denial(
            ReasonCode.TRADING_REDUCING, "trading is reducing (SAFE mode): reduce-only orders only"
        )
    return None


def check_armed(ctx: PreTradeContext) -> Denial | None:
    if not ctx.armed:
        return Denial(
            ReasonCode.NOT_ARMED,
            f"live trading for account {ctx.order.account!r} is not armed (POST /v1/admin/arm)",
        )
    return None


def check_dirty(ctx: PreTradeContext) -> Denial | None:
    if ctx.dirty is not None and not ctx.order.reduce_only:
        return Denial(
            ReasonCode.INSTRUMENT_DIRTY,
            f"{ctx.order.symbol} is in doubt ({ctx.dirty}): cancels and reduce-only orders only "
            "until reconciliation agrees",
        )
    return None


def check_feed(ctx: PreTradeContext) -> Denial | None:
    if ctx.feed_stale and not ctx.order.reduce_only:
        return Denial(
            ReasonCode.FEED_STALE,
            f"market data for {ctx.order.symbol} is stale: cancels and reduce-only orders only",
        )
    return None


# --- the order's own terms ----------------------------------------------------------------


def check_account(ctx: PreTradeContext) -> Denial | None:
    if not ctx.account_known:
        return Denial(ReasonCode.UNKNOWN_ACCOUNT, f"account {ctx.order.account!r} is not known")
    return None


def check_symbol(ctx: PreTradeContext) -> Denial | None:
    symbol = ctx.order.symbol
    allowed = ctx.limits.allowed_symbols
    if ctx.instrument is None or (allowed is not None and symbol not in allowed):
        return Denial(ReasonCode.SYMBOL_NOT_ALLOWED, f"symbol {symbol!r} is not tradable here")
    return None


def check_order_type(ctx: PreTradeContext) -> Denial | None:
    allowed = ctx.limits.allowed_order_types
    if allowed is not None and ctx.order.type not in allowed:
        names = ", ".join(sorted(allowed))
        return Denial(
            ReasonCode.UNSUPPORTED_ORDER_TYPE,
            f"order type {ctx.order.type} is not supported here (supported: {names})",
        )
    return None


def check_quantity(ctx: PreTradeContext) -> Denial | None:
    instrument = ctx.instrument
    assert instrument is not None
    qty = ctx.order.qty
    limits = ctx.limits
    minimum = instrument.min_qty
    if limits.min_qty is not None and limits.min_qty > minimum:
        minimum = limits.min_qty
    if qty < minimum:
        return Denial(ReasonCode.QTY_BELOW_MIN, f"qty {qty} is below the minimum {minimum}")
    maximum = instrument.max_qty
    if limits.max_order_qty is not None and (maximum is None or limits.max_order_qty < maximum):
        maximum = limits.max_order_qty
    if maximum is not None and qty > maximum:
        return Denial(ReasonCode.QTY_ABOVE_MAX, f"qty {qty} is above the maximum {maximum}")
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
    max_age = ctx.limits.max_quote_age_ms
    if max_age is not None and (ctx.quote_age_ms is None or ctx.quote_age_ms > max_age):
        age = "no price" if ctx.quote_age_ms is None else f"{ctx.quote_age_ms} ms old"
        return Denial(
            ReasonCode.STALE_REFERENCE_PRICE,
            f"the reference price of {ctx.order.symbol} is {age} (limit {max_age} ms)",
        )
    if expected_price(ctx) is None:
        return Denial(
            ReasonCode.NO_REFERENCE_PRICE,
            f"no current price for {ctx.order.symbol}: cannot size the risk of a market order",
        )
    return None


def check_fat_finger(ctx: PreTradeContext) -> Denial | None:
    """A limit price may not sit more than N bps through the best opposite price."""
    band = ctx.limits.fat_finger_bps
    order = ctx.order
    best = ctx.reference_price
    if band is None or order.price is None or best is None:
        return None
    if order.side is Side.BUY:
        bound = best * (BPS + band) / BPS
        through = order.price > bound
    else:
        bound = best * (BPS - band) / BPS
        through = order.price < bound
    if through:
        return Denial(
            ReasonCode.FAT_FINGER_PRICE,
            f"{order.side} limit {order.price} is more than {band} bps through the best "
            f"price {best}",
        )
    return None


def check_notional(ctx: PreTradeContext) -> Denial | None:
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
    cap = ctx.limits.max_order_notional
    if cap is not None and notional > cap:
        return Denial(ReasonCode.NOTIONAL_ABOVE_MAX, f"notional {notional} is above the cap {cap}")
    ratio = ctx.limits.max_order_size_ratio
    if ratio is not None and not ctx.order.reduce_only and notional > ratio * ctx.equity:
        return Denial(
            ReasonCode.ORDER_SIZE_RATIO_EXCEEDED,
            f"notional {notional} is more than {ratio} of the equity {ctx.equity}",
        )
    return None


def check_position_limit(ctx: PreTradeContext) -> Denial | None:
    """Worst case: the position plus every open order on this side, plus this order."""
    limit = ctx.limits.max_position_qty
    order = ctx.order
    if limit is None or order.reduce_only:
        return None
    sign = order.side.sign
    worst = ctx.position_qty + sign * (ctx.open_same_side + order.leaves_qty)
    if abs(worst) > limit:
        return Denial(
            ReasonCode.MAX_POSITION,
            f"{order.symbol} could reach {worst} with every open order filled (limit {limit})",
        )
    return None


def check_gross_exposure(ctx: PreTradeContext) -> Denial | None:
    limit = ctx.limits.max_gross_exposure
    order = ctx.order
    instrument = ctx.instrument
    assert instrument is not None
    if limit is None or order.reduce_only:
        return None
    price = ctx.mark or expected_price(ctx)
    assert price is not None
    buys = sells = ctx.open_other_side
    if order.side is Side.BUY:
        buys = ctx.open_same_side + order.leaves_qty
    else:
        sells = ctx.open_same_side + order.leaves_qty
    longest = ctx.position_qty + buys
    shortest = ctx.position_qty - sells
    here = instrument.notional(max(abs(longest), abs(shortest)), price)
    gross = ctx.gross_elsewhere + here
    if gross > limit:
        return Denial(
            ReasonCode.MAX_GROSS_EXPOSURE,
            f"worst-case gross exposure would be {gross} {instrument.quote_currency} "
            f"(limit {limit})",
        )
    return None


def check_slippage(ctx: PreTradeContext) -> Denial | None:
    """A limit price derived from an offset may not stray too far from the reference."""
    guard = ctx.limits.max_slippage_bps
    order = ctx.order
    reference = ctx.reference_price
    if guard is None or order.price is None or reference is None or not ctx.order.priced_by_offset:
        return None
    distance = abs(order.price - reference) / reference * BPS
    if distance > guard:
        return Denial(
            ReasonCode.SLIPPAGE_GUARD,
            f"limit {order.price} is {distance:.2f} bps from the reference {reference} "
            f"(guard {guard} bps)",
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
        instrument, order.side, order.leaves_qty, price, ctx.position_qty, order.reduce_only
    )
    if needed > ctx.free_margin:
        return Denial(
            ReasonCode.INSUFFICIENT_MARGIN,
            f"needs {needed} {instrument.quote_currency} of margin, {ctx.free_margin} is free",
        )
    return None


# --- rate and duplicate guards ------------------------------------------------------------


def check_spam(ctx: PreTradeContext) -> Denial | None:
    if ctx.duplicate_recent:
        order = ctx.order
        return Denial(
            ReasonCode.DUPLICATE_ORDER_SPAM,
            f"the same {order.side} {order.qty} {order.symbol} from this strategy was placed "
            f"less than {ctx.limits.spam_window_ms} ms ago",
        )
    return None


def check_pending_duplicate(ctx: PreTradeContext) -> Denial | None:
    if ctx.limits.one_pending_order_per_side and ctx.pending_same_side:
        order = ctx.order
        return Denial(
            ReasonCode.DUPLICATE_PENDING_ORDER,
            f"a {order.side} order for {order.symbol} is still pending",
        )
    return None


def check_throttle(ctx: PreTradeContext) -> Denial | None:
    if ctx.throttled is not None:
        return Denial(ReasonCode.THROTTLED, f"too many submits: {ctx.throttled}")
    return None


Check = Callable[[PreTradeContext], Denial | None]

PRE_TRADE_CHECKS: Final[tuple[Check, ...]] = (
    check_venue_halt,
    check_trading_state,
    check_armed,
    check_account,
    check_symbol,
    check_dirty,
    check_feed,
    check_order_type,
    check_quantity,
    check_ticks,
    check_reference_price,
    check_fat_finger,
    check_notional,
    check_slippage,
    check_position_limit,
    check_gross_exposure,
    check_reduce_only,
    check_bracket,
    check_margin,
    check_spam,
    check_pending_duplicate,
    check_throttle,
)
# check_symbol and check_reference_price guard the checks after them: an instrument and an
# expected price exist from there on.
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
