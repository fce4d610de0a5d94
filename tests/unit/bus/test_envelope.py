"""The published message of each journal record: shape, enrichment, routing, schema."""

from __future__ import annotations

import asyncio
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import pytest
from tests.fakes import BTC
from tests.unit.domain.builders import fill_of, initialized, new_order

from ordergate.bus.envelope import (
    EVENT_MESSAGE_TYPES,
    MESSAGE_TYPES,
    POSITION_CHANGED,
    Envelope,
    EnvelopeFold,
    PositionChangedMessage,
    decode_message,
    message_schema,
    rfc3339,
    routing_key,
    schema_document,
    topic_word,
)
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
    OrderPlanned,
    OrderRejected,
    OrderReplaced,
    OrderReplaceRejected,
    OrderReplaceRequested,
    OrderStatusUnknown,
    OrderSubmitted,
    PositionLine,
    PositionsSnapshotted,
    ReconciliationRecorded,
    RetiredOrderRecalled,
    SignalReceived,
    TargetsSet,
    TargetStep,
    TradingArmed,
    TradingStateChanged,
)
from ordergate.domain.values import DirtyCause, OrderType, Side, TradingState
from ordergate.engine.chain import GENESIS, seal
from ordergate.engine.records import JournalRecord
from ordergate.engine.state import OmsState
from ordergate.engine.views import ReadModelChanges
from ordergate.store.memory import MemoryStore

D = Decimal
ACCOUNT = "acct-1"
ODD_ACCOUNT = "desk.eu*1#"  # every character a topic key cannot carry
T0 = 1_700_000_000_000_000_000
SCHEMA_FILE = Path(__file__).parents[3] / "docs" / "schemas" / "order-event.schema.json"


