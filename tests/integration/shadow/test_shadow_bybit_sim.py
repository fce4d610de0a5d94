"""SHADOW mode against the Bybit simulator, ccxt included: `Settings(mode="shadow")`.

The simulator runs on its own (a real venue ordergate does not own), and its account
already holds a position and a resting order, placed through ccxt before ordergate
starts. ordergate then runs in shadow mode on it: it reads the account, starts its
shadow book from the real position, places, replaces and cancels orders, and the
simulator's quotes move until a resting shadow limit fills. The simulator's request log
must show nothing but reads from the moment the shadow run begins, and the shadow
report must list the would-be orders and the divergence from the real book.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp
import ccxt.pro
import pytest
from click.testing import CliRunner
from tests.waiting import eventually

from ordergate.app.shadow_report import shadow_report
from ordergate.cli.main import main
from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.oms import Oms
from ordergate.simulators.bybit import BybitSimulator, SimulatorConfig, ccxt_settings

pytestmark = pytest.mark.usefixtures("isolated_environment")  # no stray configuration

D = Decimal
SYMBOL = "BTCUSDT"
CCXT_SYMBOL = "BTC/USDT:USDT"
ACCOUNT = "default"
REAL_QTY = D("0.050")
# What a venue's order requests are: nothing of the shadow run may be one of them.
WRITES = ("/v5/order/create", "/v5/order/cancel", "/v5/order/amend", "/v5/order/cancel-all")


@pytest.fixture
async def sim() -> AsyncIterator[BybitSimulator]:
    """A simulator with a still market that only `/sim/quote` moves."""
    simulator = BybitSimulator(SimulatorConfig(balances={"USDT": D(100_000)}, market="manual"))
    await simulator.start()
    simulator.set_quote(SYMBOL, bid=D("50000.0"), ask=D("50000.1"))
    simulator.set_quote("ETHUSDT", bid=D("3000.00"), ask=D("3000.05"))
    try:
        yield simulator
    finally:
        await simulator.stop()


async def trade_for_real(sim: BybitSimulator) -> str:
    """Give the real account a long position and a resting order, through ccxt as any
    trader would; return the resting order's client order id."""
    exchange = ccxt.pro.bybit(ccxt_settings(sim))
    try:
        await exchange.load_markets()
        await exchange.create_order(CCXT_SYMBOL, "market", "buy", float(REAL_QTY))
        await exchange.create_order(
            CCXT_SYMBOL, "limit", "sell", 0.01, 60000, {"clientOrderId": "real-rest-1"}
        )
    finally:
        await exchange.close()
    return "real-rest-1"


def shadow_settings(sim: BybitSimulator, db: Path) -> Settings:
    return Settings(
        venue="bybit-sim",
        mode="shadow",
        sim_url=sim.rest_url,
        db=str(db),
        quote_poll_interval=0.05,
        venue_poll_interval=0.1,
        reconcile_interval_seconds=3600,
        node_id="shadow-under-test",
    )


async def requests_seen(http: aiohttp.ClientSession, sim: BybitSimulator) -> list[dict[str, Any]]:
    async with http.get(f"{sim.rest_url}/sim/requests") as response:
        assert response.status == 200, await response.text()
        seen: list[dict[str, Any]] = (await response.json())["requests"]
        return seen


async def move_market(http: aiohttp.ClientSession, sim: BybitSimulator, bid: str, ask: str) -> None:
    body = {"symbol": SYMBOL, "bid": bid, "ask": ask}
    async with http.post(f"{sim.rest_url}/sim/quote", json=body) as response:
        assert response.status == 200, await response.text()


async def status_of(oms: Oms, order_id: str) -> OrderStatus | None:
    view = await oms.order(order_id)
    return None if view is None else view.status


