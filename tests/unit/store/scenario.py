"""A deterministic trading session, in journal batches, for the store tests.

Each batch is applied to an `OmsState` and appended with the read-model changes
`take_changes()` gives, as the engine does. The final state and every fill row are kept,
so a test can compute what a query should return without asking a store.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tests.fakes import BTC, EURUSD

from ordergate.domain.events import (
    BalanceAdjusted,
    Event,
    InstrumentUpdated,
    OrderAccepted,
    OrderApproved,
    OrderCanceled,
    OrderCancelRequested,
    OrderDenied,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)
from ordergate.domain.values import LiquiditySide, OrderType, Side, TimeInForce
from ordergate.engine.ports import Journal
from ordergate.engine.state import OmsState
from ordergate.engine.views import FillView, OrderView

D = Decimal

# Mirrors tests/fakes.py (`tests` is not importable as a package from here).

ORDER_COUNT = 24
ACCOUNTS = ("a1", "a2")
STRATEGIES = ("s1", "s2", None)


def order_init(n: int) -> OrderInitialized:
    """Order `0-n`: accounts, symbols, sides and strategies interleave; ts ties in threes."""
    btc = n % 2 == 1
    return OrderInitialized(
        order_id=f"0-{n}",
        client_order_id=f"coid-{n}",
        account=ACCOUNTS[0] if n % 3 else ACCOUNTS[1],
        symbol=BTC.symbol if btc else EURUSD.symbol,
        side=Side.BUY if n % 4 < 2 else Side.SELL,
        type=OrderType.LIMIT,
        qty=D("0.010") if btc else D("1.00"),
        price=D("50000.0") + n if btc else D("1.10000"),
        stop_price=None,
        time_in_force=TimeInForce.GTC,
        reduce_only=False,
        stop_loss=None,
        take_profit=None,
        strategy=STRATEGIES[n % 3],
        idempotency_key=f"key-{n}",
        request_hash=None,
        parent_order_id=None,
        trace_id=f"trace-{n}",
        ts=1_000 + (n // 3) * 10,
        signal_id=f"signal-{n}" if n % 5 == 0 else None,
    )


def fill_for(order: OrderInitialized, k: int, qty: Decimal, ts: int) -> OrderFilled:
    return OrderFilled(
        order_id=order.order_id,
        account=order.account,
        symbol=order.symbol,
        side=order.side,
        trade_id=f"T{order.order_id}-{k}",
        qty=qty,
        price=order.price or D(1),
        fee=D("0.01"),
        fee_currency="USDT" if order.symbol == BTC.symbol else "USD",
        liquidity=LiquiditySide.MAKER,
        ts=ts,
    )


def session_batches() -> list[list[Event]]:
    """Setup, then orders placed three per batch, then the venue answering in batches."""
    batches: list[list[Event]] = [
        [
            InstrumentUpdated(BTC, 1),
            InstrumentUpdated(EURUSD, 1),
            BalanceAdjusted("a1", "USDT", D("100000"), "deposit", 2),
            BalanceAdjusted("a1", "USD", D("100000"), "deposit", 2),
            BalanceAdjusted("a2", "USDT", D("50000.50"), "deposit", 3),
        ]
    ]
    inits = [order_init(n) for n in range(1, ORDER_COUNT + 1)]
    for start in range(0, ORDER_COUNT, 3):
        batch: list[Event] = []
        for order in inits[start : start + 3]:
            batch.append(order)
            n = int(order.order_id.split("-")[1])
            if n % 5 == 0:
                batch.append(OrderDenied(order.order_id, "QTY_BELOW_MIN", "too small", order.ts))
            else:
                batch.append(OrderApproved(order.order_id, order.price or D(1), order.ts))
        batches.append(batch)
    answers: list[Event] = []
    for order in inits:
        n = int(order.order_id.split("-")[1])
        ts = 2_000 + (n // 2) * 5  # fills tie in pairs
        kind = n % 5
        if kind == 0:
            continue
        answers.append(OrderSubmitted(order.order_id, f"V{n}", ts))
        if kind == 1:
            answers.append(OrderAccepted(order.order_id, f"V{n}", ts))
        elif kind == 2:
            answers.append(fill_for(order, 1, order.qty / 2, ts))
            answers.append(fill_for(order, 2, order.qty / 2, ts + 1))
            if n == 12:  # a third fill beyond the qty: OVERFILL
                answers.append(fill_for(order, 3, order.qty / 10, ts + 2))
        elif kind == 3:
            answers.append(fill_for(order, 1, order.qty / 4, ts))
            answers.append(OrderCancelRequested(order.order_id, "user", ts + 1))
            if n == 18:  # filled while the cancel was in flight: FILL_AFTER_CANCEL_REQUEST
                answers.append(fill_for(order, 2, order.qty / 4, ts + 1))
            answers.append(OrderCanceled(order.order_id, None, None, ts + 2))
            if n == 8:  # a late fill after the cancel: LATE_FILL
                answers.append(fill_for(order, 3, order.qty / 4, ts + 3))
    batches.extend(answers[i : i + 7] for i in range(0, len(answers), 7))
    return batches


@dataclass
class Session:
    """The state after every batch, and every fill row in the order it was appended."""

    batches: list[list[Event]]
    state: OmsState = field(default_factory=OmsState)
    fills: list[FillView] = field(default_factory=list)

    @property
    def events(self) -> list[Event]:
        return [e for batch in self.batches for e in batch]

    def orders(self) -> list[OrderView]:
        return [OrderView.of(o) for o in self.state.orders.values()]


async def load(store: Journal, batches: list[list[Event]] | None = None) -> Session:
    session = Session(batches if batches is not None else session_batches())
    for batch in session.batches:
        for event in batch:
            session.state.apply(event)
        changes = session.state.take_changes()
        session.fills.extend(changes.fills)
        await store.append(batch, changes)
    return session
