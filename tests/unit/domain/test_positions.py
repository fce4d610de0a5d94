"""The position book on hand-computed examples."""

from __future__ import annotations

from decimal import Decimal

from tests.fakes import BTC, EURUSD

from ordergate.domain.positions import PositionBook
from ordergate.domain.values import Side

from .builders import ACCOUNT
from .builders import book_fill as fill

D = Decimal


def test_position_book_open_and_add_long_averages_price():
    book = PositionBook()

    book.apply_fill(fill(BTC, "T1", Side.BUY, D("1"), D("100")), BTC)
    effect = book.apply_fill(fill(BTC, "T2", Side.BUY, D("3"), D("200")), BTC)

    assert effect is not None
    assert effect.realized_pnl == D(0)
    assert effect.position.qty == D("4")
    assert effect.position.avg_price == D("175")


def test_position_book_partial_close_realizes_and_keeps_avg_price():
    book = PositionBook()
    book.apply_fill(fill(BTC, "T1", Side.BUY, D("2"), D("100")), BTC)

    effect = book.apply_fill(fill(BTC, "T2", Side.SELL, D("0.5"), D("140")), BTC)

    assert effect is not None
    assert effect.realized_pnl == D("20")
    assert effect.position.qty == D("1.5")
    assert effect.position.avg_price == D("100")
    assert effect.position.realized_pnl == D("20")


def test_position_book_short_close_at_higher_price_realizes_loss():
    book = PositionBook()
    book.apply_fill(fill(BTC, "T1", Side.SELL, D("1"), D("100")), BTC)

    effect = book.apply_fill(fill(BTC, "T2", Side.BUY, D("1"), D("110")), BTC)

    assert effect is not None
    assert effect.realized_pnl == D("-10")
    assert effect.position.qty == D(0)
    assert effect.position.avg_price == D(0)


def test_position_book_flip_opens_remainder_at_fill_price():
    book = PositionBook()
    book.apply_fill(fill(BTC, "T1", Side.BUY, D("1"), D("100")), BTC)

    effect = book.apply_fill(fill(BTC, "T2", Side.SELL, D("3"), D("120")), BTC)

    assert effect is not None
    assert effect.realized_pnl == D("20")
    assert effect.position.qty == D("-2")
    assert effect.position.avg_price == D("120")


def test_position_book_realized_pnl_scales_with_contract_size():
    book = PositionBook()
    book.apply_fill(fill(EURUSD, "T1", Side.BUY, D("0.5"), D("1.10000")), EURUSD)

    effect = book.apply_fill(fill(EURUSD, "T2", Side.SELL, D("0.5"), D("1.10100")), EURUSD)

    assert effect is not None
    assert effect.realized_pnl == D("50")  # 0.5 lot * 100,000 * 0.001


def test_position_book_duplicate_trade_id_returns_none_and_changes_nothing():
    book = PositionBook()
    first = fill(BTC, "T1", Side.BUY, D("1"), D("100"), fee=D("1"))
    book.apply_fill(first, BTC)

    again = book.apply_fill(fill(BTC, "T1", Side.BUY, D("5"), D("999"), fee=D("7")), BTC)

    position = book.get(ACCOUNT, BTC.symbol)
    assert again is None
    assert position is not None
    assert (position.qty, position.avg_price, position.fees) == (D("1"), D("100"), D("1"))
    assert book.has_fill(ACCOUNT, "0-1", "T1")


def test_position_book_same_trade_id_in_two_accounts_counts_in_both():
    book = PositionBook()

    book.apply_fill(fill(BTC, "T1", Side.BUY, D("1"), D("100"), account="a"), BTC)
    book.apply_fill(fill(BTC, "T1", Side.BUY, D("2"), D("100"), account="b"), BTC)

    assert book.qty("a", BTC.symbol) == D("1")
    assert book.qty("b", BTC.symbol) == D("2")
    assert not book.has_fill("c", "0-1", "T1")


def test_position_book_self_trade_legs_sharing_a_trade_id_both_count():
    book = PositionBook()

    book.apply_fill(fill(BTC, "T1", Side.BUY, D("1"), D("100"), order_id="0-1"), BTC)
    book.apply_fill(fill(BTC, "T1", Side.SELL, D("1"), D("100"), order_id="0-2"), BTC)

    assert book.qty(ACCOUNT, BTC.symbol) == D("0")
    assert book.has_fill(ACCOUNT, "0-2", "T1")


def test_position_book_fee_in_other_currency_not_counted_in_position():
    book = PositionBook()

    book.apply_fill(fill(BTC, "T1", Side.BUY, D("1"), D("100"), fee=D("0.3")), BTC)
    book.apply_fill(
        fill(BTC, "T2", Side.BUY, D("1"), D("100"), fee=D("0.01"), fee_currency="BNB"), BTC
    )

    position = book.get(ACCOUNT, BTC.symbol)
    assert position is not None
    assert position.fees == D("0.3")


def test_position_unrealized_pnl_short_gains_when_mark_falls():
    book = PositionBook()
    book.apply_fill(fill(EURUSD, "T1", Side.SELL, D("2"), D("1.20000")), EURUSD)
    position = book.get(ACCOUNT, EURUSD.symbol)
    assert position is not None

    assert position.unrealized_pnl(D("1.19000"), EURUSD.contract_size) == D("2000")


def test_position_book_unknown_position_qty_is_zero():
    book = PositionBook()

    assert book.qty(ACCOUNT, BTC.symbol) == D(0)
    assert book.get(ACCOUNT, BTC.symbol) is None
