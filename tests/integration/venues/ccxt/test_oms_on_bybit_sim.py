"""ordergate whole, ccxt included, against the Bybit simulator: `Settings(venue="bybit-sim")`.

This is the path `ordergate serve --venue bybit-sim` runs: the engine, the journal and
the ccxt adapter over a simulator started in-process. The tests drive the simulator as
an operator would, through its control routes (`/sim/quote`, `/sim/faults`, ...), and
hold ordergate to the venue under each fault the simulator injects: one venue order per
client order id, every execution booked once, ordergate's position equal to the
venue's, each order in the venue's state, and no instrument left dirty.

ordergate reads at most `MAX_PAYLOAD` bytes of a venue payload here, so an oversized
fault (padded to `OVER`, still valid JSON) is refused for its size alone.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from tests.oms_watch import OmsWatch
from tests.venue_support import loop_errors

from ordergate.config.settings import Settings
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.events import InstrumentMarkedDirty
from ordergate.domain.values import DirtyCause, OrderStatus, OrderType, Side
from ordergate.oms import Oms
from ordergate.simulators.bybit.process import simulator_process

D = Decimal
SYMBOL = "BTCUSDT"
CREATE = "/v5/order/create"
MAX_PAYLOAD = 64 * 1024
OVER = 2 * MAX_PAYLOAD
# Bybit's order statuses as ordergate's (a conditional order is not placed here).
_STATUS_AT_BYBIT = {
    "New": OrderStatus.ACCEPTED,
    "PartiallyFilled": OrderStatus.PARTIALLY_FILLED,
    "Filled": OrderStatus.FILLED,
    "Cancelled": OrderStatus.CANCELED,
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def sim_settings(port: int, **overrides: Any) -> Settings:
    """A still simulated market, short timeouts and fast polls: faults resolve quickly."""
    fields: dict[str, Any] = {
        "venue": "bybit-sim",
        "db": ":memory:",
        "sim_port": port,
        "sim_bars_per_second": 0,
        "venue_request_timeout": 1.0,
        "venue_retry_base_delay": 0.02,
        "venue_retry_max_delay": 0.2,
        "venue_retry_max_attempts": 4,
        "venue_poll_interval": 0.1,
        "venue_confirm_after": 0.3,
        "venue_fill_grace": 0.1,
        "quote_poll_interval": 0.05,
        "reconcile_interval_seconds": 3600,
        "node_id": "node-under-test",
        "venue_max_payload_bytes": MAX_PAYLOAD,
        **overrides,
    }
    return Settings(**fields)


@dataclass
class SimControl:
    """The simulator's `/sim/...` routes."""

    http: aiohttp.ClientSession
    base: str

    async def get(self, path: str) -> Any:
        async with self.http.get(f"{self.base}{path}") as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        async with self.http.post(f"{self.base}{path}", json=body) as response:
            assert response.status == 200, await response.text()
            return await response.json()

    async def quote(self, bid: str, ask: str) -> None:
        await self.post("/sim/quote", {"symbol": SYMBOL, "bid": bid, "ask": ask})

    async def fault(self, **rule: Any) -> None:
        await self.post("/sim/faults", rule)

    async def orders(self) -> list[dict[str, Any]]:
        orders: list[dict[str, Any]] = (await self.get(f"/sim/orders?symbol={SYMBOL}"))["orders"]
        return orders

    async def executions(self) -> list[dict[str, Any]]:
        listed = await self.get(f"/sim/executions?symbol={SYMBOL}")
        executions: list[dict[str, Any]] = listed["executions"]
        return executions

    async def position(self) -> Decimal:
        for position in (await self.get("/sim/positions"))["positions"]:
            if position["symbol"] == SYMBOL:
                size = D(position["size"])
                return size if position["side"] == "Buy" else -size
        return D(0)

    async def fired(self) -> list[dict[str, Any]]:
        fired: list[dict[str, Any]] = (await self.get("/sim/faults"))["fired"]
        return fired


@dataclass
class Rig(OmsWatch):
    sim: SimControl

    async def quote(self, bid: str, ask: str) -> None:
        """Move the market and wait until ordergate's ticker poll has seen it."""
        await self.sim.quote(bid, ask)
        await self.quote_seen(SYMBOL, D(bid))


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    port = free_port()
    async with Oms(sim_settings(port)) as oms, aiohttp.ClientSession() as http:
        rig = Rig(oms, SimControl(http, f"http://127.0.0.1:{port}"))
        await rig.quote("50000.0", "50010.0")
        yield rig