def every_kind_of_event() -> list[Event]:
    """A session that journals every event type, each order along a legal path."""
    events: list[Event] = []

    def at(n: int) -> int:
        return T0 + n * 1_000_000

    def order(order_id: str, **kw: Any) -> None:
        base = initialized(order_id, ts=at(len(events)), **kw)
        events.append(msgspec.structs.replace(base, trace_id=f"trace-{order_id}"))

    def fill(order_id: str, trade_id: str, qty: str, price: str, side: Side = Side.BUY) -> None:
        account = ODD_ACCOUNT if order_id == "0-6" else ACCOUNT
        stub = new_order(order_id=order_id, account=account, side=side)
        events.append(fill_of(stub, qty, price, trade_id=trade_id, fee="0.5", ts=at(len(events))))

    def then(*factories: Any) -> None:
        for make in factories:
            events.append(make(at(len(events))))

    then(
        lambda t: JournalOpened("journal-1", t),
        lambda t: InstrumentUpdated(BTC, t),
        lambda t: BalanceAdjusted(ACCOUNT, "USDT", D("100000"), "deposit", t),
        lambda t: TradingArmed(ACCOUNT, "paper", "ops", t),
    )
    # 0-1: a market buy of 1 for a trading signal, filled in two parts
    then(
        lambda t: SignalReceived(
            signal_id="sig-1",
            fingerprint="f" * 16,
            account=ACCOUNT,
            symbol=BTC.symbol,
            strategy="s1",
            side=Side.BUY,
            confidence=D("0.95"),
            qty=D("1"),
            notional=None,
            price_hint=None,
            trace_id="trace-sig-1",
            signal_ts=t,
            dry_run=False,
            reason_code=None,
            detail="placed",
            order_type=OrderType.MARKET,
            pricing="market",
            reference_price=D("50000"),
            spread_pct=D("0.01"),
            parts=1,
            canceled_order_ids=(),
            planned=(),
            ts=t,
        )
    )
    order("0-1", type=OrderType.MARKET, price=None, strategy="s1")
    then(
        lambda t: OrderApproved("0-1", D("50000"), t),
        lambda t: OrderSubmitted("0-1", "V1", t),
        lambda t: OrderAccepted("0-1", "V1", t),
    )
    fill("0-1", "T1", "0.4", "50000")
    fill("0-1", "T2", "0.6", "50010")
    # 0-2 denied; 0-3 rejected by the venue
    order("0-2", qty="1000")
    then(lambda t: OrderDenied("0-2", "MAX_POSITION", "too big", t))
    order("0-3")
    then(
        lambda t: OrderApproved("0-3", D("50000"), t),
        lambda t: OrderSubmitted("0-3", None, t),
        lambda t: OrderRejected("0-3", "VENUE_REJECTED", "no", t),
    )
    # 0-4: a resting limit order, replaced once, then canceled
    order("0-4", price="40000")
    then(
        lambda t: OrderApproved("0-4", D("40000"), t),
        lambda t: OrderSubmitted("0-4", "V4", t),
        lambda t: OrderAccepted("0-4", "V4", t),
        lambda t: OrderReplaceRequested("0-4", D("2"), D("41000"), None, t),
        lambda t: OrderReplaceRejected("0-4", "VENUE_REJECTED", "no", t),
        lambda t: OrderReplaceRequested("0-4", D("2"), D("41000"), None, t),
        lambda t: OrderReplaced("0-4", D("2"), D("41000"), None, t),
        lambda t: OrderCancelRequested("0-4", "user", t),
        lambda t: OrderCancelRejected("0-4", "VENUE_ORDER_NOT_FOUND", "busy", t),
        lambda t: OrderCancelRequested("0-4", "user", t),
        lambda t: OrderCanceled("0-4", None, None, t),
    )
    # 0-5: the submit's answer was lost; the venue later says it expired
    order("0-5")
    then(
        lambda t: OrderApproved("0-5", D("50000"), t),
        lambda t: OrderStatusUnknown("0-5", "timeout", t),
        lambda t: OrderExpired("0-5", "DAY_ORDER_EXPIRED", t),
    )
    # 0-2 and 0-3 are finished: retired from memory; 0-3 is named again and recalled
    rejected = OmsState.replay(events).orders["0-3"].snapshot()
    then(
        lambda t: FinishedOrdersRetired(("0-2", "0-3"), t),
        lambda t: RetiredOrderRecalled(rejected, t),
    )
    # 0-6: an account whose name needs sanitizing, half filled on a sell
    order("0-6", account=ODD_ACCOUNT, side=Side.SELL)
    then(
        lambda t: OrderApproved("0-6", D("50000"), t),
        lambda t: OrderSubmitted("0-6", "V6", t),
    )
    fill("0-6", "T3", "0.5", "50000", side=Side.SELL)
    # 0-7: a target set's order, in a dry run: approved by risk, never sent
    order("0-7", strategy="reb", idempotency_key="tgt:set-1:BTCUSDT")
    then(
        lambda t: OrderPlanned("0-7", D("50000"), t),
        lambda t: TargetsSet(
            set_id="set-1",
            fingerprint="e" * 32,
            account=ACCOUNT,
            strategy="reb",
            order_type=OrderType.MARKET,
            steps=(
                TargetStep(
                    symbol=BTC.symbol,
                    target=D("2"),
                    position=D("1"),
                    working_buy=D("0"),
                    working_sell=D("0"),
                    order_id="0-7",
                    side=Side.BUY,
                    qty=D("1"),
                    remainder=D("0"),
                    canceled=(),
                    reduced=(),
                    reason_code=None,
                    detail="BUY 1 placed toward the target",
                ),
            ),
            trace_id=None,
            ts=t,
        ),
    )
    then(
        lambda t: TradingStateChanged(ACCOUNT, None, TradingState.REDUCING, "drill", "ops", t),
        lambda t: InstrumentMarkedDirty(
            ACCOUNT, BTC.symbol, DirtyCause.VENUE_RECONNECT, "ws dropped", t
        ),
        lambda t: InstrumentCleared(ACCOUNT, BTC.symbol, "reconciled", t),
        lambda t: AlertRaised("UNREALIZED_LOSS", ACCOUNT, BTC.symbol, "-5%", t),
        lambda t: OperatorActed(None, "close_all", "ops", "end of day", t),
        lambda t: ReconciliationRecorded(ACCOUNT, "orders", (), t),
        lambda t: PositionsSnapshotted(
            ACCOUNT, (PositionLine(BTC.symbol, D("1"), D("50000"), D("0"), None, None),), t
        ),
    )
    return events


def journal_of(events: list[Event]) -> list[JournalRecord]:
    """The records a store keeps for `events`, as the relay reads them."""
    store = MemoryStore(partition=0)

    async def fill_store() -> list[JournalRecord]:
        await store.append(events, ReadModelChanges())
        return [r async for r in store.records_after(0)]

    return asyncio.run(fill_store())


