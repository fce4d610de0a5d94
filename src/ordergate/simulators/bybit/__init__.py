"""A Bybit v5 venue simulator that the real ccxt `bybit` class trades against unchanged.

    sim = BybitSimulator(SimulatorConfig(balances={"USDT": Decimal(100_000)}))
    await sim.start()                       # 127.0.0.1, a free port
    exchange = ccxt.pro.bybit(ccxt_settings(sim))
    sim.set_quote("BTCUSDT", bid=Decimal("50000"), ask=Decimal("50000.1"))
    ...
    await exchange.close()
    await sim.stop()

It serves REST (`/v5/...`: market data, orders, executions, positions, the unified
wallet, coin information, signed and rate limited as Bybit does), the private websocket
(`/v5/private`: `order`, `execution`, `position`, `wallet`), the trade websocket
(`/v5/trade`: `order.create|amend|cancel`) and control routes (`/sim/...`); matching is
the paper venue's engine. Orders are plain or conditional (`triggerPrice`: worked by the
engine's stop rule, `Untriggered` -> `Triggered` -> the plain order's statuses, see
`conditional`). No public websocket: ccxt needs none for trading and account
streams. Faults (latency, 5xx, rate limits, lost responses, answers and messages that
are not JSON, truncated or oversized, websocket drops, duplicates, reordering, withheld
messages) are set per test on `sim.faults`.
"""

from ordergate.simulators.bybit.ccxt_settings import RemoteSimulator, ccxt_settings
from ordergate.simulators.bybit.config import (
    DEFAULT_API_KEY,
    DEFAULT_API_SECRET,
    DEFAULT_INSTRUMENTS,
    DEFAULT_PORT,
    DEFAULT_RATE_LIMITS,
    InstrumentSpec,
    SimulatorConfig,
)
from ordergate.simulators.bybit.errors import RetCode
from ordergate.simulators.bybit.faults import FaultKind, FaultPlan, FaultRule, FiredFault
from ordergate.simulators.bybit.records import (
    CoinRecord,
    ExecutionRecord,
    OrderRecord,
    OrderStatus,
    PositionRecord,
    TimeInForce,
    Trigger,
    TriggerBy,
    TriggerDirection,
    WalletRecord,
)
from ordergate.simulators.bybit.server import BybitSimulator
from ordergate.simulators.bybit.signing import rest_signature, ws_auth_signature

__all__ = [
    "DEFAULT_API_KEY",
    "DEFAULT_API_SECRET",
    "DEFAULT_INSTRUMENTS",
    "DEFAULT_PORT",
    "DEFAULT_RATE_LIMITS",
    "BybitSimulator",
    "CoinRecord",
    "ExecutionRecord",
    "FaultKind",
    "FaultPlan",
    "FaultRule",
    "FiredFault",
    "InstrumentSpec",
    "OrderRecord",
    "OrderStatus",
    "PositionRecord",
    "RemoteSimulator",
    "RetCode",
    "SimulatorConfig",
    "TimeInForce",
    "Trigger",
    "TriggerBy",
    "TriggerDirection",
    "WalletRecord",
    "ccxt_settings",
    "rest_signature",
    "ws_auth_signature",
]
