"""examples/stock_bot.py: seed 003's bot with ordergate as its gateway, on the Robinhood
simulator. Its pending entries are released and its caches invalidated exactly once per
fill, cancel, rejection and denial, whenever ordergate's events arrive."""

from __future__ import annotations

import importlib.util
import io
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from robinhood_oms_support import SYMBOL, D, Rig, started_rig

from ordergate.domain.values import OrderStatus, Side

EXAMPLE = Path(__file__).parents[4] / "examples" / "stock_bot.py"


def load_example() -> ModuleType:
    spec = importlib.util.spec_from_file_location("stock_bot", EXAMPLE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["stock_bot"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


example = load_example()


class Bot:
    """The example's bot over a rig, and what it did."""

    def __init__(self, rig: Rig) -> None:
        self.rig = rig
        self.out = io.StringIO()
        self.safety = example.SafetyChecks()
        self.account = example.AccountData(rig.oms)
        self.bot = example.TradingBot(
            rig.oms, self.safety, self.account, example.TradeLog(self.out)
        )

    async def fills(self, order_id: str) -> int:
        return len((await self.rig.oms.fills(order_id=order_id)).items)


@pytest.fixture
async def bot() -> AsyncIterator[Bot]:
    async with started_rig(
        simulator={"resting_liquidity": {SYMBOL: D(2)}}, limits={"limit_offset_bps": "10"}
    ) as rig:
        yield Bot(rig)


async def test_a_fill_in_three_parts_invalidates_three_times_and_releases_once(bot: Bot):
    order = await bot.bot.execute_trade(SYMBOL, Side.BUY, D(5), strategy="example")
    assert order is not None
    assert bot.rig.view(order.order_id).price == D("189.81")  # at the offset
    assert not bot.safety.may_trade(SYMBOL, Side.BUY)  # pending

    await bot.rig.quote("189.50", "189.60")  # 2 of 5
    await bot.rig.quote("189.50", "189.60")  # 4 of 5
    await bot.rig.quote("189.50", "189.60")  # 5 of 5
    await bot.rig.ended(order.order_id)

    assert await bot.fills(order.order_id) == 3
    assert bot.account.invalidations == 3
    assert bot.safety.released == [order.order_id]
    assert bot.safety.may_trade(SYMBOL, Side.BUY)
    assert bot.bot.idle.is_set()
    kinds = [r["kind"] for r in bot.bot.log.records]
    assert kinds == ["placed", "filled", "filled", "filled"]


async def test_a_cancel_releases_once_and_invalidates_nothing(bot: Bot):
    order = await bot.bot.execute_trade(SYMBOL, Side.BUY, D(1))
    assert order is not None

    await bot.rig.oms.cancel(order.order_id)
    await bot.rig.ended(order.order_id)

    assert bot.safety.released == [order.order_id]
    assert bot.account.invalidations == 0
    assert bot.bot.log.records[-1] == {
        "kind": "ended",
        "order_id": order.order_id,
        "event": "OrderCanceled",
    }


async def test_a_rejection_releases_once_even_before_place_returns(bot: Bot):
    bot.rig.sim.fault("buying_power")

    order = await bot.bot.execute_trade(SYMBOL, Side.BUY, D(1))

    assert order is not None
    assert order.status is OrderStatus.REJECTED
    assert bot.safety.released == [order.order_id]
    assert bot.safety.pending == {}
    assert bot.account.invalidations == 0


async def test_a_denial_releases_once(bot: Bot):
    order = await bot.bot.execute_trade(SYMBOL, Side.BUY, D(1_000_000))  # beyond the cash

    assert order is not None
    assert order.status is OrderStatus.DENIED
    assert bot.safety.released == [order.order_id]


async def test_sync_rebuilds_the_pending_entries_from_ordergate(bot: Bot):
    order = await bot.bot.execute_trade(SYMBOL, Side.BUY, D(1))
    assert order is not None
    bot.safety.replace_all({})  # the bot lost its memory

    await bot.bot.sync()

    assert list(bot.safety.pending) == [order.order_id]
    assert bot.account.invalidations == 1


async def test_caches_hold_until_a_fill(bot: Bot):
    positions: list[dict[str, Any]] = []
    positions.append(await bot.account.positions())
    order = await bot.bot.execute_trade(SYMBOL, Side.BUY, D(2))
    assert order is not None
    positions.append(await bot.account.positions())  # cached: no fill yet
    await bot.rig.quote("189.50", "189.60")
    await bot.rig.ended(order.order_id)
    positions.append(await bot.account.positions())

    assert positions == [{}, {}, {SYMBOL: D(2)}]
