"""What the shadow venue may ask of the real one: reads, and nothing that sends an order.

`VenueReads` is the narrow port: connection, name, positions, balances, open orders. It
has no submit, cancel or replace, so code typed against it cannot send (mypy refuses
the call). `ReadOnlyVenue` keeps the real venue's read methods, bound, and nothing
else, so no method the shadow venue can call writes. (It is a type boundary, not a
sandbox: a bound method's `__self__` still names the venue.) Quotes come through the
`MarketData` port, which has no writes either.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from ordergate.engine.ports import VenueConnection
from ordergate.engine.venue_reports import VenueBalance, VenueOrderReport, VenuePosition


class VenueReads(Protocol):
    """The reads of one venue: every request here leaves the venue as it was."""

    @property
    def name(self) -> str: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def get_positions(self, account: str) -> list[VenuePosition]: ...

    async def get_balances(self, account: str) -> list[VenueBalance]: ...

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]: ...

    def connection_problem(self) -> str | None:
        """What is wrong with the connection now (None: it works, or it has none to lose)."""
        ...


class _ReadableVenue(Protocol):
    """Any venue with the reads (every `Venue` is one): what `ReadOnlyVenue` wraps."""

    @property
    def name(self) -> str: ...

    async def connect(self) -> None: ...

    async def disconnect(self) -> None: ...

    async def get_positions(self, account: str) -> list[VenuePosition]: ...

    async def get_balances(self, account: str) -> list[VenueBalance]: ...

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]: ...


class ReadOnlyVenue:
    """A venue's reads and nothing else: the only hold the shadow venue has on it.

    It keeps bound read methods, not the venue: nothing callable on it writes.
    """

    __slots__ = (
        "_balances",
        "_connect",
        "_disconnect",
        "_name",
        "_open_orders",
        "_positions",
        "_problem",
    )

    def __init__(self, venue: _ReadableVenue) -> None:
        self._name = venue.name
        self._connect: Callable[[], Awaitable[None]] = venue.connect
        self._disconnect: Callable[[], Awaitable[None]] = venue.disconnect
        self._positions: Callable[[str], Awaitable[list[VenuePosition]]] = venue.get_positions
        self._balances: Callable[[str], Awaitable[list[VenueBalance]]] = venue.get_balances
        self._open_orders: Callable[[str, str | None], Awaitable[list[VenueOrderReport]]] = (
            venue.get_open_orders
        )
        self._problem: Callable[[], str | None] = (
            venue.connection_problem if isinstance(venue, VenueConnection) else _no_problem
        )

    @property
    def name(self) -> str:
        return self._name

    async def connect(self) -> None:
        await self._connect()

    async def disconnect(self) -> None:
        await self._disconnect()

    async def get_positions(self, account: str) -> list[VenuePosition]:
        return await self._positions(account)

    async def get_balances(self, account: str) -> list[VenueBalance]:
        return await self._balances(account)

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        return await self._open_orders(account, symbol)

    def connection_problem(self) -> str | None:
        return self._problem()


def _no_problem() -> str | None:
    return None
