"""/v1/admin: the control plane."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Body

from ordergate.api.deps import AppDep
from ordergate.api.schemas import CloseAllIn, CloseAllOut, OrderOut
from ordergate.engine.commands import CloseAll

router = APIRouter(prefix="/v1/admin", tags=["admin"])


@router.post("/close-all")
async def close_all(app: AppDep, body: Annotated[CloseAllIn | None, Body()] = None) -> CloseAllOut:
    """Cancel every open order and flatten every position (of one account, or all).

    Answers once the venue has answered each request, or the API wait is over.
    """
    body = body or CloseAllIn()
    result = await app.engine.close_all(CloseAll(account=body.account, reason=body.reason))
    canceled = await asyncio.gather(*(app.wait_for_venue(v.order_id) for v in result.canceled))
    closing = await asyncio.gather(*(app.wait_for_venue(v.order_id) for v in result.closing))
    return CloseAllOut(
        canceled=[OrderOut.of(v) for v in canceled],
        closing=[OrderOut.of(v) for v in closing],
    )