@pytest.fixture(scope="module")
def records() -> list[JournalRecord]:
    return journal_of(every_kind_of_event())


@pytest.fixture(scope="module")
def published(records: list[JournalRecord]) -> list[tuple[JournalRecord, tuple[Envelope, ...]]]:
    fold = EnvelopeFold(0)
    return [(record, fold.envelopes(record)) for record in records]


def envelopes_of(published: list[tuple[JournalRecord, tuple[Envelope, ...]]]) -> list[Envelope]:
    return [e for _, envelopes in published for e in envelopes]


def body(envelope: Envelope) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(envelope.body)
    return parsed


def of_type(published: list[tuple[JournalRecord, tuple[Envelope, ...]]], name: str) -> list[Any]:
    return [body(e) for e in envelopes_of(published) if e.type == name]


# --- every record, every type ------------------------------------------------------------


def test_the_scenario_journals_every_event_type(records: list[JournalRecord]) -> None:
    assert {r.type for r in records} == {cls.__name__ for cls in EVENT_TYPES}


def test_every_record_gets_one_event_message_and_a_fill_also_a_position(published: Any) -> None:
    for record, envelopes in published:
        kinds = [(e.part, e.type) for e in envelopes]
        if record.type == "OrderFilled":
            assert kinds == [("event", "OrderFilled"), ("position", POSITION_CHANGED)]
        else:
            assert kinds == [("event", record.type)]
        assert {e.seq for e in envelopes} == {record.seq}


def test_message_ids_name_partition_seq_and_part(published: Any) -> None:
    for record, envelopes in published:
        ids = [e.message_id for e in envelopes]
        assert ids[0] == f"0:{record.seq}"
        assert ids[1:] == ([f"0:{record.seq}:position"] if record.type == "OrderFilled" else [])
        assert [body(e)["id"] for e in envelopes] == ids


def test_every_message_decodes_strictly_into_its_struct_and_back_to_the_same_bytes(
    published: Any,
) -> None:
    for envelope in envelopes_of(published):
        message = decode_message(envelope.body)
        assert type(message).__name__ == f"{envelope.type}Message"
        assert msgspec.json.encode(message) == envelope.body


def test_the_event_field_is_the_payload_as_journaled(published: Any) -> None:
    for record, envelopes in published:
        for envelope in envelopes:
            assert body(envelope)["event"] == json.loads(record.payload)


def test_common_fields_come_from_the_record(published: Any) -> None:
    for record, envelopes in published:
        for envelope in envelopes:
            fields = body(envelope)
            assert fields["schema"] == "ordergate.event/1"
            assert (fields["partition"], fields["seq"], fields["ts"]) == (0, record.seq, record.ts)
            assert fields["time"] == rfc3339(record.ts)
            assert fields["version"] == 1


# --- enrichment ---------------------------------------------------------------------------


def test_order_events_carry_the_order_as_it_is_after_the_event(published: Any) -> None:
    orders = [(m["event"], m["order"]) for m in of_type(published, "OrderFilled")]
    first, second, sell = orders
    assert first[1]["status"] == "PARTIALLY_FILLED"
    assert (first[1]["filled_qty"], first[1]["avg_fill_price"]) == ("0.4", "50000")
    assert second[1]["status"] == "FILLED"
    assert (second[1]["filled_qty"], second[1]["avg_fill_price"]) == ("1.0", "50006")
    assert sell[1]["status"] == "PARTIALLY_FILLED"
    [replaced] = of_type(published, "OrderReplaced")
    assert (replaced["order"]["qty"], replaced["order"]["price"]) == ("2", "41000")
    [initialized_msg] = [m for m in of_type(published, "OrderInitialized") if m["seq"] == 6]
    assert initialized_msg["order"]["status"] == "NEW"
    assert initialized_msg["order"]["strategy"] == "s1"


