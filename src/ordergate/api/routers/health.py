"""/health, /live, /ready."""

from __future__ import annotations

from fastapi import Response, status

from ordergate.api.deps import NodeDep, TradingDep, VenueNameDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.schemas import HealthOut, iso

router = guarded_router(tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={
        503: {
            "description": "the engine is not running",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {"status": {"type": "string"}},
                        "required": ["status"],
                    }
                }
            },
        }
    },
)
async def ready(trading: TradingDep, response: Response) -> dict[str, str]:
    """The engine runs and accepts commands."""
    if not trading.running:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "not ready"}
    return {"status": "ready"}


@router.get(
    "/health", responses={503: {"model": HealthOut, "description": "the engine is not running"}}
)
async def health(
    trading: TradingDep, node: NodeDep, venue_name: VenueNameDep, response: Response
) -> HealthOut:
    running = trading.running
    if not running:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    market_time = trading.now_ns()
    events_since_checkpoint, checkpoint_age = trading.checkpoint_lag
    return HealthOut(
        status="ok" if running else "failed",
        engine_running=running,
        venue=venue_name,
        market_time=iso(market_time) if market_time > 0 else None,
        journal_events=trading.event_count,
        orders=trading.order_count,
        open_orders=trading.open_order_count,
        retired_orders=trading.retired_order_count,
        events_since_checkpoint=events_since_checkpoint,
        checkpoint_age_seconds=None if checkpoint_age is None else round(checkpoint_age, 3),
        node=None if node is None else node.node_id,
        partitions=None if node is None else node.running_partitions,
    )
