"""The parity order file: what it accepts, what it refuses (naming the line), and the
generated stream (reproducible, mixed, on the instrument's grid)."""

from __future__ import annotations

import json
from collections import Counter
from decimal import Decimal
from pathlib import Path

import pytest

from ordergate.app.parity.orders import (
    ParityOrder,
    generate_orders,
    parse_orders,
    read_orders,
    write_orders,
)
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.matching.marketdata import Bar, BarSeries

D = Decimal

BTC = Instrument(
    "BTCUSDT", "BTC", "USDT", tick_size=D("0.1"), lot_step=D("0.001"), min_qty=D("0.001")
)
MINUTE = 60 * 10**9


def line(**fields: object) -> str:
    base: dict[str, object] = {
        "id": "a1",
        "at": "2022-01-01T00:05:00Z",
        "side": "BUY",
        "type": "LIMIT",
        "qty": "0.010",
        "price": "46000.0",
    }
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not None})


def test_a_line_reads_with_its_defaults_and_times_in_ns():
    (order,) = parse_orders([line(), ""])

    assert order == ParityOrder(
        id="a1",
        at=1_640_995_500 * 10**9,
        side=Side.BUY,
        type=OrderType.LIMIT,
        qty=D("0.010"),
        price=D("46000.0"),
    )
    assert (order.time_in_force, order.reduce_only, order.cancel_at) == (
        TimeInForce.GTC,
        False,
        None,
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        pytest.param("{not json", "orders:1:", id="malformed"),
        pytest.param(line(price=None), "needs a positive price", id="limit-without-price"),
        pytest.param(line(type="MARKET"), "a MARKET order has no price", id="market-with-price"),
        pytest.param(
            line(type="STOP", price=None), "needs a positive stop_price", id="stop-without-stop"
        ),
        pytest.param(line(qty="0"), "qty must be positive", id="zero-qty"),
        pytest.param(line(cancel_at="2022-01-01T00:05:00Z"), "after at", id="cancel-not-later"),
        pytest.param(line(at="yesterday"), "ISO 8601", id="bad-time"),
        pytest.param(line(colour="red"), "unknown field", id="unknown-field"),
        pytest.param(line(side="LONG"), "orders:1:", id="bad-side"),
        pytest.param(line(id=""), "1 to 36 characters", id="empty-id"),
    ],
)
def test_a_bad_line_is_refused_naming_it(text: str, says: str):
    with pytest.raises(InvalidRequest, match=says):
        parse_orders([text])


def test_an_id_used_twice_is_refused_at_its_second_line():
    with pytest.raises(InvalidRequest, match=r"orders:2: order 'a1': the id is used twice"):
        parse_orders([line(), line()])


def test_an_empty_file_is_refused():
    with pytest.raises(InvalidRequest, match="no orders"):
        parse_orders(["", "  "])


def test_a_missing_file_is_a_typed_error(tmp_path: Path):
    with pytest.raises(InvalidRequest, match="cannot read the order file"):
        read_orders(tmp_path / "absent.jsonl")


def series(count: int) -> BarSeries:
    bars = [
        Bar(i * MINUTE, D(46000 + i), D(46010 + i), D(45990 + i), D(46005 + i))
        for i in range(count)
    ]
    return BarSeries(bars)


def test_a_generated_stream_is_reproducible_and_reads_back_as_written(tmp_path: Path):
    path = tmp_path / "orders.jsonl"
    orders = generate_orders(series(400), BTC, 300, seed=3, large_qty=D(1))

    write_orders(path, orders)

    assert read_orders(path) == orders
    assert generate_orders(series(400), BTC, 300, seed=3, large_qty=D(1)) == orders
    assert generate_orders(series(400), BTC, 300, seed=4, large_qty=D(1)) != orders


def test_a_generated_stream_mixes_every_kind_on_the_grid():
    orders = generate_orders(series(2000), BTC, 1000, seed=1, large_qty=D(1))
    kinds = Counter((o.type, o.time_in_force) for o in orders)

    for kind in [
        (OrderType.MARKET, TimeInForce.GTC),
        (OrderType.LIMIT, TimeInForce.GTC),
        (OrderType.LIMIT, TimeInForce.IOC),
        (OrderType.LIMIT, TimeInForce.FOK),
        (OrderType.LIMIT, TimeInForce.DAY),
        (OrderType.STOP, TimeInForce.GTC),
        (OrderType.STOP_LIMIT, TimeInForce.GTC),
    ]:
        assert kinds[kind] > 0, kind
    assert any(o.reduce_only for o in orders)
    assert any(o.cancel_at is not None for o in orders)
    assert any(o.qty >= D(1) for o in orders)
    for order in orders:
        for price in (order.price, order.stop_price):
            assert price is None or price % BTC.tick_size == 0
        assert order.qty % BTC.lot_step == 0
        assert order.cancel_at is None or order.cancel_at > order.at


def test_generating_more_orders_than_steps_is_refused():
    with pytest.raises(InvalidRequest, match="need more than"):
        generate_orders(series(10), BTC, 10, seed=1)
