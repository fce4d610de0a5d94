"""Pre-trade checks: one test per check per reason code, plus how they combine."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from tests.fakes import BTC

from ordergate.domain.instruments import Instrument
from ordergate.domain.limits import RiskLimits
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.risk import (
    PreTradeContext,
    all_denials,
    first_denial,
)
from ordergate.domain.values import OrderType, Side

from .builders import new_order

R = ReasonCode
D = Decimal

# A clean order: BTC LIMIT BUY 0.01 @ 50,000.0 = 500 USDT notional, 50 USDT of margin.
CLEAN_ORDER: dict[str, Any] = {"qty": "0.01", "price": "50000"}
_UNSET: Any = object()


def context(
    *,
    instrument: Instrument | None = _UNSET,
    policy: RiskLimits | None = None,
    account_known: bool = True,
    reference_price: Decimal | None = Decimal("50000"),
    position_qty: Decimal = Decimal(0),
    free_margin: Decimal = Decimal("1000"),
    **order: Any,
) -> PreTradeContext:
    return PreTradeContext(
        order=new_order(**{**CLEAN_ORDER, **order}),
        instrument=BTC if instrument is _UNSET else instrument,
        limits=policy or RiskLimits(),
        account_known=account_known,
        reference_price=reference_price,
        quote_age_ms=0,
        mark=reference_price,
        position_qty=position_qty,
        open_same_side=Decimal(0),
        open_other_side=Decimal(0),
        gross_elsewhere=Decimal(0),
        equity=free_margin,
        free_margin=free_margin,
    )


def codes(ctx: PreTradeContext) -> list[ReasonCode]:
    return [d.code for d in all_denials(ctx)]


def assert_denied(ctx: PreTradeContext, code: ReasonCode) -> None:
    denial = first_denial(ctx)
    assert denial is not None
    assert denial.code is code
    assert denial.reason
    assert codes(ctx) == [code]


def test_risk_clean_order_passes():
    ctx = context()

    assert first_denial(ctx) is None
    assert all_denials(ctx) == []


@pytest.mark.parametrize(
    "order",
    [
        {"type": OrderType.MARKET, "price": None},
        {"type": OrderType.STOP, "price": None, "stop_price": "50000"},
        {"type": OrderType.STOP_LIMIT, "price": "50000", "stop_price": "49000"},
        {"side": Side.SELL},
        {"stop_loss": "49000", "take_profit": "51000"},
    ],
    ids=["market", "stop", "stop-limit", "sell", "bracket"],
)
def test_risk_clean_order_of_each_shape_passes(order):
    assert all_denials(context(**order)) == []


def test_risk_unknown_account_denied():
    assert_denied(context(account_known=False), R.UNKNOWN_ACCOUNT)


def test_risk_unknown_instrument_denied_symbol_not_allowed():
    assert_denied(context(instrument=None), R.SYMBOL_NOT_ALLOWED)


def test_risk_symbol_outside_allowed_set_denied():
    policy = RiskLimits(allowed_symbols=frozenset({"EURUSD"}))

    assert_denied(context(policy=policy), R.SYMBOL_NOT_ALLOWED)


def test_risk_symbol_inside_allowed_set_passes():
    policy = RiskLimits(allowed_symbols=frozenset({"EURUSD", BTC.symbol}))

    assert first_denial(context(policy=policy)) is None


def test_risk_order_type_not_allowed_denied():
    policy = RiskLimits(allowed_order_types=frozenset({OrderType.MARKET}))

    assert_denied(context(policy=policy), R.UNSUPPORTED_ORDER_TYPE)


def test_risk_qty_below_instrument_min_denied():
    btc = dataclasses.replace(BTC, min_qty=D("0.01"))

    assert_denied(context(instrument=btc, qty="0.005"), R.QTY_BELOW_MIN)


def test_risk_qty_below_policy_min_floor_denied():
    policy = RiskLimits(min_qty=D("0.02"))

    assert_denied(context(policy=policy, qty="0.01"), R.QTY_BELOW_MIN)


def test_risk_policy_min_below_instrument_min_does_not_lower_it():
    btc = dataclasses.replace(BTC, min_qty=D("0.01"))
    policy = RiskLimits(min_qty=D("0.001"))

    assert_denied(context(instrument=btc, policy=policy, qty="0.005"), R.QTY_BELOW_MIN)


def test_risk_qty_at_min_passes():
    policy = RiskLimits(min_qty=D("0.01"))

    assert first_denial(context(policy=policy, qty="0.01")) is None


def test_risk_qty_above_max_denied():
    btc = dataclasses.replace(BTC, max_qty=D("1"))

    assert_denied(context(instrument=btc, qty="1.001", free_margin=D("1e9")), R.QTY_ABOVE_MAX)


def test_risk_qty_at_max_passes():
    btc = dataclasses.replace(BTC, max_qty=D("1"))

    assert first_denial(context(instrument=btc, qty="1", free_margin=D("1e9"))) is None


def test_risk_qty_not_on_step_denied():
    assert_denied(context(qty="0.0105"), R.QTY_NOT_ON_STEP)


@pytest.mark.parametrize(
    ("field", "order"),
    [
        ("price", {"price": "50000.05"}),
        ("stop_price", {"type": OrderType.STOP, "price": None, "stop_price": "50000.05"}),
        ("stop_loss", {"stop_loss": "49000.01"}),
        ("take_profit", {"take_profit": "51000.01"}),
    ],
    ids=["price", "stop_price", "stop_loss", "take_profit"],
)
def test_risk_price_not_on_tick_denied(field, order):
    ctx = context(**order)

    assert_denied(ctx, R.PRICE_NOT_ON_TICK)
    denial = first_denial(ctx)
    assert denial is not None
    assert denial.reason.startswith(f"{field} ")


def test_risk_market_order_without_reference_price_denied():
    assert_denied(
        context(type=OrderType.MARKET, price=None, reference_price=None), R.NO_REFERENCE_PRICE
    )


def test_risk_stop_order_without_reference_price_sized_at_stop_price():
    ctx = context(type=OrderType.STOP, price=None, stop_price="50000", reference_price=None)

    assert first_denial(ctx) is None


def test_risk_notional_below_min_denied():
    # 0.001 * 1,000.0 = 1 USDT < 5 USDT
    assert_denied(context(qty="0.001", price="1000"), R.NOTIONAL_BELOW_MIN)


def test_risk_market_order_notional_uses_reference_price():
    ctx = context(type=OrderType.MARKET, price=None, qty="0.001", reference_price=D("4000"))

    assert_denied(ctx, R.NOTIONAL_BELOW_MIN)


def test_risk_reduce_only_when_flat_denied():
    assert_denied(context(reduce_only=True, position_qty=D(0)), R.REDUCE_ONLY_NO_POSITION)


@pytest.mark.parametrize(
    ("side", "position"), [(Side.BUY, D("0.5")), (Side.SELL, D("-0.5"))], ids=["long", "short"]
)
def test_risk_reduce_only_same_side_as_position_denied(side, position):
    ctx = context(side=side, reduce_only=True, position_qty=position)

    assert_denied(ctx, R.REDUCE_ONLY_NO_POSITION)


@pytest.mark.parametrize(
    ("side", "position"), [(Side.SELL, D("0.5")), (Side.BUY, D("-0.5"))], ids=["long", "short"]
)
def test_risk_reduce_only_against_position_passes_without_margin(side, position):
    ctx = context(side=side, reduce_only=True, position_qty=position, free_margin=D(0))

    assert first_denial(ctx) is None


@pytest.mark.parametrize(
    ("side", "stop_loss"),
    [(Side.BUY, "50000"), (Side.BUY, "50000.1"), (Side.SELL, "50000"), (Side.SELL, "49999.9")],
    ids=["buy-at-entry", "buy-above", "sell-at-entry", "sell-below"],
)
def test_risk_stop_loss_on_wrong_side_denied(side, stop_loss):
    assert_denied(context(side=side, stop_loss=stop_loss), R.INVALID_STOP_LOSS)


@pytest.mark.parametrize(
    ("side", "take_profit"),
    [(Side.BUY, "50000"), (Side.BUY, "49999.9"), (Side.SELL, "50000"), (Side.SELL, "50000.1")],
    ids=["buy-at-entry", "buy-below", "sell-at-entry", "sell-above"],
)
def test_risk_take_profit_on_wrong_side_denied(side, take_profit):
    assert_denied(context(side=side, take_profit=take_profit), R.INVALID_TAKE_PROFIT)


@pytest.mark.parametrize(
    ("side", "stop_loss", "take_profit"),
    [(Side.BUY, "49999.9", "50000.1"), (Side.SELL, "50000.1", "49999.9")],
    ids=["buy", "sell"],
)
def test_risk_bracket_on_right_sides_passes(side, stop_loss, take_profit):
    ctx = context(side=side, stop_loss=stop_loss, take_profit=take_profit)

    assert first_denial(ctx) is None


def test_risk_market_bracket_checked_against_reference_price():
    ctx = context(type=OrderType.MARKET, price=None, reference_price=D("48000"), stop_loss="48500")

    assert_denied(ctx, R.INVALID_STOP_LOSS)


def test_risk_insufficient_margin_denied():
    # needs 0.01 * 50,000 * 0.1 = 50 USDT
    assert_denied(context(free_margin=D("49.9")), R.INSUFFICIENT_MARGIN)


def test_risk_margin_exactly_free_passes():
    assert first_denial(context(free_margin=D("50"))) is None


def test_risk_reducing_part_against_position_needs_no_margin():
    # long 0.01, sell 0.015: only the 0.005 that opens a short needs margin (25 USDT)
    ctx_enough = context(side=Side.SELL, qty="0.015", position_qty=D("0.01"), free_margin=D("25"))
    ctx_short = context(side=Side.SELL, qty="0.015", position_qty=D("0.01"), free_margin=D("24.9"))

    assert first_denial(ctx_enough) is None
    assert_denied(ctx_short, R.INSUFFICIENT_MARGIN)


def test_risk_order_that_only_closes_needs_no_margin():
    ctx = context(side=Side.BUY, qty="0.01", position_qty=D("-0.02"), free_margin=D(0))

    assert first_denial(ctx) is None


def test_risk_order_adding_to_position_needs_full_margin():
    ctx = context(side=Side.BUY, qty="0.01", position_qty=D("0.02"), free_margin=D("49.9"))

    assert_denied(ctx, R.INSUFFICIENT_MARGIN)


# --- combining checks ------------------------------------------------------------------------


def test_risk_all_denials_reports_several_reasons_in_check_order():
    ctx = context(qty="0.0105", price="50000.05", stop_loss="60000", free_margin=D(0))

    assert codes(ctx) == [
        R.QTY_NOT_ON_STEP,
        R.PRICE_NOT_ON_TICK,
        R.INVALID_STOP_LOSS,
        R.INSUFFICIENT_MARGIN,
    ]
    denial = first_denial(ctx)
    assert denial is not None
    assert denial.code is R.QTY_NOT_ON_STEP


def test_risk_all_denials_stops_after_symbol_guard():
    # Without an instrument the later checks cannot run; they must not be reached.
    ctx = context(account_known=False, instrument=None, qty="0.0105", free_margin=D(0))

    assert codes(ctx) == [R.UNKNOWN_ACCOUNT, R.SYMBOL_NOT_ALLOWED]


def test_risk_all_denials_stops_after_reference_price_guard():
    ctx = context(
        type=OrderType.MARKET,
        price=None,
        reference_price=None,
        qty="0.0105",
        reduce_only=True,
        free_margin=D(0),
    )

    assert codes(ctx) == [R.QTY_NOT_ON_STEP, R.NO_REFERENCE_PRICE]