async def test_shadow_on_bybit_sim_sends_nothing_and_reports_the_divergence(sim, tmp_path):
    real_order = await trade_for_real(sim)
    real = sim.position(SYMBOL)
    real_position = (real.side, real.size, real.avg_price)
    db = tmp_path / "shadow.db"
    settings = shadow_settings(sim, db)
    async with aiohttp.ClientSession() as http:
        before = len(await requests_seen(http, sim))

        async with Oms(settings) as oms:
            engine = oms.app.partition.engine

            # Started from the real book: the opening fill was adopted, nothing is dirty.
            async def opened_and_clean() -> bool:
                return bool(await oms.positions()) and not engine.gates.dirty

            await eventually(opened_and_clean, message="the opening position, reconciled")
            opened = [(p.account, p.symbol, p.qty) for p in await oms.positions()]
            assert opened == [(ACCOUNT, SYMBOL, REAL_QTY)]
            assert oms.app.partition.wiring.venue.name == "shadow-bybit-sim"

            market = await oms.place(SYMBOL, Side.BUY, D("0.010"), idempotency_key="m1")
            limit = await oms.place(
                SYMBOL, Side.BUY, D("0.020"), OrderType.LIMIT, price=D("49900.0"),
                idempotency_key="l1",
            )  # fmt: skip
            resting = await oms.place(
                SYMBOL, Side.SELL, D("0.005"), OrderType.LIMIT, price=D("52000.0"),
                idempotency_key="s1",
            )  # fmt: skip
            await oms.replace(resting.order_id, price=D("52500.0"))
            await oms.cancel(resting.order_id)
            assert (market.status, limit.status) == (OrderStatus.FILLED, OrderStatus.ACCEPTED)

            await move_market(http, sim, "49800.0", "49850.0")  # through the shadow limit
            await _filled(oms, limit.order_id)

            shadow_qty = REAL_QTY + D("0.010") + D("0.020")
            assert [p.qty for p in await oms.positions()] == [shadow_qty]
            assert not engine.gates.dirty

        # The real venue: untouched by the shadow run.
        now = sim.position(SYMBOL)
        assert (now.side, now.size, now.avg_price) == real_position
        assert [o.order_link_id for o in sim.orders(SYMBOL) if o.is_open] == [real_order]
        during = (await requests_seen(http, sim))[before:]
        assert during, "the shadow run read nothing from the venue"
        assert {r["method"] for r in during} == {"GET"}
        assert [r for r in during if r["path"] in WRITES] == []

        report = await shadow_report(settings)
        cli = await asyncio.to_thread(
            CliRunner().invoke,
            main,
            ["shadow-report", "--db", str(db), "--venue", "bybit-sim", "--sim-url", sim.rest_url],
        )
        as_json = await asyncio.to_thread(
            CliRunner().invoke,
            main,
            ["shadow-report", "--db", str(db), "--venue", "bybit-sim", "--sim-url", sim.rest_url,
             "--json"],
        )  # fmt: skip
        after = (await requests_seen(http, sim))[before:]

    assert {r["method"] for r in after} == {"GET"}  # the report only reads too
    assert report.journal_mode == "shadow"
    would_be = {o.order_id: (o.status, o.filled_qty) for o in report.orders}
    assert would_be == {
        market.order_id: (OrderStatus.FILLED, D("0.010")),
        limit.order_id: (OrderStatus.FILLED, D("0.020")),
        resting.order_id: (OrderStatus.CANCELED, D(0)),
    }
    assert [(o.symbol, o.filled_qty) for o in report.opening] == [(SYMBOL, REAL_QTY)]
    kinds = {(d.kind, d.subject): (d.shadow, d.real) for d in report.divergences}
    shadow_side, real_side = kinds[("POSITION", SYMBOL)]
    assert (D(shadow_side or "0"), D(real_side or "0")) == (shadow_qty, REAL_QTY)
    assert ("OPEN_ORDER", real_order) in kinds

    assert cli.exit_code == 0, cli.output
    assert "none of them sent" in cli.output
    for order_id in (market.order_id, limit.order_id, resting.order_id):
        assert order_id in cli.output
    assert f"POSITION {ACCOUNT}/{SYMBOL}: {shadow_side} in the shadow book" in cli.output
    assert f"({real_order}) is open at bybit-sim" in cli.output

    assert as_json.exit_code == 0, as_json.output
    parsed = json.loads(as_json.stdout)
    assert parsed["journal_mode"] == "shadow"
    assert len(parsed["orders"]) == 3
    assert {d["kind"] for d in parsed["divergences"]} >= {"POSITION", "OPEN_ORDER"}


async def _filled(oms: Oms, order_id: str) -> None:
    async def filled() -> bool:
        return await status_of(oms, order_id) is OrderStatus.FILLED

    await eventually(filled, message=f"the shadow limit {order_id} to fill")


async def test_shadow_report_refuses_a_journal_not_made_in_shadow_mode(sim, tmp_path):
    db = tmp_path / "live.db"
    live = shadow_settings(sim, db).model_copy(update={"mode": "live"})
    async with Oms(live):
        pass  # a live journal: its orders would have been sent

    with pytest.raises(ConfigurationError, match="made in live mode"):
        await shadow_report(shadow_settings(sim, db))
    refused = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["shadow-report", "--db", str(db), "--venue", "bybit-sim", "--sim-url", sim.rest_url],
    )
    assert refused.exit_code == 1
