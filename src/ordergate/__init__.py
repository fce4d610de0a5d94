"""ordergate: an order management system for trading bots.

The Python API, for a strategy that embeds ordergate in its own process::

    from decimal import Decimal
    from ordergate import Oms, Settings, Side

    async with Oms(Settings(db="bot.db")) as oms:
        order = await oms.place("BTCUSDT", Side.BUY, Decimal("0.01"), idempotency_key="k1")

`BlockingOms` offers the same calls to synchronous code. `AsyncClient` and `Client` make
the same calls to a running server over its REST API::

    async with AsyncClient("http://127.0.0.1:8000", api_key=KEY) as oms:
        order = await oms.place("BTCUSDT", Side.BUY, Decimal("0.01"))

Seed 004's unified interface (`ordergate.unified`: `UnifiedOrderRequest`, `OrderSide`, the
`ExecutionEngine` Protocol, `OrdergateEngine` from `ordergate.unified.connect(...)`) runs
code written against that seed on any venue ordergate trades.

Everything a caller of that API
needs is exported here: the entry points, the settings, the value types it passes and
gets back, and the one error hierarchy (`OrderGateError` and its subclasses). Names are
imported on first use, so `import ordergate` stays cheap: the adapters behind `Oms`
(ccxt among them) load only when `Oms` is first used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ordergate.client import AsyncClient, Client
    from ordergate.config.settings import Settings
    from ordergate.domain.accounts import CurrencyMargin
    from ordergate.domain.errors import (
        AccessDenied,
        AmbiguousVenueError,
        BusError,
        BusUnavailable,
        CheckpointUnreadable,
        ConfigurationError,
        Conflict,
        ConflictingSettings,
        DuplicateFill,
        EngineStopped,
        EventPublishFailed,
        HeadersTooLarge,
        IdempotencyConflict,
        InsufficientScope,
        InvalidApiKey,
        InvalidRequest,
        InvalidTransition,
        JournalCorrupted,
        JournalError,
        JournalFenced,
        MalformedRequest,
        MissingApiKey,
        NotFound,
        OrderGateError,
        PartitionNotOwned,
        PayloadTooLarge,
        RateLimited,
        RejectedByVenue,
        RequestTimedOut,
        RestoreRefused,
        RetryableVenueError,
        ServerBusy,
        ServerUnreachable,
        UnknownSetting,
        VenueError,
    )
    from ordergate.domain.reasons import ReasonCode
    from ordergate.domain.values import (
        LiquiditySide,
        OrderStatus,
        OrderType,
        Side,
        TimeInForce,
        TradingState,
    )
    from ordergate.engine.placement import Preview
    from ordergate.engine.queries import Page
    from ordergate.engine.results import CloseAllResult
    from ordergate.engine.subscriptions import JournaledEvent
    from ordergate.engine.views import BalanceView, FillView, OrderView, PositionView
    from ordergate.oms import BlockingOms, Oms
    from ordergate.unified import (
        AsyncOrdergateEngine,
        ExecutionEngine,
        OrdergateEngine,
        OrderSide,
        UnifiedAccountState,
        UnifiedOrderRequest,
        UnifiedOrderResult,
        UnifiedPosition,
    )

_HOMES: dict[str, str] = {
    "Oms": "ordergate.oms",
    "BlockingOms": "ordergate.oms",
    "AsyncClient": "ordergate.client",
    "Client": "ordergate.client",
    "Settings": "ordergate.config.settings",
    "Side": "ordergate.domain.values",
    "OrderType": "ordergate.domain.values",
    "TimeInForce": "ordergate.domain.values",
    "OrderStatus": "ordergate.domain.values",
    "LiquiditySide": "ordergate.domain.values",
    "TradingState": "ordergate.domain.values",
    "ReasonCode": "ordergate.domain.reasons",
    "CurrencyMargin": "ordergate.domain.accounts",
    "OrderView": "ordergate.engine.views",
    "FillView": "ordergate.engine.views",
    "PositionView": "ordergate.engine.views",
    "BalanceView": "ordergate.engine.views",
    "Page": "ordergate.engine.queries",
    "Preview": "ordergate.engine.placement",
    "CloseAllResult": "ordergate.engine.results",
    "JournaledEvent": "ordergate.engine.subscriptions",
    # seed 004's unified interface (`OrderType` is ordergate's own, above)
    **dict.fromkeys(
        (
            "OrderSide",
            "UnifiedOrderRequest",
            "UnifiedOrderResult",
            "UnifiedPosition",
            "UnifiedAccountState",
            "ExecutionEngine",
            "OrdergateEngine",
            "AsyncOrdergateEngine",
        ),
        "ordergate.unified",
    ),
    **dict.fromkeys(
        (
            "OrderGateError",
            "InvalidRequest",
            "IdempotencyConflict",
            "AccessDenied",
            "MissingApiKey",
            "InvalidApiKey",
            "InsufficientScope",
            "NotFound",
            "RateLimited",
            "Conflict",
            "InvalidTransition",
            "DuplicateFill",
            "VenueError",
            "RetryableVenueError",
            "RejectedByVenue",
            "AmbiguousVenueError",
            "BusError",
            "BusUnavailable",
            "EventPublishFailed",
            "JournalError",
            "JournalCorrupted",
            "CheckpointUnreadable",
            "JournalFenced",
            "RestoreRefused",
            "EngineStopped",
            "PartitionNotOwned",
            "MalformedRequest",
            "PayloadTooLarge",
            "HeadersTooLarge",
            "RequestTimedOut",
            "ServerBusy",
            "ConfigurationError",
            "UnknownSetting",
            "ConflictingSettings",
            "ServerUnreachable",
        ),
        "ordergate.domain.errors",
    ),
}

__all__ = [
    "AccessDenied",
    "AmbiguousVenueError",
    "AsyncClient",
    "AsyncOrdergateEngine",
    "BalanceView",
    "BlockingOms",
    "BusError",
    "BusUnavailable",
    "CheckpointUnreadable",
    "Client",
    "CloseAllResult",
    "ConfigurationError",
    "Conflict",
    "ConflictingSettings",
    "CurrencyMargin",
    "DuplicateFill",
    "EngineStopped",
    "EventPublishFailed",
    "ExecutionEngine",
    "FillView",
    "HeadersTooLarge",
    "IdempotencyConflict",
    "InsufficientScope",
    "InvalidApiKey",
    "InvalidRequest",
    "InvalidTransition",
    "JournalCorrupted",
    "JournalError",
    "JournalFenced",
    "JournaledEvent",
    "LiquiditySide",
    "MalformedRequest",
    "MissingApiKey",
    "NotFound",
    "Oms",
    "OrderGateError",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "OrderView",
    "OrdergateEngine",
    "Page",
    "PartitionNotOwned",
    "PayloadTooLarge",
    "PositionView",
    "Preview",
    "RateLimited",
    "ReasonCode",
    "RejectedByVenue",
    "RequestTimedOut",
    "RestoreRefused",
    "RetryableVenueError",
    "ServerBusy",
    "ServerUnreachable",
    "Settings",
    "Side",
    "TimeInForce",
    "TradingState",
    "UnifiedAccountState",
    "UnifiedOrderRequest",
    "UnifiedOrderResult",
    "UnifiedPosition",
    "UnknownSetting",
    "VenueError",
]


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'ordergate' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
