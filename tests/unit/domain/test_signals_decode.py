"""Decoding trading signals: what a version 1 message may hold, and how each refusal reads.

`decode_signal` answers any bytes with a `TradingSignal` or an `InvalidSignal` whose code
is a stable reason; the properties at the end throw arbitrary bytes and JSON at it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.signal_model import (
    MAX_SIGNAL_ID_LENGTH,
    InvalidSignal,
    SignalReason,
    TradingSignal,
    decode_signal,
    parse_timestamp,
)
from ordergate.domain.values import Side

D = Decimal
DEFAULT_ACCOUNT = "main"
VALID: dict[str, Any] = {
    "version": 1,
    "signal_id": "sig-0001",
    "strategy": "momentum-1",
    "symbol": "BTCUSDT",
    "side": "BUY",
    "confidence": 0.95,
    "qty": 0.5,
    "timestamp": "2026-12-02T19:00:00.123Z",
}
PROPERTY_SETTINGS = settings(
    max_examples=300,
    database=None,
)


def message(**changes: Any) -> bytes:
    """VALID with `changes`; a change to `...` (Ellipsis) removes the field."""
    fields = {**VALID, **changes}
    return json.dumps({k: v for k, v in fields.items() if v is not ...}).encode()


def refusal(body: bytes) -> InvalidSignal:
    with pytest.raises(InvalidSignal) as caught:
        decode_signal(body, DEFAULT_ACCOUNT)
    return caught.value


def ns(text: str) -> int:
    """Nanoseconds of an ISO date-time with at most microseconds, through datetime."""
    moment = datetime.fromisoformat(text)
    delta = moment - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 10**9 + delta.microseconds * 1000


# --- a valid message ---------------------------------------------------------------------


def test_decode_valid_message_gives_every_field():
    signal = decode_signal(
        message(price="50000.5", account="acct-7", trace_id="trace-9"), DEFAULT_ACCOUNT
    )

    assert signal == TradingSignal(
        signal_id="sig-0001",
        strategy="momentum-1",
        symbol="BTCUSDT",
        side=Side.BUY,
        confidence=D("0.95"),
        timestamp=ns("2026-12-02T19:00:00.123+00:00"),
        account="acct-7",
        qty=D("0.5"),
        price=D("50000.5"),
        trace_id="trace-9",
    )


def test_decode_without_account_uses_the_default_account():
    assert decode_signal(message(), "fallback").account == "fallback"


def test_decode_null_optional_fields_read_as_absent():
    signal = decode_signal(
        message(account=None, trace_id=None, price=None, notional=None), DEFAULT_ACCOUNT
    )

    assert (signal.account, signal.trace_id, signal.price, signal.notional) == (
        DEFAULT_ACCOUNT,
        None,
        None,
        None,
    )


def test_decode_without_trace_id_makes_none_up():
    assert decode_signal(message(), DEFAULT_ACCOUNT).trace_id is None


@pytest.mark.parametrize(("side", "expected"), [("BUY", Side.BUY), ("sell", Side.SELL)])
def test_decode_side_in_upper_or_lower_case_is_accepted(side, expected):
    assert decode_signal(message(side=side), DEFAULT_ACCOUNT).side is expected


@pytest.mark.parametrize("side", ["Buy", "long", "", "B"])
def test_decode_side_in_mixed_case_or_unknown_is_invalid(side):
    error = refusal(message(side=side))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert "side" in error.message


def test_decode_unknown_extra_fields_are_ignored():
    signal = decode_signal(message(model="gbm-7", features={"rsi": 71}), DEFAULT_ACCOUNT)

    assert signal.signal_id == "sig-0001"


def test_decode_notional_instead_of_qty_is_accepted():
    signal = decode_signal(message(qty=..., notional=2500), DEFAULT_ACCOUNT)

    assert (signal.qty, signal.notional) == (None, D("2500"))


# --- numbers are exact ---------------------------------------------------------------------


def test_decode_json_numbers_become_exact_decimals_not_floats():
    body = (
        b'{"version":1,"signal_id":"s","strategy":"m","symbol":"BTCUSDT","side":"BUY",'
        b'"confidence":0.1,"qty":0.300000000001,"price":12345678901234.5,'
        b'"timestamp":"2026-12-02T19:00:00Z"}'
    )

    signal = decode_signal(body, DEFAULT_ACCOUNT)

    # Through a float, 0.1 + 0.2 style values would carry binary noise.
    assert signal.confidence == D("0.1")
    assert signal.qty == D("0.300000000001")
    assert signal.price == D("12345678901234.5")


@pytest.mark.parametrize(("text", "expected"), [("0.5", D("0.5")), ("1e-3", D("0.001"))])
def test_decode_numeric_strings_are_accepted(text, expected):
    assert decode_signal(message(qty=text), DEFAULT_ACCOUNT).qty == expected


@pytest.mark.parametrize(
    "value",
    [0, -1, "0", "-0.5", "NaN", "sNaN", "Infinity", "1e15", "1e400", "0.0000000000001", True, []],
)
def test_decode_qty_not_positive_finite_and_in_range_is_invalid(value):
    error = refusal(message(qty=value))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert "qty" in error.message


@pytest.mark.parametrize("field", ["notional", "price"])
@pytest.mark.parametrize("value", [0, "-3", "Infinity", "1e20"])
def test_decode_notional_and_price_not_positive_finite_and_in_range_are_invalid(field, value):
    changes: dict[str, Any] = {field: value}
    if field == "notional":
        changes["qty"] = ...

    error = refusal(message(**changes))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert field in error.message


@pytest.mark.parametrize("confidence", [0, 1, "0.5", 0.999999])
def test_decode_confidence_from_zero_to_one_inclusive_is_accepted(confidence):
    signal = decode_signal(message(confidence=confidence), DEFAULT_ACCOUNT)

    assert signal.confidence == D(str(confidence))


@pytest.mark.parametrize("confidence", [-0.0001, 1.0001, "NaN", "sNaN", "-Infinity", None, "high"])
def test_decode_confidence_outside_zero_to_one_is_invalid(confidence):
    error = refusal(message(confidence=confidence))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert "confidence" in error.message


# --- exactly one of qty and notional -------------------------------------------------------


def test_decode_both_qty_and_notional_is_invalid():
    error = refusal(message(notional=100))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert "exactly one of qty and notional" in error.message


@pytest.mark.parametrize("changes", [{"qty": ...}, {"qty": None, "notional": None}])
def test_decode_neither_qty_nor_notional_is_invalid(changes):
    error = refusal(message(**changes))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert "exactly one of qty and notional" in error.message


# --- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("field", ["signal_id", "strategy", "symbol", "timestamp", "side"])
def test_decode_missing_required_field_is_invalid_and_named(field):
    error = refusal(message(**{field: ...}))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert field in error.message


@pytest.mark.parametrize(
    ("field", "limit"),
    [("signal_id", MAX_SIGNAL_ID_LENGTH), ("strategy", 64), ("symbol", 64), ("account", 64)],
)
def test_decode_names_at_their_length_limit_pass_and_one_more_is_invalid(field, limit):
    assert getattr(decode_signal(message(**{field: "x" * limit}), "d"), field) == "x" * limit

    error = refusal(message(**{field: "x" * (limit + 1)}))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert field in error.message


def test_decode_trace_id_up_to_128_characters_passes_and_129_is_invalid():
    assert decode_signal(message(trace_id="t" * 128), "d").trace_id == "t" * 128

    assert refusal(message(trace_id="t" * 129)).code == SignalReason.SIGNAL_INVALID


@pytest.mark.parametrize("field", ["signal_id", "strategy", "symbol", "account", "trace_id"])
@pytest.mark.parametrize("value", ["", " padded", "padded ", "new\nline", "tab\there", "\u2028"])
def test_decode_empty_unprintable_or_padded_names_are_invalid(field, value):
    error = refusal(message(**{field: value}))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert field in error.message


def test_decode_signal_id_with_unicode_printable_characters_is_accepted():
    assert decode_signal(message(signal_id="сигнал-№1"), "d").signal_id == "сигнал-№1"


def test_decode_invalid_default_account_is_refused_as_invalid():
    assert refusal_with_account(" ").code == SignalReason.SIGNAL_INVALID


def refusal_with_account(default_account: str) -> InvalidSignal:
    with pytest.raises(InvalidSignal) as caught:
        decode_signal(message(), default_account)
    return caught.value


# --- timestamps ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-12-02T19:00:00Z", ns("2026-12-02T19:00:00+00:00")),
        ("2026-12-02T19:00:00.123Z", ns("2026-12-02T19:00:00.123+00:00")),
        ("2026-12-02T20:00:00+01:00", ns("2026-12-02T19:00:00+00:00")),
        ("2026-12-02T13:30:00-05:30", ns("2026-12-02T19:00:00+00:00")),
        ("2026-12-02t19:00:00z", ns("2026-12-02T19:00:00+00:00")),
        ("2026-12-02 19:00:00-00:00", ns("2026-12-02T19:00:00+00:00")),
        ("1970-01-01T00:00:00Z", 0),
        ("1969-12-31T23:59:59.999999999Z", -1),
    ],
)
def test_parse_timestamp_reads_rfc3339_with_offsets(text, expected):
    assert parse_timestamp(text) == expected


def test_parse_timestamp_keeps_nanoseconds_exactly():
    assert parse_timestamp("2026-12-02T19:00:00.123456789Z") == (
        ns("2026-12-02T19:00:00+00:00") + 123_456_789
    )


def test_parse_timestamp_short_fraction_is_read_as_a_decimal_fraction():
    assert parse_timestamp("1970-01-01T00:00:00.5Z") == 500_000_000


@pytest.mark.parametrize(
    "text",
    [
        "2026-12-02T19:00:00",  # no offset
        "2026-12-02",
        "2026-12-02T19:00Z",
        "2026-12-02T19:00:00.1234567891Z",  # beyond nanoseconds
        "2026-02-30T19:00:00Z",
        "2026-12-02T24:00:00Z",
        "2026-12-02T19:00:60Z",
        "2026-12-02T19:00:00+24:00",
        "0000-01-01T00:00:00Z",
        "2026-12-02T19:00:00Z\n",
        "\uff12\uff10\uff12\uff16-12-02T19:00:00Z",  # full-width digits
        "2026-12-02T19:00:00+0100",
        "1733165000",
    ],
)
def test_decode_timestamp_not_rfc3339_with_offset_is_invalid(text):
    error = refusal(message(timestamp=text))

    assert error.code == SignalReason.SIGNAL_INVALID
    assert "timestamp" in error.message


def test_decode_timestamp_as_a_number_is_invalid():
    assert refusal(message(timestamp=1_733_165_000)).code == SignalReason.SIGNAL_INVALID


# --- versions and malformed messages ------------------------------------------------------


@pytest.mark.parametrize("version", [..., None, 0, 2, -1, "1", 1.0, True, 10**30, [1]])
def test_decode_missing_or_unknown_version_has_its_own_reason(version):
    error = refusal(message(version=version))

    assert error.code == SignalReason.SIGNAL_UNKNOWN_VERSION
    assert "version" in error.message


def test_decode_unknown_version_is_refused_before_its_fields_are_read():
    error = refusal(json.dumps({"version": 2, "shape": "entirely new"}).encode())

    assert error.code == SignalReason.SIGNAL_UNKNOWN_VERSION


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"{", b'{"version": 1,}', b"\xff\xfe", b"[1, 2]", b'"text"', b"1", b"null"],
)
def test_decode_not_a_json_object_is_malformed(body):
    assert refusal(body).code == SignalReason.SIGNAL_MALFORMED


def test_decode_deeply_nested_json_is_malformed_not_a_crash():
    body = b'{"version": 1, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    assert refusal(body).code == SignalReason.SIGNAL_MALFORMED


def test_invalid_signal_is_an_invalid_request_with_a_stable_code():
    error = refusal(b"nope")

    assert isinstance(error, InvalidRequest)
    assert error.reason is SignalReason.SIGNAL_MALFORMED
    assert error.code == "SIGNAL_MALFORMED"


def test_trading_signal_built_directly_is_validated_too():
    with pytest.raises(InvalidSignal) as caught:
        TradingSignal(
            signal_id="s",
            strategy="m",
            symbol="BTCUSDT",
            side=Side.BUY,
            confidence=D("0.5"),
            timestamp=0,
            account="a",
        )

    assert caught.value.code == SignalReason.SIGNAL_INVALID


# --- properties ----------------------------------------------------------------------------


def decodes_or_refuses(body: bytes) -> TradingSignal | InvalidSignal:
    """Decode, letting any exception but InvalidSignal fail the test."""
    try:
        outcome: TradingSignal | InvalidSignal = decode_signal(body, DEFAULT_ACCOUNT)
    except InvalidSignal as error:
        outcome = error
    if isinstance(outcome, InvalidSignal):
        assert outcome.code in set(SignalReason)
    return outcome


@PROPERTY_SETTINGS
@given(st.binary(max_size=512))
def test_decode_any_bytes_gives_a_signal_or_an_invalid_signal(body):
    outcome = decodes_or_refuses(body)

    assert isinstance(outcome, InvalidSignal)  # random bytes are never a whole signal


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
FIELD_NAMES = st.sampled_from([*VALID, "notional", "price", "account", "trace_id", "other"])


@PROPERTY_SETTINGS
@given(st.dictionaries(FIELD_NAMES | st.text(max_size=8), JSON_VALUES, max_size=12))
def test_decode_any_json_object_gives_a_signal_or_an_invalid_signal(fields):
    decodes_or_refuses(json.dumps(fields).encode())


@PROPERTY_SETTINGS
@given(
    st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=4),
    st.sets(st.sampled_from(sorted(VALID)), max_size=2),
)
def test_decode_valid_message_with_fields_changed_or_dropped_never_raises_otherwise(
    changes, dropped
):
    fields = {k: v for k, v in {**VALID, **changes}.items() if k not in dropped}

    decodes_or_refuses(json.dumps(fields).encode())


NAMES = st.text(
    st.characters(
        codec="utf-8", exclude_categories=("Cc", "Cs", "Cn", "Co", "Cf", "Zs", "Zl", "Zp")
    ),
    min_size=1,
    max_size=40,
)
AMOUNTS = st.decimals(min_value=D("1e-12"), max_value=D("1e14"), places=12).map(
    lambda d: d.normalize()
)


@PROPERTY_SETTINGS
@given(
    signal_id=NAMES,
    strategy=NAMES,
    symbol=NAMES,
    side=st.sampled_from(["BUY", "SELL", "buy", "sell"]),
    confidence=st.decimals(min_value=0, max_value=1, places=6),
    amount=AMOUNTS,
    use_notional=st.booleans(),
    as_string=st.booleans(),
    moment=st.integers(min_value=-(10**18), max_value=4 * 10**18),
)
def test_decode_valid_signals_round_trip_exactly(
    signal_id, strategy, symbol, side, confidence, amount, use_notional, as_string, moment
):
    seconds, nanos = divmod(moment, 10**9)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    number = msgspec.Raw(json.dumps(str(amount)).encode() if as_string else str(amount).encode())
    body = msgspec.json.encode(
        {
            "version": 1,
            "signal_id": signal_id,
            "strategy": strategy,
            "symbol": symbol,
            "side": side,
            "confidence": msgspec.Raw(str(confidence).encode()),
            "notional" if use_notional else "qty": number,
            "timestamp": f"{stamp}.{nanos:09d}Z",
        }
    )

    signal = decode_signal(body, DEFAULT_ACCOUNT)

    assert (signal.signal_id, signal.strategy, signal.symbol) == (signal_id, strategy, symbol)
    assert signal.side is Side(side.upper())
    assert signal.confidence == confidence
    assert (signal.notional if use_notional else signal.qty) == amount
    assert signal.timestamp == moment
