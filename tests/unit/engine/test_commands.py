"""Commands: shape validation on construction, and the idempotency fingerprint."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import msgspec
import pytest

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.commands import (
    MAX_ID_LENGTH,
    MAX_NAME_LENGTH,
    AdjustBalance,
    ClosePosition,
    PlaceOrder,
    ReplaceOrder,
    SetTargets,
)

D = Decimal


def place(**changes: Any) -> PlaceOrder:
    fields: dict[str, Any] = {
        "account": "acct-1",
        "symbol": "BTCUSDT",
        "side": Side.BUY,
        "qty": D("0.5"),
        "type": OrderType.LIMIT,
        "price": D("50000"),
        **changes,
    }
    return PlaceOrder(**fields)


# --- shape ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "changes",
    [
        {"type": OrderType.MARKET, "price": None},
        {"type": OrderType.STOP, "price": None, "stop_price": D("49000")},
        {"type": OrderType.STOP_LIMIT, "stop_price": D("49000")},
        {"reduce_only": True},
        {"stop_loss": D("49000"), "take_profit": D("51000")},
        {"idempotency_key": "k" * MAX_ID_LENGTH, "account": "a" * MAX_NAME_LENGTH},
    ],
    ids=["market", "stop", "stop-limit", "reduce-only", "bracket", "longest-names"],
)
def test_place_order_well_formed_constructs(changes):
    command = place(**changes)

    assert command.qty == D("0.5")


@pytest.mark.parametrize(
    "changes",
    [
        {"type": OrderType.LIMIT, "price": None},
        {"type": OrderType.STOP_LIMIT, "price": None, "stop_price": D("49000")},
        {"type": OrderType.STOP_LIMIT, "price": D("50000"), "stop_price": None},
        {"type": OrderType.STOP, "price": None, "stop_price": None},
        {"type": OrderType.MARKET, "price": D("50000")},
        {"type": OrderType.MARKET, "price": None, "stop_price": D("49000")},
        {"type": OrderType.LIMIT, "stop_price": D("49000")},
        {"type": OrderType.STOP, "price": D("50000"), "stop_price": D("49000")},
    ],
    ids=[
        "limit-without-price",
        "stop-limit-without-price",
        "stop-limit-without-stop-price",
        "stop-without-stop-price",
        "market-with-price",
        "market-with-stop-price",
        "limit-with-stop-price",
        "stop-with-price",
    ],
)
def test_place_order_price_fields_not_matching_type_raises_invalid_request(changes):
    with pytest.raises(InvalidRequest):
        place(**changes)


@pytest.mark.parametrize("field", ["qty", "price", "stop_loss", "take_profit"])
@pytest.mark.parametrize("value", ["0", "-0", "-1", "NaN", "sNaN", "Infinity", "-Infinity"])
def test_place_order_non_positive_or_non_finite_number_raises_invalid_request(field, value):
    with pytest.raises(InvalidRequest):
        place(**{field: D(value)})


def test_place_order_non_positive_stop_price_raises_invalid_request():
    with pytest.raises(InvalidRequest):
        place(type=OrderType.STOP, price=None, stop_price=D("0"))


@pytest.mark.parametrize(
    "bracket", [{"stop_loss": D("49000")}, {"take_profit": D("51000")}], ids=["sl", "tp"]
)
def test_place_order_reduce_only_with_bracket_raises_invalid_request(bracket):
    with pytest.raises(InvalidRequest):
        place(reduce_only=True, **bracket)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("idempotency_key", ""),
        ("idempotency_key", "   "),
        ("idempotency_key", " key"),
        ("idempotency_key", "key\n"),
        ("idempotency_key", "k" * (MAX_ID_LENGTH + 1)),
        ("account", ""),
        ("account", " acct"),
        ("account", "a" * (MAX_NAME_LENGTH + 1)),
        ("account", "acct\x1f2"),
        ("symbol", ""),
        ("strategy", ""),
        ("strategy", "s" * (MAX_NAME_LENGTH + 1)),
        ("trace_id", "t" * (MAX_ID_LENGTH + 1)),
    ],
)
def test_place_order_blank_or_overlong_name_raises_invalid_request(field, value):
    with pytest.raises(InvalidRequest):
        place(**{field: value})


def test_place_order_error_has_invalid_request_code():
    with pytest.raises(InvalidRequest) as info:
        place(qty=D(0))

    assert info.value.code == "INVALID_REQUEST"
    assert "qty" in info.value.message


# --- fingerprint ------------------------------------------------------------------------------

BASE = place(stop_loss=D("49000"), take_profit=D("51000"), strategy="s1", idempotency_key="k1")

ORDER_DEFINING_CHANGES: dict[str, dict[str, Any]] = {
    "account": {"account": "acct-2"},
    "symbol": {"symbol": "ETHUSDT"},
    "side": {"side": Side.SELL, "stop_loss": D("51000"), "take_profit": D("49000")},
    "type": {"type": OrderType.STOP_LIMIT, "stop_price": D("50100")},
    "qty": {"qty": D("0.51")},
    "price": {"price": D("50000.1")},
    "time_in_force": {"time_in_force": TimeInForce.IOC},
    "reduce_only": {"reduce_only": True, "stop_loss": None, "take_profit": None},
    "stop_loss": {"stop_loss": D("48000")},
    "take_profit": {"take_profit": D("52000")},
    "strategy": {"strategy": "s2"},
}


def test_fingerprint_same_request_same_fingerprint():
    again = place(stop_loss=D("49000"), take_profit=D("51000"), strategy="s1")

    assert again.fingerprint() == BASE.fingerprint()
    assert len(BASE.fingerprint()) == 32


def test_fingerprint_ignores_trace_id():
    assert msgspec.structs.replace(BASE, trace_id="trace-1").fingerprint() == BASE.fingerprint()


@pytest.mark.parametrize("field", list(ORDER_DEFINING_CHANGES))
def test_fingerprint_order_defining_field_changed_fingerprint_changes(field):
    changed = msgspec.structs.replace(BASE, **ORDER_DEFINING_CHANGES[field])

    assert changed.fingerprint() != BASE.fingerprint()


def test_fingerprint_stop_price_changed_fingerprint_changes():
    stop_limit = msgspec.structs.replace(BASE, type=OrderType.STOP_LIMIT, stop_price=D("50100"))

    changed = msgspec.structs.replace(stop_limit, stop_price=D("50200"))

    assert changed.fingerprint() != stop_limit.fingerprint()


def test_fingerprint_idempotency_key_not_part_of_fingerprint():
    # The fingerprint tells whether a reused key names the same order; the key is not in it.
    assert msgspec.structs.replace(BASE, idempotency_key="k2").fingerprint() == BASE.fingerprint()


def test_fingerprint_reduce_only_without_bracket_differs_from_plain():
    plain = place()

    assert place(reduce_only=True).fingerprint() != plain.fingerprint()


def test_fingerprint_strategy_none_and_absent_are_equal():
    assert place(strategy=None).fingerprint() == place().fingerprint()


@pytest.mark.parametrize(
    ("a", "b"),
    [("0.10", "0.1"), ("50000", "5E+4"), ("50000.00", "50000"), ("1.500", "1.5")],
)
def test_fingerprint_insensitive_to_decimal_representation(a, b):
    assert place(qty=D(a), price=D(b)).fingerprint() == place(qty=D(b), price=D(a)).fingerprint()
    assert place(qty=D(a)).fingerprint() == place(qty=D(b)).fingerprint()


def test_fingerprint_fields_do_not_run_together():
    # The separator keeps ("ab", "c") apart from ("a", "bc").
    first = place(account="ab", symbol="c")
    second = place(account="a", symbol="bc")

    assert first.fingerprint() != second.fingerprint()


# --- other commands ---------------------------------------------------------------------------


def test_replace_order_without_any_field_raises_invalid_request():
    with pytest.raises(InvalidRequest):
        ReplaceOrder("0-1")


@pytest.mark.parametrize("changes", [{"qty": D("2")}, {"price": D("100")}, {"stop_price": D("99")}])
def test_replace_order_with_one_field_constructs(changes):
    assert ReplaceOrder("0-1", **changes).order_id == "0-1"


@pytest.mark.parametrize("field", ["qty", "price", "stop_price"])
@pytest.mark.parametrize("value", ["0", "-1", "NaN", "Infinity"])
def test_replace_order_non_positive_field_raises_invalid_request(field, value):
    with pytest.raises(InvalidRequest):
        ReplaceOrder("0-1", **{field: D(value)})


@pytest.mark.parametrize(
    "changes",
    [{"account": ""}, {"symbol": " BTC"}, {"qty": D(0)}, {"qty": D("NaN")}],
    ids=["blank-account", "edge-space-symbol", "zero-qty", "nan-qty"],
)
def test_close_position_bad_shape_raises_invalid_request(changes):
    fields: dict[str, Any] = {"account": "a", "symbol": "BTCUSDT", **changes}

    with pytest.raises(InvalidRequest):
        ClosePosition(**fields)


def test_close_position_without_qty_means_whole_position():
    assert ClosePosition("a", "BTCUSDT").qty is None


@pytest.mark.parametrize("amount", ["0", "NaN", "Infinity", "-Infinity"])
def test_adjust_balance_zero_or_non_finite_amount_raises_invalid_request(amount):
    with pytest.raises(InvalidRequest):
        AdjustBalance("a", "USDT", D(amount), "deposit")


def test_adjust_balance_negative_amount_allowed_for_withdrawal():
    assert AdjustBalance("a", "USDT", D("-10"), "withdrawal").amount == D("-10")


def test_adjust_balance_overlong_currency_raises_invalid_request():
    with pytest.raises(InvalidRequest):
        AdjustBalance("a", "X" * 17, D("1"), "deposit")


class _Exact(Decimal):
    """A Decimal subclass, as a caller's own number type may be."""


def test_commands_take_decimal_subclasses_and_ints_as_plain_decimals():
    command = PlaceOrder("a", "BTCUSDT", Side.BUY, _Exact("0.5"), OrderType.LIMIT, price=_Exact(1))
    close = ClosePosition("a", "BTCUSDT", 1)  # type: ignore[arg-type]

    assert (type(command.qty), type(command.price)) == (Decimal, Decimal)
    assert msgspec.json.encode(command)  # what the journal's encoder takes
    assert (type(close.qty), close.qty) == (Decimal, Decimal(1))


def test_commands_refuse_floats_and_strings_as_quantities():
    with pytest.raises(InvalidRequest, match="qty must be a Decimal"):
        PlaceOrder("a", "BTCUSDT", Side.BUY, 0.1)  # type: ignore[arg-type]
    with pytest.raises(InvalidRequest, match="must be a Decimal"):
        SetTargets("a", "s", (("BTCUSDT", "1"),))  # type: ignore[arg-type]
