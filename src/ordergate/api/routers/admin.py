"""/v1/admin: the control plane."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated

from fastapi import Body
from pydantic import BaseModel, ConfigDict, Field

from ordergate.api.auth import CallerDep
from ordergate.api.deps import TradingDep, VenueWaitDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import ARM_CONFIRMATION, ENGINE_DOWN, WRONG_VENUE, declares
from ordergate.api.schemas import (
    NAME_BODY,
    NAME_PATTERN,
    TEXT_PATTERN,
    CloseAllIn,
    CloseAllOut,
    Name,
    OrderOut,
    iso,
)
from ordergate.api.trace_ids import TraceIdDep
from ordergate.domain.values import TradingState
from ordergate.engine.commands import ArmTrading, ClearDirty, CloseAll, SetTradingState
from ordergate.engine.results import Gates

router = guarded_router(prefix="/v1/admin", tags=["admin"])


@router.post("/close-all", responses=declares(ENGINE_DOWN))
async def close_all(
    trading: TradingDep,
    wait_for_venue: VenueWaitDep,
    key: CallerDep,
    trace_id: TraceIdDep,
    body: Annotated[CloseAllIn | None, Body()] = None,
) -> CloseAllOut:
    """Cancel every open order and flatten every position (of one account, or all).

    Answers once the venue has answered each request, or the API wait is over.
    """
    body = body or CloseAllIn()
    result = await trading.close_all(
        CloseAll(
            account=body.account,
            reason=body.reason,
            trace_id=trace_id,
            actor=f"key:{key.key_id}",
        )
    )
    canceled = await asyncio.gather(*(wait_for_venue(v.order_id) for v in result.canceled))
    closing = await asyncio.gather(*(wait_for_venue(v.order_id) for v in result.closing))
    return CloseAllOut(
        canceled=[OrderOut.of(v) for v in canceled],
        closing=[OrderOut.of(v) for v in closing],
    )


class GateOut(BaseModel):
    account: str | None
    symbol: str | None
    state: str | None = None
    cause: str | None = None
    reason: str
    actor: str | None = None
    since: datetime


class GatesOut(BaseModel):
    trading_states: list[GateOut]
    dirty: list[GateOut]
    armed: list[dict[str, str]]


def gates_out(gates: Gates) -> GatesOut:
    return GatesOut(
        trading_states=[
            GateOut(
                account=g.account,
                symbol=g.symbol,
                state=g.state,
                reason=g.reason,
                actor=g.actor,
                since=iso(g.ts),
            )
            for g in gates.trading_states
        ],
        dirty=[
            GateOut(
                account=d.account, symbol=d.symbol, cause=d.cause, reason=d.detail, since=iso(d.ts)
            )
            for d in gates.dirty
        ],
        armed=[{"account": a.account, "venue": a.venue, "actor": a.actor} for a in gates.armed],
    )


class TradingStateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: Name | None = None
    symbol: Name | None = None
    state: TradingState
    reason: str = Field(min_length=1, max_length=500, pattern=NAME_PATTERN)


@router.get("/state")
async def get_state(trading: TradingDep) -> GatesOut:
    """Trading states (ACTIVE is the absence of one), dirty instruments, armed accounts."""
    return gates_out(trading.gates)


@router.post("/state", responses=declares(ENGINE_DOWN))
async def set_state(trading: TradingDep, key: CallerDep, body: TradingStateIn) -> GatesOut:
    """Set ACTIVE, REDUCING (SAFE mode: cancels and reduce-only) or HALTED (kill switch:
    cancels only) for an account, an instrument (all accounts), or both. Journaled with
    the key that set it and why."""
    gates = await trading.set_trading_state(
        SetTradingState(
            state=body.state,
            reason=body.reason,
            actor=f"key:{key.key_id}",
            account=body.account,
            symbol=body.symbol,
        )
    )
    return gates_out(gates)


class ArmIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: Name
    venue: Name
    confirmation: str = Field(
        pattern=f"^ARM {NAME_BODY} ON {NAME_BODY}$",
        description="exactly `ARM <account> ON <venue>`, repeating the two fields",
    )


@router.post("/arm", responses=declares(WRONG_VENUE, ARM_CONFIRMATION, ENGINE_DOWN))
async def arm(trading: TradingDep, key: CallerDep, body: ArmIn) -> GatesOut:
    """Arm live trading for an account: until then a live venue takes no new orders."""
    gates = await trading.arm(
        ArmTrading(body.account, body.venue, body.confirmation, f"key:{key.key_id}")
    )
    return gates_out(gates)


class ClearIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    account: Name
    symbol: Name | None = None
    reason: str = Field(min_length=1, max_length=500, pattern=TEXT_PATTERN)


@router.post("/clear-dirty", responses=declares(ENGINE_DOWN))
async def clear_dirty(trading: TradingDep, key: CallerDep, body: ClearIn) -> GatesOut:
    """Vouch for an account's positions (or one instrument's) without a reconciliation."""
    gates = await trading.clear_dirty(
        ClearDirty(body.account, body.reason, f"key:{key.key_id}", body.symbol)
    )
    return gates_out(gates)
