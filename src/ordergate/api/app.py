"""The FastAPI application: routers over one `Application` built at start-up.

Every route needs an API key except `/health`, `/live`, `/ready` and the docs. Every
router is a `guarded_router()` (`ordergate.api.edge.guard`): the key, the body's limit
and the requests in flight are checked in front of each route, before FastAPI reads the
body.

Every request has a trace id, the caller's `X-Trace-Id` or a fresh one, bound to its logs
and given to the orders it places (see `ordergate.api.trace_ids`).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ordergate.api.auth import API_KEY_DEPENDENCIES, ApiAccess, install_api_keys
from ordergate.api.edge.guard import Edge
from ordergate.api.errors import install_error_handlers
from ordergate.api.openapi import install_openapi
from ordergate.api.routers import (
    admin,
    blotter,
    fills,
    health,
    order_manager,
    orders,
    paper,
    positions,
    risk,
    stream,
    targets,
    trading,
)
from ordergate.api.startup import StartupFailureMiddleware
from ordergate.api.trace_ids import TraceIdMiddleware
from ordergate.app.bootstrap import build
from ordergate.auth.ports import KeyStore
from ordergate.config.settings import Settings
from ordergate.domain.errors import OrderGateError


def create_app(settings: Settings, keys: KeyStore | None = None) -> FastAPI:
    """Build the app; the engine starts with it (lifespan) and stops with it.

    `keys`: the API key store (default: the one beside the journal).
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        try:
            application = await build(settings, keys)
        except OrderGateError as exc:
            app.state.startup_refused = exc  # reported in one line (`api.startup`)
            raise
        app.state.application = application
        app.state.edge = Edge(ApiAccess.of(application.keys, settings), settings)
        try:
            yield
        finally:
            await application.aclose()

    app = FastAPI(
        title="ordergate",
        version="0.1.0",
        summary="An order management system for trading bots.",
        lifespan=lifespan,
        dependencies=API_KEY_DEPENDENCIES,
    )
    install_error_handlers(app)
    install_api_keys(app)
    install_openapi(app, settings)
    app.add_middleware(TraceIdMiddleware)
    app.add_middleware(StartupFailureMiddleware)
    for module in (
        risk,
        orders,
        fills,
        positions,
        targets,
        admin,
        trading,
        paper,
        order_manager,
        health,
    ):
        app.include_router(module.router)
    app.include_router(stream.router)
    app.include_router(blotter.router)
    return app
