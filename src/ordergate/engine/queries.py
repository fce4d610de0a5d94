"""The read side: queries over the read models the journal keeps in step with its events."""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, Protocol, TypeVar

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import OrderStatus, Side
from ordergate.engine.views import BalanceView, FillView, OrderView, PositionView

T = TypeVar("T")

MAX_PAGE = 1000
MAX_OFFSET = 2**63 - 1  # stores pass it on as a signed 64-bit integer


class OrderSort(StrEnum):
    CREATED_TS = "created_ts"
    UPDATED_TS = "updated_ts"


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
        raw = json.dumps([self.ts, self.partition, self.number]).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, text: str) -> Cursor:
        try:
            raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
            ts, partition, number = (int(v) for v in json.loads(raw))
            if not (0 <= ts < 2**63 and 0 <= partition < 2**31 and 0 <= number < 2**63):
                raise ValueError("cursor out of range")
            return cls(ts, partition, number)
        except (ValueError, TypeError, binascii.Error) as exc:
            raise InvalidRequest("cursor is not one this server issued", code="BAD_CURSOR") from exc


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
