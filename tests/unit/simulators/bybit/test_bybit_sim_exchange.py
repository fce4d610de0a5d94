"""The simulated account over the paper engine: Bybit's refusals, records and batches."""

from __future__ import annotations

import pytest
from bybit_sim_builders import D, make_exchange, order, quote, ref

from ordergate.domain.values import Side
from ordergate.matching import ExecutionRules
from ordergate.simulators.bybit.admission import Amendment
from ordergate.simulators.bybit.errors import BybitError, RetCode
from ordergate.simulators.bybit.records import (
    ExecutionRecord,
    OrderRecord,
    OrderStatus,
    PositionRecord,
    TimeInForce,
    WalletRecord,
)


def test_resting_limit_is_new_and_streams_the_order_then_the_wallet():
    exchange, batches = make_exchange()

    placed = exchange.create_order(order(price="49000"))

    assert (placed.status, placed.leaves_qty) == (OrderStatus.NEW, D("0.01"))
    (batch,) = batches
    assert [type(item) for item in batch] == [OrderRecord, WalletRecord]
    wallet = batch[1]
    assert isinstance(wallet, WalletRecord)
    assert wallet.total_initial_margin == D("0.01") * D(49000) / 10


def test_market_fill_streams_execution_filled_order_position_and_wallet_only():
    exchange, batches = make_exchange()

    placed = exchange.create_order(order())

    kinds = [type(item) for item in batches[-1]]
    assert kinds == [ExecutionRecord, OrderRecord, PositionRecord, WalletRecord]
    assert placed.status is OrderStatus.FILLED
    fee = D("0.01") * D("50000.1") * D("0.00055")
    assert (placed.avg_price, placed.cum_exec_fee) == (D("50000.1"), fee)


def test_order_link_id_is_unique_among_every_order_ever_placed():
    exchange, _ = make_exchange()
    exchange.create_order(order(link="a"))

    with pytest.raises(BybitError) as refused:
        exchange.create_order(order(price="40000", link="a"))

    assert refused.value.code is RetCode.DUPLICATE_ORDER_LINK_ID
    assert len(exchange.orders()) == 1


def test_order_without_link_id_works_and_many_may_omit_it():
    exchange, _ = make_exchange()

    first = exchange.create_order(order(price="40000"))
    second = exchange.create_order(order(price="40000"))

    assert first.order_id != second.order_id
    assert (first.order_link_id, second.order_link_id) == ("", "")


def test_insufficient_margin_is_110007_and_creates_nothing():
    exchange, batches = make_exchange(usdt=D(100))

    with pytest.raises(BybitError) as refused:
        exchange.create_order(order(qty="0.1", price="49000"))

    assert refused.value.code is RetCode.INSUFFICIENT_BALANCE
    assert exchange.orders() == []
    assert len(batches) == 0


def test_notional_below_minimum_is_110094_unless_reduce_only():
    exchange, _ = make_exchange()
    exchange.create_order(order(symbol="ETHUSDT", qty="1"))

    with pytest.raises(BybitError) as refused:
        exchange.create_order(order(symbol="ETHUSDT", qty="0.01", price="400"))
    closing = exchange.create_order(
        order(Side.SELL, symbol="ETHUSDT", qty="0.01", price="400", reduce_only=True)
    )

    assert refused.value.code is RetCode.NOTIONAL_TOO_LOW
    assert closing.status is OrderStatus.FILLED


@pytest.mark.parametrize("side", [Side.BUY, Side.SELL])
def test_reduce_only_with_nothing_to_reduce_is_110017(side):
    exchange, _ = make_exchange()
    exchange.create_order(order(Side.BUY))

    if side is Side.SELL:
        assert exchange.create_order(order(side, reduce_only=True)).status is OrderStatus.FILLED
        return
    with pytest.raises(BybitError) as refused:
        exchange.create_order(order(side, reduce_only=True))
    assert refused.value.code is RetCode.REDUCE_ONLY_NOT_SATISFIED