async def assert_agrees_with_the_venue(rig: Rig) -> None:
    """Every order ordergate knows as the venue has it; fills and position likewise."""
    venue_orders = await rig.sim.orders()
    executions = await rig.sim.executions()
    orders = (await rig.oms.orders(symbol=SYMBOL, limit=1000)).items
    assert orders, "no order was placed"
    for order in orders:
        at_venue = [o for o in venue_orders if o["orderLinkId"] == order.client_order_id]
        assert len(at_venue) <= 1, f"{order.order_id}: {len(at_venue)} venue orders"
        if not at_venue:
            assert order.filled_qty == 0
            assert not order.status.is_open
            continue
        [truth] = at_venue
        assert (order.status, order.filled_qty) == (
            _STATUS_AT_BYBIT[truth["orderStatus"]],
            D(truth["cumExecQty"]),
        ), order.order_id
        booked = sorted(f.trade_id for f in (await rig.oms.fills(order_id=order.order_id)).items)
        expected = sorted(e["execId"] for e in executions if e["orderId"] == truth["orderId"])
        assert booked == expected, order.order_id
    [position] = await rig.oms.positions() or [None]
    held = D(0) if position is None else position.qty
    assert held == await rig.sim.position()


async def trade(rig: Rig) -> None:
    """A market buy; a limit buy that rests until the market falls through it; a limit
    sell that rests and is cancelled. Each order waits for the one before to be settled
    and its instrument clean (a fault leaves it dirty, and a dirty instrument takes no
    new risk); then ordergate and the venue are compared."""
    market = await rig.oms.place(SYMBOL, Side.BUY, D("0.010"), idempotency_key="m1")
    await rig.ended(market.order_id)
    await rig.clean()
    limit = await rig.oms.place(
        SYMBOL, Side.BUY, D("0.020"), OrderType.LIMIT, price=D("49900.0"), idempotency_key="l1"
    )
    await rig.resting(limit.order_id)
    resting = await rig.oms.place(
        SYMBOL, Side.SELL, D("0.005"), OrderType.LIMIT, price=D("51000.0"), idempotency_key="s1"
    )
    await rig.resting(resting.order_id)
    await rig.quote("49800.0", "49850.0")
    await rig.oms.cancel(resting.order_id)
    for order in (limit, resting):
        await rig.ended(order.order_id)
    await rig.clean()
    await assert_agrees_with_the_venue(rig)


async def test_orders_fill_rest_and_cancel_as_the_venue_says(rig):
    await trade(rig)

    views = {v.idempotency_key: v for v in (await rig.oms.orders(limit=10)).items}
    assert {k: (v.status, v.filled_qty) for k, v in views.items()} == {
        "m1": (OrderStatus.FILLED, D("0.010")),
        "l1": (OrderStatus.FILLED, D("0.020")),
        "s1": (OrderStatus.CANCELED, D(0)),
    }
    assert views["m1"].avg_fill_price == D("50010.0")
    assert [p.qty for p in await rig.oms.positions()] == [D("0.030")]
    creates = (await rig.sim.get("/sim/requests?path=/v5/order/create"))["requests"]
    assert {c["client"] for c in creates} == {"node-under-test"}  # ordergate names itself


@pytest.mark.parametrize(
    "rule",
    [
        pytest.param({"kind": "latency", "scope": CREATE, "delay": 1.5, "count": 1}, id="latency"),
        pytest.param({"kind": "http_error", "scope": CREATE, "count": 1}, id="http-5xx"),
        pytest.param({"kind": "rate_limit", "scope": CREATE, "count": 2}, id="rate-limit"),
        pytest.param({"kind": "lost_response", "scope": CREATE, "count": 1}, id="lost-dropped"),
        pytest.param(
            {"kind": "lost_response", "scope": CREATE, "count": 1, "drop_connection": False},
            id="lost-withheld",
        ),
        pytest.param({"kind": "ws_drop", "scope": "order", "count": 1}, id="ws-drop"),
        pytest.param({"kind": "ws_duplicate", "scope": "*", "count": 6}, id="ws-duplicate"),
        pytest.param({"kind": "ws_reorder", "scope": "order", "count": 2}, id="ws-reorder"),
        pytest.param({"kind": "ws_withhold", "scope": "execution", "count": 1}, id="ws-skip-seq"),
        pytest.param({"kind": "not_json", "scope": CREATE, "count": 1}, id="not-json"),
        pytest.param({"kind": "truncated", "scope": CREATE, "count": 1}, id="truncated"),
        pytest.param(
            {"kind": "oversized", "scope": CREATE, "count": 1, "size": OVER}, id="oversized"
        ),
        pytest.param(
            {"kind": "truncated", "scope": "/v5/market/tickers", "count": 3}, id="truncated-read"
        ),
        pytest.param({"kind": "ws_not_json", "scope": "order", "count": 1}, id="ws-not-json"),
        pytest.param({"kind": "ws_truncated", "scope": "execution", "count": 1}, id="ws-truncated"),
        pytest.param(
            {"kind": "ws_oversized", "scope": "*", "count": 2, "size": OVER}, id="ws-oversized"
        ),
    ],
)
async def test_under_a_fault_ordergate_ends_where_the_venue_is(rig, rule):
    await rig.sim.fault(**rule)

    await trade(rig)

    assert [f["kind"] for f in await rig.sim.fired()], "the fault never fired"


