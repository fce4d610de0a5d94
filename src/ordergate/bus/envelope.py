"""What ordergate publishes for one journal record: the enriched event message.

Every journal record becomes one message, so a consumer sees a gapless `seq` per
partition and can tell a gap from silence. The message carries the event exactly as
journaled plus what a consumer would otherwise have to rebuild: for an order event, the
order as it stands after the event. A fill (`OrderFilled`) also becomes a second message,
`PositionChanged`, with the position after the fill.

The body is JSON (decimals as strings, times as integer nanoseconds and RFC 3339)::

    {"type": "OrderFilled", "schema": "ordergate.event/1", "id": "0:42", "partition": 0,
     "seq": 42, "part": "event", "ts": 1700000000123456789,
     "time": "2023-11-14T22:13:20.123456789Z", "version": 1, "account": "acct-1",
     "symbol": "BTCUSDT", "trace_id": "t-1", "event": {...}, "order": {...}}

Messages are a pure function of the journal: the same record, folded over the same
records before it, gives the same bytes, so a message re-sent after a crash is identical
to the first copy. The message Structs below are the schema: `message_schema()` renders
them as JSON Schema (docs/schemas/order-event.schema.json) and `decode_message` reads a
body back strictly. Regenerate the committed schema with
`python -m ordergate.bus.envelope > docs/schemas/order-event.schema.json`.
"""

from __future__ import annotations

import functools
import json
import operator
import typing
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import Meta

from ordergate.domain.errors import JournalCorrupted, OrderGateError
from ordergate.domain.events import (
    EVENT_TYPES,
    Event,
    InstrumentUpdated,
    OrderEvent,
    OrderFilled,
    RetiredOrderRecalled,
)
from ordergate.engine.records import JournalRecord
from ordergate.engine.replay import JournalFold
from ordergate.engine.views import OrderView, PositionView

SCHEMA: Final = "ordergate.event/1"
POSITION_CHANGED: Final = "PositionChanged"
POSITION_CHANGED_VERSION: Final = 1
NO_WORD: Final = "_"  # a routing-key word for "none": an event with no account or symbol
_WORD_BYTES: Final = 100  # a routing key is at most 255 bytes: three words and two dots
_RELEASE_EVERY: Final = 1024  # records folded between discards of pending read-model rows

Part = Literal["event", "position"]


class Message(msgspec.Struct, frozen=True, kw_only=True, tag_field="type"):
    """Fields every published message has; `type` (the tag) is the event's class name.

    `(partition, seq, part)` identifies a message, and `id` spells it: `"{partition}:{seq}"`
    for the event itself, `"{partition}:{seq}:position"` for a fill's position. `version` is
    the version of the `event` payload's shape (of the position payload for
    `PositionChanged`). `account` and `symbol` are null where the event has none.
    """

    schema: Annotated[
        Literal["ordergate.event/1"], Meta(description="The envelope's shape and version.")
    ]
    id: Annotated[
        str,
        Meta(
            description="The message id (also the AMQP message_id): '{partition}:{seq}', "
            "or '{partition}:{seq}:position'. De-duplicate by it."
        ),
    ]
    partition: Annotated[int, Meta(description="The journal partition (accounts hash to one).")]
    seq: Annotated[
        int,
        Meta(description="Journal sequence number: gapless and commit-ordered per partition."),
    ]
    part: Annotated[
        Part,
        Meta(description="'event' for the event itself, 'position' for a fill's position."),
    ]
    ts: Annotated[int, Meta(description="Event time, nanoseconds since the Unix epoch.")]
    time: Annotated[str, Meta(description="`ts` as RFC 3339 UTC with nine fractional digits.")]
    version: Annotated[int, Meta(description="Version of the payload's shape.")]
    account: Annotated[str | None, Meta(description="The account, or null when none.")]
    symbol: Annotated[str | None, Meta(description="The instrument, or null when none.")]
    trace_id: Annotated[
        str | None, Meta(description="The trace id of the intent behind an order event.")
    ]


class PositionChangedMessage(Message, frozen=True, kw_only=True, tag=POSITION_CHANGED):
    """The position after a fill: published after the fill's own message, with its seq."""

    event: OrderFilled
    position: PositionView


_ORDER_EVENT_TYPES: Final[frozenset[type[Event]]] = frozenset(typing.get_args(OrderEvent))


