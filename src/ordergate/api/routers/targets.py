"""/v1/targets: target positions a strategy sets, and how far each position is from its."""

from __future__ import annotations

from fastapi import Response, status

from ordergate.api.deps import ReadsDep, SettingsDep, TradingDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import ENGINE_DOWN, KEY_REUSED, declares
from ordergate.api.routers.orders import Filter
from ordergate.api.target_schemas import TargetOut, TargetsIn, TargetsOut
from ordergate.api.trace_ids import TraceIdDep
from ordergate.engine.target_views import target_views

router = guarded_router(prefix="/v1/targets", tags=["targets"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    responses={
        200: {"model": TargetsOut, "description": "idempotency key seen before: nothing placed"},
        **declares(KEY_REUSED, ENGINE_DOWN),
    },
)
async def set_targets(
    trading: TradingDep,
    settings: SettingsDep,
    body: TargetsIn,
    response: Response,
    trace_id: TraceIdDep,
) -> TargetsOut:
    """Set target positions: journaled, then worked once against the worst case.

    Open and in-flight orders count as if they fill, so no position passes its target;
    the strategy's own orders that no longer fit are replaced down or cancelled. Each
    step says what it placed, or why nothing (HALT, a position in doubt, below the
    minimum size) or the denial of what it placed. The answer does not wait for fills.
    """
    result = await trading.set_targets(body.command(settings.default_account, trace_id))
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return TargetsOut.of(result)


@router.get("")
async def list_targets(
    trading: TradingDep,
    reads: ReadsDep,
    account: Filter = None,
    strategy: Filter = None,
) -> list[TargetOut]:
    """Each target beside the position, what the strategy has working toward it, and the
    gap nothing works on yet; with the last set's step (its order, or why none)."""
    return [TargetOut.of(v) for v in await target_views(trading, reads, account, strategy)]
