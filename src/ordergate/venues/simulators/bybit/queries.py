"""How Bybit's list endpoints select, window and page what they return.

- Symbols: linear lists take `symbol`, `baseCoin` or `settleCoin` (some require one).
- Time windows (order history, executions): no `startTime`/`endTime` means the last 7
  days; one of them means 7 days from or until it; both may span at most 7 days.
- Pages: newest first, `limit` per page, and an opaque `cursor` (here: an offset) in
  `nextPageCursor`, empty on the last page.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final, TypeVar

from ordergate.venues.simulators.bybit.config import InstrumentSpec
from ordergate.venues.simulators.bybit.errors import params_error
from ordergate.venues.simulators.bybit.params import Params

WINDOW_MS: Final = 7 * 24 * 3_600_000
_T = TypeVar("_T")


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