@pytest.mark.parametrize(
    "create_fault",
    [
        pytest.param({"kind": "lost_response", "drop_connection": False}, id="answer-withheld"),
        pytest.param({"kind": "latency", "delay": 1.5}, id="executed-after-the-timeout"),
        pytest.param({"kind": "not_json"}, id="answer-not-json"),
        pytest.param({"kind": "truncated"}, id="answer-truncated"),
        pytest.param({"kind": "oversized", "size": OVER}, id="answer-oversized"),
    ],
)
async def test_a_submit_in_doubt_is_unknown_and_dirty_until_the_venue_is_asked(rig, create_fault):
    # The order's acknowledgement never streams, so only asking the venue can settle it;
    # with the latency fault the venue does not have the order yet when first asked.
    await rig.sim.fault(scope=CREATE, count=1, **create_fault)
    await rig.sim.fault(kind="ws_withhold", scope="order", count=1)
    seen: list[str] = []
    rig.oms.subscribe(lambda item: seen.append(type(item.event).__name__))

    order = await rig.oms.place(
        SYMBOL, Side.BUY, D("0.010"), OrderType.LIMIT, price=D("49000.0"), idempotency_key="u1"
    )
    await rig.resting(order.order_id)

    assert seen[:2] == ["OrderInitialized", "OrderApproved"]
    assert set(seen[2:4]) == {"InstrumentMarkedDirty", "OrderStatusUnknown"}
    assert "OrderRejected" not in seen
    await assert_agrees_with_the_venue(rig)


@pytest.mark.parametrize("kind", ["ws_not_json", "ws_truncated", "ws_oversized"])
async def test_an_unreadable_stream_message_puts_the_account_in_doubt_until_reconciled(rig, kind):
    marks: list[InstrumentMarkedDirty] = []
    rig.oms.subscribe(
        lambda item: (
            marks.append(item.event) if isinstance(item.event, InstrumentMarkedDirty) else None
        )
    )
    await rig.sim.fault(kind=kind, scope="order", count=1, size=OVER)

    with loop_errors() as errors:
        order = await rig.oms.place(
            SYMBOL, Side.BUY, D("0.010"), OrderType.LIMIT, price=D("49000.0"), idempotency_key="w1"
        )
        await rig.until(lambda: marks, "the dirty mark")
        await rig.resting(order.order_id)  # and reconciled: no instrument dirty
        await trade(rig)  # trading goes on

    assert errors == []
    [mark] = marks
    assert (mark.symbol, mark.cause) == (None, DirtyCause.VENUE_RECONNECT)  # the whole account
    assert "unreadable message" in mark.detail
    assert [f["kind"] for f in await rig.sim.fired()] == [kind]


async def test_a_slow_request_holds_up_no_other_orders_request(rig):
    await rig.sim.fault(kind="latency", scope=CREATE, delay=0.8, count=1)

    slow = await rig.oms.place(
        SYMBOL, Side.BUY, D("0.010"), OrderType.LIMIT, price=D("49000.0"), wait=False
    )
    quick = await rig.oms.place(
        SYMBOL, Side.BUY, D("0.010"), OrderType.LIMIT, price=D("48000.0"), wait=False
    )
    await rig.until(lambda: rig.view(quick.order_id).status is OrderStatus.ACCEPTED, "quick")
    slow_meanwhile = rig.view(slow.order_id).status
    await rig.resting(slow.order_id)

    assert slow_meanwhile in (OrderStatus.PENDING_SUBMIT, OrderStatus.SUBMITTED)
    await assert_agrees_with_the_venue(rig)


async def test_a_journal_with_history_is_refused_by_the_empty_simulator(tmp_path):
    db = str(tmp_path / "og.db")
    async with Oms(Settings(db=db, paper_bars_per_second=0)):
        pass  # the paper venue writes the journal's first events

    with pytest.raises(InvalidRequest, match="starts empty"):
        async with Oms(sim_settings(free_port(), db=db)):
            pass


async def test_ordergate_restarts_on_a_simulator_that_outlives_it(tmp_path):
    port = free_port()
    db = str(tmp_path / "og.db")
    async with (
        simulator_process(port, "--market", "manual") as remote,
        aiohttp.ClientSession() as http,
    ):
        control = SimControl(http, remote.rest_url)
        settings = sim_settings(free_port(), db=db, sim_url=remote.rest_url)
        async with Oms(settings) as oms:
            rig = Rig(oms, control)
            await rig.quote("50000.0", "50010.0")
            bought = await oms.place(SYMBOL, Side.BUY, D("0.010"), idempotency_key="m1")
            resting = await oms.place(
                SYMBOL, Side.BUY, D("0.020"), OrderType.LIMIT, price=D("49000.0")
            )
            await rig.resting(resting.order_id)

        async with Oms(settings) as oms:  # the same journal, the same venue
            rig = Rig(oms, control)
            await rig.clean()
            before = rig.view(resting.order_id).status
            await oms.cancel(resting.order_id)
            after = await rig.ended(resting.order_id)
            await assert_agrees_with_the_venue(rig)

    assert (bought.status, before, after.status) == (
        OrderStatus.FILLED,
        OrderStatus.ACCEPTED,
        OrderStatus.CANCELED,
    )
