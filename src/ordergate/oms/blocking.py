"""`BlockingOms`: the Python API for synchronous code, the engine on a background loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine, Mapping
from decimal import Decimal
from types import TracebackType
from typing import Any, TypeVar

from ordergate.config.settings import Settings
from ordergate.domain.accounts import CurrencyMargin
from ordergate.domain.values import Side
from ordergate.engine.placement import Preview
from ordergate.engine.queries import Page
from ordergate.engine.reconcile import ReconciliationReport
from ordergate.engine.results import CloseAllResult, TargetsResult
from ordergate.engine.subscriptions import JournaledEvent
from ordergate.engine.target_views import TargetView
from ordergate.engine.views import FillView, OrderView, PositionView
from ordergate.oms.embedded import Oms

T = TypeVar("T")


class BlockingOms:
    """The same API for synchronous code; the engine runs on a background event loop.

    with BlockingOms(Settings(db="bot.db")) as oms:
        order = oms.place("BTCUSDT", Side.BUY, Decimal("0.01"))
    """

    def __init__(self, settings: Settings | None = None) -> None:
        self._oms = Oms(settings)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    def __enter__(self) -> BlockingOms:
        self._thread.start()
        self._call(self._oms.__aenter__())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            self._call(self._oms.__aexit__(exc_type, exc, tb))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()

    def _call(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result()

    def _read(self, function: Any, *args: Any, **kwargs: Any) -> Any:
        async def read() -> Any:
            return function(*args, **kwargs)

        return self._call(read())

    def place(self, symbol: str, side: Side, qty: Decimal, *args: Any, **kwargs: Any) -> OrderView:
        return self._call(self._oms.place(symbol, side, qty, *args, **kwargs))

    def cancel(self, order_id: str, reason: str | None = None, wait: bool = True) -> OrderView:
        return self._call(self._oms.cancel(order_id, reason, wait))

    def replace(self, order_id: str, **kwargs: Any) -> OrderView:
        return self._call(self._oms.replace(order_id, **kwargs))

    def close_position(
        self, symbol: str, qty: Decimal | None = None, account: str | None = None
    ) -> OrderView:
        return self._call(self._oms.close_position(symbol, qty, account))

    def close_all(self, account: str | None = None) -> CloseAllResult:
        return self._call(self._oms.close_all(account))

    def set_targets(
        self, targets: Mapping[str, Decimal], *, strategy: str, **kwargs: Any
    ) -> TargetsResult:
        return self._call(self._oms.set_targets(targets, strategy=strategy, **kwargs))

    def targets(self, account: str | None = None, strategy: str | None = None) -> list[TargetView]:
        return self._call(self._oms.targets(account, strategy))

    def order(self, order_id: str) -> OrderView | None:
        return self._call(self._oms.order(order_id))

    def orders(self, **kwargs: Any) -> Page[OrderView]:
        return self._call(self._oms.orders(**kwargs))

    def fills(self, **kwargs: Any) -> Page[FillView]:
        return self._call(self._oms.fills(**kwargs))

    def pending_orders(self, **kwargs: Any) -> list[OrderView]:
        return self._call(self._oms.pending_orders(**kwargs))

    def reconcile(self, account: str | None = None) -> list[ReconciliationReport]:
        return self._call(self._oms.reconcile(account))

    def positions(self, account: str | None = None) -> list[PositionView]:
        return self._call(self._oms.positions(account))

    def account(self, account: str | None = None) -> dict[str, CurrencyMargin]:
        return self._call(self._oms.account(account))

    def subscribe(self, callback: Callable[[JournaledEvent], None]) -> Callable[[], None]:
        """As `Oms.subscribe`; the callback runs on the engine's thread."""
        unsubscribe: Callable[[], None] = self._read(self._oms.subscribe, callback)
        return lambda: self._read(unsubscribe)

    def preview(self, symbol: str, side: Side, qty: Decimal, **terms: Any) -> Preview:
        return self._call(self._oms.preview(symbol, side, qty, **terms))