def test_order_events_carry_the_orders_trace_id_and_others_their_own(published: Any) -> None:
    for envelope in envelopes_of(published):
        fields = body(envelope)
        if "order" in fields or envelope.part == "position":
            order_id = fields["event"]["order_id"]
            assert fields["trace_id"] == envelope.trace_id == f"trace-{order_id}"
        elif envelope.type == "RetiredOrderRecalled":
            recalled = fields["event"]["order"]
            assert fields["trace_id"] == envelope.trace_id == recalled["trace_id"] == "trace-0-3"
            assert (fields["account"], fields["symbol"]) == (recalled["account"], "BTCUSDT")
        else:
            assert fields["trace_id"] == envelope.trace_id == fields["event"].get("trace_id")
    [signal] = of_type(published, "SignalReceived")
    assert signal["trace_id"] == "trace-sig-1"


def test_only_order_events_have_an_order(published: Any) -> None:
    for envelope in envelopes_of(published):
        has_order = "order" in body(envelope)
        assert has_order == (envelope.type.startswith("Order") and envelope.part == "event")


def test_position_message_carries_the_fill_and_the_position_after_it(published: Any) -> None:
    positions = of_type(published, POSITION_CHANGED)
    assert [p["position"]["qty"] for p in positions] == ["0.4", "1.0", "-0.5"]
    assert [p["event"]["trade_id"] for p in positions] == ["T1", "T2", "T3"]
    long_after_second = positions[1]["position"]
    assert long_after_second["avg_price"] == "50006"
    assert long_after_second["fees"] == "1.0"
    assert positions[2]["account"] == ODD_ACCOUNT
    message = decode_message(json.dumps(positions[0]).encode())
    assert isinstance(message, PositionChangedMessage)
    assert message.position.qty == D("0.4")


def test_decimals_travel_as_strings(published: Any) -> None:
    [fill] = [e for e in envelopes_of(published) if e.type == "OrderFilled"][:1]
    assert b'"qty":"0.4"' in fill.body
    assert b'"price":"50000"' in fill.body
    message = decode_message(fill.body)
    assert type(message) is EVENT_MESSAGE_TYPES["OrderFilled"]
    assert msgspec.structs.asdict(message)["event"].qty == D("0.4")


# --- routing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_type", "key"),
    [
        ("JournalOpened", "_._.JournalOpened"),
        ("InstrumentUpdated", "_.BTCUSDT.InstrumentUpdated"),
        ("BalanceAdjusted", "acct-1._.BalanceAdjusted"),
        ("TradingArmed", "acct-1._.TradingArmed"),
        ("TradingStateChanged", "acct-1._.TradingStateChanged"),
        ("InstrumentMarkedDirty", "acct-1.BTCUSDT.InstrumentMarkedDirty"),
        ("OperatorActed", "_._.OperatorActed"),
        ("OrderDenied", "acct-1.BTCUSDT.OrderDenied"),
        ("SignalReceived", "acct-1.BTCUSDT.SignalReceived"),
    ],
)
def test_routing_key_names_account_symbol_and_type(
    published: Any, event_type: str, key: str
) -> None:
    keys = {e.routing_key for e in envelopes_of(published) if e.type == event_type}
    assert keys == {key}


def test_routing_key_of_an_account_with_topic_characters_is_sanitized(published: Any) -> None:
    keys = {e.routing_key for e in envelopes_of(published) if body(e)["account"] == ODD_ACCOUNT}
    assert keys == {
        "desk_eu_1_.BTCUSDT.OrderInitialized",
        "desk_eu_1_.BTCUSDT.OrderApproved",
        "desk_eu_1_.BTCUSDT.OrderSubmitted",
        "desk_eu_1_.BTCUSDT.OrderFilled",
        "desk_eu_1_.BTCUSDT.PositionChanged",
    }


@pytest.mark.parametrize(
    ("value", "word"),
    [
        ("acct-1", "acct-1"),
        ("a.b", "a_b"),
        ("x*y#z", "x_y_z"),
        ("...", "___"),
        ("", "_"),
        (None, "_"),
    ],
)
def test_topic_word_replaces_separators_and_wildcards(value: str | None, word: str) -> None:
    assert topic_word(value) == word


def test_routing_key_stays_within_amqps_255_bytes_for_long_names() -> None:
    key = routing_key("é" * 300, "S" * 300, "OrderFilled")
    assert len(key.encode()) <= 255
    account, symbol, event_type = key.split(".")
    assert set(account) == {"é"}
    assert set(symbol) == {"S"}
    assert event_type == "OrderFilled"


