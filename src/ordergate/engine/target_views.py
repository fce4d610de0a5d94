"""What `GET /v1/targets` shows: each target beside the position, what is working toward
it, and the gap left; all as journaled (held targets from the engines, positions and
orders from the read models)."""

from __future__ import annotations

from decimal import Decimal

import msgspec

from ordergate.domain.values import OPEN_STATUSES, ZERO, OrderStatus, Side
from ordergate.engine.queries import MAX_PAGE, OrderFilter, PageRequest, ReadModels
from ordergate.engine.trading import Trading
from ordergate.engine.views import OrderView


class TargetView(msgspec.Struct, frozen=True, gc=False):
    """One strategy's target for one symbol of an account, and how far from it it is.

    `working` is the signed remainder of the strategy's open orders in the symbol (buys
    positive); `gap` = target - position - working: what nothing is working on yet.
    `order_id`, `order_status`, `reason_code` and `detail` are the last set's step: the
    order it placed (None: none; its status None once retired) and why it placed none
    or was denied. `remainder` is what the step left below the step or minimum size.
    """

    account: str
    strategy: str
    symbol: str
    target: Decimal
    position: Decimal
    working: Decimal
    working_orders: list[str]
    gap: Decimal
    set_id: str
    set_ts: int
    order_id: str | None
    order_status: OrderStatus | None
    reason_code: str | None
    detail: str
    remainder: Decimal


async def target_views(
    trading: Trading, reads: ReadModels, account: str | None = None, strategy: str | None = None
) -> list[TargetView]:
    """The targets held, of one account and strategy or all, sorted by account, strategy
    and symbol."""
    held = [h for h in trading.held_targets(account) if strategy is None or h.strategy == strategy]
    held.sort(key=lambda h: (h.account, h.strategy, h.symbol))
    views: list[TargetView] = []
    positions: dict[str, dict[str, Decimal]] = {}
    working: dict[tuple[str, str], list[OrderView]] = {}
    for h in held:
        if h.account not in positions:
            rows = await reads.positions(h.account)
            positions[h.account] = {p.symbol: p.qty for p in rows}
        if (h.account, h.strategy) not in working:
            working[(h.account, h.strategy)] = await _open_orders(reads, h.account, h.strategy)
        mine = [o for o in working[(h.account, h.strategy)] if o.symbol == h.symbol]
        net = sum(((o.qty - o.filled_qty) * _sign(o.side) for o in mine), ZERO)
        position = positions[h.account].get(h.symbol, ZERO)
        step = h.held.step
        order = None if step.order_id is None else trading.order(step.order_id)
        views.append(
            TargetView(
                account=h.account,
                strategy=h.strategy,
                symbol=h.symbol,
                target=step.target,
                position=position,
                working=net,
                working_orders=[o.order_id for o in mine],
                gap=step.target - position - net,
                set_id=h.held.set_id,
                set_ts=h.held.ts,
                order_id=step.order_id,
                order_status=None if order is None else order.status,
                reason_code=step.reason_code if order is None else order.reason_code,
                detail=step.detail if order is None else (order.reason or step.detail),
                remainder=step.remainder,
            )
        )
    return views


def _sign(side: Side) -> int:
    return 1 if side is Side.BUY else -1


async def _open_orders(reads: ReadModels, account: str, strategy: str) -> list[OrderView]:
    where = OrderFilter(account=account, strategy=strategy, statuses=OPEN_STATUSES)
    orders: list[OrderView] = []
    cursor: str | None = None
    while True:
        page = await reads.orders(where, PageRequest(limit=MAX_PAGE, cursor=cursor))
        orders.extend(page.items)
        if page.next_cursor is None:
            return orders
        cursor = page.next_cursor
