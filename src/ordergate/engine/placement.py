"""Placing orders: idempotency, pre-trade checks, closing orders, funding, instruments."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

import msgspec

from ordergate.domain.accounts import margin_needed
from ordergate.domain.errors import IdempotencyConflict
from ordergate.domain.events import (
    BalanceAdjusted,
    InstrumentUpdated,
    OrderApproved,
    OrderDenied,
    OrderInitialized,
    OrderPlanned,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import RiskLimits
from ordergate.domain.orders import Order
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.risk import (
    BPS,
    Denial,
    PreTradeContext,
    all_denials,
    expected_price,
    first_denial,
)
from ordergate.domain.values import ZERO, OrderType, Side, TradingState
from ordergate.engine.commands import AdjustBalance, PlaceOrder
from ordergate.engine.context import DecisionContext
from ordergate.engine.dispatch import SubmitRequest
from ordergate.engine.guards import NS_PER_MS, Action, SpamKey
from ordergate.engine.ids import client_order_id_for
from ordergate.engine.state import MarkOf
from ordergate.engine.venue_reports import VenueOrderRequest


def place(ctx: DecisionContext, command: PlaceOrder) -> tuple[Order, bool]:
    """Place an order, or return the one its idempotency key already names.

    Returns (order, created). The same key with a different request is refused: a key
    names one intent, and a client that reuses it for another has a bug worth surfacing.
    """
    if command.idempotency_key is not None:
        key = (command.account, command.idempotency_key)
        existing = ctx.state.by_idempotency_key.get(key)
        if existing is not None:
            if existing.request_hash != command.fingerprint():
                raise IdempotencyConflict(
                    f"idempotency key {command.idempotency_key!r} was used for a "
                    f"different request (order {existing.order_id})"
                )
            return existing, False
    return create_order(ctx, command), True


def create_order(ctx: DecisionContext, command: PlaceOrder) -> Order:
    """Initialize an order, run the pre-trade checks, and deny it or queue its submit."""
    state = ctx.state
    order_id = state.next_order_id()
    ts = ctx.now()
    limits = limits_for(ctx, command)
    price = command.price
    unpriced: str | None = None
    if command.price_at_offset:
        price, unpriced = offset_price(ctx, command, limits)
    ctx.emit(
        OrderInitialized(
            order_id=order_id,
            client_order_id=client_order_id_for(
                command.account, command.idempotency_key, order_id, state.journal_id
            ),
            account=command.account,
            symbol=command.symbol,
            side=command.side,
            type=command.type,
            qty=command.qty,
            price=price,
            stop_price=command.stop_price,
            time_in_force=command.time_in_force,
            reduce_only=command.reduce_only,
            stop_loss=command.stop_loss,
            take_profit=command.take_profit,
            strategy=command.strategy,
            idempotency_key=command.idempotency_key,
            request_hash=command.fingerprint() if command.idempotency_key else None,
            parent_order_id=command.parent_order_id,
            trace_id=command.trace_id,
            ts=ts,
            priced_by_offset=command.price_at_offset,
            signal_id=command.signal_id,
        )
    )
    order = state.orders[order_id]
    if unpriced is not None:
        ctx.emit(OrderDenied(order_id, ReasonCode.NO_LIMIT_PRICE, unpriced, ts))
        return order
    context = pre_trade_context(ctx, order, limits)
    denial = first_denial(context)
    if denial is not None:
        ctx.emit(OrderDenied(order_id, denial.code, denial.reason, ts))
        return order
    reference = expected_price(context)
    assert reference is not None  # check_reference_price passed
    ctx.guards.spend(Action.SUBMIT, order.account, order.symbol, order.strategy, ctx.limits, ts)
    ctx.guards.remember(spam_key(order), ts)
    if ctx.dry_run:  # the throttles spent as live would: a dry run shows what live does
        ctx.emit(OrderPlanned(order_id, reference, ts))
        return order
    ctx.emit(OrderApproved(order_id, reference, ts))
    ctx.send(
        SubmitRequest(
            order_id,
            VenueOrderRequest(
                client_order_id=order.client_order_id,
                account=order.account,
                symbol=order.symbol,
                side=order.side,
                type=order.type,
                qty=order.qty,
                price=order.price,
                stop_price=order.stop_price,
                time_in_force=order.time_in_force,
                reduce_only=order.reduce_only,
            ),
        )
    )
    return order


def offset_price(
    ctx: DecisionContext, command: PlaceOrder, limits: RiskLimits
) -> tuple[Decimal | None, str | None]:
    """The limit price at the configured offset behind the touch, or why there is none.

    A buy rests at the bid less the offset, a sell at the ask plus it (seed 003); an
    absolute offset wins over one in bps. The price is rounded onto the tick grid away
    from the market, so the offset is never less than configured.
    """
    instrument = ctx.state.instruments.get(command.symbol)
    quote = ctx.market_data.quote(command.symbol)
    if instrument is None or quote is None:
        return None, f"no current price for {command.symbol} to offset from"
    if limits.limit_offset_abs is None and limits.limit_offset_bps is None:
        return None, "no limit price given and no limit offset configured"
    buy = command.side is Side.BUY
    touch = quote.bid if buy else quote.ask
    if limits.limit_offset_abs is not None:
        offset = limits.limit_offset_abs
    else:
        assert limits.limit_offset_bps is not None
        offset = touch * limits.limit_offset_bps / BPS
    raw = touch - offset if buy else touch + offset
    price = instrument.round_price(raw, ROUND_FLOOR if buy else ROUND_CEILING)
    if price <= ZERO:
        return None, f"the offset puts the price at {price}"
    return price, None


def _armed_here(ctx: DecisionContext, account: str) -> bool:
    """Armed for this account on this very venue: arming testnet is not arming mainnet."""
    armed = ctx.state.armed.get(account)
    return armed is not None and armed.venue == ctx.venue_name


def limits_for(ctx: DecisionContext, command: PlaceOrder) -> RiskLimits:
    """The limits that apply: the account's, symbol's and strategy's, narrowed to the
    order types the entry point allows."""
    limits = ctx.limits.resolve(command.account, command.symbol, command.strategy)
    entry = command.allowed_types
    if entry is None:
        return limits
    allowed = entry if limits.allowed_order_types is None else entry & limits.allowed_order_types
    return replace(limits, allowed_order_types=allowed)


def spam_key(order: Order) -> SpamKey:
    return (order.account, order.strategy, order.symbol, order.side, order.qty.normalize())


def pre_trade_context(ctx: DecisionContext, order: Order, limits: RiskLimits) -> PreTradeContext:
    """Gather what the checks look at; costly figures only when a limit needs them."""
    state = ctx.state
    account, symbol = order.account, order.symbol
    instrument = state.instruments.get(symbol)
    quote = ctx.market_data.quote(symbol)
    now = ctx.now()
    quote_age_ms = None if quote is None else max(0, (now - quote.ts) // NS_PER_MS)
    marks = mark_of(ctx)
    equity = free_margin = gross_elsewhere = ZERO
    if instrument is not None:
        ccy = instrument.quote_currency
        equity, free_margin = state.equity_and_free_margin(account, ccy, marks)
        if limits.max_gross_exposure is not None:
            gross_elsewhere = state.gross_exposure(account, ccy, marks, excluding=symbol)
    other_side = order.side.opposite
    open_same = state.open_qty.get((account, symbol, order.side), ZERO)
    trading = state.trading_state(account, symbol)
    dirty = state.dirty_mark(account, symbol)
    stale_after = limits.feed_stale_after_ms
    throttle = ctx.guards.throttled(Action.SUBMIT, account, symbol, order.strategy, ctx.limits, now)
    return PreTradeContext(
        order=order,
        instrument=instrument,
        limits=limits,
        account_known=account in state.accounts,
        reference_price=None if quote is None else quote.price_for(order.side),
        quote_age_ms=quote_age_ms,
        mark=None if quote is None else quote.last,
        position_qty=state.book.qty(account, symbol),
        open_same_side=open_same,
        open_other_side=state.open_qty.get((account, symbol, other_side), ZERO),
        gross_elsewhere=gross_elsewhere,
        equity=equity,
        free_margin=free_margin,
        trading_state=TradingState.ACTIVE if trading is None else trading.state,
        armed=not ctx.venue_live or _armed_here(ctx, account),
        dirty=None if dirty is None else f"{dirty.cause}: {dirty.detail}",
        feed_stale=stale_after is not None and (quote_age_ms is None or quote_age_ms > stale_after),
        duplicate_recent=ctx.guards.seen_recently(spam_key(order), limits.spam_window_ms, now),
        pending_same_side=state.open_count.get((account, symbol, order.side), 0) > 0,
        throttled=None if throttle is None else throttle[0],
        venue_halt=ctx.venue_halt(),
    )


def mark_of(ctx: DecisionContext) -> MarkOf:
    market = ctx.market_data

    def mark(symbol: str) -> Decimal | None:
        quote = market.quote(symbol)
        return None if quote is None else quote.last

    return mark


def create_closing_order(
    ctx: DecisionContext,
    account: str,
    symbol: str,
    position_qty: Decimal,
    qty: Decimal,
    strategy: str | None,
    trace_id: str | None,
) -> Order:
    """A reduce-only market order against the position: it can never open or flip one."""
    return create_order(
        ctx,
        PlaceOrder(
            account=account,
            symbol=symbol,
            side=Side.SELL if position_qty > ZERO else Side.BUY,
            qty=qty,
            type=OrderType.MARKET,
            reduce_only=True,
            strategy=strategy,
            trace_id=trace_id,
        ),
    )


def adjust_balance(ctx: DecisionContext, command: AdjustBalance) -> None:
    ctx.emit(
        BalanceAdjusted(
            command.account, command.currency, command.amount, command.reason, ctx.now()
        )
    )


def define_instruments(ctx: DecisionContext, instruments: Iterable[Instrument]) -> None:
    """Journal each configured instrument that differs from the journal's own."""
    ts = ctx.now()
    for instrument in instruments:
        if ctx.state.instruments.get(instrument.symbol) != instrument:
            ctx.emit(InstrumentUpdated(instrument, ts))


