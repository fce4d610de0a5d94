"""The public API is `ordergate.__all__`: this test fails when it drifts.

Adding or removing a public name is a decision: change `EXPECTED` with it. Modelled on
httpx's tests/test_exported_members.py; the names load lazily, so the check resolves each
one instead of reading the module's namespace.
"""

from __future__ import annotations

import inspect
import subprocess
import sys

import ordergate
import ordergate.unified
from ordergate.domain import errors

EXPECTED = frozenset(
    {
        # the Python API and its settings
        "Oms",
        "BlockingOms",
        "Settings",
        # the same calls to a running server, over its REST API
        "AsyncClient",
        "Client",
        # values passed in and answered
        "Side",
        "OrderType",
        "TimeInForce",
        "OrderStatus",
        "LiquiditySide",
        "TradingState",
        "ReasonCode",
        "OrderView",
        "FillView",
        "PositionView",
        "BalanceView",
        "Page",
        "Preview",
        "CloseAllResult",
        "CurrencyMargin",
        "JournaledEvent",
        # seed 004's unified interface (ordergate.unified)
        "OrderSide",
        "UnifiedOrderRequest",
        "UnifiedOrderResult",
        "UnifiedPosition",
        "UnifiedAccountState",
        "ExecutionEngine",
        "OrdergateEngine",
        "AsyncOrdergateEngine",
        # the one error hierarchy
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
    }
)


def test_public_api_all_is_the_expected_names_sorted_once() -> None:
    assert set(ordergate.__all__) == EXPECTED
    assert ordergate.__all__ == sorted(set(ordergate.__all__))


# Names that are another exported name on purpose: seed 004's `OrderSide` is `Side`.
ALIASES = {"OrderSide": "Side"}


def test_public_api_every_name_resolves_to_an_object_of_ours() -> None:
    for name in ordergate.__all__:
        value = getattr(ordergate, name)
        assert value.__name__ == ALIASES.get(name, name), name
        assert value.__module__.startswith("ordergate."), (name, value.__module__)


def test_public_api_aliases_are_the_same_class() -> None:
    for alias, name in ALIASES.items():
        assert getattr(ordergate, alias) is getattr(ordergate, name)
    assert ordergate.unified.OrderType is ordergate.OrderType


def test_public_api_unified_vocabulary_loads_no_adapter() -> None:
    """A strategy module that only names seed 004's types does not start the engine's
    stack: the engines of `ordergate.unified` load on first use."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ordergate; ordergate.UnifiedOrderRequest; ordergate.ExecutionEngine; "
            "import ordergate.unified; ordergate.unified.OrderSide; "
            "print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    heavy = {"ccxt", "fastapi", "aio_pika", "asyncpg", "ordergate.app", "ordergate.oms"}
    assert not heavy & set(loaded)


def test_public_api_unknown_name_is_an_attribute_error() -> None:
    assert not hasattr(ordergate, "Engine")
    assert set(ordergate.__all__) <= set(dir(ordergate))


def test_public_api_exports_the_whole_error_hierarchy() -> None:
    classes = {
        name
        for name, value in vars(errors).items()
        if inspect.isclass(value) and issubclass(value, errors.OrderGateError)
    }
    assert classes <= set(ordergate.__all__)


def test_public_api_import_loads_no_adapter() -> None:
    """`import ordergate` and a value type stay cheap: no venue library, no web server."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ordergate; ordergate.Side; ordergate.OrderGateError; "
            "print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    heavy = {"ccxt", "fastapi", "aio_pika", "asyncpg", "ordergate.app", "ordergate.store"}
    assert not heavy & set(loaded)


def test_public_api_client_loads_no_adapter_and_no_server() -> None:
    """A bot that only talks to a server pays for httpx, not for the server's stack."""
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, ordergate; ordergate.Client; ordergate.AsyncClient; "
            "print(' '.join(sorted(sys.modules)))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    heavy = {"ccxt", "fastapi", "uvicorn", "aio_pika", "asyncpg", "ordergate.app", "ordergate.api"}
    assert not heavy & set(loaded)
