"""NautilusTrader's order events, reports and instruments in ordergate's terms.

Pure functions and one numbering: nothing here does I/O or touches NautilusTrader's
cache, so each mapping is tested with NautilusTrader's own objects (`tests/unit/venues`).

Events (what the bridge strategy is told, in the order NautilusTrader tells it):

    OrderAccepted        VenueOrderAccepted(venue_order_id)
    OrderRejected        VenueOrderRejected(VENUE_REJECTED, the venue's reason)
    OrderDenied          VenueOrderRejected(VENUE_REJECTED, "denied by NautilusTrader's
                         risk engine: ...") - the order never left the process
    OrderFilled          VenueFill(trade_id = the venue's execution id, last qty and price,
                         commission, maker/taker)
    OrderCanceled        VenueOrderCanceled(filled_qty = the order's, as NautilusTrader has it)
    OrderExpired         VenueOrderExpired
    OrderUpdated         VenueOrderReplaced(quantity, price, trigger price)
    OrderModifyRejected  VenueReplaceRejected(VENUE_REJECTED, reason)
    OrderCancelRejected  VenueCancelRejected(VENUE_REJECTED, reason)
    anything else        nothing (initialized, submitted, pending update/cancel, triggered,
                         emulated, released: ordergate has no event for them)

A market order may be filled with no `OrderAccepted` before it (Bybit's `order` topic
says `Filled` at once); the engine takes a fill as the acknowledgement. NautilusTrader's
reasons are free text (a Bybit error's message, a risk check's sentence), so every
rejection is `VENUE_REJECTED` with that text, never a code guessed from the words.

A live venue adapter of NautilusTrader has no sequence of its own across its streams, so
`EventNumbers` numbers the events this adapter streams, from 1 and without gaps; trade
ids are the venue's own (Bybit's `execId`), unique for the account, so they need no
prefix (unlike a backtest's, which restart with each engine).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final

from nautilus_trader.model.enums import OrderType as NtOrderType
from nautilus_trader.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderUpdated,
)

from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ONE, ZERO, OrderStatus, OrderType
from ordergate.engine.venue_reports import (
    VenueCancelRejected,
    VenueEvent,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueOrderReport,
    VenuePosition,
    VenueReplaceRejected,
)
from ordergate.venues.nautilus_vocabulary import (
    decimal_of,
    denial_reason,
    liquidity_from_nautilus,
    optional_decimal,
    order_status,
    side_from_nautilus,
    working_status,
)

_TYPES: Final = {
    NtOrderType.MARKET: OrderType.MARKET,
    NtOrderType.LIMIT: OrderType.LIMIT,
    NtOrderType.STOP_MARKET: OrderType.STOP,
    NtOrderType.STOP_LIMIT: OrderType.STOP_LIMIT,
    NtOrderType.MARKET_IF_TOUCHED: OrderType.STOP,
    NtOrderType.LIMIT_IF_TOUCHED: OrderType.STOP_LIMIT,
}


class EventNumbers:
    """The adapter's `venue_seq`: 1, 2, 3 ... for the events it streams, in order."""

    __slots__ = ("_last",)

    def __init__(self) -> None:
        self._last = 0

    def next(self) -> int:
        self._last += 1
        return self._last


class EventTranslator:
    """Turns NautilusTrader's order events into ordergate's `VenueEvent`s.

    `symbols` maps a NautilusTrader instrument id ("BTCUSDT-LINEAR.BYBIT") to ordergate's
    symbol; `filled_qty` says how much of an order NautilusTrader has filled (None:
    unknown to it), for a cancel or an expiry.
    """

    def __init__(
        self,
        account: str,
        symbols: Mapping[str, str],
        filled_qty: Callable[[str], Decimal | None],
    ) -> None:
        self._account = account
        self._symbols = symbols
        self._filled_qty = filled_qty
        self._numbers = EventNumbers()

    def translate(self, event: Any) -> VenueEvent | None:
        """The venue event `event` means, numbered; None for one ordergate has no use for."""
        coid = str(event.client_order_id)
        ts = int(event.ts_event)
        if isinstance(event, OrderFilled):
            return self._fill(event, coid, ts)
        if isinstance(event, OrderAccepted):
            return VenueOrderAccepted(coid, str(event.venue_order_id), self._numbers.next(), ts)
        if isinstance(event, OrderRejected):
            reason = ReasonCode.VENUE_REJECTED
            return VenueOrderRejected(coid, reason, str(event.reason), self._numbers.next(), ts)
        if isinstance(event, OrderDenied):
            text = denial_reason(str(event.reason))
            return VenueOrderRejected(
                coid, ReasonCode.VENUE_REJECTED, text, self._numbers.next(), ts
            )
        if isinstance(event, OrderCanceled):
            return VenueOrderCanceled(
                coid, None, None, self._numbers.next(), ts, filled_qty=self._filled_qty(coid)
            )
        if isinstance(event, OrderExpired):
            return VenueOrderExpired(
                coid, None, self._numbers.next(), ts, filled_qty=self._filled_qty(coid)
            )
        if isinstance(event, OrderUpdated):
            return VenueOrderReplaced(
                coid,
                decimal_of(event.quantity),
                optional_decimal(event.price),
                optional_decimal(event.trigger_price),
                self._numbers.next(),
                ts,
            )
        if isinstance(event, OrderModifyRejected):
            return VenueReplaceRejected(
                coid, ReasonCode.VENUE_REJECTED, str(event.reason), self._numbers.next(), ts
            )
        if isinstance(event, OrderCancelRejected):
            return VenueCancelRejected(
                coid, ReasonCode.VENUE_REJECTED, str(event.reason), self._numbers.next(), ts
            )
        return None

    def _fill(self, event: Any, coid: str, ts: int) -> VenueFill | None:
        symbol = self._symbols.get(str(event.instrument_id))
        if symbol is None:
            return None  # an instrument ordergate does not trade here
        commission = event.commission
        return VenueFill(
            client_order_id=coid,
            account=self._account,
            symbol=symbol,
            side=side_from_nautilus(event.order_side),
            trade_id=str(event.trade_id),
            qty=decimal_of(event.last_qty),
            price=decimal_of(event.last_px),
            fee=ZERO if commission is None else decimal_of(commission),
            fee_currency="" if commission is None else str(commission.currency.code),
            liquidity=liquidity_from_nautilus(event.liquidity_side),
            venue_seq=self._numbers.next(),
            ts=ts,
        )