def test_post_only_that_would_take_is_created_cancelled_without_reaching_the_engine():
    exchange, batches = make_exchange()

    taking = exchange.create_order(order(price="50000.1", tif=TimeInForce.POST_ONLY))
    making = exchange.create_order(order(price="50000.0", tif=TimeInForce.POST_ONLY))

    assert (taking.status, taking.reject_reason) == (
        OrderStatus.CANCELLED,
        "EC_PostOnlyWillTakeLiquidity",
    )
    assert making.status is OrderStatus.NEW
    assert exchange.executions() == []
    assert batches[0] == [taking]


def test_ioc_limit_not_marketable_and_market_without_a_quote_are_cancelled_unfilled():
    exchange, _ = make_exchange()
    unquoted, _ = make_exchange(quoted=False)

    ioc = exchange.create_order(order(price="49000", tif=TimeInForce.IOC))
    market = unquoted.create_order(order())

    for cancelled in (ioc, market):
        assert (cancelled.status, cancelled.cancel_type, cancelled.reject_reason) == (
            OrderStatus.CANCELLED,
            "UNKNOWN",
            "EC_NoImmediateQtyToFill",
        )
    assert market.last_price_on_created is None


def test_partial_fills_number_executions_per_symbol_and_leave_quantity():
    rules = {"BTCUSDT": ExecutionRules(max_passive_qty_per_step=D("0.01"))}
    exchange, _ = make_exchange(rules=rules)
    resting = exchange.create_order(order(qty="0.02", price="49990"))
    exchange.create_order(order(symbol="ETHUSDT", qty="0.1"))

    quote(exchange, "BTCUSDT", "49989.9", "49990.0")
    middle = exchange.find_order(resting.order_id, None)
    quote(exchange, "BTCUSDT", "49989.9", "49990.0")

    assert middle is not None
    assert middle.status is OrderStatus.PARTIALLY_FILLED
    btc = [e for e in exchange.executions() if e.symbol == "BTCUSDT"]
    eth = [e for e in exchange.executions() if e.symbol == "ETHUSDT"]
    assert [(e.seq, e.leaves_qty, e.is_maker) for e in btc] == [
        (1, D("0.01"), True),
        (2, D(0), True),
    ]
    assert [e.seq for e in eth] == [1]
    assert exchange.position("BTCUSDT").seq == 2


def test_closing_fill_realises_pnl_net_of_fees_and_reports_closed_size():
    exchange, _ = make_exchange()
    exchange.create_order(order(qty="0.02"))  # long 0.02 at 50000.1
    quote(exchange, "BTCUSDT", "51000.0", "51000.1")

    exchange.create_order(order(Side.SELL, qty="0.01"))  # closes half at 51000.0

    closing = exchange.executions()[-1]
    position = exchange.position("BTCUSDT")
    open_fee = D("0.02") * D("50000.1") * D("0.00055")
    close_fee = D("0.01") * D("51000.0") * D("0.00055")
    assert closing.closed_size == D("0.01")
    assert position.size == D("0.01")
    assert position.cum_realised_pnl == D("0.01") * D("999.9") - open_fee - close_fee
    assert position.unrealised_pnl == D("0.01") * (D("51000.05") - D("50000.1"))


def test_amend_refuses_unchanged_and_not_above_filled_and_closed_orders():
    rules = {"BTCUSDT": ExecutionRules(max_passive_qty_per_step=D("0.01"))}
    exchange, _ = make_exchange(rules=rules)
    resting = exchange.create_order(order(qty="0.02", price="49990"))
    quote(exchange, "BTCUSDT", "49989.9", "49990.0")  # 0.01 filled
    the_ref = ref(resting.order_id)

    codes = []
    for qty, price in (("0.02", "49990"), ("0.01", None)):
        with pytest.raises(BybitError) as refused:
            exchange.amend_order(Amendment(the_ref, D(qty), None if price is None else D(price)))
        codes.append(refused.value.code)
    amended = exchange.amend_order(Amendment(the_ref, D("0.03"), D("49000")))
    exchange.cancel_order(the_ref)
    with pytest.raises(BybitError) as closed:
        exchange.amend_order(Amendment(the_ref, D("0.04"), None))

    assert codes == [RetCode.PARAMS_ERROR, RetCode.AMEND_NOT_ABOVE_FILLED]
    assert (amended.qty, amended.price, amended.cum_exec_qty) == (D("0.03"), D(49000), D("0.01"))
    assert closed.value.code is RetCode.ORDER_NOT_FOUND


