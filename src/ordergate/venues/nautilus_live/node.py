"""A NautilusTrader `TradingNode` with Bybit's execution client and the bridge strategy,
run as a task on ordergate's event loop.

Start-up, in order: build the node (without letting it take the loop's signals:
`host.loop_left_alone`); load the configured instruments with NautilusTrader's own
Bybit instrument provider (the one its execution client is given: NautilusTrader caches
both the HTTP client and the provider by their arguments) and put them in the node's
cache; then run the node. Loading first matters: a node without a data client never
caches instruments itself, and its reconciliation then drops every order and position
report it gets (logged at DEBUG) while saying it succeeded. The node runs until the
bridge strategy has started, which is after the client connected and reconciliation
ended; a node that stops before then is a failed start.

The node is execution-only: NautilusTrader 1.221.0's `BybitDataClientConfig` has no
public-stream URL (it is always Bybit's own), so it could not be pointed anywhere else;
prices come from Bybit's REST tickers instead (`reports.BybitAccount.quotes`).

Stopping: `stop_async`, then cancelling the run task and disposing of the kernel only:
`TradingNode.dispose` would stop the running loop, which is ordergate's. NautilusTrader's
Rust logging is set up once per process; a second node (a reconnect) logs through the
first one's set-up.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Any

from nautilus_trader.adapters.bybit import (
    BYBIT,
    BybitExecClientConfig,
    BybitLiveExecClientFactory,
    BybitProductType,
)
from nautilus_trader.adapters.bybit.factories import (
    get_bybit_http_client,
    get_bybit_instrument_provider,
)
from nautilus_trader.adapters.bybit.http.client import BybitHttpClient
from nautilus_trader.config import (
    InstrumentProviderConfig,
    LiveExecEngineConfig,
    LoggingConfig,
    TradingNodeConfig,
)
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import InstrumentId

from ordergate.domain.errors import RetryableVenueError
from ordergate.venues.nautilus_live.bridge import BridgeStrategy, bridge_config
from ordergate.venues.nautilus_live.config import NautilusLiveConfig
from ordergate.venues.nautilus_live.host import loop_left_alone

_PRODUCT_TYPES = [BybitProductType.LINEAR]
_START_POLL_SECONDS = 0.02


class BridgeNode:
    """One running `TradingNode` and its bridge; build a new one to reconnect."""

    def __init__(
        self,
        config: NautilusLiveConfig,
        loop: asyncio.AbstractEventLoop,
        sink: Callable[[Any], None],
    ) -> None:
        self._config = config
        exec_config = _exec_client_config(config)
        with loop_left_alone(loop):
            self.node = TradingNode(config=_node_config(config, exec_config), loop=loop)
        self.node.add_exec_client_factory(BYBIT, BybitLiveExecClientFactory)
        self.node.build()
        self.bridge = BridgeStrategy(bridge_config(list(config.instrument_ids)), loop, sink)
        self.node.trader.add_strategy(self.bridge)
        self.http: BybitHttpClient = get_bybit_http_client(
            clock=self.node.kernel.clock,
            key=exec_config.api_key,
            secret=exec_config.api_secret,
            base_url=exec_config.base_url_http,
            is_demo=exec_config.demo,
            is_testnet=exec_config.testnet,
            recv_window_ms=exec_config.recv_window_ms,
        )
        self._provider = get_bybit_instrument_provider(
            client=self.http,
            clock=self.node.kernel.clock,
            product_types=frozenset(_PRODUCT_TYPES),
            config=exec_config.instrument_provider,
        )
        self._task: asyncio.Task[None] | None = None

    @property
    def cache(self) -> Any:
        return self.node.kernel.cache

    @property
    def clock(self) -> Any:
        return self.node.kernel.clock

    def instrument(self, instrument_id: str) -> Any:
        """NautilusTrader's instrument (None: not loaded)."""
        return self.cache.instrument(InstrumentId.from_str(instrument_id))

    async def start(self) -> None:
        """Load the instruments, run the node, and wait until the bridge runs."""
        await self._provider.initialize()
        for nt_instrument in self._provider.list_all():
            self.cache.add_instrument(nt_instrument)
        for currency in self._provider.currencies().values():
            self.cache.add_currency(currency)
        missing = [i for i in self._config.instrument_ids if self.instrument(i) is None]
        if missing:
            raise RetryableVenueError(f"{self._config.name}: the venue lists no {missing}")
        self._task = asyncio.get_running_loop().create_task(self.node.run_async())
        deadline = self._config.connect_timeout + self._config.reconciliation_timeout
        loop = asyncio.get_running_loop()
        give_up = loop.time() + deadline
        while not self.bridge.running.is_set():
            if self._task.done() or loop.time() > give_up:
                failure = _failure(self._task)
                await self.stop()
                raise RetryableVenueError(
                    f"{self._config.name}: the NautilusTrader node did not start ({failure})"
                )
            await asyncio.sleep(_START_POLL_SECONDS)

    async def stop(self) -> None:
        """Stop the node and release it; the loop keeps running."""
        if self.node.is_running():
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.node.stop_async(), self._config.stop_timeout)
        task, self._task = self._task, None
        if task is not None:
            # A stopped node's engine queues end and `run_async` returns; cancelling it
            # (only if it does not) makes NautilusTrader log the cancellation as an error.
            await asyncio.wait({task}, timeout=self._config.stop_timeout)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.node.kernel.dispose()

    def connection_problem(self) -> str | None:
        """Why trading through the node does not work now (None: it does)."""
        if self._task is None or self._task.done():
            return "the NautilusTrader node is not running"
        if not self.node.kernel.exec_engine.check_connected():
            return "NautilusTrader's Bybit execution client is not connected"
        return None


def _failure(task: asyncio.Task[None]) -> str:
    if not task.done():
        return "it did not connect and reconcile in time"
    if task.cancelled():
        return "it was cancelled"
    error = task.exception()
    return "it stopped" if error is None else f"it failed: {error!r}"


def _exec_client_config(config: NautilusLiveConfig) -> BybitExecClientConfig:
    ids = frozenset(InstrumentId.from_str(i) for i in config.instrument_ids)
    return BybitExecClientConfig(
        api_key=config.api_key,
        api_secret=config.api_secret,
        base_url_http=config.http_url,
        base_url_ws_private=config.ws_private_url,
        base_url_ws_trade=config.ws_trade_url,
        testnet=config.testnet,
        product_types=_PRODUCT_TYPES,
        instrument_provider=InstrumentProviderConfig(load_ids=ids),
        use_ws_trade_api=config.use_ws_trade_api,
        max_retries=config.max_retries or None,
    )


def _node_config(
    config: NautilusLiveConfig, exec_config: BybitExecClientConfig
) -> TradingNodeConfig:
    return TradingNodeConfig(
        trader_id=config.trader_id,
        logging=LoggingConfig(log_level="WARNING", log_colors=False),
        exec_engine=LiveExecEngineConfig(
            reconciliation=True,
            reconciliation_lookback_mins=config.reconciliation_lookback_mins,
        ),
        exec_clients={BYBIT: exec_config},
        timeout_connection=config.connect_timeout,
        timeout_reconciliation=config.reconciliation_timeout,
        timeout_portfolio=config.connect_timeout,
        timeout_disconnection=config.stop_timeout,
        timeout_post_stop=0.0,
    )