# --- reports ---------------------------------------------------------------------------


def order_report(report: Any, account: str, symbol: str) -> VenueOrderReport | None:
    """A NautilusTrader `OrderStatusReport` as ordergate's (None: it has no client order
    id, so it is no order of ordergate's)."""
    if report.client_order_id is None:
        return None
    filled = decimal_of(report.filled_qty)
    order_type = _TYPES.get(report.order_type, OrderType.LIMIT)
    return VenueOrderReport(
        client_order_id=str(report.client_order_id),
        venue_order_id=None if report.venue_order_id is None else str(report.venue_order_id),
        account=account,
        symbol=symbol,
        side=side_from_nautilus(report.order_side),
        type=order_type,
        qty=decimal_of(report.quantity),
        price=optional_decimal(report.price) if order_type.needs_price else None,
        stop_price=optional_decimal(report.trigger_price) if order_type.needs_stop_price else None,
        status=order_status(report.order_status, filled) or working_status(filled),
        filled_qty=filled,
        avg_fill_price=optional_decimal(report.avg_px) if filled > ZERO else None,
        ts=int(report.ts_last),
    )


def position(report: Any, account: str, symbol: str) -> VenuePosition | None:
    """A NautilusTrader `PositionStatusReport` as ordergate's (None: flat)."""
    qty = decimal_of(report.signed_decimal_qty)
    if qty == ZERO:
        return None
    return VenuePosition(account, symbol, qty, optional_decimal(report.avg_px_open) or ZERO)


def fill(report: Any, account: str, symbol: str) -> VenueFill | None:
    """A NautilusTrader `FillReport` as ordergate's (None without a client order id)."""
    if report.client_order_id is None:
        return None
    commission = report.commission
    return VenueFill(
        client_order_id=str(report.client_order_id),
        account=account,
        symbol=symbol,
        side=side_from_nautilus(report.order_side),
        trade_id=str(report.trade_id),
        qty=decimal_of(report.last_qty),
        price=decimal_of(report.last_px),
        fee=decimal_of(commission),
        fee_currency=str(commission.currency.code),
        liquidity=liquidity_from_nautilus(report.liquidity_side),
        venue_seq=None,
        ts=int(report.ts_event),
    )


def status_of_order(order: Any) -> OrderStatus | None:
    """A NautilusTrader order's status as ordergate's report status (None: the order
    has not reached the venue yet, or never will: initialized, submitted, denied)."""
    return order_status(order.status, decimal_of(order.filled_qty))


def instrument(nt_instrument: Any, symbol: str) -> Instrument:
    """A NautilusTrader linear instrument as ordergate's: the same grid, limits and fees;
    margin at NautilusTrader's initial margin rate (1 when it has none)."""
    margin = decimal_of(nt_instrument.margin_init)
    max_qty = nt_instrument.max_quantity
    min_notional = nt_instrument.min_notional
    return Instrument(
        symbol=symbol,
        base_currency=str(nt_instrument.base_currency.code),
        quote_currency=str(nt_instrument.quote_currency.code),
        tick_size=decimal_of(nt_instrument.price_increment),
        lot_step=decimal_of(nt_instrument.size_increment),
        min_qty=decimal_of(nt_instrument.min_quantity or nt_instrument.size_increment),
        min_notional=ZERO if min_notional is None else decimal_of(min_notional),
        max_qty=None if max_qty is None else decimal_of(max_qty),
        contract_size=decimal_of(nt_instrument.multiplier),
        margin_rate=margin if ZERO < margin <= ONE else ONE,
        maker_fee_rate=decimal_of(nt_instrument.maker_fee),
        taker_fee_rate=decimal_of(nt_instrument.taker_fee),
    )
