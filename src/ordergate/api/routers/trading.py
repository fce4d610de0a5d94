"""/v1/health/trading, /v1/reconcile and the seed 002 /api/v1/sync."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from ordergate.api.deps import LimitsDep, TradingDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import ACCOUNT_NOT_FOUND, ENGINE_DOWN, declares
from ordergate.api.routers.admin import GatesOut, gates_out
from ordergate.api.routers.orders import Filter
from ordergate.api.schemas import iso
from ordergate.domain.errors import NotFound
from ordergate.engine.reconcile import ReconciliationReport, Scope

router = guarded_router(tags=["trading health"])


class FeedOut(BaseModel):
    symbol: str
    last_update: datetime | None
    age_ms: int | None
    stale_after_ms: int | None
    stale: bool


class ReconciledOut(BaseModel):
    account: str
    at: datetime
    diffs: list[str]


class TradingHealthOut(BaseModel):
    trading_open: bool
    engine_running: bool
    venue: str
    venue_live: bool
    closed_gates: list[str]
    gates: GatesOut
    feeds: list[FeedOut]
    last_reconciliation: list[ReconciledOut]


@router.get("/v1/health/trading")
async def trading_health(trading: TradingDep, limits: LimitsDep) -> TradingHealthOut:
    """Every gate in front of new risk, and why each closed one is closed."""
    engine = trading
    gates = engine.gates
    now = trading.now_ns()
    closed: list[str] = []
    if not engine.running:
        closed.append("engine: stopped")
    if (halt := engine.venue_halt()) is not None:
        closed.append(f"venue: {halt}")
    closed += [
        f"{g.state} {g.account or '*'}/{g.symbol or '*'}: {g.reason} ({g.actor})"
        for g in gates.trading_states
    ]
    closed += [f"dirty {d.account}/{d.symbol or '*'}: {d.cause}: {d.detail}" for d in gates.dirty]
    feeds = []
    for symbol in sorted(engine.instruments):
        quote = trading.quote(symbol)
        stale_after = limits.resolve(None, symbol, None).feed_stale_after_ms
        age = None if quote is None else max(0, (now - quote.ts) // 1_000_000)
        stale = stale_after is not None and (age is None or age > stale_after)
        if stale:
            closed.append(f"feed {symbol}: no price for {age} ms (limit {stale_after} ms)")
        feeds.append(
            FeedOut(
                symbol=symbol,
                last_update=None if quote is None else iso(quote.ts),
                age_ms=age,
                stale_after_ms=stale_after,
                stale=stale,
            )
        )
    return TradingHealthOut(
        trading_open=not closed,
        engine_running=engine.running,
        venue=engine.venue_name,
        venue_live=engine.venue_live,
        closed_gates=closed,
        gates=gates_out(gates),
        feeds=feeds,
        last_reconciliation=[
            ReconciledOut(account=r.account, at=iso(r.ts), diffs=list(r.diffs))
            for r in gates.reconciliations
        ],
    )


class DiffOut(BaseModel):
    kind: str
    symbol: str
    detail: str
    client_order_id: str | None
    ours: str | None
    venue: str | None


class ReportOut(BaseModel):
    account: str
    scope: str
    agreed: bool
    diffs: list[DiffOut]
    actions: list[str]

    @classmethod
    def of(cls, report: ReconciliationReport) -> ReportOut:
        return cls(
            account=report.account,
            scope=report.scope,
            agreed=report.agreed,
            diffs=[
                DiffOut(
                    kind=d.kind,
                    symbol=d.symbol,
                    detail=d.detail,
                    client_order_id=d.client_order_id,
                    ours=d.ours,
                    venue=d.venue,
                )
                for d in report.diffs
            ],
            actions=report.actions,
        )


@router.post("/v1/reconcile", responses=declares(ACCOUNT_NOT_FOUND, ENGINE_DOWN))
async def reconcile(
    trading: TradingDep, account: Filter = None, scope: Scope = Scope.ALL
) -> list[ReportOut]:
    """Compare open orders, fills and positions with the venue now, and apply the policy."""
    if account is not None and account not in trading.accounts:
        raise NotFound(f"account {account!r} is not known", code="ACCOUNT_NOT_FOUND")
    reports = await trading.reconcile_accounts(None if account is None else [account], scope)
    return [ReportOut.of(r) for r in reports]


@router.post("/api/v1/sync", responses=declares(ENGINE_DOWN))
async def sync(trading: TradingDep, scope: Scope = Scope.ORDERS) -> list[ReportOut]:
    """Seed 002's manual synchronization: `scope=orders|positions|all`."""
    reports = await trading.reconcile_accounts(None, scope)
    return [ReportOut.of(r) for r in reports]
