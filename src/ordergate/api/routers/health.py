"""/health, /live, /ready."""

from __future__ import annotations

from fastapi import APIRouter, Response, status

from ordergate.api.deps import AppDep
from ordergate.api.schemas import HealthOut, iso
from ordergate.app.cluster.engines import ClusterEngines

router = APIRouter(tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get("/ready")
async def ready(app: AppDep, response: Response) -> dict[str, str]:
    """The engine runs and accepts commands."""
    if not app.engine.running:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "not ready"}
    return {"status": "ready"}


@router.get("/health")
async def health(app: AppDep, response: Response) -> HealthOut:
    running = app.engine.running
    if not running:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    engine = app.engine
    market_time = app.clock.now_ns()
    cluster = engine if isinstance(engine, ClusterEngines) else None
    return HealthOut(
        status="ok" if running else "failed",
        engine_running=running,
        venue=app.venue_name,
        market_time=iso(market_time) if market_time > 0 else None,
        journal_events=engine.event_count,
        orders=engine.order_count,
        open_orders=engine.open_order_count,
        node=None if cluster is None else cluster.node_id,
        partitions=None if cluster is None else cluster.running_partitions,
    )
