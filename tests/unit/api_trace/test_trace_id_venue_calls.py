"""An order's trace id reaches its venue requests' logs and every message published for it.

The engine's venue lanes are tasks of their own, so a caller's log context never reaches
them: the dispatcher binds the order's own trace id around each request. The venue here
is the fake of the port, logging inside each call as an adapter does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
import structlog
from tests.fakes import BTC, FakeMarket, FakeVenue
from tests.waiting import TIMEOUT

from ordergate.bus.envelope import Envelope, EnvelopeFold
from ordergate.domain.errors import AmbiguousVenueError
from ordergate.domain.values import OrderType, Side
from ordergate.engine.clock import ManualClock
from ordergate.engine.commands import AdjustBalance, CancelOrder, PlaceOrder, ReplaceOrder
from ordergate.engine.engine import Engine
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.state import OmsState
from ordergate.engine.venue_reports import SubmitReceipt, VenueOrderReport, VenueOrderRequest
from ordergate.engine.views import OrderView
from ordergate.store.memory import MemoryStore

D = Decimal
ACCOUNT = "acct"
T0 = 1_700_000_000_000_000_000

log = structlog.get_logger("tests.fake_venue")


def captured_logs() -> Any:
    """Capture log lines with the log context merged in, as `configure_logging` does."""
    return structlog.testing.capture_logs(processors=[structlog.contextvars.merge_contextvars])


@dataclass
class LoggingVenue(FakeVenue):
    """The fake venue, logging one line inside each order call."""

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        log.info("fake venue call", call="submit", client_order_id=request.client_order_id)
        return await super().submit_order(request)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        log.info("fake venue call", call="cancel", client_order_id=client_order_id)
        await super().cancel_order(account, symbol, client_order_id)

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        log.info("fake venue call", call="replace", client_order_id=client_order_id)
        await super().replace_order(account, symbol, client_order_id, qty, price, stop_price)

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        log.info("fake venue call", call="query", client_order_id=client_order_id)
        return await super().get_order(account, symbol, client_order_id)


@dataclass
class Running:
    engine: Engine
    venue: LoggingVenue
    store: MemoryStore

    async def place(self, **kw: Any) -> OrderView:
        command = PlaceOrder(account=ACCOUNT, symbol=BTC.symbol, side=Side.BUY, qty=D("0.1"), **kw)
        return (await self.engine.place(command)).order

    async def settle(self) -> None:
        for _ in range(100):
            await self.engine.settle()
            if not self.venue._queue:
                return
        raise AssertionError("the engine did not settle")

    async def envelopes(self) -> list[Envelope]:
        fold = EnvelopeFold(self.store.partition)
        return [e async for record in self.store.records_after(0) for e in fold.envelopes(record)]


@pytest.fixture
async def running() -> AsyncIterator[Running]:
    market = FakeMarket()
    market.set(BTC.symbol, "50000")
    venue = LoggingVenue(market)
    store = MemoryStore()
    engine = Engine(
        state=OmsState(),
        instruments=[BTC],
        journal=store,
        venue=venue,
        clock=ManualClock(T0),
        market_data=market,
        retry=RetryPolicy(max_attempts=2, base_delay=0.001, max_delay=0.001),
        query_retry_delay=0.01,
        watch_interval=None,
    )
    await engine.start()
    await engine.adjust_balance(AdjustBalance(ACCOUNT, "USDT", D(100_000), "deposit"))
    yield Running(engine, venue, store)
    await asyncio.wait_for(engine.stop(), TIMEOUT)


def lines(logs: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [e for e in logs if e["event"] == event]


def limit(price: str = "40000") -> dict[str, Any]:
    return {"type": OrderType.LIMIT, "price": D(price)}


async def test_venue_calls_of_a_traced_order_log_its_trace_id(running: Running) -> None:
    with captured_logs() as logs:
        order = await running.place(trace_id="bot-7", **limit())
        await running.settle()
        await running.engine.replace(ReplaceOrder(order.order_id, price=D("39000")))
        await running.settle()
        await running.engine.cancel(CancelOrder(order.order_id, "done"))
        await running.settle()

    calls = lines(logs, "fake venue call")
    assert [(c["call"], c.get("trace_id")) for c in calls] == [
        ("submit", "bot-7"),
        ("replace", "bot-7"),
        ("cancel", "bot-7"),
    ]
    requests = lines(logs, "venue request")
    assert [(r["request"], r["order_id"], r["trace_id"], r["outcome"]) for r in requests] == [
        ("submit", order.order_id, "bot-7", "submitted"),
        ("replace", order.order_id, "bot-7", "sent"),
        ("cancel", order.order_id, "bot-7", "sent"),
    ]


async def test_query_after_an_ambiguous_submit_logs_the_trace_id(running: Running) -> None:
    running.venue.fail_next.append(AmbiguousVenueError("timed out"))

    with captured_logs() as logs:
        order = await running.place(trace_id="bot-8", **limit())
        await running.settle()

    calls = lines(logs, "fake venue call")
    assert [c["call"] for c in calls][:2] == ["submit", "query"]
    assert {c.get("trace_id") for c in calls} == {"bot-8"}
    outcomes = [(r["request"], r["outcome"]) for r in lines(logs, "venue request")]
    assert outcomes[:2] == [("submit", "ambiguous"), ("query", "not found")]
    assert {r["order_id"] for r in lines(logs, "venue request")} == {order.order_id}


async def test_untraced_order_after_a_traced_one_logs_no_trace_id(running: Running) -> None:
    with captured_logs() as logs:
        await running.place(trace_id="bot-9")
        untraced = await running.place()
        await running.settle()

    calls = lines(logs, "fake venue call")
    assert [c.get("trace_id") for c in calls] == ["bot-9", None]
    assert calls[1]["client_order_id"] == untraced.client_order_id
    assert [r["trace_id"] for r in lines(logs, "venue request")] == ["bot-9"]


async def test_venue_call_ignores_the_callers_log_context(running: Running) -> None:
    # A cancel asked for under another request's trace id: the venue call is the order's.
    order = await running.place(trace_id="placed-by", **limit())
    await running.settle()

    with captured_logs() as logs, structlog.contextvars.bound_contextvars(trace_id="other"):
        await running.engine.cancel(CancelOrder(order.order_id))
        await running.settle()

    [cancel] = lines(logs, "fake venue call")
    assert cancel["trace_id"] == "placed-by"


async def test_every_message_published_for_an_order_carries_its_trace_id(
    running: Running,
) -> None:
    order = await running.place(trace_id="bot-10", **limit())
    await running.settle()
    await running.engine.replace(ReplaceOrder(order.order_id, price=D("39000")))
    await running.settle()
    running.venue.fill(order.client_order_id, D("0.04"), D("39000"))
    await running.settle()
    await running.engine.cancel(CancelOrder(order.order_id))
    await running.settle()
    other = await running.place(trace_id="bot-11")
    await running.settle()

    envelopes = await running.envelopes()
    by_order: dict[str, list[Envelope]] = {}
    for envelope in envelopes:
        event = json.loads(envelope.body)["event"]
        if "order_id" in event:
            by_order.setdefault(event["order_id"], []).append(envelope)

    ours = by_order[order.order_id]
    assert {e.type for e in ours} >= {
        "OrderInitialized",
        "OrderSubmitted",
        "OrderAccepted",
        "OrderReplaceRequested",
        "OrderReplaced",
        "OrderFilled",
        "PositionChanged",
        "OrderCancelRequested",
        "OrderCanceled",
    }
    assert {(e.trace_id, json.loads(e.body)["trace_id"]) for e in ours} == {("bot-10", "bot-10")}
    assert {e.trace_id for e in by_order[other.order_id]} == {"bot-11"}
