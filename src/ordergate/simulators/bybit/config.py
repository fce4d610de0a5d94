"""What a simulated Bybit account trades and how the simulator behaves.

The instruments are Bybit's USDT linear perpetuals with the terms Bybit lists for them
(tick, quantity step, limits, fees of a non-VIP account); the leverage is the one the
account trades at, and it sets the paper engine's margin rate (1 / leverage).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ONE, ZERO
from ordergate.matching import ExecutionRules

DEFAULT_API_KEY: Final = "ordergate-sim-key"
DEFAULT_API_SECRET: Final = "ordergate-sim-secret"
DEFAULT_PORT: Final = 8300
# Bybit's per-account limits (requests per second per endpoint) for the endpoints
# served here; an endpoint absent from the table is not limited.
DEFAULT_RATE_LIMITS: Final[Mapping[str, int]] = {
    "/v5/order/create": 10,
    "/v5/order/amend": 10,
    "/v5/order/cancel": 10,
    "/v5/order/cancel-all": 10,
    "/v5/order/realtime": 50,
    "/v5/order/history": 50,
    "/v5/execution/list": 50,
    "/v5/position/list": 50,
    "/v5/account/wallet-balance": 50,
    "/v5/account/fee-rate": 10,
    "/v5/account/info": 50,
    "/v5/user/query-api": 10,
}

MarketMode = Literal["manual", "replay"]


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """One linear perpetual as `/v5/market/instruments-info` lists it."""

    symbol: str
    base_coin: str
    symbol_id: int
    tick_size: Decimal
    price_scale: int
    min_price: Decimal
    max_price: Decimal
    qty_step: Decimal
    min_order_qty: Decimal
    max_order_qty: Decimal
    max_market_order_qty: Decimal
    launch_time_ms: int
    quote_coin: str = "USDT"
    min_notional: Decimal = Decimal(5)
    max_leverage: Decimal = Decimal(100)
    leverage: Decimal = Decimal(10)
    maintenance_margin_rate: Decimal = Decimal("0.005")
    maker_fee_rate: Decimal = Decimal("0.0002")
    taker_fee_rate: Decimal = Decimal("0.00055")

    def __post_init__(self) -> None:
        if not ONE <= self.leverage <= self.max_leverage:
            raise InvalidRequest(f"{self.symbol}: leverage must be in [1, {self.max_leverage}]")
        if self.min_order_qty <= ZERO or self.max_market_order_qty > self.max_order_qty:
            raise InvalidRequest(f"{self.symbol}: inconsistent quantity limits")

    @property
    def qty_scale(self) -> int:
        """Decimal places of a quantity on the step grid (Bybit prints quantities so)."""
        exponent = self.qty_step.normalize().as_tuple().exponent
        assert isinstance(exponent, int)  # a finite step
        return max(-exponent, 0)

    def instrument(self) -> Instrument:
        """The paper engine's view: the same grid, fees, and margin at this leverage.

        The minimum notional is left to the simulator, which (as Bybit) exempts
        reduce-only orders from it; the engine would refuse them.
        """
        return Instrument(
            symbol=self.symbol,
            base_currency=self.base_coin,
            quote_currency=self.quote_coin,
            tick_size=self.tick_size,
            lot_step=self.qty_step,
            min_qty=self.min_order_qty,
            min_notional=ZERO,
            max_qty=self.max_order_qty,
            contract_size=ONE,
            margin_rate=ONE / self.leverage,
            maker_fee_rate=self.maker_fee_rate,
            taker_fee_rate=self.taker_fee_rate,
        )


BTCUSDT: Final = InstrumentSpec(
    symbol="BTCUSDT",
    base_coin="BTC",
    symbol_id=1,
    tick_size=Decimal("0.10"),
    price_scale=2,
    min_price=Decimal("0.10"),
    max_price=Decimal("1999999.80"),
    qty_step=Decimal("0.001"),
    min_order_qty=Decimal("0.001"),
    max_order_qty=Decimal("1190.000"),
    max_market_order_qty=Decimal("119.000"),
    launch_time_ms=1_584_230_400_000,
)
ETHUSDT: Final = InstrumentSpec(
    symbol="ETHUSDT",
    base_coin="ETH",
    symbol_id=2,
    tick_size=Decimal("0.01"),
    price_scale=2,
    min_price=Decimal("0.01"),
    max_price=Decimal("199999.98"),
    qty_step=Decimal("0.01"),
    min_order_qty=Decimal("0.01"),
    max_order_qty=Decimal("7240.00"),
    max_market_order_qty=Decimal("724.00"),
    launch_time_ms=1_615_766_400_000,
)
DEFAULT_INSTRUMENTS: Final = (BTCUSDT, ETHUSDT)


def _default_balances() -> dict[str, Decimal]:
    return {"USDT": Decimal(100_000)}


@dataclass(frozen=True, slots=True)
class SimulatorConfig:
    """How to build a simulator; every field has a default that runs as-is.

    - `market`: "manual" (tests move prices with `set_quote`) or "replay" (the bundled
      BTCUSDT 1-minute bars, looped, `replay_bars_per_second` bars a second).
    - `execution_rules`: the paper engine's fill rules per symbol (slippage, the
      passive quantity a resting order may fill per market step).
    - `seed`: ids and fault probabilities derive from it, so runs repeat.
    - `rate_limits`: requests per rolling second per endpoint path.
    - `withhold_seconds`: how long a response withheld by a fault is held back (the
      order is executed at once; the client is meant to time out first).
    - `clock`: wall time in ns: timestamps, the recv window and rate limits read it.
    """

    api_key: str = DEFAULT_API_KEY
    api_secret: str = DEFAULT_API_SECRET
    balances: Mapping[str, Decimal] = field(default_factory=_default_balances)
    market: MarketMode = "manual"
    instruments: tuple[InstrumentSpec, ...] = DEFAULT_INSTRUMENTS
    execution_rules: Mapping[str, ExecutionRules] = field(default_factory=dict)
    replay_bars_per_second: float = 2.0
    seed: int = 0
    rate_limits: Mapping[str, int] = field(default_factory=lambda: dict(DEFAULT_RATE_LIMITS))
    withhold_seconds: float = 30.0
    clock: Callable[[], int] = time.time_ns

    def __post_init__(self) -> None:
        if not self.api_key or not self.api_secret:
            raise InvalidRequest("the simulator needs a non-empty api key and secret")
        if self.market not in ("manual", "replay"):
            raise InvalidRequest(f"market must be 'manual' or 'replay', not {self.market!r}")
        if self.replay_bars_per_second <= 0:
            raise InvalidRequest("replay_bars_per_second must be positive")
        if any(limit <= 0 for limit in self.rate_limits.values()):
            raise InvalidRequest("rate limits must be positive")
        symbols = [spec.symbol for spec in self.instruments]
        if not symbols or len(set(symbols)) != len(symbols):
            raise InvalidRequest("instruments must be non-empty with distinct symbols")
        unknown = sorted(set(self.execution_rules) - set(symbols))
        if unknown:
            raise InvalidRequest(f"execution rules for unknown symbols: {unknown}")
        if any(amount < ZERO for amount in self.balances.values()):
            raise InvalidRequest("balances must not be negative")
