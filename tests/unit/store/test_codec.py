"""The journal codec: every event type round-trips exactly; anything else is corruption."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

import msgspec
import pytest
from tests.fakes import BTC, EURUSD

from ordergate.domain.errors import JournalCorrupted
from ordergate.domain.events import (
    EVENT_TYPES,
    AlertRaised,
    BalanceAdjusted,
    Event,
    FinishedOrdersRetired,
    InstrumentCleared,
    InstrumentMarkedDirty,
    InstrumentUpdated,
    JournalOpened,
    OperatorActed,
    OrderAccepted,
    OrderApproved,
    OrderCanceled,
    OrderCancelRejected,
    OrderCancelRequested,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderInitialized,
    OrderPlanned,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderReplaceRequested,
    OrderStatusUnknown,
    OrderSubmitted,
    PlannedOrder,
    PositionLine,
    PositionsSnapshotted,
    ReconciliationRecorded,
    RetiredOrderRecalled,
    SignalReceived,
    TargetsSet,
    TargetStep,
    TradingArmed,
    TradingStateChanged,
    stream_of,
)
from ordergate.domain.orders import Order
from ordergate.domain.values import (
    DirtyCause,
    LiquiditySide,
    OrderType,
    Side,
    TimeInForce,
    TradingState,
)
from ordergate.engine.codec import decode, encode

D = Decimal
TS = 1_700_000_000_123_456_789  # ns: beyond 2**53, so a float would lose it

# One instance of each event type, with Decimals whose text carries trailing zeros and
# exponents, and every optional field set somewhere and left None somewhere else.
SAMPLES: list[Event] = [
    InstrumentUpdated(dataclasses.replace(BTC, max_qty=D("100.000")), TS),
    BalanceAdjusted("acct-1", "USDT", D("-1E+3"), "withdrawal", TS),
    OrderInitialized(
        order_id="0-1",
        client_order_id="c" * 32,
        account="acct-1",
        symbol="BTCUSDT",
        side=Side.SELL,
        type=OrderType.STOP_LIMIT,
        qty=D("0.10"),
        price=D("50000.0"),
        stop_price=D("50100.00"),
        time_in_force=TimeInForce.FOK,
        reduce_only=False,
        stop_loss=D("51000.0"),
        take_profit=D("49000.0"),
        strategy="mean-revert",
        idempotency_key="key-ü-1",
        request_hash="ab" * 16,
        parent_order_id="0-0",
        trace_id="trace-1",
        ts=TS,
    ),
    OrderDenied("0-1", "QTY_BELOW_MIN", "qty 0.0001 is below the minimum 0.001", TS),
    OrderApproved("0-1", D("50000.10"), TS),
    OrderSubmitted("0-1", None, TS),
    OrderAccepted("0-1", "V-123", TS),
    OrderRejected("0-1", "VENUE_REJECTED", 'quote "x"\nnewline', TS),
    OrderFilled(
        order_id="0-1",
        account="acct-1",
        symbol="BTCUSDT",
        side=Side.BUY,
        trade_id="T-1",
        qty=D("0.0500"),
        price=D("49999.9"),
        fee=D("0.00"),
        fee_currency="BNB",
        liquidity=LiquiditySide.MAKER,
        ts=TS,
    ),
    OrderCancelRequested("0-1", None, TS),
    OrderCanceled("0-1", "IOC_UNFILLED", None, TS),
    OrderCancelRejected("0-1", "VENUE_ORDER_NOT_FOUND", "gone", TS),
    OrderReplaceRequested("0-1", D("0.20"), None, D("1.0E+4"), TS),
    OrderReplaced("0-1", D("0.20"), D("49000.0"), None, TS),
    OrderReplaceRejected("0-1", "VENUE_REJECTED", "no", TS),
    OrderExpired("0-1", None, TS),
    OrderStatusUnknown("0-1", "timeout after 5 s", TS),
    TradingStateChanged(None, "BTCUSDT", TradingState.REDUCING, "vol spike", "admin:k1", TS),
    InstrumentMarkedDirty("acct-1", None, DirtyCause.SEQUENCE_GAP, "seq 7 after 5", TS),
    InstrumentCleared("acct-1", "BTCUSDT", "reconciliation agreed", TS),
    TradingArmed("acct-1", "bybit", "admin:k1", TS),
    AlertRaised("UNREALIZED_LOSS", "acct-1", "BTCUSDT", "loss 12% of notional", TS),
    ReconciliationRecorded("acct-1", "all", ("position BTCUSDT: ours 1, venue 2",), TS),
    PositionsSnapshotted(
        "acct-1",
        (
            PositionLine("BTCUSDT", D("-0.5"), D("50000.0"), D("12.5"), D("49000"), D("500.0")),
            PositionLine("ETHUSDT", D("2"), D("3000"), D("0"), None, None),
        ),
        TS,
    ),
    OperatorActed(None, "CLOSE_ALL", "key:abc123", "flatten before the halt", TS),
    SignalReceived(
        signal_id="sig-1",
        fingerprint="f" * 32,
        account="acct-1",
        symbol="BTCUSDT",
        strategy="momentum",
        side=Side.BUY,
        confidence=D("0.95"),
        qty=None,
        notional=D("1000.50"),
        price_hint=D("50000.0"),
        trace_id="trace-1",
        signal_ts=TS - 5,
        dry_run=True,
        reason_code=None,
        detail="confidence 0.95 >= 0.9 and spread 0.02% <= 0.1%: market",
        order_type=OrderType.MARKET,
        pricing="MARKET",
        reference_price=D("50005.0"),
        spread_pct=D("0.0199980002"),
        parts=1,
        canceled_order_ids=("0-7",),
        planned=(
            PlannedOrder(
                side=Side.BUY,
                type=OrderType.MARKET,
                qty=D("0.020"),
                price=None,
                price_at_offset=False,
                idempotency_key="sig-1",
                denials=("QTY_ABOVE_MAX",),
            ),
        ),
        ts=TS,
    ),
    JournalOpened("5f0c3a9e1d2b4c6a", TS, "dry-run"),
    OrderPlanned("0-8", D("50000.10"), TS),
    TargetsSet(
        set_id="rebalance-7",
        fingerprint="0" * 32,
        account="acc",
        strategy="reb",
        order_type=OrderType.LIMIT,
        steps=(
            TargetStep(
                symbol="BTCUSDT",
                target=D("-0.50"),
                position=D("0.25"),
                working_buy=D("0.010"),
                working_sell=D("0"),
                order_id=None,
                side=None,
                qty=D("0"),
                remainder=D("0.0004"),
                canceled=("0-3",),
                reduced=(("0-4", D("0.0100")),),
                reason_code="TRADING_HALTED",
                detail="trading is halted",
            ),
        ),
        trace_id="trace-7",
        ts=TS,
    ),
    FinishedOrdersRetired(("0-1", "0-2"), TS),
]
# A recall carries the whole order, exponents and all: here, the sample initialized.
assert isinstance(SAMPLES[2], OrderInitialized)
SAMPLES.append(RetiredOrderRecalled(Order(SAMPLES[2]).snapshot(("0-9",)), TS))


def decimal_texts(value: object) -> dict[str, str]:
    """Every Decimal field (nested instruments included) as its exact text."""
    texts: dict[str, str] = {}
    if isinstance(value, msgspec.Struct):
        names = list(value.__struct_fields__)
    else:
        names = [f.name for f in dataclasses.fields(value)]  # type: ignore[arg-type]
    for name in names:
        v = getattr(value, name)
        if isinstance(v, Decimal):
            texts[name] = str(v)
        elif isinstance(v, msgspec.Struct) or dataclasses.is_dataclass(v):
            texts.update({f"{name}.{k}": t for k, t in decimal_texts(v).items()})
    return texts


def test_codec_samples_cover_every_event_type():
    assert sorted(type(e).__name__ for e in SAMPLES) == sorted(t.__name__ for t in EVENT_TYPES)


@pytest.mark.parametrize("event", SAMPLES, ids=lambda e: type(e).__name__)
def test_codec_event_round_trips_exactly(event):
    type_name, version, payload = encode(event)

    decoded = decode(type_name, version, payload)

    assert type_name == type(event).__name__
    assert version == type(event).VERSION
    assert type(decoded) is type(event)
    assert decoded == event
    assert decimal_texts(decoded) == decimal_texts(event)
    assert encode(decoded) == (type_name, version, payload)  # the same bytes to hash


def test_codec_enums_decode_as_enums():
    decoded = decode(*encode(SAMPLES[2]))

    assert isinstance(decoded, OrderInitialized)
    assert decoded.side is Side.SELL
    assert decoded.type is OrderType.STOP_LIMIT
    assert decoded.time_in_force is TimeInForce.FOK


def test_codec_decimals_travel_as_strings():
    _, _, payload = encode(SAMPLES[8])

    assert json.loads(payload)["qty"] == "0.0500"


def test_codec_unknown_type_raises_journal_corrupted():
    _, version, payload = encode(SAMPLES[4])

    with pytest.raises(JournalCorrupted, match="unknown event type"):
        decode("OrderTeleported", version, payload)


@pytest.mark.parametrize("version", [0, 2, 99])
def test_codec_wrong_version_raises_journal_corrupted(version):
    type_name, _, payload = encode(SAMPLES[4])

    with pytest.raises(JournalCorrupted):
        decode(type_name, version, payload)


@pytest.mark.parametrize(
    "payload",
    [
        b"[]",
        b"{}",
        b'{"order_id": "0-1", "ts": 1}',
        b'{"order_id": "0-1", "reference_price": "abc", "ts": 1}',
        b'{"order_id": 1, "reference_price": "1", "ts": 1}',
        b'{"order_id": "0-1", "reference_price": "1", "ts": "1"}',
    ],
    ids=["array", "empty", "missing-field", "bad-decimal", "int-for-str", "str-for-int"],
)
def test_codec_bad_payload_raises_journal_corrupted(payload):
    with pytest.raises(JournalCorrupted, match="OrderApproved"):
        decode("OrderApproved", 1, payload)


def test_codec_bad_enum_value_raises_journal_corrupted():
    _, _, payload = encode(SAMPLES[8])
    forged = payload.replace(b'"BUY"', b'"HOLD"')

    with pytest.raises(JournalCorrupted):
        decode("OrderFilled", 1, forged)


@pytest.mark.parametrize("payload", [b"{not json", b"", b'{"order_id": "0-1"'])
def test_codec_payload_not_json_raises_journal_corrupted(payload):
    with pytest.raises(JournalCorrupted):
        decode("OrderApproved", 1, payload)


def test_codec_invalid_stored_instrument_raises_journal_corrupted():
    type_name, version, payload = encode(InstrumentUpdated(EURUSD, TS))
    forged = payload.replace(b'"tick_size":"0.00001"', b'"tick_size":"0"')
    assert forged != payload

    with pytest.raises(JournalCorrupted):
        decode(type_name, version, forged)


@pytest.mark.parametrize(
    ("event", "stream"),
    [
        (SAMPLES[0], "instrument:BTCUSDT"),
        (SAMPLES[1], "account:acct-1"),
        (SAMPLES[2], "order:0-1"),
        (SAMPLES[8], "order:0-1"),
    ],
    ids=["instrument", "account", "order", "fill"],
)
def test_stream_of_names_stream_by_kind(event, stream):
    assert stream_of(event) == stream
