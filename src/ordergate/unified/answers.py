"""ordergate's views as seed 004's answers: pure functions, no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from ordergate.domain.accounts import CurrencyMargin, position_exposure
from ordergate.domain.errors import OrderGateError
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ZERO, Side
from ordergate.engine.venue_reports import Quote
from ordergate.engine.views import OrderView, PositionView
from ordergate.unified.numbers import ExactNumber, answer
from ordergate.unified.statuses import REJECTED, seed_error, seed_status
from ordergate.unified.vocabulary import (
    UnifiedAccountState,
    UnifiedInstrument,
    UnifiedOrderResult,
    UnifiedPosition,
    UnifiedQuote,
)


def result_of(view: OrderView) -> UnifiedOrderResult:
    """The seed's result of an order as journaled."""
    return UnifiedOrderResult(
        id=view.order_id,
        status=seed_status(view.status),
        filled_qty=answer(view.filled_qty),
        avg_fill_price=answer(view.avg_fill_price),
        error=seed_error(view),
        ordergate_status=str(view.status),
        reason_code=view.reason_code,
        client_order_id=view.client_order_id,
        venue_order_id=view.venue_order_id,
        symbol=view.symbol,
        side=view.side,
        quantity=answer(view.qty),
        ref_id=view.idempotency_key,
    )


def refusal_of(error: OrderGateError, symbol: str | None = None) -> UnifiedOrderResult:
    """A request refused before any order existed (no position to close, a gate): a
    `REJECTED` result with no id, as the seed reports a refusal, instead of an exception."""
    return UnifiedOrderResult(
        id="",
        status=REJECTED,
        error=f"{error.code}: {error.message}",
        reason_code=error.code,
        symbol=symbol,
    )


def refused_on(view: OrderView, error: OrderGateError) -> UnifiedOrderResult:
    """An existing order whose command was refused (a cancel after the fill): the order
    as it is, with the refusal's code and text as `error`."""
    result = result_of(view)
    return UnifiedOrderResult(
        id=result.id,
        status=result.status,
        filled_qty=result.filled_qty,
        avg_fill_price=result.avg_fill_price,
        error=f"{error.code}: {error.message}",
        ordergate_status=result.ordergate_status,
        reason_code=error.code,
        client_order_id=result.client_order_id,
        venue_order_id=result.venue_order_id,
        symbol=result.symbol,
        side=result.side,
        quantity=result.quantity,
        ref_id=result.ref_id,
    )


def position_of(
    view: PositionView, instrument: Instrument, mark: Decimal | None
) -> UnifiedPosition:
    """The seed's position: side from the sign, positive quantity, unrealized PnL at
    `mark` (valued as the account's margin values it: at the average without a mark)."""
    upnl, _ = position_exposure(view, instrument, mark)
    return UnifiedPosition(
        symbol=view.symbol,
        side=Side.BUY if view.qty > ZERO else Side.SELL,
        quantity=ExactNumber(abs(view.qty)),
        avg_price=ExactNumber(view.avg_price),
        unrealized_pnl=ExactNumber(upnl),
        mark_price=None if mark is None else ExactNumber(mark),
        realized_pnl=ExactNumber(view.realized_pnl),
        currency=instrument.quote_currency,
        account=view.account,
    )


def main_currency(margins: Mapping[str, CurrencyMargin], configured: str | None) -> str | None:
    """The currency to report in: `configured`, else the one with the largest balance
    (the first alphabetically among equals); None for an account with no currency."""
    if configured is not None:
        return configured
    if not margins:
        return None
    largest = max(m.balance for m in margins.values())
    return min(ccy for ccy, m in margins.items() if m.balance == largest)


def account_state_of(
    margins: Mapping[str, CurrencyMargin], configured: str | None, account: str
) -> UnifiedAccountState:
    """The seed's account state in the account's main currency (zeros in a currency the
    account does not hold)."""
    currency = main_currency(margins, configured) or "USD"
    figures = margins.get(currency)
    if figures is None:
        return UnifiedAccountState(answer(ZERO), answer(ZERO), currency=currency, account=account)
    return UnifiedAccountState(
        balance=ExactNumber(figures.balance),
        equity=ExactNumber(figures.equity),
        used_margin=ExactNumber(figures.used_margin),
        available_margin=ExactNumber(figures.free_margin),
        currency=currency,
        unrealized_pnl=ExactNumber(figures.unrealized_pnl),
        account=account,
    )


def quote_of(quote: Quote) -> UnifiedQuote:
    """The engine's quote of a symbol, in exact numbers."""
    return UnifiedQuote(
        quote.symbol,
        ExactNumber(quote.bid),
        ExactNumber(quote.ask),
        ExactNumber(quote.last),
        quote.ts,
    )


def instrument_of(instrument: Instrument) -> UnifiedInstrument:
    """What sizing needs of an instrument, in exact numbers."""
    return UnifiedInstrument(
        instrument.symbol,
        instrument.quote_currency,
        ExactNumber(instrument.tick_size),
        ExactNumber(instrument.lot_step),
        ExactNumber(instrument.min_qty),
        ExactNumber(instrument.contract_size),
    )
