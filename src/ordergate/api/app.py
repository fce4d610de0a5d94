"""The FastAPI application: routers over one `Application` built at start-up."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from ordergate.api.errors import install_error_handlers
from ordergate.api.routers import admin, fills, health, orders, paper, positions
from ordergate.bootstrap import build
from ordergate.settings import Settings


def create_app(settings: Settings) -> FastAPI:
    """Build the app; the engine starts with it (lifespan) and stops with it."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        application = await build(settings)
        app.state.application = application
        try:
            yield
        finally:
            await application.aclose()

    app = FastAPI(
        title="ordergate",
        version="0.1.0",
        summary="An order management system for trading bots.",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    for module in (orders, fills, positions, admin, paper, health):
        app.include_router(module.router)
    return app
