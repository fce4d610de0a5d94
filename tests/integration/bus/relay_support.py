"""What the event relay tests share: a journal of trading, what the relay must publish for
it, and a relay over it that polls and retries quickly.

The broker itself comes from `tests.amqp_support` (the `broker` fixture, or
`broker_session`): skipped without RabbitMQ, failed under CI=true.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from aio_pika.abc import AbstractConnection
from tests.fakes import BTC

from ordergate.bus.envelope import Envelope, EnvelopeFold
from ordergate.bus.events_out import EventRelay, OutboxCursor
from ordergate.domain.events import (
    BalanceAdjusted,
    Event,
    InstrumentUpdated,
    OrderAccepted,
    OrderApproved,
    OrderFilled,
    OrderInitialized,
    OrderSubmitted,
)
from ordergate.domain.values import LiquiditySide, OrderType, Side, TimeInForce
from ordergate.engine.ports import RecordSource

D = Decimal
T0 = 1_700_000_000_000_000_000
# Quick to poll and to retry, so that no test waits on the relay's production timers.
FAST: dict[str, Any] = {"poll_interval": 0.05, "retry_delay": 0.02, "max_retry_delay": 0.1}


def trading(orders: int, first: int = 1, account: str = "acct-1") -> list[Event]:
    """Market buys of 0.01 BTC, each initialized, approved, submitted, accepted and filled
    (five records an order; the first batch opens with the instrument and a deposit)."""
    events: list[Event] = []
    if first == 1:
        events += [
            InstrumentUpdated(BTC, T0),
            BalanceAdjusted(account, "USDT", D("1000000"), "deposit", T0),
        ]
    for n in range(first, first + orders):
        oid, ts = f"0-{n}", T0 + n * 1000
        events += [
            OrderInitialized(
                oid, f"c{n}", account, BTC.symbol, Side.BUY, OrderType.MARKET, D("0.01"),
                None, None, TimeInForce.GTC, False, None, None, "s1", None, None, None,
                f"trace-{n}", ts,
            ),
            OrderApproved(oid, D("50000"), ts + 1),
            OrderSubmitted(oid, f"V{n}", ts + 2),
            OrderAccepted(oid, f"V{n}", ts + 3),
            OrderFilled(
                oid, account, BTC.symbol, Side.BUY, f"T{n}", D("0.01"), D("50000"), D("0.01"),
                "USDT", LiquiditySide.TAKER, ts + 4,
            ),
        ]  # fmt: skip
    return events


async def expected_envelopes(source: RecordSource, partition: int = 0) -> list[Envelope]:
    """What a relay should publish for the whole journal, from a fold of its own."""
    fold = EnvelopeFold(partition)
    return [e async for r in source.records_after(0) for e in fold.envelopes(r)]


def relay_over(
    store: Any,
    connection_or_url: str | AbstractConnection,
    exchange: str,
    *,
    source: RecordSource | None = None,
    cursor: OutboxCursor | None = None,
    **options: Any,
) -> EventRelay:
    """A relay of partition 0 reading `store` (or `source`) and keeping its cursor in `store`
    (or `cursor`), with the `FAST` timings unless `options` say otherwise."""
    return EventRelay(
        0,
        store if source is None else source,
        store if cursor is None else cursor,
        connection_or_url,
        exchange,
        **{**FAST, **options},
    )
