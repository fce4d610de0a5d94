"""The embedded Python API: `Oms` (async) and `BlockingOms`, over the bundled paper market."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ordergate.config.settings import Settings
from ordergate.domain.errors import Conflict, EngineStopped, InvalidRequest
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.oms import BlockingOms, Oms


@pytest.fixture
def settings(isolated_environment: Path) -> Settings:
    return Settings(db=":memory:", paper_bars_per_second=0, _env_file=None)  # type: ignore[call-arg]


async def test_oms_place_market_fills_and_position_follows(settings: Settings):
    async with Oms(settings) as oms:
        order = await oms.place("EURUSD", Side.BUY, Decimal("0.10"), idempotency_key="py-1")
        again = await oms.place("EURUSD", Side.BUY, Decimal("0.10"), idempotency_key="py-1")

        assert order.status is OrderStatus.FILLED
        assert again.order_id == order.order_id
        (position,) = await oms.positions()
        assert (position.symbol, position.qty) == ("EURUSD", Decimal("0.10"))
        assert (await oms.fills(order_id=order.order_id)).items[0].qty == Decimal("0.10")
        usd = (await oms.account())["USD"]
        assert usd.position_margin > 0
        assert usd.free_margin == usd.equity - usd.used_margin


async def test_oms_resting_limit_cancel_and_cancel_again_conflicts(settings: Settings):
    async with Oms(settings) as oms:
        order = await oms.place(
            "BTCUSDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT, price=Decimal("10000.0")
        )
        assert order.status is OrderStatus.ACCEPTED
        assert (await oms.account())["USDT"].order_margin == Decimal("0.01") * Decimal(
            "10000.0"
        ) * Decimal("0.01")

        canceled = await oms.cancel(order.order_id)

        assert canceled.status is OrderStatus.CANCELED
        assert (await oms.account())["USDT"].order_margin == 0
        with pytest.raises(Conflict) as refused:
            await oms.cancel(order.order_id)
        assert refused.value.code == "ORDER_ALREADY_TERMINAL"


async def test_oms_malformed_request_raises_invalid_request_and_records_nothing(settings: Settings):
    async with Oms(settings) as oms:
        with pytest.raises(InvalidRequest):
            await oms.place("BTCUSDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT)  # no price
        assert (await oms.orders()).items == []


async def test_oms_outside_its_context_raises_engine_stopped(settings: Settings):
    oms = Oms(settings)
    with pytest.raises(EngineStopped):
        await oms.place("BTCUSDT", Side.BUY, Decimal("0.01"))


def test_blocking_oms_places_and_closes_a_position(settings: Settings):
    with BlockingOms(settings) as oms:
        order = oms.place("BTCUSDT", Side.SELL, Decimal("0.002"))
        assert order.status is OrderStatus.FILLED
        assert [p.qty for p in oms.positions()] == [Decimal("-0.002")]
        assert oms.order(order.order_id) == order
        assert [o.order_id for o in oms.orders().items] == [order.order_id]
        assert oms.account()["USDT"].balance < Decimal(100_000)  # the fee

        closing = oms.close_position("BTCUSDT")

        assert closing.status is OrderStatus.FILLED
        assert closing.reduce_only
        assert oms.positions() == []
        assert len(oms.fills().items) == 2
