"""Which orders a trading signal becomes: seed 002's order-type choice, pricing and sizing.

`decide` is pure: the caller passes the current quote, the instrument and the risk
limits resolved for (account, symbol, strategy), and gets a `SignalDecision`: the orders
to place as `OrderIntent`s (or a `SignalReason` for why there are none), which of the
strategy's open orders to cancel first, and the inputs of the choice, for the journal.

1. Reference price: the mid of a usable quote (0 < bid <= ask), else the signal's price
   hint; with neither, no orders (`SIGNAL_NO_PRICE`).
2. Quantity: `qty`, or `notional / (reference * contract_size)`, rounded down to the lot
   step (`SIGNAL_QTY_BELOW_STEP` when that leaves nothing).
3. Type: MARKET when confidence >= `market_order_confidence_threshold` and the spread,
   in percent of the mid, <= `market_order_spread_threshold`; otherwise LIMIT.
4. A LIMIT's price: the risk limits' `limit_offset_abs` / `limit_offset_bps` when either
   is set (the engine prices it, `price_at_offset`); else `limit_order_price_offset_ratio`
   of the way across the spread from the order's own side. With no quote: the hint.
5. Splitting: with `enable_order_splitting`, an order worth more than
   `max_single_order_size` at the reference price becomes the fewest orders of at most
   that much, all but the last equal.

Arithmetic runs in a wide decimal context, so the comparisons at each threshold and the
step and tick rounding are exact for any value ordergate accepts.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Context, Decimal, localcontext
from enum import StrEnum
from typing import Protocol

import msgspec

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import RiskLimits
from ordergate.domain.signal_model import SignalReason, TradingSignal
from ordergate.domain.values import ONE, ZERO, OrderType, Side, TimeInForce, is_reasonable

# Split keys are f"{signal_id}:{n}"; 4 digits keep them within 128 characters.
MAX_SPLIT_ORDERS_LIMIT = 9999
NS_PER_SECOND = 1_000_000_000
PERCENT = Decimal(100)
_PRECISION = 80  # products of three 27-digit values, exactly
_DISPLAY = Context(prec=12)  # for the reported spread only; decisions never use it


class BestPrices(Protocol):
    """The touch of one instrument; `ordergate.engine.ports.Quote` is one."""

    @property
    def bid(self) -> Decimal: ...

    @property
    def ask(self) -> Decimal: ...


@dataclass(frozen=True, slots=True)
class SignalPolicy:
    """Seed 002's order-manager settings (its names, without the ORDERMANAGER_ prefix).

    - `market_order_spread_threshold` is in percent of the mid price (0.1 = 0.1%).
    - `limit_order_price_offset_ratio`: 0 joins the order's own side of the book, 0.5
      is the mid, 1 crosses to the far side.
    - `max_single_order_size` is a notional in the quote currency.
    - `max_split_orders` bounds how many orders one signal may become, so a huge
      notional cannot flood the venue (ordergate's own guard; not in seed 002).
    - `cancel_stale_order_timeout` is in seconds; 0 or None disables it.
    """

    market_order_confidence_threshold: Decimal = Decimal("0.9")
    market_order_spread_threshold: Decimal = Decimal("0.1")
    limit_order_price_offset_ratio: Decimal = Decimal("0.5")
    max_single_order_size: Decimal = Decimal(10000)
    enable_order_splitting: bool = False
    max_split_orders: int = 100
    cancel_opposite_orders_only: bool = False
    cancel_stale_order_timeout: int | None = 3600
    dry_run: bool = False

    def __post_init__(self) -> None:
        for name in ("market_order_confidence_threshold", "limit_order_price_offset_ratio"):
            value = _finite_decimal(self, name)
            if not ZERO <= value <= ONE:
                raise InvalidRequest(f"{name} must be between 0 and 1, got {value}")
        if _finite_decimal(self, "market_order_spread_threshold") < ZERO:
            raise InvalidRequest("market_order_spread_threshold must not be negative")
        if _finite_decimal(self, "max_single_order_size") <= ZERO:
            raise InvalidRequest("max_single_order_size must be positive")
        if not _is_int(self.max_split_orders) or not (
            1 <= self.max_split_orders <= MAX_SPLIT_ORDERS_LIMIT
        ):
            raise InvalidRequest(f"max_split_orders must be 1..{MAX_SPLIT_ORDERS_LIMIT}")
        timeout = self.cancel_stale_order_timeout
        if timeout is not None and (not _is_int(timeout) or timeout < 0):
            raise InvalidRequest("cancel_stale_order_timeout must be whole seconds >= 0, or None")


def _finite_decimal(policy: SignalPolicy, name: str) -> Decimal:
    value: object = getattr(policy, name)
    # A float would make the threshold comparisons inexact: refuse it outright.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidRequest(f"{name} must be a finite Decimal, got {value!r}")
    return value


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


class PricingRule(StrEnum):
    """How the order's price was chosen."""

    MARKET = "MARKET"  # no price: a market order
    SPREAD_RATIO = "SPREAD_RATIO"  # limit_order_price_offset_ratio inside the spread
    RISK_OFFSET = "RISK_OFFSET"  # the engine prices it from limit_offset_abs / _bps
    PRICE_HINT = "PRICE_HINT"  # no usable quote: the signal's price


class CancelScope(StrEnum):
    NONE = "NONE"
    BOTH_SIDES = "BOTH_SIDES"
    OPPOSITE_SIDE = "OPPOSITE_SIDE"


class OrderIntent(msgspec.Struct, frozen=True, gc=False):
    """One order to place. Each field is the `PlaceOrder` field of the same name, so
    `PlaceOrder(**msgspec.structs.asdict(intent))` is the whole mapping."""

    account: str
    symbol: str
    side: Side
    qty: Decimal
    type: OrderType
    price: Decimal | None
    price_at_offset: bool
    time_in_force: TimeInForce
    idempotency_key: str
    strategy: str
    trace_id: str | None


class CancelRule(msgspec.Struct, frozen=True, gc=False):
    """Which of the strategy's open orders on this account and symbol to cancel before
    placing; orders this very signal placed are spared, so a redelivery keeps them."""

    scope: CancelScope
    sides: tuple[Side, ...]
    account: str
    symbol: str
    strategy: str
    signal_id: str


class DecisionInputs(msgspec.Struct, frozen=True, gc=False):
    """What the choice was made from, for the journal; None where it was not reached."""

    confidence: Decimal
    bid: Decimal | None = None
    ask: Decimal | None = None
    spread_pct: Decimal | None = None
    reference_price: Decimal | None = None
    order_type: OrderType | None = None
    pricing: PricingRule | None = None
    qty: Decimal | None = None
    parts: int = 0


class SignalDecision(msgspec.Struct, frozen=True, gc=False):
    """The orders a signal becomes, or the reason it becomes none.

    When `dry_run` is set the engine journals the intended orders and their risk
    verdicts and sends nothing.
    """

    signal_id: str
    orders: tuple[OrderIntent, ...]
    cancel: CancelRule
    dry_run: bool
    inputs: DecisionInputs
    message: str
    reason: SignalReason | None = None

    @property
    def refused(self) -> bool:
        return self.reason is not None


class OpenOrderRef(msgspec.Struct, frozen=True, gc=False):
    """What the policy needs to know of an open order; `created_ts` in nanoseconds."""

    order_id: str
    account: str
    symbol: str
    side: Side
    created_ts: int
    idempotency_key: str | None = None
    strategy: str | None = None


class _Refusal(Exception):
    def __init__(self, reason: SignalReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def decide(
    signal: TradingSignal,
    quote: BestPrices | None,
    instrument: Instrument,
    limits: RiskLimits,
    policy: SignalPolicy,
) -> SignalDecision:
    """Turn a signal into the orders to place, given the market now and the limits.

    `limits` are the ones resolved for the signal's (account, symbol, strategy). Risk
    checks are not made here: every intent still goes through the risk pack.
    """
    if instrument.symbol != signal.symbol:
        raise InvalidRequest(f"instrument {instrument.symbol} is not {signal.symbol}")
    book = quote if quote is not None and _usable(quote) else None
    inputs = DecisionInputs(confidence=signal.confidence)
    with localcontext() as ctx:
        ctx.prec = _PRECISION
        try:
            if book is not None:
                inputs = msgspec.structs.replace(
                    inputs, bid=book.bid, ask=book.ask, spread_pct=_spread_pct(book)
                )
            reference = (book.bid + book.ask) / 2 if book is not None else signal.price
            inputs = msgspec.structs.replace(inputs, reference_price=reference)
            if reference is None:
                raise _Refusal(
                    SignalReason.SIGNAL_NO_PRICE,
                    f"no usable quote for {signal.symbol} and no price hint in the signal",
                )
            qty = _total_qty(signal, reference, instrument)
            order_type, pricing, price, why = _choose(signal, book, instrument, limits, policy)
            inputs = msgspec.structs.replace(
                inputs, order_type=order_type, pricing=pricing, qty=qty
            )
            sizes = _sizes(qty, reference, instrument, policy)
            inputs = msgspec.structs.replace(inputs, parts=len(sizes))
            _check_range(sizes, price)
        except _Refusal as refusal:
            return SignalDecision(
                signal_id=signal.signal_id,
                orders=(),
                cancel=_cancel_rule(signal, CancelScope.NONE, ()),
                dry_run=policy.dry_run,
                inputs=inputs,
                message=refusal.message,
                reason=refusal.reason,
            )
    orders = tuple(
        OrderIntent(
            account=signal.account,
            symbol=signal.symbol,
            side=signal.side,
            qty=size,
            type=order_type,
            price=price,
            price_at_offset=pricing is PricingRule.RISK_OFFSET,
            time_in_force=TimeInForce.GTC,  # what PlaceOrder and the REST API use for both
            idempotency_key=order_key(signal.signal_id, part if len(sizes) > 1 else None),
            strategy=signal.strategy,
            trace_id=signal.trace_id,
        )
        for part, size in enumerate(sizes, start=1)
    )
    if len(sizes) > 1:
        why += (
            f"; split into {len(sizes)} orders of at most {policy.max_single_order_size} "
            f"{instrument.quote_currency}"
        )
    if policy.cancel_opposite_orders_only:
        cancel = _cancel_rule(signal, CancelScope.OPPOSITE_SIDE, (signal.side.opposite,))
    else:
        cancel = _cancel_rule(signal, CancelScope.BOTH_SIDES, (Side.BUY, Side.SELL))
    return SignalDecision(
        signal_id=signal.signal_id,
        orders=orders,
        cancel=cancel,
        dry_run=policy.dry_run,
        inputs=inputs,
        message=why,
    )


def _usable(quote: BestPrices) -> bool:
    bid, ask = quote.bid, quote.ask
    return bid.is_finite() and ask.is_finite() and ZERO < bid <= ask


def _spread_pct(book: BestPrices) -> Decimal:
    return _DISPLAY.divide((book.ask - book.bid) * PERCENT * 2, book.bid + book.ask)


def _total_qty(signal: TradingSignal, reference: Decimal, instrument: Instrument) -> Decimal:
    if signal.qty is not None:
        qty = instrument.round_qty_down(signal.qty)
        asked = f"qty {signal.qty}"
    else:
        assert signal.notional is not None  # TradingSignal holds exactly one
        qty = _max_qty_within(signal.notional, reference, instrument)
        asked = f"notional {signal.notional} at {reference}"
    if qty <= ZERO:
        raise _Refusal(
            SignalReason.SIGNAL_QTY_BELOW_STEP,
            f"{asked} is less than one lot step ({instrument.lot_step}) of {instrument.symbol}",
        )
    return qty


def _max_qty_within(notional: Decimal, price: Decimal, instrument: Instrument) -> Decimal:
    """The largest quantity on the lot step worth at most `notional` at `price`."""
    qty = instrument.round_qty_down(notional / (price * instrument.contract_size))
    # The division may round up onto a step boundary; the product is exact.
    while qty > ZERO and instrument.notional(qty, price) > notional:
        qty -= instrument.lot_step
    return qty


def _choose(
    signal: TradingSignal,
    book: BestPrices | None,
    instrument: Instrument,
    limits: RiskLimits,
    policy: SignalPolicy,
) -> tuple[OrderType, PricingRule, Decimal | None, str]:
    """Pick the order type and price; say why."""
    if book is None:
        assert signal.price is not None  # the reference price came from it
        price = _on_tick_toward_own_side(signal.price, signal.side, instrument)
        why = f"LIMIT at the price hint {signal.price} (on the tick: {price}): no usable quote"
        return OrderType.LIMIT, PricingRule.PRICE_HINT, price, why
    confident = signal.confidence >= policy.market_order_confidence_threshold
    spread = book.ask - book.bid
    # spread / mid * 100 <= threshold, without dividing: exact at the boundary.
    tight = spread * PERCENT * 2 <= policy.market_order_spread_threshold * (book.bid + book.ask)
    shown = f"{_spread_pct(book)}%"
    if confident and tight:
        why = (
            f"MARKET: confidence {signal.confidence} >= {policy.market_order_confidence_threshold}"
            f" and spread {shown} <= {policy.market_order_spread_threshold}%"
        )
        return OrderType.MARKET, PricingRule.MARKET, None, why
    if not confident:
        because = f"confidence {signal.confidence} < {policy.market_order_confidence_threshold}"
    else:
        because = f"spread {shown} > {policy.market_order_spread_threshold}%"
    if limits.limit_offset_abs is not None or limits.limit_offset_bps is not None:
        why = f"LIMIT at the configured offset from the touch, priced by the engine: {because}"
        return OrderType.LIMIT, PricingRule.RISK_OFFSET, None, why
    ratio = policy.limit_order_price_offset_ratio
    raw = book.bid + ratio * spread if signal.side is Side.BUY else book.ask - ratio * spread
    price = _on_tick_toward_own_side(raw, signal.side, instrument)
    why = f"LIMIT at {price}, {ratio} of the way across the spread: {because}"
    return OrderType.LIMIT, PricingRule.SPREAD_RATIO, price, why


def _on_tick_toward_own_side(price: Decimal, side: Side, instrument: Instrument) -> Decimal:
    """Round a buy down and a sell up: never further across the book than computed."""
    rounded = instrument.round_price(price, ROUND_FLOOR if side is Side.BUY else ROUND_CEILING)
    if rounded <= ZERO:
        raise _Refusal(
            SignalReason.SIGNAL_NO_PRICE,
            f"{price} is below one tick ({instrument.tick_size}) of {instrument.symbol}",
        )
    return rounded


def _sizes(
    qty: Decimal, reference: Decimal, instrument: Instrument, policy: SignalPolicy
) -> tuple[Decimal, ...]:
    """The order quantities: one, or the fewest of at most max_single_order_size each."""
    limit = policy.max_single_order_size
    if not policy.enable_order_splitting or instrument.notional(qty, reference) <= limit:
        return (qty,)
    part = _max_qty_within(limit, reference, instrument)
    if part <= ZERO:
        raise _Refusal(
            SignalReason.SIGNAL_SPLIT_BELOW_STEP,
            f"max_single_order_size {limit} buys less than one lot step "
            f"({instrument.lot_step}) of {instrument.symbol} at {reference}",
        )
    # Whole lot steps, so the count is exact integer arithmetic.
    total_steps = int(qty / instrument.lot_step)
    part_steps = int(part / instrument.lot_step)
    count = -(-total_steps // part_steps)
    if count > policy.max_split_orders:
        raise _Refusal(
            SignalReason.SIGNAL_TOO_MANY_ORDERS,
            f"{qty} {instrument.symbol} in orders of at most {limit} "
            f"{instrument.quote_currency} needs {count} orders; "
            f"max_split_orders is {policy.max_split_orders}",
        )
    last = qty - part * (count - 1)
    return (part,) * (count - 1) + (last,)


def _check_range(sizes: tuple[Decimal, ...], price: Decimal | None) -> None:
    # PlaceOrder refuses what is_reasonable refuses; say so here, with a reason code.
    for name, value in (("qty", sizes[0]), ("qty", sizes[-1]), ("price", price)):
        if value is not None and not is_reasonable(value):
            raise _Refusal(
                SignalReason.SIGNAL_OUT_OF_RANGE,
                f"the order {name} {value} is beyond what ordergate accepts",
            )


def _cancel_rule(signal: TradingSignal, scope: CancelScope, sides: tuple[Side, ...]) -> CancelRule:
    return CancelRule(
        scope=scope,
        sides=sides,
        account=signal.account,
        symbol=signal.symbol,
        strategy=signal.strategy,
        signal_id=signal.signal_id,
    )


def order_key(signal_id: str, part: int | None = None) -> str:
    """The idempotency key of a signal's order: its id, or f"{id}:{part}" for a split."""
    return signal_id if part is None else f"{signal_id}:{part}"


def placed_by_signal(idempotency_key: str, signal_id: str) -> bool:
    """Whether an order with this key was placed from this signal (one of its parts)."""
    if idempotency_key == signal_id:
        return True
    prefix = f"{signal_id}:"
    if not idempotency_key.startswith(prefix):
        return False
    part = idempotency_key[len(prefix) :]
    return part.isascii() and part.isdigit() and not part.startswith("0")


def orders_to_cancel(rule: CancelRule, open_orders: Iterable[OpenOrderRef]) -> tuple[str, ...]:
    """The ids of the open orders a decision's cancel rule selects, in the given order."""
    return tuple(
        order.order_id
        for order in open_orders
        if order.side in rule.sides
        and order.account == rule.account
        and order.symbol == rule.symbol
        and order.strategy == rule.strategy
        and not (
            order.idempotency_key is not None
            and placed_by_signal(order.idempotency_key, rule.signal_id)
        )
    )


def stale_orders(
    open_orders: Iterable[OpenOrderRef], now_ns: int, policy: SignalPolicy
) -> tuple[str, ...]:
    """The ids of open signal orders placed at least `cancel_stale_order_timeout` ago,
    oldest first.

    Pass only orders placed from signals: an order with no idempotency key was not
    (signal orders always carry one) and is never chosen, but a REST order with a key
    looks the same as a signal's.
    """
    timeout = policy.cancel_stale_order_timeout
    if not timeout:
        return ()
    cutoff = now_ns - timeout * NS_PER_SECOND
    stale = [o for o in open_orders if o.idempotency_key is not None and o.created_ts <= cutoff]
    stale.sort(key=lambda o: (o.created_ts, o.order_id))
    return tuple(o.order_id for o in stale)
