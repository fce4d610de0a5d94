"""SHADOW mode over the paper venue: the same wrapping as any venue, and a restart that
re-seeds the shadow book from the journal, not from the venue again."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.oms import Oms

pytestmark = pytest.mark.usefixtures("isolated_environment")  # no stray configuration

D = Decimal
SYMBOL = "BTCUSDT"


def shadow(db: Path) -> Settings:
    return Settings(mode="shadow", db=str(db), paper_bars_per_second=0)


async def test_shadow_on_paper_fills_in_the_shadow_book(tmp_path):
    async with Oms(shadow(tmp_path / "s.db")) as oms:
        bought = await oms.place(SYMBOL, Side.BUY, D("0.010"), idempotency_key="m1")
        venue = oms.app.partition.wiring.venue

    assert venue.name == "shadow-paper"
    assert not venue.live
    assert (bought.status, bought.filled_qty) == (OrderStatus.FILLED, D("0.010"))
    assert (bought.venue_order_id or "").startswith("shadow-")


async def test_shadow_restart_reseeds_the_book_from_the_journal(tmp_path):
    db = tmp_path / "s.db"
    async with Oms(shadow(db)) as oms:
        await oms.place(SYMBOL, Side.BUY, D("0.010"), idempotency_key="m1")
        resting = await oms.place(SYMBOL, Side.BUY, D("0.010"), OrderType.LIMIT, price=D("30000.0"))

    async with Oms(shadow(db)) as oms:
        venue = oms.app.partition.wiring.venue
        at_venue = await venue.get_open_orders("default")
        positions = [(p.symbol, p.qty) for p in await oms.positions()]
        dirty = oms.app.partition.engine.gates.dirty

    assert positions == [(SYMBOL, D("0.010"))]
    assert [o.venue_order_id for o in at_venue] == [resting.venue_order_id]
    assert not dirty


async def test_a_shadow_journal_is_not_reopened_live(tmp_path):
    db = tmp_path / "s.db"
    async with Oms(shadow(db)):
        pass

    with pytest.raises(ConfigurationError, match="shadow mode"):
        async with Oms(shadow(db).model_copy(update={"mode": "live"})):
            pass
