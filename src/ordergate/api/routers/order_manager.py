"""/api/v1: the seed order manager's query routes, over the same engine and read models.

Seed 002 (an order-manager microservice trading on Bybit) answers four queries; ordergate
serves them with the seed's names and spellings, and keeps what the seed has no name for
(`ordergate_status`, `reason_code`, `stop_price`, `account`) so nothing is lost:

- `GET /api/v1/orders`: filters `asset`, `status` (seed names, comma-separated or
  repeated), `side`, `account`, `strategy` (every filter left out matches everything,
  every account included); `limit` 1..1000 (default 100) and `offset`; `sort_by`
  `created_at` | `updated_at`, `sort_order` `asc` | `desc` (default newest created first;
  equal times keep placement order). The answer is `{"orders", "limit", "offset", "has_more"}`:
  the read models do not count rows, and a count would cost a scan on every page, so
  instead of a total the page says whether another row follows it (`has_more`).
- `GET /api/v1/orders/{id}`: one order by ordergate id, or 404 `ORDER_NOT_FOUND`.
- `GET /api/v1/positions`: the account's open positions (the default account unless
  `account` is given; `asset` narrows it; `include_flat=true` adds positions that were
  opened and closed), marked to the current price as on /v1/positions.
- `GET /api/v1/positions/{asset}`: one position, flat ones included (size 0, side `flat`),
  or 404 `POSITION_NOT_FOUND` if the account never held the asset.

Orders: `id` (ordergate's), `order_id` (the venue's, null until it acknowledges),
`client_order_id`, `signal_id`, `account`, `asset`, `side` (`buy` | `sell`), `order_type`
(`market` | `limit` | `stop` | `stop_limit`), `quantity`, `price`, `stop_price`, `status`
(the seed's name), `ordergate_status`, `filled_quantity`, `average_price`,
`time_in_force`, `reduce_only`, `strategy`, `trace_id`, `reason_code`, `reject_reason`
(ordergate's reason text, on rejected orders only: the seed's field is about refusals,
and a cancel's reason stays on /v1/orders), `created_at`, `updated_at` (RFC 3339, UTC).

Positions: `asset`, `account`, `size` (signed: long > 0), `side` (`long` | `short` |
`flat`), `average_entry_price`, `mark_price`, `unrealized_pnl` (null while the asset has
no price), `realized_pnl`, `fees`, `currency` (the quote currency), `updated_at`.

Decimals are strings, as on every ordergate route. The seed's five statuses are a view of
ordergate's thirteen (`SEED_STATUS_OF`): everything working or in flight is `pending`.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Final

from fastapi import Query
from pydantic import BaseModel, BeforeValidator, WithJsonSchema

from ordergate.api.deps import ReadsDep, SettingsDep, TradingDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import ORDER_NOT_FOUND, POSITION_NOT_FOUND, declares
from ordergate.api.routers.orders import (
    Filter,
    PathSegment,
    SortField,
    SortOrder,
    any_case_list_pattern,
)
from ordergate.api.schemas import AmountStr, DecimalStr, iso
from ordergate.domain.errors import NotFound
from ordergate.domain.values import ZERO, OrderStatus, Side, TimeInForce
from ordergate.engine.queries import MAX_OFFSET, MAX_PAGE, OrderFilter, OrderSort, PageRequest
from ordergate.engine.trading import Trading, mark_price
from ordergate.engine.views import OrderView, PositionView

router = guarded_router(prefix="/api/v1", tags=["order manager (seed 002 API)"])

# The stores bind OFFSET as a signed 64-bit integer; a larger one cannot be asked for.


class _AnyCase(StrEnum):
    """A lower-case vocabulary that also accepts its names in any case."""

    @classmethod
    def _missing_(cls, value: object) -> _AnyCase | None:
        return cls.__members__.get(value.lower()) if isinstance(value, str) else None


class SeedStatus(_AnyCase):
    pending = "pending"
    partially_filled = "partially_filled"
    filled = "filled"
    cancelled = "cancelled"
    rejected = "rejected"


SEED_STATUS_OF: Final[dict[OrderStatus, SeedStatus]] = {
    OrderStatus.NEW: SeedStatus.pending,
    OrderStatus.PENDING_SUBMIT: SeedStatus.pending,
    OrderStatus.SUBMITTED: SeedStatus.pending,
    OrderStatus.ACCEPTED: SeedStatus.pending,
    OrderStatus.PENDING_REPLACE: SeedStatus.pending,
    # A cancel was asked for, not confirmed: the order may still fill.
    OrderStatus.PENDING_CANCEL: SeedStatus.pending,
    # The venue may or may not hold the order; it is in flight until a query resolves it.
    OrderStatus.UNKNOWN: SeedStatus.pending,
    OrderStatus.PARTIALLY_FILLED: SeedStatus.partially_filled,
    OrderStatus.FILLED: SeedStatus.filled,
    OrderStatus.CANCELED: SeedStatus.cancelled,
    OrderStatus.EXPIRED: SeedStatus.cancelled,
    OrderStatus.REJECTED: SeedStatus.rejected,  # by the venue
    OrderStatus.DENIED: SeedStatus.rejected,  # by ordergate's pre-trade checks
    OrderStatus.PLANNED: SeedStatus.cancelled,  # a dry run's: approved, never sent
}
ORDERGATE_STATUSES_OF: Final[dict[SeedStatus, frozenset[OrderStatus]]] = {
    seed: frozenset(s for s, name in SEED_STATUS_OF.items() if name is seed) for seed in SeedStatus
}


class SeedSide(_AnyCase):
    buy = "buy"
    sell = "sell"


class SeedOrderType(_AnyCase):
    market = "market"
    limit = "limit"
    stop = "stop"
    stop_limit = "stop_limit"


class PositionSide(StrEnum):
    long = "long"
    short = "short"
    flat = "flat"


def _split_commas(values: object) -> object:
    """Accept `status=a,b` as well as `status=a&status=b`; blanks are dropped."""
    if not isinstance(values, list):
        return values
    return [part.strip() for value in values for part in str(value).split(",") if part.strip()]


SEED_STATUS_LIST_PATTERN: Final = any_case_list_pattern(s.value for s in SeedStatus)
SeedStatuses = Annotated[
    list[SeedStatus] | None,
    BeforeValidator(_split_commas),
    WithJsonSchema(
        {"type": "array", "items": {"type": "string", "pattern": SEED_STATUS_LIST_PATTERN}}
    ),
]
"""`status=a,b` as well as `status=a&status=b`, names in any case, blanks dropped: the
pattern states what the split and the enum (`SeedStatus`, any case) accept."""


class SeedOrderOut(BaseModel):
    id: str
    order_id: str | None
    client_order_id: str
    signal_id: str | None
    account: str
    asset: str
    side: SeedSide
    order_type: SeedOrderType
    quantity: DecimalStr
    price: DecimalStr | None
    stop_price: DecimalStr | None
    status: SeedStatus
    ordergate_status: OrderStatus
    filled_quantity: DecimalStr
    average_price: AmountStr | None
    time_in_force: TimeInForce
    reduce_only: bool
    strategy: str | None
    trace_id: str | None
    reason_code: str | None
    reject_reason: str | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: OrderView) -> SeedOrderOut:
        status = SEED_STATUS_OF[v.status]
        return cls(
            id=v.order_id,
            order_id=v.venue_order_id,
            client_order_id=v.client_order_id,
            signal_id=v.signal_id,
            account=v.account,
            asset=v.symbol,
            side=SeedSide(v.side.value.lower()),
            order_type=SeedOrderType(v.type.value.lower()),
            quantity=v.qty,
            price=v.price,
            stop_price=v.stop_price,
            status=status,
            ordergate_status=v.status,
            filled_quantity=v.filled_qty,
            average_price=v.avg_fill_price,
            time_in_force=v.time_in_force,
            reduce_only=v.reduce_only,
            strategy=v.strategy,
            trace_id=v.trace_id,
            reason_code=v.reason_code,
            reject_reason=v.reason if status is SeedStatus.rejected else None,
            created_at=iso(v.created_ts),
            updated_at=iso(v.updated_ts),
        )


class SeedOrderPage(BaseModel):
    orders: list[SeedOrderOut]
    limit: int
    offset: int
    has_more: bool


class SeedPositionOut(BaseModel):
    asset: str
    account: str
    size: DecimalStr
    side: PositionSide
    average_entry_price: AmountStr
    mark_price: AmountStr | None
    unrealized_pnl: AmountStr | None
    realized_pnl: AmountStr
    fees: AmountStr
    currency: str
    updated_at: datetime


def _side_of(size: Decimal) -> PositionSide:
    if size > ZERO:
        return PositionSide.long
    return PositionSide.short if size < ZERO else PositionSide.flat


def _marked(trading: Trading, p: PositionView) -> SeedPositionOut:
    """Value a journaled position at the current price, as /v1/positions does."""
    instrument = trading.instruments[p.symbol]
    mark = mark_price(trading, p.symbol)
    upnl: Decimal | None = (
        None if mark is None else p.qty * (mark - p.avg_price) * instrument.contract_size
    )
    return SeedPositionOut(
        asset=p.symbol,
        account=p.account,
        size=p.qty,
        side=_side_of(p.qty),
        average_entry_price=p.avg_price,
        mark_price=mark,
        unrealized_pnl=upnl,
        realized_pnl=p.realized_pnl,
        fees=p.fees,
        currency=instrument.quote_currency,
        updated_at=iso(p.updated_ts),
    )


@router.get("/orders")
async def list_seed_orders(
    reads: ReadsDep,
    asset: Filter = None,
    status_: Annotated[
        SeedStatuses,
        Query(alias="status", description="seed status names, comma-separated or repeated"),
    ] = None,
    side: SeedSide | None = None,
    account: Filter = None,
    strategy: Filter = None,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
    sort_by: SortField = SortField.created_at,
    sort_order: SortOrder = SortOrder.desc,
) -> SeedOrderPage:
    """List orders, newest first by default; `has_more` says whether a next page exists."""
    statuses = (
        frozenset(s for name in status_ for s in ORDERGATE_STATUSES_OF[name]) if status_ else None
    )
    page = await reads.orders(
        OrderFilter(
            account=account,
            symbol=asset,
            statuses=statuses,
            strategy=strategy,
            side=None if side is None else Side(side.value.upper()),
        ),
        PageRequest(limit=limit, offset=offset, descending=sort_order is SortOrder.desc),
        OrderSort.CREATED_TS if sort_by is SortField.created_at else OrderSort.UPDATED_TS,
    )
    # Every store reads limit + 1 rows and issues a cursor only when that extra row exists.
    return SeedOrderPage(
        orders=[SeedOrderOut.of(v) for v in page.items],
        limit=limit,
        offset=offset,
        has_more=page.next_cursor is not None,
    )


@router.get("/orders/{order_id}", responses=declares(ORDER_NOT_FOUND))
async def get_seed_order(reads: ReadsDep, order_id: PathSegment) -> SeedOrderOut:
    """One order by its ordergate id (the `id` field, not the venue's `order_id`)."""
    view = await reads.order(order_id)
    if view is None:
        raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
    return SeedOrderOut.of(view)


@router.get("/positions")
async def list_seed_positions(
    trading: TradingDep,
    reads: ReadsDep,
    settings: SettingsDep,
    asset: Filter = None,
    account: Filter = None,
    include_flat: bool = False,
) -> list[SeedPositionOut]:
    """The account's positions (the default account unless given), marked to the price now."""
    held = await reads.positions(account or settings.default_account, asset)
    return [_marked(trading, p) for p in held if include_flat or p.qty != ZERO]


@router.get("/positions/{asset}", responses=declares(POSITION_NOT_FOUND))
async def get_seed_position(
    trading: TradingDep,
    settings: SettingsDep,
    reads: ReadsDep,
    asset: PathSegment,
    account: Filter = None,
) -> SeedPositionOut:
    """One position; a closed one is answered as flat, one never opened is 404."""
    account_id = account or settings.default_account
    held = await reads.positions(account_id, asset)
    if not held:
        raise NotFound(
            f"account {account_id!r} holds no position in {asset!r}", code="POSITION_NOT_FOUND"
        )
    return _marked(trading, held[0])
