"""/health, /live, /ready, /metrics.

`/ready` and `/health` probe every dependency afresh (the journal store, the broker when
one is configured, the venue connection), concurrently, each within
`ORDERGATE_HEALTH_PROBE_TIMEOUT_SECONDS`: a load balancer polling `/ready` learns of an
outage within its own interval, not the monitor's. `/metrics` renders the application's
own registry in Prometheus' text format; like the probes it needs no key and is served
on the admin listener too (decision 0019).
"""

from __future__ import annotations

from typing import Any

from fastapi import Response, status
from prometheus_client import CONTENT_TYPE_LATEST

from ordergate.api.deps import NodeDep, ObservabilityDep, TradingDep, VenueNameDep
from ordergate.api.edge.guard import guarded_router
from ordergate.api.schemas import DependencyOut, HealthOut, iso
from ordergate.app.observability import DependencyState, Observability

router = guarded_router(tags=["health"])


@router.get("/live")
async def live() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@router.get(
    "/ready",
    responses={
        503: {
            "description": "the engine is not running, or a dependency is down",
            "content": {
                "application/json": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "status": {"type": "string"},
                            "failing": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "properties": {
                                        "name": {"type": "string"},
                                        "reason": {"type": "string"},
                                    },
                                    "required": ["name", "reason"],
                                },
                            },
                        },
                        "required": ["status"],
                    }
                }
            },
        }
    },
)
async def ready(
    trading: TradingDep, observability: ObservabilityDep, response: Response
) -> dict[str, Any]:
    """The engine runs and accepts commands, and every dependency answers; else 503 with
    each failing one named with its reason."""
    failing: list[dict[str, str]] = []
    if not trading.running:
        failing.append({"name": "engine", "reason": "the engine is not running"})
    failing += [
        {"name": d.name, "reason": d.reason or "down"}
        for d in await _dependencies(observability)
        if not d.ok
    ]
    if failing:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
        return {"status": "not ready", "failing": failing}
    return {"status": "ready"}


@router.get(
    "/health", responses={503: {"model": HealthOut, "description": "the engine is not running"}}
)
async def health(
    trading: TradingDep,
    node: NodeDep,
    venue_name: VenueNameDep,
    observability: ObservabilityDep,
    response: Response,
) -> HealthOut:
    """The engine's figures and each dependency's state and probe latency; 503 when the
    engine is not running or a dependency is down."""
    running = trading.running
    dependencies = await _dependencies(observability)
    healthy = running and all(d.ok for d in dependencies)
    if not healthy:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    market_time = trading.now_ns()
    events_since_checkpoint, checkpoint_age = trading.checkpoint_lag
    return HealthOut(
        status="ok" if healthy else "failed",
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
        dependencies=[
            DependencyOut(
                name=d.name,
                state="up" if d.ok else "down",
                latency_ms=d.latency_ms,
                reason=d.reason,
            )
            for d in dependencies
        ],
    )


@router.get("/metrics", response_class=Response)
async def metrics(observability: ObservabilityDep) -> Response:
    """The metrics, in Prometheus' text format."""
    body = b"" if observability is None else observability.render()
    return Response(content=body, media_type=CONTENT_TYPE_LATEST)


async def _dependencies(observability: Observability | None) -> list[DependencyState]:
    return [] if observability is None else await observability.check()