@pytest.mark.parametrize(
    ("ts", "text"),
    [
        (1_700_000_000_123_456_789, "2023-11-14T22:13:20.123456789Z"),
        (0, "1970-01-01T00:00:00.000000000Z"),
        (1_000_000_001, "1970-01-01T00:00:01.000000001Z"),
    ],
)
def test_rfc3339_keeps_nanoseconds_in_utc(ts: int, text: str) -> None:
    assert rfc3339(ts) == text


# --- determinism and resumption -------------------------------------------------------------


def test_resuming_after_folding_a_prefix_gives_the_same_bytes(
    records: list[JournalRecord], published: Any
) -> None:
    expected = envelopes_of(published)
    for cut in (1, 7, len(records) // 2, len(records) - 1):
        fold = EnvelopeFold(0)
        for record in records[:cut]:
            fold.fold(record)
        resumed = [e for r in records[cut:] for e in fold.envelopes(r)]
        assert resumed == [e for e in expected if e.seq > cut]


def test_fold_refuses_a_skipped_record(records: list[JournalRecord]) -> None:
    fold = EnvelopeFold(0)
    fold.fold(records[0])
    with pytest.raises(JournalCorrupted, match="seq 3 where 2 was expected"):
        fold.envelopes(records[2])


def test_fold_refuses_a_record_whose_payload_was_altered(records: list[JournalRecord]) -> None:
    fold = EnvelopeFold(0)
    fold.fold(records[0])
    forged = msgspec.structs.replace(records[1], payload=records[1].payload.replace(b"0.1", b"0.2"))
    with pytest.raises(JournalCorrupted, match="hash does not match"):
        fold.envelopes(forged)


def test_fold_refuses_a_record_of_another_partition() -> None:
    [record] = seal([JournalOpened("j", T0)], 1, 0, GENESIS)
    with pytest.raises(JournalCorrupted, match="partition 0"):
        EnvelopeFold(0).fold(record)


def test_fold_refuses_an_event_that_does_not_fold() -> None:
    stranger = OrderAccepted("0-99", "V99", T0)  # no such order
    [record] = seal([stranger], 0, 0, GENESIS)
    with pytest.raises(JournalCorrupted, match="does not fold"):
        EnvelopeFold(0).envelopes(record)


# --- the schema --------------------------------------------------------------------------


def test_committed_schema_file_is_what_the_code_generates() -> None:
    assert SCHEMA_FILE.read_text() == schema_document(), (
        "docs/schemas/order-event.schema.json is stale; regenerate it with "
        "`.venv/bin/python -m ordergate.bus.envelope > docs/schemas/order-event.schema.json`"
    )


def test_schema_is_draft_2020_12_and_names_every_message_type() -> None:
    schema = message_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    mapping = schema["discriminator"]["mapping"]
    assert set(mapping) == {*EVENT_MESSAGE_TYPES, POSITION_CHANGED}
    assert {ref.rsplit("/", 1)[1] for ref in mapping.values()} == {
        cls.__name__ for cls in MESSAGE_TYPES
    }
    fill = schema["$defs"]["OrderFilledMessage"]
    assert fill["required"][:2] == ["type", "schema"]
    assert schema["$defs"]["OrderFilled"]["properties"]["qty"] == {
        "type": "string",
        "format": "decimal",
    }


def test_decoding_refuses_another_schema_version(published: Any) -> None:
    fields = body(envelopes_of(published)[0])
    fields["schema"] = "ordergate.event/2"
    with pytest.raises(msgspec.ValidationError, match="schema"):
        decode_message(json.dumps(fields).encode())


def test_decoding_is_strict_about_types_and_required_fields(published: Any) -> None:
    fill = next(e for e in envelopes_of(published) if e.type == "OrderFilled")
    as_string = body(fill)
    as_string["seq"] = str(as_string["seq"])
    with pytest.raises(msgspec.ValidationError, match="seq"):
        decode_message(json.dumps(as_string).encode())
    missing = body(fill)
    del missing["order"]
    with pytest.raises(msgspec.ValidationError, match="order"):
        decode_message(json.dumps(missing).encode())
    unknown_type = body(fill)
    unknown_type["type"] = "OrderTeleported"
    with pytest.raises(msgspec.ValidationError, match="OrderTeleported"):
        decode_message(json.dumps(unknown_type).encode())
