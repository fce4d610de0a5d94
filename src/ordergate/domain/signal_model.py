"""Trading signals: the version 1 message, the model it decodes into, and why one is refused.

A model service publishes signals ("buy BTCUSDT, this sure, this much") as JSON.
`decode_signal` turns a message's bytes into a `TradingSignal`, or refuses it with an
`InvalidSignal` whose `code` is a stable `SignalReason`, so the consumer can dead-letter
it with a reason. Numbers become `Decimal` straight from the JSON text (a number or a
numeric string), never through a float. Fields a producer adds that ordergate does not
know are ignored, so a newer producer's signals are not dead-lettered; a new *meaning*
needs a new `version`, which older ordergates refuse (`SIGNAL_UNKNOWN_VERSION`).

`TradingSignalV1` is the message as it is on the wire, and the source of the JSON Schema
(`ordergate.domain.signal_schema`); `TradingSignal` is what the rest of ordergate sees:
the side as a `Side`, the account resolved, the timestamp in nanoseconds.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Literal

import msgspec

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import MAX_DECIMALS, MAX_MAGNITUDE, ONE, ZERO, Side, is_reasonable

SIGNAL_VERSION = 1
KNOWN_VERSIONS = frozenset({SIGNAL_VERSION})

# A split order's idempotency key is f"{signal_id}:{n}" with n up to 4 digits
# (signal_policy.MAX_SPLIT_ORDERS_LIMIT), and idempotency keys hold at most 128
# characters (engine.commands.MAX_ID_LENGTH): 120 + 5 leaves room.
MAX_SIGNAL_ID_LENGTH = 120
MAX_NAME_LENGTH = 64
MAX_TRACE_ID_LENGTH = 128
MAX_FRACTION_DIGITS = 9

# RFC 3339 date-time with an offset, at most nanosecond precision. ASCII digits only
# (Python's \d also matches other scripts' digits).
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}"
    r"(\.[0-9]{1,9})?([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)
_TIMESTAMP = re.compile(
    r"(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2})[Tt ]"
    r"(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2}):(?P<second>[0-9]{2})"
    r"(?:\.(?P<fraction>[0-9]{1,9}))?"
    r"(?:(?P<utc>[Zz])|(?P<sign>[+-])(?P<off_hour>[0-9]{2}):(?P<off_minute>[0-9]{2}))"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NS_PER_SECOND = 1_000_000_000


class SignalReason(StrEnum):
    """Why a signal was refused, or made no orders. Stable: never rename one."""

    # decode_signal: the message is dead-lettered
    SIGNAL_MALFORMED = "SIGNAL_MALFORMED"
    SIGNAL_UNKNOWN_VERSION = "SIGNAL_UNKNOWN_VERSION"
    SIGNAL_INVALID = "SIGNAL_INVALID"
    # signal_policy.decide: a valid signal that makes no orders
    SIGNAL_NO_PRICE = "SIGNAL_NO_PRICE"
    SIGNAL_QTY_BELOW_STEP = "SIGNAL_QTY_BELOW_STEP"
    SIGNAL_SPLIT_BELOW_STEP = "SIGNAL_SPLIT_BELOW_STEP"
    SIGNAL_TOO_MANY_ORDERS = "SIGNAL_TOO_MANY_ORDERS"
    SIGNAL_OUT_OF_RANGE = "SIGNAL_OUT_OF_RANGE"
    # the engine: a valid signal for an instrument this partition does not trade
    SIGNAL_UNKNOWN_SYMBOL = "SIGNAL_UNKNOWN_SYMBOL"
    # the consumer: a body over the size limit, dead-lettered without being decoded
    SIGNAL_TOO_LARGE = "SIGNAL_TOO_LARGE"


class InvalidSignal(InvalidRequest):
    """The message is not a signal ordergate can act on; `code` says which way."""

    code = SignalReason.SIGNAL_INVALID.value

    def __init__(self, reason: SignalReason, message: str) -> None:
        super().__init__(message, code=reason.value)
        self.reason = reason


def _described(text: str) -> msgspec.Meta:
    return msgspec.Meta(description=text)


_NAME_RULE = "Printable characters, no leading or trailing whitespace"
_NUMBER_RULE = (
    f"A JSON number or a numeric string, decoded exactly; > 0, below {MAX_MAGNITUDE:.0E}, "
    f"at most {MAX_DECIMALS} decimals"
)


class TradingSignalV1(msgspec.Struct, frozen=True, gc=False):
    """A trading signal, version 1, as a producer sends it."""

    version: Annotated[Literal[1], _described("Message version; 1 is the only one known.")]
    signal_id: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_SIGNAL_ID_LENGTH,
            description=(
                "Unique id of the signal, and its idempotency key: a redelivered signal "
                f"places no second order. {_NAME_RULE}."
            ),
        ),
    ]
    strategy: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_NAME_LENGTH,
            description=f"The strategy that emitted the signal. {_NAME_RULE}.",
        ),
    ]
    symbol: Annotated[
        str,
        msgspec.Meta(
            min_length=1,
            max_length=MAX_NAME_LENGTH,
            description=f"The venue symbol, e.g. BTCUSDT. {_NAME_RULE}.",
        ),
    ]
    side: Annotated[
        Literal["BUY", "SELL", "buy", "sell"],
        _described("BUY or SELL; lower case is accepted too."),
    ]
    confidence: Annotated[
        Decimal,
        _described(
            "How sure the model is, from 0 to 1 inclusive; a JSON number or a numeric string."
        ),
    ]
    timestamp: Annotated[
        str,
        msgspec.Meta(
            pattern=TIMESTAMP_PATTERN,
            extra_json_schema={"format": "date-time"},
            description=(
                "When the model emitted the signal: RFC 3339 with an offset "
                "(Z or +hh:mm), at most nanosecond precision, e.g. 2026-12-02T19:00:00.123Z."
            ),
        ),
    ]
    qty: Annotated[
        Decimal | None,
        _described(
            f"Base quantity, in contracts; exactly one of qty and notional. {_NUMBER_RULE}."
        ),
    ] = None
    notional: Annotated[
        Decimal | None,
        _described(
            "Amount in the quote currency, turned into a quantity at the current mid "
            f"(or the price hint); exactly one of qty and notional. {_NUMBER_RULE}."
        ),
    ] = None
    price: Annotated[
        Decimal | None,
        _described(
            "A price hint, used only when ordergate has no current quote for the symbol. "
            f"{_NUMBER_RULE}."
        ),
    ] = None
    account: Annotated[
        Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_NAME_LENGTH)] | None,
        msgspec.Meta(
            description=(
                f"The account to trade; absent means the deployment's default. {_NAME_RULE}."
            ),
        ),
    ] = None
    trace_id: Annotated[
        Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_TRACE_ID_LENGTH)] | None,
        msgspec.Meta(
            description=f"Carried into the orders, logs and events; none is made up. {_NAME_RULE}.",
        ),
    ] = None


class TradingSignal(msgspec.Struct, frozen=True, gc=False):
    """A validated signal. `timestamp` is in nanoseconds since the Unix epoch.

    Exactly one of `qty` (contracts) and `notional` (quote currency) is set. Constructing
    one directly validates it as `decode_signal` does, raising `InvalidSignal`.
    """

    signal_id: str
    strategy: str
    symbol: str
    side: Side
    confidence: Decimal
    timestamp: int
    account: str
    qty: Decimal | None = None
    notional: Decimal | None = None
    price: Decimal | None = None
    trace_id: str | None = None
    version: int = SIGNAL_VERSION

    def __post_init__(self) -> None:
        if self.version not in KNOWN_VERSIONS:
            raise InvalidSignal(
                SignalReason.SIGNAL_UNKNOWN_VERSION, f"version {self.version} is not known"
            )
        _check_name("signal_id", self.signal_id, MAX_SIGNAL_ID_LENGTH)
        _check_name("strategy", self.strategy, MAX_NAME_LENGTH)
        _check_name("symbol", self.symbol, MAX_NAME_LENGTH)
        _check_name("account", self.account, MAX_NAME_LENGTH)
        if self.trace_id is not None:
            _check_name("trace_id", self.trace_id, MAX_TRACE_ID_LENGTH)
        # is_finite first: comparing a signalling NaN raises InvalidOperation.
        if not self.confidence.is_finite() or not ZERO <= self.confidence <= ONE:
            _invalid("confidence", f"must be between 0 and 1 inclusive, got {self.confidence}")
        if (self.qty is None) == (self.notional is None):
            _invalid("qty", "exactly one of qty and notional must be given")
        _check_amount("qty", self.qty)
        _check_amount("notional", self.notional)
        _check_amount("price", self.price)


def _invalid(field: str, why: str) -> None:
    raise InvalidSignal(SignalReason.SIGNAL_INVALID, f"{field}: {why}")


def _check_name(field: str, value: str, limit: int) -> None:
    # The same rule PlaceOrder applies, so every signal's names fit an order.
    if not 1 <= len(value) <= limit or not value.isprintable() or value != value.strip():
        _invalid(field, f"must be 1..{limit} printable characters, no edge whitespace")


def _check_amount(field: str, value: Decimal | None) -> None:
    if value is None:
        return
    if not value.is_finite() or value <= ZERO:
        _invalid(field, f"must be a positive finite number, got {value}")
    if not is_reasonable(value):
        _invalid(field, f"must be below {MAX_MAGNITUDE:.0E} with at most {MAX_DECIMALS} decimals")


def parse_timestamp(text: str) -> int:
    """Read an RFC 3339 date-time with an offset as nanoseconds since the Unix epoch.

    Parse by hand instead of through `datetime`, which keeps only microseconds.
    """
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 date-time with an offset")
    offset = timedelta(0)
    if match["utc"] is None:
        sign = -1 if match["sign"] == "-" else 1
        offset = sign * timedelta(hours=int(match["off_hour"]), minutes=int(match["off_minute"]))
    try:
        moment = datetime.fromisoformat(
            f"{match['date']}T{match['hour']}:{match['minute']}:{match['second']}"
        ).replace(tzinfo=timezone(offset))
        since_epoch = moment - _EPOCH
    except ValueError as exc:  # day 31 of April, hour 24, year 0 ...
        raise ValueError(f"{text!r} is not a valid date-time: {exc}") from exc
    seconds = since_epoch.days * 86_400 + since_epoch.seconds
    fraction = (match["fraction"] or "").ljust(MAX_FRACTION_DIGITS, "0")
    return seconds * _NS_PER_SECOND + int(fraction)


_ENVELOPE = msgspec.json.Decoder(dict[str, msgspec.Raw])
_VERSION = msgspec.json.Decoder(int)
_V1 = msgspec.json.Decoder(TradingSignalV1)


def decode_signal(body: bytes, default_account: str) -> TradingSignal:
    """Decode one message, or raise `InvalidSignal`; never any other exception.

    Read the version before the rest, so a message of a newer version is refused as
    such (`SIGNAL_UNKNOWN_VERSION`) rather than as a malformed version 1.
    """
    try:
        fields = _ENVELOPE.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidSignal(
            SignalReason.SIGNAL_MALFORMED, f"the message is not a JSON object: {exc}"
        ) from exc
    except msgspec.DecodeError as exc:
        raise InvalidSignal(
            SignalReason.SIGNAL_MALFORMED, f"the message is not JSON: {exc}"
        ) from exc
    except RecursionError as exc:
        raise InvalidSignal(
            SignalReason.SIGNAL_MALFORMED, "the message is nested too deeply"
        ) from exc
    _check_version(fields.get("version"))
    try:
        message = _V1.decode(body)
    except msgspec.ValidationError as exc:
        raise InvalidSignal(SignalReason.SIGNAL_INVALID, str(exc)) from exc
    return _from_v1(message, default_account)


def _check_version(raw: msgspec.Raw | None) -> None:
    if raw is None:
        raise InvalidSignal(SignalReason.SIGNAL_UNKNOWN_VERSION, "the message has no version")
    try:
        version = _VERSION.decode(raw)
    except msgspec.DecodeError as exc:
        shown = bytes(raw)[:40].decode("utf-8", "replace")
        raise InvalidSignal(
            SignalReason.SIGNAL_UNKNOWN_VERSION, f"version must be an integer, got {shown}"
        ) from exc
    if version not in KNOWN_VERSIONS:
        known = ", ".join(str(v) for v in sorted(KNOWN_VERSIONS))
        raise InvalidSignal(
            SignalReason.SIGNAL_UNKNOWN_VERSION, f"version {version} is not known (known: {known})"
        )


def _from_v1(message: TradingSignalV1, default_account: str) -> TradingSignal:
    try:
        timestamp = parse_timestamp(message.timestamp)
    except ValueError as exc:
        raise InvalidSignal(SignalReason.SIGNAL_INVALID, f"timestamp: {exc}") from exc
    return TradingSignal(
        signal_id=message.signal_id,
        strategy=message.strategy,
        symbol=message.symbol,
        side=Side(message.side.upper()),
        confidence=message.confidence,
        timestamp=timestamp,
        account=default_account if message.account is None else message.account,
        qty=message.qty,
        notional=message.notional,
        price=message.price,
        trace_id=message.trace_id,
        version=message.version,
    )
