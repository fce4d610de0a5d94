"""Trading signals through the engine: one signal, one journaled decision, idempotent."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal

import pytest
from engine_support import ACCOUNT, SECOND, T0, D, Sessions, limit_order
from tests.fakes import BTC, FakeMarket
from tests.waiting import TIMEOUT

from ordergate.domain.errors import IdempotencyConflict
from ordergate.domain.events import OrderInitialized, SignalReceived
from ordergate.domain.limits import LimitsBook, RiskLimits
from ordergate.domain.signal_model import TradingSignal
from ordergate.domain.signal_policy import SignalPolicy
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.engine.commands import ProcessSignal


@pytest.fixture
async def sessions() -> AsyncIterator[Sessions]:
    sessions = Sessions()
    yield sessions
    await sessions.close()


def signal(
    signal_id: str = "sig-1",
    *,
    side: Side = Side.BUY,
    confidence: str = "0.95",
    qty: str | None = "0.1",
    notional: str | None = None,
    price: str | None = None,
    symbol: str = BTC.symbol,
    strategy: str = "momentum",
) -> ProcessSignal:
    return ProcessSignal(
        TradingSignal(
            signal_id=signal_id,
            strategy=strategy,
            symbol=symbol,
            side=side,
            confidence=D(confidence),
            timestamp=T0,
            account=ACCOUNT,
            qty=None if qty is None else D(qty),
            notional=None if notional is None else D(notional),
            price=None if price is None else D(price),
            trace_id=f"trace-{signal_id}",
        )
    )


def market(bid: str = "50000.0", ask: str = "50010.0") -> FakeMarket:
    quotes = FakeMarket()
    quotes.set(BTC.symbol, bid, ask)
    return quotes


async def test_a_confident_signal_becomes_one_market_order_journaled_with_its_decision(sessions):
    h = await sessions.start(market=market("50000.0", "50010.0"))  # spread 0.02%

    result = await h.engine.process_signal(signal())
    await h.settle()

    [order] = result.orders
    [received] = h.events(SignalReceived)
    assert not result.duplicate
    assert (received.order_type, received.reason_code, received.parts) == (
        OrderType.MARKET,
        None,
        1,
    )
    assert received.trace_id == "trace-sig-1"
    assert (order.type, order.qty, order.signal_id, order.idempotency_key) == (
        OrderType.MARKET,
        D("0.1"),
        "sig-1",
        "sig-1",
    )
    assert order.trace_id == "trace-sig-1"
    assert h.engine.order(order.order_id).status is OrderStatus.FILLED
    # journaled before its order, in the same batch
    kinds = [type(e) for e in h.events() if isinstance(e, SignalReceived | OrderInitialized)]
    assert kinds == [SignalReceived, OrderInitialized]


async def test_a_redelivered_signal_places_nothing_and_is_answered_from_its_record(sessions):
    h = await sessions.start(market=market())
    first = await h.engine.process_signal(signal())
    await h.settle()

    again = await h.engine.process_signal(signal())
    await h.settle()

    assert again.duplicate
    assert again.received == first.received
    assert [o.order_id for o in again.orders] == [o.order_id for o in first.orders]
    assert len(h.venue.requests("submit")) == 1
    assert len(h.events(SignalReceived)) == 1


async def test_a_signal_id_reused_for_other_content_is_refused_and_journals_nothing(sessions):
    h = await sessions.start(market=market())
    await h.engine.process_signal(signal())
    await h.settle()
    before = len(h.events())

    with pytest.raises(IdempotencyConflict):
        await h.engine.process_signal(signal(qty="0.2"))

    assert len(h.events()) == before


async def test_a_hesitant_signal_becomes_a_limit_inside_the_spread(sessions):
    h = await sessions.start(market=market("50000.0", "50010.0"))

    result = await h.engine.process_signal(signal(confidence="0.5"))

    [order] = result.orders
    assert (order.type, order.price) == (OrderType.LIMIT, D("50005.0"))  # ratio 0.5: the mid
    assert h.events(SignalReceived)[0].pricing == "SPREAD_RATIO"


async def test_a_dry_run_signal_journals_its_planned_orders_and_sends_nothing(sessions):
    limits = LimitsBook(global_limits=RiskLimits(max_order_qty=D("0.05")))
    h = await sessions.start(
        market=market(), signal_policy=SignalPolicy(dry_run=True), limits=limits
    )

    result = await h.engine.process_signal(signal(qty="0.1"))
    await h.settle()

    [received] = h.events(SignalReceived)
    [planned] = received.planned
    assert result.orders == []
    assert received.dry_run
    assert (planned.type, planned.qty, planned.idempotency_key) == (
        OrderType.MARKET,
        D("0.1"),
        "sig-1",
    )
    assert "QTY_ABOVE_MAX" in planned.denials
    assert h.events(OrderInitialized) == []
    assert h.venue.requests("submit") == []


async def test_a_signal_without_any_price_makes_no_order_but_is_still_journaled(sessions):
    h = await sessions.start(market=FakeMarket())  # no quote

    first = await h.engine.process_signal(signal())
    again = await h.engine.process_signal(signal())

    assert first.orders == []
    assert first.received.reason_code == "SIGNAL_NO_PRICE"
    assert again.duplicate


async def test_a_signal_for_an_instrument_not_traded_here_is_journaled_with_its_reason(sessions):
    h = await sessions.start(market=market())

    result = await h.engine.process_signal(signal(symbol="DOGEUSDT"))

    assert result.orders == []
    assert result.received.reason_code == "SIGNAL_UNKNOWN_SYMBOL"


@pytest.mark.parametrize(
    ("opposite_only", "canceled_sides"),
    [(False, {Side.BUY, Side.SELL}), (True, {Side.SELL})],
)
async def test_a_signal_cancels_the_strategys_working_orders_first(
    sessions, opposite_only, canceled_sides
):
    policy = SignalPolicy(cancel_opposite_orders_only=opposite_only)
    h = await sessions.start(market=market(), signal_policy=policy)
    buy = (await h.engine.place(limit_order(Side.BUY, price="40000", strategy="momentum"))).order
    sell = (await h.engine.place(limit_order(Side.SELL, price="60000", strategy="momentum"))).order
    other = (await h.engine.place(limit_order(Side.SELL, price="61000", strategy="other"))).order
    await h.settle()

    result = await h.engine.process_signal(signal(side=Side.BUY))
    await h.settle()

    by_id = {o.order_id: o for o in (buy, sell, other)}
    canceled = {by_id[i].side for i in result.received.canceled_order_ids}
    assert canceled == canceled_sides
    assert other.order_id not in result.received.canceled_order_ids
    for order_id in result.received.canceled_order_ids:
        assert h.engine.order(order_id).status is OrderStatus.CANCELED


async def test_a_large_signal_is_split_into_keyed_parts(sessions):
    policy = SignalPolicy(enable_order_splitting=True, max_single_order_size=D(20_000))
    h = await sessions.start(market=market(), signal_policy=policy)

    result = await h.engine.process_signal(signal(qty="1.0"))  # ~50,005 USDT

    keys = [o.idempotency_key for o in result.orders]
    assert keys == ["sig-1:1", "sig-1:2", "sig-1:3"]
    assert sum((o.qty for o in result.orders), Decimal(0)) == D("1.0")
    assert all(o.signal_id == "sig-1" for o in result.orders)


async def test_signal_orders_left_working_are_canceled_once_stale(sessions):
    policy = SignalPolicy(cancel_stale_order_timeout=60)
    h = await sessions.start(market=market(), signal_policy=policy, watch_interval=0.01)
    [order] = (await h.engine.process_signal(signal(confidence="0.1"))).orders  # a resting limit
    rest = await h.engine.place(limit_order())  # not from a signal: never stale
    await h.settle()

    h.clock.advance(61 * SECOND)
    view = await h.engine.wait_for(order.order_id, lambda v: v.status.is_terminal, TIMEOUT)

    assert view.status is OrderStatus.CANCELED
    assert h.engine.order(rest.order.order_id).status is OrderStatus.ACCEPTED


async def test_a_restarted_engine_still_knows_every_signal(sessions):
    h = await sessions.start(market=market())
    first = await h.engine.process_signal(signal())
    await h.settle()

    restarted = await sessions.restart(h)
    again = await restarted.engine.process_signal(signal())

    assert again.duplicate
    assert [o.order_id for o in again.orders] == [o.order_id for o in first.orders]


async def test_a_signal_whose_order_key_names_another_order_is_refused_cleanly(sessions):
    h = await sessions.start(market=market())
    await h.engine.place(limit_order(idempotency_key="sig-1"))
    await h.settle()
    before = len(h.events())

    with pytest.raises(IdempotencyConflict):
        await h.engine.process_signal(signal())

    assert len(h.events()) == before
    assert h.engine.running
