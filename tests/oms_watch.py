"""Waiting on ordergate whole (`Oms`) in the tests that run it against a simulated venue:
an order's end, an order resting, the dirty marks clearing, a price seen. Each rig of
those tests is an `OmsWatch` with its own simulator beside it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ordergate.domain.values import OrderStatus
from ordergate.engine.views import OrderView
from ordergate.oms import Oms
from tests.waiting import eventually


@dataclass
class OmsWatch:
    oms: Oms

    async def until(self, predicate: Callable[[], bool], what: str) -> None:
        """Wait for `predicate`; on a timeout, say which orders there were."""

        async def details() -> str:
            orders = [(o.idempotency_key, o.status) for o in (await self.oms.orders()).items]
            return f"{what}; orders: {orders}"

        await eventually(predicate, message=details)

    async def quote_seen(self, symbol: str, bid: Decimal) -> None:
        """Wait until ordergate's quote poll has seen `bid` for `symbol`."""
        market = self.oms.app.partition.wiring.market
        await self.until(
            lambda: (quote := market.quote(symbol)) is not None and quote.bid == bid,
            f"ordergate to see bid {bid}",
        )

    def view(self, order_id: str) -> OrderView:
        view = self.oms.app.partition.engine.order(order_id)  # as journaled
        assert view is not None
        return view

    async def ended(self, order_id: str) -> OrderView:
        await self.until(lambda: self.view(order_id).status.is_terminal, f"{order_id} to end")
        return self.view(order_id)

    async def resting(self, order_id: str) -> None:
        """Wait until the order rests and no instrument is dirty."""
        await self.until(
            lambda: self.view(order_id).status is OrderStatus.ACCEPTED, f"{order_id} to rest"
        )
        await self.clean()

    async def clean(self) -> None:
        """Wait until no instrument is dirty: reconciliation has agreed with the venue."""
        engine = self.oms.app.partition.engine
        await self.until(lambda: not engine.gates.dirty, "the dirty marks to clear")
