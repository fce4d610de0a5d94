"""Properties of the position book: a position is the running sum of its distinct fills."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tests.fakes import BTC, EURUSD

from ordergate.domain.events import OrderFilled
from ordergate.domain.instruments import Instrument
from ordergate.domain.positions import PositionBook
from ordergate.domain.values import Side

from .builders import ACCOUNT, book_fill

ZERO = Decimal(0)
# Average-cost PnL divides (the average price), so it is exact only to the Decimal
# context's 28 significant digits; cash-flow PnL has no division. Far below a cent.
PNL_TOLERANCE = Decimal("1e-12")

# Prices in ticks: BTC 20,000.0-80,000.0, EURUSD 0.90000-1.30000.
PRICE_TICKS = {BTC.symbol: (200_000, 800_000), EURUSD.symbol: (90_000, 130_000)}

PROPERTY_SETTINGS = settings(
    max_examples=200,
    database=None,
)


@st.composite
def fills_for(draw: st.DrawFn, instrument: Instrument) -> list[OrderFilled]:
    low, high = PRICE_TICKS[instrument.symbol]
    count = draw(st.integers(1, 12))
    return [
        book_fill(
            instrument,
            trade_id=f"T{i}",
            side=draw(st.sampled_from(Side)),
            qty=draw(st.integers(1, 3000)) * instrument.lot_step,
            price=draw(st.integers(low, high)) * instrument.tick_size,
            fee=draw(st.integers(0, 500)) * Decimal("0.01"),
            fee_currency=draw(st.sampled_from([instrument.quote_currency, "BNB"])),
            ts=i + 1,
        )
        for i in range(count)
    ]


@st.composite
def delivery(draw: st.DrawFn, fills: list[OrderFilled]) -> list[OrderFilled]:
    """The fills in any order, some of them more than once."""
    duplicates = draw(st.lists(st.sampled_from(fills), max_size=len(fills) * 2))
    return draw(st.permutations([*fills, *duplicates]))


@pytest.mark.parametrize("instrument", [BTC, EURUSD], ids=lambda i: i.symbol)
@PROPERTY_SETTINGS
@given(data=st.data())
def test_position_book_any_delivery_qty_is_signed_sum_and_pnl_matches_cash_flow(instrument, data):
    fills = data.draw(fills_for(instrument), label="fills")
    delivered = data.draw(delivery(fills), label="delivery")
    low, high = PRICE_TICKS[instrument.symbol]
    mark = data.draw(st.integers(low, high), label="mark ticks") * instrument.tick_size
    book = PositionBook()

    effects = [book.apply_fill(f, instrument) for f in delivered]

    cs = instrument.contract_size
    signed_qty = sum((f.side.sign * f.qty for f in fills), ZERO)
    cash_flow = sum((-f.side.sign * f.qty * f.price * cs for f in fills), ZERO)
    total_pnl = cash_flow + signed_qty * mark * cs
    position = book.get(ACCOUNT, instrument.symbol)
    assert position is not None
    assert sum(e is not None for e in effects) == len(fills)  # each trade counted once
    assert position.qty == signed_qty
    assert book.qty(ACCOUNT, instrument.symbol) == signed_qty
    pnl = position.realized_pnl + position.unrealized_pnl(mark, cs)
    assert abs(pnl - total_pnl) <= PNL_TOLERANCE
    realized = sum((e.realized_pnl for e in effects if e is not None), ZERO)
    assert realized == position.realized_pnl
    quote_fees = sum((f.fee for f in fills if f.fee_currency == instrument.quote_currency), ZERO)
    assert position.fees == quote_fees
    if position.qty == ZERO:
        assert position.avg_price == ZERO
    else:
        prices = [f.price for f in fills]
        assert min(prices) <= position.avg_price <= max(prices)


@PROPERTY_SETTINGS
@given(data=st.data())
def test_position_book_same_side_fills_avg_price_is_weighted_mean(data):
    side = data.draw(st.sampled_from(Side))
    fills = [f for f in data.draw(fills_for(BTC)) if f.side is side] or [
        book_fill(BTC, "only", side, Decimal("1"), Decimal("30000"))
    ]
    book = PositionBook()

    for f in fills:
        book.apply_fill(f, BTC)

    position = book.get(ACCOUNT, BTC.symbol)
    assert position is not None
    total_qty = sum((f.qty for f in fills), ZERO)
    weighted = sum((f.qty * f.price for f in fills), ZERO) / total_qty
    assert abs(position.avg_price - weighted) <= PNL_TOLERANCE
    assert position.realized_pnl == ZERO