class Preview(msgspec.Struct, frozen=True):
    """What placing the order would do now, without placing it."""

    accepted: bool
    denials: list[Denial]
    estimated_price: Decimal | None
    notional: Decimal | None
    fee: Decimal | None
    fee_currency: str | None
    slippage_bps: Decimal | None
    margin_required: Decimal | None
    free_margin: Decimal
    position_qty: Decimal
    worst_case_qty: Decimal


def preview(ctx: DecisionContext, command: PlaceOrder) -> Preview:
    """Estimate price, fees, slippage, notional and margin, and list every denial.

    Market and marketable limit orders are estimated at the touch as takers (slippage
    against the mid), resting ones at their own price as makers. Nothing is journaled or
    spent: throttles and spam windows are consulted, not consumed.
    """
    state = ctx.state
    limits = limits_for(ctx, command)
    price, unpriced = command.price, None
    if command.price_at_offset:
        price, unpriced = offset_price(ctx, command, limits)
    shadow = Order(
        OrderInitialized(
            order_id="preview",
            client_order_id="preview",
            account=command.account,
            symbol=command.symbol,
            side=command.side,
            type=command.type,
            qty=command.qty,
            price=price,
            stop_price=command.stop_price,
            time_in_force=command.time_in_force,
            reduce_only=command.reduce_only,
            stop_loss=command.stop_loss,
            take_profit=command.take_profit,
            strategy=command.strategy,
            idempotency_key=None,
            request_hash=None,
            parent_order_id=None,
            trace_id=None,
            ts=ctx.now(),
            priced_by_offset=command.price_at_offset,
        )
    )
    context = pre_trade_context(ctx, shadow, limits)
    denials = all_denials(context)
    if unpriced is not None:
        # A limit order with no price has no reference price either; that follows from
        # this denial, so it is not listed as a second reason.
        denials = [d for d in denials if d.code is not ReasonCode.NO_REFERENCE_PRICE]
        denials.insert(0, Denial(ReasonCode.NO_LIMIT_PRICE, unpriced))
    instrument = context.instrument
    estimate = expected_price(context)
    quote = ctx.market_data.quote(command.symbol)
    taker = shadow.type is OrderType.MARKET or (
        estimate is not None
        and context.reference_price is not None
        and shadow.price is not None
        and (
            shadow.price >= context.reference_price
            if shadow.side is Side.BUY
            else shadow.price <= context.reference_price
        )
    )
    if taker and context.reference_price is not None and shadow.type is not OrderType.STOP:
        estimate = context.reference_price
    notional = fee = slippage = margin = None
    if instrument is not None and estimate is not None:
        notional = instrument.notional(command.qty, estimate)
        rate = instrument.taker_fee_rate if taker else instrument.maker_fee_rate
        fee = notional * rate
        margin = margin_needed(
            instrument, shadow.side, command.qty, estimate, context.position_qty, shadow.reduce_only
        )
        if quote is not None:
            mid = (quote.bid + quote.ask) / 2
            slippage = abs(estimate - mid) / mid * BPS if mid else None
    worst = context.position_qty + shadow.side.sign * (context.open_same_side + command.qty)
    return Preview(
        accepted=not denials,
        denials=denials,
        estimated_price=estimate,
        notional=notional,
        fee=fee,
        fee_currency=None if instrument is None else instrument.quote_currency,
        slippage_bps=slippage,
        margin_required=margin,
        free_margin=context.free_margin,
        position_qty=state.book.qty(command.account, command.symbol),
        worst_case_qty=worst,
    )
