"""/v1/risk/limits and /v1/orders/preview: what the risk pack allows, and would say."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel

from ordergate.api.deps import LimitsDep, SettingsDep, TradingDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import ENGINE_DOWN, declares
from ordergate.api.routers.orders import Filter
from ordergate.api.schemas import AmountStr, OrderIn

router = guarded_router(tags=["risk"])


class LimitsOut(BaseModel):
    global_limits: dict[str, object]
    accounts: dict[str, dict[str, object]]
    instruments: dict[str, dict[str, object]]
    strategies: dict[str, dict[str, object]]
    effective: dict[str, object] | None
    effective_for: dict[str, str | None] | None


@router.get("/v1/risk/limits")
async def get_limits(
    limits: LimitsDep,
    account: Filter = None,
    symbol: Filter = None,
    strategy: Filter = None,
) -> LimitsOut:
    """Every configured level; with any of account/symbol/strategy, the limits that apply."""
    book = limits
    asked = account is not None or symbol is not None or strategy is not None
    return LimitsOut(
        global_limits=book.global_limits.as_dict(),
        accounts={k: v.as_dict() for k, v in sorted(book.accounts.items())},
        instruments={k: v.as_dict() for k, v in sorted(book.instruments.items())},
        strategies={k: v.as_dict() for k, v in sorted(book.strategies.items())},
        effective=book.resolve(account, symbol, strategy).as_dict() if asked else None,
        effective_for={"account": account, "symbol": symbol, "strategy": strategy}
        if asked
        else None,
    )


class DenialOut(BaseModel):
    reason_code: str
    reason: str


class PreviewOut(BaseModel):
    accepted: bool
    denials: list[DenialOut]
    estimated_price: AmountStr | None
    notional: AmountStr | None
    fee: AmountStr | None
    fee_currency: str | None
    slippage_bps: AmountStr | None
    margin_required: AmountStr | None
    free_margin: AmountStr
    free_margin_after: AmountStr | None
    position_qty: AmountStr
    worst_case_position_qty: AmountStr


@router.post("/v1/orders/preview", responses=declares(ENGINE_DOWN))
async def preview_order(trading: TradingDep, settings: SettingsDep, body: OrderIn) -> PreviewOut:
    """Estimate price, fees, slippage, notional and margin, and give the risk verdict with
    every reason that would deny the order. Nothing is placed or recorded."""
    preview = await trading.preview(body.command(settings.default_account, idempotent=False))
    after: Decimal | None = None
    if preview.margin_required is not None:
        after = preview.free_margin - preview.margin_required
    return PreviewOut(
        accepted=preview.accepted,
        denials=[DenialOut(reason_code=d.code, reason=d.reason) for d in preview.denials],
        estimated_price=preview.estimated_price,
        notional=preview.notional,
        fee=preview.fee,
        fee_currency=preview.fee_currency,
        slippage_bps=preview.slippage_bps,
        margin_required=preview.margin_required,
        free_margin=preview.free_margin,
        free_margin_after=after,
        position_qty=preview.position_qty,
        worst_case_position_qty=preview.worst_case_qty,
    )