def test_amend_that_needs_more_margin_than_is_free_is_110007_and_changes_nothing():
    exchange, _ = make_exchange(usdt=D(1_000))
    resting = exchange.create_order(order(qty="0.1", price="49000"))  # reserves 490

    with pytest.raises(BybitError) as refused:
        exchange.amend_order(Amendment(ref(resting.order_id), D("0.3"), None))

    assert refused.value.code is RetCode.INSUFFICIENT_BALANCE
    assert exchange.find_order(resting.order_id, None) == resting


def test_amend_that_would_make_a_post_only_order_take_is_refused():
    exchange, _ = make_exchange()
    resting = exchange.create_order(order(price="49000", tif=TimeInForce.POST_ONLY))

    with pytest.raises(BybitError) as refused:
        exchange.amend_order(Amendment(ref(resting.order_id), None, D("50000.1")))

    assert refused.value.code is RetCode.PARAMS_ERROR
    assert exchange.executions() == []


def test_cancel_all_cancels_one_symbol_in_one_batch():
    exchange, batches = make_exchange()
    for price in ("49000", "48000"):
        exchange.create_order(order(price=price))
    exchange.create_order(order(symbol="ETHUSDT", qty="0.1", price="2900"))

    cancelled = exchange.cancel_all("BTCUSDT")

    assert [record.status for record in cancelled] == [OrderStatus.CANCELLED] * 2
    assert len(exchange.open_orders()) == 1
    assert [type(item).__name__ for item in batches[-1]] == [
        "OrderRecord",
        "OrderRecord",
        "WalletRecord",
    ]
    assert all(record.cancel_type == "CancelByUser" for record in cancelled)


def test_open_orders_are_capped_at_500_per_symbol_and_500_closed_stay_recent():
    exchange, _ = make_exchange(usdt=D(10_000_000))
    placed = [exchange.create_order(order(qty="0.001", price="40000")) for _ in range(500)]

    with pytest.raises(BybitError) as refused:
        exchange.create_order(order(qty="0.001", price="40000"))
    exchange.cancel_all(None)
    placed += [exchange.create_order(order(qty="0.001", price="40000")) for _ in range(2)]
    exchange.cancel_all(None)

    assert refused.value.code is RetCode.TOO_MANY_OPEN_ORDERS
    recent = exchange.recently_closed()
    assert len(recent) == 500
    assert recent[0].order_id == placed[2].order_id
    assert recent[-1].order_id == placed[-1].order_id


def test_wallet_counts_order_and_position_margin_at_the_mark():
    exchange, _ = make_exchange()
    exchange.create_order(order(qty="0.1"))  # long 0.1 at 50000.1
    exchange.create_order(order(Side.SELL, symbol="ETHUSDT", qty="1", price="3100"))

    wallet = exchange.wallet()

    (usdt,) = wallet.coins
    mark = D("50000.05")
    assert usdt.total_position_im == D("0.1") * mark / 10
    assert usdt.total_order_im == D(3100) / 10
    assert usdt.total_position_mm == D("0.1") * mark * D("0.005")
    assert usdt.unrealised_pnl == D("0.1") * (mark - D("50000.1"))
    assert wallet.total_available_balance == usdt.available_to_withdraw
    assert wallet.total_margin_balance == usdt.equity
