"""The dependencies routes declare, each typed for what the route needs: the trading
interface, the read models, the settings, the risk limits, the wait for the venue's
answer, the cluster node. Routes never see the whole `Application`.

Each is `async def`, though none awaits: FastAPI runs a plain `def` dependency on a
worker thread, and that hop cost about 15% of the event loop's time per order request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ordergate.app.application import Application, NodeStatus
from ordergate.app.observability import Observability
from ordergate.config.settings import Settings
from ordergate.domain.limits import LimitsBook
from ordergate.engine.queries import ReadModels
from ordergate.engine.trading import Trading
from ordergate.engine.views import OrderView


def _application(request: Request) -> Application:
    application: Application = request.app.state.application
    return application


async def get_trading(request: Request) -> Trading:
    return _application(request).trading


async def get_reads(request: Request) -> ReadModels:
    return _application(request).reads


async def get_settings(request: Request) -> Settings:
    return _application(request).settings


async def get_limits(request: Request) -> LimitsBook:
    return _application(request).limits


async def get_node(request: Request) -> NodeStatus | None:
    return _application(request).node


async def get_observability(request: Request) -> Observability | None:
    return _application(request).observability


async def get_venue_name(request: Request) -> str:
    return _application(request).venue_name


class VenueWait:
    """An order once its venue has answered its latest request, or as it is once
    `ORDERGATE_API_WAIT_MS` have passed."""

    def __init__(self, trading: Trading, timeout: float) -> None:
        self._trading = trading
        self._timeout = timeout

    async def __call__(self, order_id: str) -> OrderView:
        return await self._trading.wait_for_venue(order_id, self._timeout)


async def get_venue_wait(request: Request) -> VenueWait:
    application = _application(request)
    return VenueWait(application.trading, application.settings.api_wait_ms / 1000)


TradingDep = Annotated[Trading, Depends(get_trading)]
ReadsDep = Annotated[ReadModels, Depends(get_reads)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
LimitsDep = Annotated[LimitsBook, Depends(get_limits)]
NodeDep = Annotated["NodeStatus | None", Depends(get_node)]
VenueNameDep = Annotated[str, Depends(get_venue_name)]
ObservabilityDep = Annotated["Observability | None", Depends(get_observability)]
VenueWaitDep = Annotated[VenueWait, Depends(get_venue_wait)]