def _event_message_type(event_type: type[Event]) -> type[Message]:
    """Define the message of one event type: `event` is that type, and order events carry
    the `order` after it. Derived from `EVENT_TYPES`, so a new event is published (and its
    schema drifts, which a test notices) without a change here."""
    name = event_type.__name__
    fields: list[tuple[str, type]] = [("event", event_type)]
    if event_type in _ORDER_EVENT_TYPES:
        fields.append(("order", OrderView))
    cls = msgspec.defstruct(
        f"{name}Message",
        fields,
        bases=(Message,),
        tag=name,
        frozen=True,
        kw_only=True,
        module=__name__,
    )
    return typing.cast("type[Message]", cls)


EVENT_MESSAGE_TYPES: Final[dict[str, type[Message]]] = {
    cls.__name__: _event_message_type(cls) for cls in EVENT_TYPES
}
MESSAGE_TYPES: Final[tuple[type[Message], ...]] = (
    *EVENT_MESSAGE_TYPES.values(),
    PositionChangedMessage,
)
# The tagged union of every message: msgspec picks the class by the `type` field.
_MESSAGE_UNION: Final[Any] = functools.reduce(operator.or_, MESSAGE_TYPES)
_ENCODER: Final = msgspec.json.Encoder()
_DECODER: Final[msgspec.json.Decoder[Any]] = msgspec.json.Decoder(_MESSAGE_UNION, strict=True)


def decode_message(body: bytes) -> Message:
    """Read a published body back into its message Struct, strictly (no coercion): what a
    Python consumer does, and how the tests prove that bodies match the schema.

    Raises `msgspec.ValidationError` (or `msgspec.DecodeError` for bytes that are not JSON).
    """
    message: Message = _DECODER.decode(body)
    return message


