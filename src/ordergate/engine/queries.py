"""The read side: queries over the read models the journal keeps in step with its events."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Final, Generic, Protocol, TypeVar

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.views import BalanceView, FillView, OrderView, PositionView

T = TypeVar("T")

MAX_PAGE = 1000
MAX_OFFSET = 2**63 - 1  # stores pass it on as a signed 64-bit integer

# `<ts>.<partition>.<number>`: each part fits what the stores bind (below 9e18, a signed
# 64-bit integer; the partition below 1e9, a 32-bit one), so every text the pattern
# matches is a cursor, and the OpenAPI document can state the whole rule.
CURSOR_PATTERN: Final = "^[0-8]?[0-9]{1,18}[.][0-9]{1,9}[.][0-8]?[0-9]{1,18}$"
_CURSOR: Final = re.compile(CURSOR_PATTERN)


class OrderSort(StrEnum):
    CREATED_TS = "created_ts"
    UPDATED_TS = "updated_ts"


# Orders not yet final: sent, working, or in doubt (what a bot counts as pending).
PENDING: Final = frozenset(status for status in OrderStatus if not status.is_terminal)


@dataclass(frozen=True, slots=True)
class OrderFilter:
    """All set fields must match; times are ns, `since` inclusive, `until` exclusive."""

    account: str | None = None
    symbol: str | None = None
    statuses: frozenset[OrderStatus] | None = None
    strategy: str | None = None
    side: Side | None = None
    since: int | None = None
    until: int | None = None


@dataclass(frozen=True, slots=True)
class FillFilter:
    account: str | None = None
    symbol: str | None = None
    order_id: str | None = None
    since: int | None = None
    until: int | None = None


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Offset or keyset paging. A cursor (from `Page.next_cursor`) wins over an offset."""

    limit: int = 100
    offset: int = 0
    cursor: str | None = None
    descending: bool = True

    def __post_init__(self) -> None:
        if not 1 <= self.limit <= MAX_PAGE:
            raise InvalidRequest(f"limit must be 1..{MAX_PAGE}")
        if not 0 <= self.offset <= MAX_OFFSET:
            raise InvalidRequest(f"offset must be 0..{MAX_OFFSET}")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of rows; `next_cursor` is None exactly when no row follows it."""

    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True, slots=True)
class Cursor:
    """The sort key of the last row of a page; the next page starts after it."""

    ts: int
    partition: int
    number: int

    def encode(self) -> str:
        return f"{self.ts}.{self.partition}.{self.number}"

    @classmethod
    def decode(cls, text: str) -> Cursor:
        """The cursor `text` is, if it matches `CURSOR_PATTERN`: every text that does is a
        cursor (a page starting after it, maybe empty), so the pattern is the whole rule."""
        if not _CURSOR.fullmatch(text):
            raise InvalidRequest("cursor is not one this server issued", code="BAD_CURSOR")
        ts, partition, number = (int(part) for part in text.split("."))
        return cls(ts, partition, number)


class ReadModels(Protocol):
    """Queries over committed state (never ahead of the journal), of every partition the
    store holds. Async: a server-backed store answers over the network."""

    async def order(self, order_id: str) -> OrderView | None: ...

    async def orders(
        self, where: OrderFilter, page: PageRequest, sort: OrderSort = OrderSort.CREATED_TS
    ) -> Page[OrderView]: ...

    async def fills(self, where: FillFilter, page: PageRequest) -> Page[FillView]: ...

    async def positions(
        self, account: str | None = None, symbol: str | None = None
    ) -> list[PositionView]: ...

    async def balances(self, account: str | None = None) -> list[BalanceView]: ...
