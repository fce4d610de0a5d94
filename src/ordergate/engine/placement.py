"""Placing orders: idempotency, pre-trade checks, closing orders, funding, instruments."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from ordergate.domain.errors import IdempotencyConflict
from ordergate.domain.events import (
    BalanceAdjusted,
    InstrumentUpdated,
    OrderApproved,
    OrderDenied,
    OrderInitialized,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.orders import Order
from ordergate.domain.risk import PreTradeContext, expected_price, first_denial
from ordergate.domain.values import ZERO, OrderType, Side
from ordergate.engine.commands import AdjustBalance, PlaceOrder
from ordergate.engine.context import DecisionContext
from ordergate.engine.dispatch import SubmitRequest
from ordergate.engine.ids import client_order_id_for
from ordergate.engine.ports import VenueOrderRequest
from ordergate.engine.state import MarkOf


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
    ctx.emit(
        OrderInitialized(
            order_id=order_id,
            client_order_id=client_order_id_for(command.account, command.idempotency_key, order_id),
            account=command.account,
            symbol=command.symbol,
            side=command.side,
            type=command.type,
            qty=command.qty,
            price=command.price,
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
        )
    )
    order = state.orders[order_id]
    context = pre_trade_context(ctx, order)
    denial = first_denial(context)
    if denial is not None:
        ctx.emit(OrderDenied(order_id, denial.code, denial.reason, ts))
        return order
    reference = expected_price(context)
    assert reference is not None  # check_reference_price passed
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


def pre_trade_context(ctx: DecisionContext, order: Order) -> PreTradeContext:
    state = ctx.state
    instrument = state.instruments.get(order.symbol)
    quote = ctx.market_data.quote(order.symbol)
    free_margin = ZERO
    if instrument is not None:
        free_margin = state.free_margin(order.account, instrument.quote_currency, mark_of(ctx))
    return PreTradeContext(
        order=order,
        instrument=instrument,
        policy=ctx.policy,
        account_known=order.account in state.accounts,
        reference_price=None if quote is None else quote.price_for(order.side),
        position_qty=state.book.qty(order.account, order.symbol),
        free_margin=free_margin,
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
