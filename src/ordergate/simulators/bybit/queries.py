"""How Bybit's list endpoints select, window and page what they return.

- Symbols: linear lists take `symbol`, `baseCoin` or `settleCoin` (some require one).
- Time windows (order history, executions): no `startTime`/`endTime` means the last 7
  days; one of them means 7 days from or until it; both may span at most 7 days.
- Pages: newest first, `limit` per page, and an opaque `cursor` (here: an offset) in
  `nextPageCursor`, empty on the last page.
- Kinds of order (`orderFilter`, for lists and cancel-all): a unified account takes
  every kind when none is named (Bybit's docs: "all kinds of orders by default");
  `Order` takes plain orders, `StopOrder` conditional ones (before and after they
  trigger); the spot-only `tpslOrder`, `OcoOrder` and `BidirectionalTpslOrder` take
  none (the simulator has none). Cancel-all's `stopOrderType` `Stop` (with `StopOrder`)
  takes conditional orders too. Any other value is refused (`10001`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Final, TypeVar

from ordergate.simulators.bybit.config import InstrumentSpec
from ordergate.simulators.bybit.errors import params_error
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.records import OrderRecord

WINDOW_MS: Final = 7 * 24 * 3_600_000
_T = TypeVar("_T")
OrderKind = Callable[[OrderRecord], bool]


def _every(record: OrderRecord) -> bool:
    return True


def _plain(record: OrderRecord) -> bool:
    return not record.is_conditional


def _conditional(record: OrderRecord) -> bool:
    return record.is_conditional


def _none(record: OrderRecord) -> bool:
    return False


_ORDER_FILTERS: Final[Mapping[str | None, OrderKind]] = {
    None: _every,
    "Order": _plain,
    "StopOrder": _conditional,
    "tpslOrder": _none,
    "OcoOrder": _none,
    "BidirectionalTpslOrder": _none,
}


def selected_symbols(
    params: Params, specs: Mapping[str, InstrumentSpec], *, required: bool
) -> frozenset[str]:
    """The symbols a request names by `symbol`, `baseCoin` or `settleCoin` (all if none
    is given and none is required)."""
    symbol = params.optional_text("symbol")
    base = params.optional_text("baseCoin")
    settle = params.optional_text("settleCoin")
    if symbol is not None:
        if symbol not in specs:
            raise params_error(f"params error: symbol invalid: {symbol}")
        return frozenset((symbol,))
    if base is None and settle is None:
        if required:
            raise params_error(
                "Missing some parameters that must be filled in, symbol or settleCoin or baseCoin"
            )
        return frozenset(specs)
    return frozenset(
        spec.symbol
        for spec in specs.values()
        if base in (None, spec.base_coin) and settle in (None, spec.quote_coin)
    )


def order_kind(params: Params) -> OrderKind:
    """Which orders `orderFilter` (and, for cancel-all, `stopOrderType`) select."""
    raw = params.optional_text("orderFilter")
    kind = _ORDER_FILTERS.get(raw)
    if kind is None:
        raise params_error(f"params error: orderFilter {raw!r} is not supported by the simulator")
    stop_order_type = params.optional_text("stopOrderType")
    if stop_order_type is None:
        return kind
    if stop_order_type != "Stop" or raw != "StopOrder":
        raise params_error("params error: stopOrderType is Stop, with orderFilter StopOrder")
    return _conditional


def time_window(params: Params, now_ms: int) -> tuple[int, int]:
    """The [start, end] ms a history query covers."""
    start = params.integer("startTime", -1)
    end = params.integer("endTime", -1)
    if start < 0 and end < 0:
        return now_ms - WINDOW_MS, now_ms
    if end < 0:
        return start, start + WINDOW_MS
    if start < 0:
        return end - WINDOW_MS, end
    if not 0 <= end - start <= WINDOW_MS:
        raise params_error("params error: endTime - startTime must be within [0, 7 days]")
    return start, end


def page(
    items: Sequence[_T], params: Params, *, default: int, maximum: int
) -> tuple[list[_T], str]:
    """One page of `items` and the cursor of the next ("" on the last page)."""
    limit = params.limit(default, maximum)
    cursor = params.optional_text("cursor") or "0"
    if not cursor.isdigit():
        raise params_error("params error: cursor is invalid")
    offset = int(cursor)
    end = offset + limit
    return list(items[offset:end]), str(end) if end < len(items) else ""