def message_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of every message ordergate publishes."""
    generated = msgspec.json.schema(_MESSAGE_UNION)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "ordergate event message",
        "description": (
            f"One message of the ordergate events exchange (schema {SCHEMA}). The `type` "
            "field names the event and selects the shape: every journaled event type, plus "
            f"{POSITION_CHANGED} after each OrderFilled. Decimals are strings; `ts` fields "
            "are integer nanoseconds since the Unix epoch. Consumers should ignore fields "
            "they do not know: fields may be added within the same schema version."
        ),
        **generated,
    }


def schema_document() -> str:
    """`message_schema()` as the text committed in docs/schemas/order-event.schema.json."""
    return json.dumps(message_schema(), indent=2, ensure_ascii=False) + "\n"


# --- routing and naming ----------------------------------------------------------------


def topic_word(value: str | None) -> str:
    """Make `value` one word of a topic routing key.

    `.` separates words and `*`/`#` are wildcards in bindings, so each becomes `_`; a
    missing or empty value is `_` too (bind `_` to mean "none"). Words are cut to 100
    bytes so that a key stays within AMQP's 255.
    """
    if not value:
        return NO_WORD
    word = value.replace(".", "_").replace("*", "_").replace("#", "_")
    encoded = word.encode()
    if len(encoded) > _WORD_BYTES:
        word = encoded[:_WORD_BYTES].decode(errors="ignore")
    return word


def routing_key(account: str | None, symbol: str | None, type_name: str) -> str:
    """`<account>.<symbol>.<type>`, each word sanitized by `topic_word`."""
    return f"{topic_word(account)}.{topic_word(symbol)}.{topic_word(type_name)}"


def message_id(partition: int, seq: int, part: Part = "event") -> str:
    """`"{partition}:{seq}"` for an event, `"{partition}:{seq}:position"` for its position."""
    base = f"{partition}:{seq}"
    return base if part == "event" else f"{base}:{part}"


def rfc3339(ts: int) -> str:
    """Nanoseconds since the epoch as RFC 3339 UTC, always with nine fractional digits
    (fixed width keeps the text sortable and the bytes stable)."""
    seconds, nanos = divmod(ts, 1_000_000_000)
    stamp = datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return f"{stamp}.{nanos:09d}Z"


# --- records to messages ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Envelope:
    """One message ready to publish: its body and what the broker and headers need."""

    message_id: str
    routing_key: str
    partition: int
    seq: int
    part: Part
    type: str
    trace_id: str | None
    ts: int
    body: bytes


def _text_field(event: Event, name: str) -> str | None:
    value = getattr(event, name, None)
    return value if isinstance(value, str) else None


class EnvelopeFold:
    """The journal folded into an `OmsState`, one record at a time, from seq 1 on.

    `envelopes(record)` folds the record and returns its messages, enriched from the state
    just after it; `fold(record)` only folds (to catch up to where publishing resumes).
    Each record is checked against the hash chain first. A record out of order, one whose
    hash does not link, or one that does not fold raises `JournalCorrupted`: the engine
    folded the same records, so the journal (or this code) is broken, and publishing a
    guess would be worse than stopping.
    """

    def __init__(self, partition: int) -> None:
        self._partition = partition
        self._fold = JournalFold(partition)
        self._state = self._fold.state

    @property
    def seq(self) -> int:
        """The last seq folded (0: none)."""
        return self._fold.seq

    def fold(self, record: JournalRecord) -> Event:
        """Apply one record to the state and return its event."""
        if record.partition != self._partition:
            raise JournalCorrupted(
                f"record {record.partition}:{record.seq} in partition {self._partition}'s journal"
            )
        try:
            event = self._fold.apply(record)
        except JournalCorrupted:
            raise
        except (OrderGateError, LookupError) as exc:
            raise JournalCorrupted(
                f"record {record.partition}:{record.seq} ({record.type}) does not fold: {exc}"
            ) from exc
        if record.seq % _RELEASE_EVERY == 0:
            # The state keeps the rows each event changed until someone takes them; the
            # relay writes no read models, so drop them rather than let them pile up.
            self._state.take_changes()
        return event

    def envelopes(self, record: JournalRecord) -> tuple[Envelope, ...]:
        """Fold one record and return its messages: the event's, then a fill's position."""
        event = self.fold(record)
        account, symbol, trace_id = self._subject(event)
        common: dict[str, Any] = {
            "schema": SCHEMA,
            "partition": record.partition,
            "seq": record.seq,
            "ts": record.ts,
            "time": rfc3339(record.ts),
            "account": account,
            "symbol": symbol,
            "trace_id": trace_id,
        }
        type_name = type(event).__name__
        fields: dict[str, Any] = {"event": event}
        if isinstance(event, OrderEvent):
            fields["order"] = OrderView.of(self._state.orders[event.order_id])
        message = EVENT_MESSAGE_TYPES[type_name](
            id=message_id(record.partition, record.seq),
            part="event",
            version=event.VERSION,
            **common,
            **fields,
        )
        out = [self._envelope(message, type_name)]
        if isinstance(event, OrderFilled):
            position = PositionChangedMessage(
                id=message_id(record.partition, record.seq, "position"),
                part="position",
                version=POSITION_CHANGED_VERSION,
                event=event,
                position=self._position_after(event),
                **common,
            )
            out.append(self._envelope(position, POSITION_CHANGED))
        return tuple(out)

    def _envelope(self, message: Message, type_name: str) -> Envelope:
        return Envelope(
            message_id=message.id,
            routing_key=routing_key(message.account, message.symbol, type_name),
            partition=message.partition,
            seq=message.seq,
            part=message.part,
            type=type_name,
            trace_id=message.trace_id,
            ts=message.ts,
            body=_ENCODER.encode(message),
        )

    def _subject(self, event: Event) -> tuple[str | None, str | None, str | None]:
        """(account, symbol, trace id) an event is about.

        Order events take their order's (most of them name only the order), and so does a
        recall; an instrument update its instrument's symbol; every other event its own
        `account`, `symbol` and `trace_id` fields where it has them, so a new event type
        is routed without a change here.
        """
        if isinstance(event, OrderEvent):
            order = self._state.orders[event.order_id]
            return order.account, order.symbol, order.trace_id
        if isinstance(event, InstrumentUpdated):
            return None, event.instrument.symbol, None
        if isinstance(event, RetiredOrderRecalled):
            return event.order.account, event.order.symbol, event.order.trace_id
        return (
            _text_field(event, "account"),
            _text_field(event, "symbol"),
            _text_field(event, "trace_id"),
        )

    def _position_after(self, fill: OrderFilled) -> PositionView:
        position = self._state.book.get(fill.account, fill.symbol)
        if position is None:  # folding a fill always books it; the state is not what it seems
            raise JournalCorrupted(f"fill {fill.trade_id} left no {fill.symbol} position")
        return PositionView.of(position)


if __name__ == "__main__":
    print(schema_document(), end="")
