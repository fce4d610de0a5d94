"""/v1/admin: the control plane."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body

from ordergate.api.deps import AppDep
from ordergate.api.schemas import CloseAllIn, CloseAllOut, OrderOut
from ordergate.engine.commands import CloseAll

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/close-all")
async def close_all(app: AppDep, body: Annotated[CloseAllIn | None, Body()] = None) -> CloseAllOut:
    """Cancel every open order and flatten every position (of one account, or all)."""
    body = body or CloseAllIn()
    result = await app.engine.close_all(CloseAll(account=body.account, reason=body.reason))
    return CloseAllOut(
        canceled=[OrderOut.of(v) for v in result.canceled],
        closing=[OrderOut.of(v) for v in result.closing],
    )
