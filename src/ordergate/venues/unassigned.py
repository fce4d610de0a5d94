"""The venue of a partition that holds none of the venue's accounts.

In a cluster, accounts hash to partitions, and a ccxt venue trades one exchange account:
only the partition that account hashes to connects to the exchange. Every other
partition's engine still needs a `Venue`; this one refuses every order (no account of the
partition trades there), knows no order, and never reports anything.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from decimal import Decimal

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.reasons import ReasonCode
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)


class NoQuotes:
    """The market data of an unassigned partition: there is none."""

    def quote(self, symbol: str) -> Quote | None:
        return None


class UnassignedVenue:
    def __init__(self, name: str, *, live: bool) -> None:
        self._name = name
        self._live = live

    @property
    def name(self) -> str:
        return self._name

    @property
    def live(self) -> bool:
        return self._live

    @property
    def acceptance_window(self) -> float:
        return 0.0  # it never takes a request

    async def connect(self) -> None:
        return None

    async def disconnect(self) -> None:
        return None

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        raise RejectedByVenue(
            f"account {request.account} does not trade on {self._name} in this partition",
            code=ReasonCode.UNKNOWN_ACCOUNT,
        )

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        raise RejectedByVenue(
            f"no order {client_order_id} on {self._name}", code=ReasonCode.VENUE_ORDER_NOT_FOUND
        )

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        await self.cancel_order(account, symbol, client_order_id)

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        return None

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        return []

    async def get_positions(self, account: str) -> list[VenuePosition]:
        return []

    async def get_balances(self, account: str) -> list[VenueBalance]:
        return []

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        return []

    def events(self) -> AsyncIterator[VenueEvent]:
        return _nothing_ever()


async def _nothing_ever() -> AsyncIterator[VenueEvent]:
    await asyncio.Event().wait()  # never set: no event ever comes
    nothing: tuple[VenueEvent, ...] = ()
    for event in nothing:
        yield event
