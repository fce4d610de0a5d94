"""`OrdergateEngine`: seed 004's blocking `ExecutionEngine` over an embedded ordergate.

It runs an `AsyncOrdergateEngine` on an event loop of its own, in a background thread,
and blocks on each call, as `BlockingOms` runs `Oms`: one implementation, two faces.
Seed 004's code calls it as it called its own engines:

    engine = connect(engine="paper")
    engine.submit_order(UnifiedOrderRequest("EURUSD", OrderSide.BUY, 0.1))
    engine.disconnect()
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from ordergate.config.settings import Settings
from ordergate.domain.errors import EngineStopped
from ordergate.domain.values import OrderType
from ordergate.engine.target_views import TargetView
from ordergate.unified.engine import AsyncOrdergateEngine
from ordergate.unified.engines import settings_for
from ordergate.unified.numbers import NumberIn
from ordergate.unified.vocabulary import (
    UnifiedAccountState,
    UnifiedInstrument,
    UnifiedOrderRequest,
    UnifiedOrderResult,
    UnifiedPosition,
    UnifiedQuote,
)

T = TypeVar("T")


class OrdergateEngine:
    """Seed 004's `ExecutionEngine`, blocking, over an embedded ordergate.

    `connect()` starts ordergate on a background thread (a second call does nothing);
    `disconnect()` stops it. Also a context manager. See `AsyncOrdergateEngine` for
    `strategy` and `wait_for_venue`.
    """

    def __init__(
        self, settings: Settings, *, strategy: str | None = None, wait_for_venue: bool = True
    ) -> None:
        self.engine = AsyncOrdergateEngine(
            settings, strategy=strategy, wait_for_venue=wait_for_venue
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    @property
    def settings(self) -> Settings:
        return self.engine.settings

    @property
    def connected(self) -> bool:
        return self._loop is not None

    def connect(self) -> None:
        """Start ordergate on a background event loop; a second call does nothing."""
        with self._lock:
            if self._loop is not None:
                return
            loop = asyncio.new_event_loop()
            thread = threading.Thread(
                target=loop.run_forever, name="ordergate-unified", daemon=True
            )
            thread.start()
            try:
                asyncio.run_coroutine_threadsafe(self.engine.connect(), loop).result()
            except BaseException:
                _stop(loop, thread)
                raise
            self._loop, self._thread = loop, thread

    def disconnect(self) -> None:
        """Stop ordergate, then its loop and thread; idempotent."""
        with self._lock:
            loop, thread = self._loop, self._thread
            if loop is None or thread is None:
                return
            self._loop = self._thread = None
            try:
                asyncio.run_coroutine_threadsafe(self.engine.disconnect(), loop).result()
            finally:
                _stop(loop, thread)

    def __enter__(self) -> OrdergateEngine:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.disconnect()

    def call(self, function: Callable[[AsyncOrdergateEngine], Coroutine[Any, Any, T]]) -> T:
        """Run `function(async_engine)` on the engine's loop and block for its answer: the
        door to what only the async engine (or the `Oms` under it) offers."""
        loop = self._loop
        if loop is None:
            raise EngineStopped("connect() the engine before calling it")
        return asyncio.run_coroutine_threadsafe(function(self.engine), loop).result()

    # --- the seed's interface ---------------------------------------------------------------

    def get_account_state(self) -> UnifiedAccountState:
        """As `AsyncOrdergateEngine.get_account_state`."""
        return self.call(lambda e: e.get_account_state())

    def get_positions(self) -> list[UnifiedPosition]:
        """As `AsyncOrdergateEngine.get_positions`."""
        return self.call(lambda e: e.get_positions())

    def submit_order(self, order: UnifiedOrderRequest) -> UnifiedOrderResult:
        """As `AsyncOrdergateEngine.submit_order`."""
        return self.call(lambda e: e.submit_order(order))

    def close_position(self, symbol: str, quantity: NumberIn | None = None) -> UnifiedOrderResult:
        """As `AsyncOrdergateEngine.close_position`."""
        return self.call(lambda e: e.close_position(symbol, quantity))

    def close_all(self) -> list[UnifiedOrderResult]:
        """As `AsyncOrdergateEngine.close_all`."""
        return self.call(lambda e: e.close_all())

    # --- beyond the seed --------------------------------------------------------------------

    def cancel_order(self, order_id: str) -> UnifiedOrderResult:
        """As `AsyncOrdergateEngine.cancel_order`."""
        return self.call(lambda e: e.cancel_order(order_id))

    def get_order(self, order_id: str) -> UnifiedOrderResult | None:
        """As `AsyncOrdergateEngine.get_order`."""
        return self.call(lambda e: e.get_order(order_id))

    def get_quote(self, symbol: str) -> UnifiedQuote | None:
        """As `AsyncOrdergateEngine.get_quote`."""
        return self.call(lambda e: e.get_quote(symbol))

    def get_quotes(self, symbols: Iterable[str] | None = None) -> dict[str, UnifiedQuote]:
        """As `AsyncOrdergateEngine.get_quotes`."""
        return self.call(lambda e: e.get_quotes(symbols))

    def get_instrument(self, symbol: str) -> UnifiedInstrument:
        """As `AsyncOrdergateEngine.get_instrument`."""
        return self.call(lambda e: e.get_instrument(symbol))

    def symbols(self) -> list[str]:
        """As `AsyncOrdergateEngine.symbols`."""
        return self.call(lambda e: e.symbols())

    def market_time_ns(self) -> int:
        """As `AsyncOrdergateEngine.market_time_ns`."""
        return self.call(lambda e: e.market_time_ns())

    def set_targets(
        self,
        targets: Mapping[str, NumberIn],
        *,
        order_type: OrderType = OrderType.MARKET,
        idempotency_key: str | None = None,
    ) -> list[UnifiedOrderResult]:
        """As `AsyncOrdergateEngine.set_targets`."""
        return self.call(
            lambda e: e.set_targets(targets, order_type=order_type, idempotency_key=idempotency_key)
        )

    def step_market(self) -> bool | None:
        """As `AsyncOrdergateEngine.step_market`."""
        return self.call(lambda e: e.step_market())

    def targets(self) -> list[TargetView]:
        """As `AsyncOrdergateEngine.targets`."""
        return self.call(lambda e: e.targets())


def _stop(loop: asyncio.AbstractEventLoop, thread: threading.Thread) -> None:
    loop.call_soon_threadsafe(loop.stop)
    thread.join()
    loop.close()


def connect(
    engine: str | None = None,
    mode: str | None = None,
    *,
    strategy: str | None = None,
    wait_for_venue: bool = True,
    **overrides: Any,
) -> OrdergateEngine:
    """A connected `OrdergateEngine` on `engine` (`paper`, `bybit-sim`,
    `ccxt:<exchange>`) in `mode` (`live`, `shadow`, `dry-run`).

    Settings come from the environment and `.env` as `ordergate serve` reads them;
    `overrides` set any `Settings` field by name (`db=":memory:"`). `engine` and `mode`
    None: as the environment says (by default `paper`, `live`). Raise
    `ConfigurationError` for an unknown engine or settings that cannot be used.
    """
    client = OrdergateEngine(
        settings_for(engine, mode, **overrides), strategy=strategy, wait_for_venue=wait_for_venue
    )
    client.connect()
    return client
