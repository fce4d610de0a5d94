"""Builders for the simulator's pure parts: tickets, touches, a broker on a fake clock."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal

from ordergate.simulators.ids import IdSource
from ordergate.simulators.robinhood.broker import Broker
from ordergate.simulators.robinhood.faults import FaultPlan
from ordergate.simulators.robinhood.matching import Touch
from ordergate.simulators.robinhood.orders import OrderTicket
from ordergate.simulators.robinhood.sessions import session_of
from ordergate.simulators.robinhood.stocks import CATALOGUE

D = Decimal
# Tuesday 2024-03-12, 15:00 UTC: 11:00 in New York, the regular session.
TUESDAY_NS = int(datetime(2024, 3, 12, 15, 0, tzinfo=UTC).timestamp()) * 1_000_000_000


def ticket(
    side: str = "buy",
    quantity: str = "10",
    price: str | None = "190.00",
    *,
    symbol: str = "AAPL",
    order_type: str = "limit",
    time_in_force: str = "gtc",
    trigger: str = "immediate",
    ref_id: str | None = None,
    extended_hours: bool = False,
) -> OrderTicket:
    return OrderTicket(
        symbol=symbol,
        side=side,  # type: ignore[arg-type]
        order_type=order_type,  # type: ignore[arg-type]
        trigger=trigger,
        time_in_force=time_in_force,
        quantity=D(quantity),
        price=None if price is None else D(price),
        stop_price=D(price) if trigger == "stop" and price else None,
        ref_id=ref_id,
        market_hours="regular_hours",
        extended_hours=extended_hours,
        preset_percent_limit=None,
        session=session_of(order_type, "regular_hours", extended_hours),
    )


def touch(bid: str, ask: str) -> Touch:
    return Touch(D(bid), D(ask), D(bid))


@dataclass
class FakeClock:
    ns: int = TUESDAY_NS

    def __call__(self) -> int:
        return self.ns


@dataclass
class Rig:
    broker: Broker
    faults: FaultPlan
    clock: FakeClock = field(default_factory=FakeClock)


def make_broker(
    *,
    cash: str = "100000",
    liquidity: Mapping[str, Decimal] | None = None,
    confirm_after_steps: int = 0,
    always_open: bool = True,
    clock: FakeClock | None = None,
) -> Rig:
    faults = FaultPlan()
    clock = clock or FakeClock()
    broker = Broker(
        dict(CATALOGUE),
        cash=D(cash),
        resting_liquidity=liquidity or {},
        confirm_after_steps=confirm_after_steps,
        always_open=always_open,
        faults=faults,
        ids=IdSource(0),
        clock=clock,
    )
    return Rig(broker, faults, clock)
