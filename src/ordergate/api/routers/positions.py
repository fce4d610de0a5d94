"""/v1/positions and /v1/account: positions from fills, margin from committed state."""

from __future__ import annotations

from typing import Annotated

from fastapi import Body, Path

from ordergate.api.deps import ReadsDep, SettingsDep, TradingDep, VenueWaitDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import ACCOUNT_NOT_FOUND, ENGINE_DOWN, POSITION_STATE, declares
from ordergate.api.routers.orders import Filter
from ordergate.api.schemas import (
    AccountOut,
    ClosePositionIn,
    CurrencyOut,
    Name,
    OrderOut,
    PositionOut,
    iso,
)
from ordergate.api.trace_ids import TraceIdDep
from ordergate.domain.errors import NotFound
from ordergate.domain.values import ZERO
from ordergate.engine.commands import ClosePosition
from ordergate.engine.trading import account_margin, mark_price

router = guarded_router(tags=["positions"])


@router.get("/v1/positions")
async def list_positions(
    trading: TradingDep,
    reads: ReadsDep,
    account: Filter = None,
    symbol: Filter = None,
    include_flat: bool = False,
) -> list[PositionOut]:
    """Net positions, marked to the current price (unrealized PnL is not journaled)."""
    instruments = trading.instruments
    result: list[PositionOut] = []
    for p in await reads.positions(account, symbol):
        if p.qty == ZERO and not include_flat:
            continue
        instrument = instruments[p.symbol]
        mark = mark_price(trading, p.symbol)
        upnl = None if mark is None else p.qty * (mark - p.avg_price) * instrument.contract_size
        result.append(
            PositionOut(
                account=p.account,
                symbol=p.symbol,
                side="LONG" if p.qty > ZERO else "SHORT" if p.qty < ZERO else "FLAT",
                qty=p.qty,
                avg_price=p.avg_price,
                mark_price=mark,
                unrealized_pnl=upnl,
                realized_pnl=p.realized_pnl,
                fees=p.fees,
                currency=instrument.quote_currency,
                updated_at=iso(p.updated_ts),
            )
        )
    return result


@router.post("/v1/positions/{symbol}/close", responses=declares(POSITION_STATE, ENGINE_DOWN))
async def close_position(
    trading: TradingDep,
    settings: SettingsDep,
    wait_for_venue: VenueWaitDep,
    symbol: Annotated[Name, Path()],
    trace_id: TraceIdDep,
    body: Annotated[ClosePositionIn | None, Body()] = None,
) -> OrderOut:
    """Flatten (or reduce by `qty`) a position with a reduce-only market order."""
    body = body or ClosePositionIn()
    view = await trading.close_position(
        ClosePosition(
            account=body.account or settings.default_account,
            symbol=symbol,
            qty=body.qty,
            strategy=body.strategy,
            trace_id=trace_id,
        )
    )
    return OrderOut.of(await wait_for_venue(view.order_id))


@router.get("/v1/account", responses=declares(ACCOUNT_NOT_FOUND))
async def get_account(
    settings: SettingsDep, reads: ReadsDep, trading: TradingDep, account: Filter = None
) -> AccountOut:
    """Balance, equity, used and free margin per currency."""
    account_id = account or settings.default_account
    if not await reads.balances(account_id):
        raise NotFound(f"account {account_id!r} is not known", code="ACCOUNT_NOT_FOUND")
    margins = await account_margin(trading, reads, account_id)
    return AccountOut(
        account=account_id,
        currencies=[
            CurrencyOut(
                currency=m.currency,
                balance=m.balance,
                unrealized_pnl=m.unrealized_pnl,
                equity=m.equity,
                used_margin=m.used_margin,
                position_margin=m.position_margin,
                order_margin=m.order_margin,
                free_margin=m.free_margin,
            )
            for m in margins.values()
        ],
    )
