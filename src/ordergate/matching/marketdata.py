"""Market data for the paper venue: price series loaded from CSV files.

Three shapes are read, each from a plain or gzipped CSV file with a header row:

- OHLC bars: ``timestamp,open,high,low,close[,volume]`` (the time column may also be
  named ``timestamp_utc``). Timestamps are bar *open* times in ISO 8601 forms such as
  ``2021-12-31 23:01:00.000000``, ``2012-02-01 00:00:00+00:00`` or ``2024-01-01 23:01:00``;
  a naive time is UTC. A bar becomes known when it closes, so its event time is
  open + interval. The interval is the smallest positive gap between consecutive rows
  unless given.
- bid/ask bar pairs: two bar files with the same timestamps, giving a real spread.
- quotes: ``timestamp,bid,ask[,bid_size,ask_size]``; each row is a point in time.

Prices are parsed with ``Decimal(text)`` exactly as written: a float never touches them.

Each series can say, for the i-th event, the path of prices the market walked through
(`points`). A bar walks O → H → L → C when its high is nearer to its open than its low
(ties: high first), else O → L → H → C; a bid/ask pair walks both bars in the order the
bid bar decides. Consecutive duplicate points are dropped: they cannot change a match.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import os
import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import IO, Protocol, TypeVar

from ordergate.domain.errors import OrderGateError
from ordergate.domain.values import ZERO

NS_PER_SECOND = 1_000_000_000
NS_PER_DAY = 86_400 * NS_PER_SECOND
# A lone quote says nothing about spacing; one second keeps the clock off zero.
_LONE_QUOTE_INTERVAL_NS = NS_PER_SECOND
_TWO = Decimal(2)
_TIME_COLUMNS = ("timestamp", "timestamp_utc")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)  # a naive time is UTC
# Length of "2021-12-31 23:01:00.000000": only a longer stamp can carry nanoseconds.
_MAX_MICRO_STAMP_LEN = 26
_NANO_STAMP = re.compile(
    r"^(?P<base>\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2})"
    r"\.(?P<frac>\d{7,9})(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)

DataSource = str | os.PathLike[str] | Traversable
_T = TypeVar("_T")


class MarketDataError(OrderGateError):
    """A market data file is missing, malformed or inconsistent."""

    code = "MARKET_DATA_INVALID"


@dataclass(frozen=True, slots=True)
class PricePoint:
    """One instant of the market's path: the best bid and ask."""

    bid: Decimal
    ask: Decimal


@dataclass(frozen=True, slots=True)
class Bar:
    """One OHLC bar; `open_ts` is the bar's open time in ns since the epoch."""

    open_ts: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal


@dataclass(frozen=True, slots=True)
class QuoteTick:
    """One top-of-book quote at `ts` (ns since the epoch)."""

    ts: int
    bid: Decimal
    ask: Decimal


class PriceSeries(Protocol):
    """The prices of one instrument as a sequence of events in time order."""

    @property
    def interval_ns(self) -> int:
        """The usual spacing of events (a bar's length); used to place the clock."""
        ...

    @property
    def event_times(self) -> Sequence[int]:
        """Strictly increasing event times, one per event."""
        ...

    def points(self, index: int) -> tuple[PricePoint, ...]:
        """The prices walked through by event `index`, in order."""
        ...

    def last_price(self, index: int) -> Decimal:
        """The `last` price of a quote after event `index`."""
        ...


class BarSeries:
    """Bars of one instrument, optionally with ask bars for a real spread."""

    __slots__ = ("_ask", "_bid", "_event_times", "_interval_ns")

    def __init__(
        self,
        bid_bars: Sequence[Bar],
        ask_bars: Sequence[Bar] | None = None,
        *,
        interval_ns: int | None = None,
    ) -> None:
        """Take bars (without ask bars, bid = ask = the bar price)."""
        if not bid_bars:
            raise MarketDataError("a bar series needs at least one bar")
        if ask_bars is not None:
            if len(ask_bars) != len(bid_bars):
                raise MarketDataError(
                    f"bid and ask series differ in length ({len(bid_bars)} vs {len(ask_bars)})"
                )
            for bid, ask in zip(bid_bars, ask_bars, strict=True):
                if bid.open_ts != ask.open_ts:
                    raise MarketDataError(f"bid and ask bars differ in time at {bid.open_ts}")
        open_times = [bar.open_ts for bar in bid_bars]
        _check_increasing(open_times)
        interval = interval_ns if interval_ns is not None else _smallest_gap(open_times)
        if interval is None or interval <= 0:
            raise MarketDataError("cannot infer the bar interval: pass interval_ns")
        self._bid = tuple(bid_bars)
        self._ask = None if ask_bars is None else tuple(ask_bars)
        self._interval_ns = interval
        self._event_times = tuple(ts + interval for ts in open_times)

    @property
    def interval_ns(self) -> int:
        return self._interval_ns

    @property
    def event_times(self) -> Sequence[int]:
        return self._event_times

    @property
    def bars(self) -> Sequence[Bar]:
        """The bid bars (the only bars when there is no ask side)."""
        return self._bid

    @property
    def ask_bars(self) -> Sequence[Bar] | None:
        return self._ask

    def points(self, index: int) -> tuple[PricePoint, ...]:
        bid = self._bid[index]
        high_first = _high_first(bid)
        if self._ask is None:
            return tuple(PricePoint(price, price) for price in _dedupe(_path(bid, high_first)))
        pairs = zip(_path(bid, high_first), _path(self._ask[index], high_first), strict=True)
        return tuple(PricePoint(b, a) for b, a in _dedupe(tuple(pairs)))

    def last_price(self, index: int) -> Decimal:
        close = self._bid[index].close
        if self._ask is None:
            return close
        return (close + self._ask[index].close) / _TWO


class QuoteSeries:
    """Top-of-book quotes of one instrument; each quote is one point."""

    __slots__ = ("_event_times", "_interval_ns", "_ticks")

    def __init__(self, ticks: Sequence[QuoteTick], *, interval_ns: int | None = None) -> None:
        if not ticks:
            raise MarketDataError("a quote series needs at least one quote")
        times = [tick.ts for tick in ticks]
        _check_increasing(times)
        interval = interval_ns if interval_ns is not None else _smallest_gap(times)
        self._ticks = tuple(ticks)
        self._interval_ns = _LONE_QUOTE_INTERVAL_NS if interval is None else interval
        self._event_times = tuple(times)

    @property
    def interval_ns(self) -> int:
        return self._interval_ns

    @property
    def event_times(self) -> Sequence[int]:
        return self._event_times

    def points(self, index: int) -> tuple[PricePoint, ...]:
        tick = self._ticks[index]
        return (PricePoint(tick.bid, tick.ask),)

    def last_price(self, index: int) -> Decimal:
        tick = self._ticks[index]
        return (tick.bid + tick.ask) / _TWO


# --- loading ---------------------------------------------------------------------------


def load_bar_series(source: DataSource, *, interval_ns: int | None = None) -> BarSeries:
    """Load one OHLC bar file as a series with bid = ask."""
    bars = read_bars(source)
    with _naming(source):
        return BarSeries(bars, interval_ns=interval_ns)


def load_bid_ask_bar_series(
    bid_source: DataSource, ask_source: DataSource, *, interval_ns: int | None = None
) -> BarSeries:
    """Load a pair of bar files (bid bars, ask bars) with the same timestamps."""
    bid, ask = read_bars(bid_source), read_bars(ask_source)
    with _naming(bid_source, ask_source):
        return BarSeries(bid, ask, interval_ns=interval_ns)


def load_quote_series(source: DataSource, *, interval_ns: int | None = None) -> QuoteSeries:
    """Load a quote file (`timestamp,bid,ask`, optional sizes are ignored)."""
    ticks = read_quotes(source)
    with _naming(source):
        return QuoteSeries(ticks, interval_ns=interval_ns)


def read_bars(source: DataSource) -> list[Bar]:
    """Parse an OHLC bar CSV file; reject malformed rows and bars with an impossible range."""
    name = _name_of(source)
    bars: list[Bar] = []
    with _open_text(source) as stream:
        rows = csv.reader(stream)
        columns = _columns(next(rows, None), name, ("open", "high", "low", "close"))
        t_col, o_col, h_col, l_col, c_col = columns
        line = 1
        try:
            for row in rows:
                line += 1
                if not row:
                    continue
                ts = parse_timestamp_ns(row[t_col])
                bar = Bar(
                    ts,
                    Decimal(row[o_col]),
                    Decimal(row[h_col]),
                    Decimal(row[l_col]),
                    Decimal(row[c_col]),
                )
                if not (bar.low <= bar.open <= bar.high and bar.low <= bar.close <= bar.high):
                    raise MarketDataError(f"{name}:{line}: open/close outside [low, high]")
                if bar.low <= ZERO:
                    raise MarketDataError(f"{name}:{line}: price not positive")
                bars.append(bar)
        except (InvalidOperation, IndexError) as exc:
            raise MarketDataError(f"{name}:{line}: malformed row") from exc
    return bars


def read_quotes(source: DataSource) -> list[QuoteTick]:
    """Parse a quote CSV file (`timestamp,bid,ask`)."""
    name = _name_of(source)
    ticks: list[QuoteTick] = []
    with _open_text(source) as stream:
        rows = csv.reader(stream)
        t_col, b_col, a_col = _columns(next(rows, None), name, ("bid", "ask"))
        line = 1
        try:
            for row in rows:
                line += 1
                if not row:
                    continue
                tick = QuoteTick(
                    parse_timestamp_ns(row[t_col]), Decimal(row[b_col]), Decimal(row[a_col])
                )
                if tick.bid <= ZERO or tick.ask <= ZERO:
                    raise MarketDataError(f"{name}:{line}: price not positive")
                ticks.append(tick)
        except (InvalidOperation, IndexError) as exc:
            raise MarketDataError(f"{name}:{line}: malformed row") from exc
    return ticks


def parse_timestamp_ns(text: str) -> int:
    """Parse an ISO 8601 time (naive means UTC) into integer ns since the epoch."""
    extra_ns = 0
    # fromisoformat (3.11) silently drops fraction digits past the sixth.
    match = _NANO_STAMP.match(text) if len(text) > _MAX_MICRO_STAMP_LEN else None
    if match is not None:
        text = match["base"] + (match["tz"] or "")
        extra_ns = int(match["frac"].ljust(9, "0"))
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise MarketDataError(f"not an ISO 8601 timestamp: {text!r}") from None
    delta = moment - (_NAIVE_EPOCH if moment.tzinfo is None else _EPOCH)
    seconds = delta.days * 86_400 + delta.seconds
    return seconds * NS_PER_SECOND + delta.microseconds * 1_000 + extra_ns


def format_timestamp(ts_ns: int) -> str:
    """Render ns since the epoch as an ISO 8601 UTC time (for messages and logs)."""
    seconds, ns = divmod(ts_ns, NS_PER_SECOND)
    moment = datetime.fromtimestamp(seconds, UTC)
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{ns:09d}Z"


# --- helpers ---------------------------------------------------------------------------


def _high_first(bar: Bar) -> bool:
    """Whether the bar visits its high before its low: the nearer one first, ties high."""
    return abs(bar.open - bar.high) <= abs(bar.open - bar.low)


def _path(bar: Bar, high_first: bool) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    if high_first:
        return (bar.open, bar.high, bar.low, bar.close)
    return (bar.open, bar.low, bar.high, bar.close)


def _dedupe(path: Sequence[_T]) -> list[_T]:
    """Drop points equal to the one before: they cannot change a match."""
    kept = [path[0]]
    for item in path[1:]:
        if item != kept[-1]:
            kept.append(item)
    return kept


def _smallest_gap(times: Sequence[int]) -> int | None:
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    positive = [gap for gap in gaps if gap > 0]
    return min(positive) if positive else None


def _check_increasing(times: Sequence[int]) -> None:
    for index in range(1, len(times)):
        if times[index] <= times[index - 1]:
            raise MarketDataError(f"row {index + 1}: timestamp not after the previous row")


def _columns(header: list[str] | None, name: str, wanted: tuple[str, ...]) -> tuple[int, ...]:
    if header is None:
        raise MarketDataError(f"{name}: empty file")
    names = [column.strip().lower() for column in header]
    time_col = next((names.index(col) for col in _TIME_COLUMNS if col in names), None)
    if time_col is None:
        raise MarketDataError(f"{name}: no timestamp column in header {header}")
    missing = [col for col in wanted if col not in names]
    if missing:
        raise MarketDataError(f"{name}: header lacks {', '.join(missing)}")
    return (time_col, *(names.index(col) for col in wanted))


@contextmanager
def _naming(*sources: DataSource) -> Iterator[None]:
    """Say which file(s) a series built from them is wrong about."""
    try:
        yield
    except MarketDataError as exc:
        names = " + ".join(_name_of(source) for source in sources)
        raise MarketDataError(f"{names}: {exc.message}") from exc


def _name_of(source: DataSource) -> str:
    if isinstance(source, str | os.PathLike):
        return os.fspath(source)
    return source.name


@contextmanager
def _open_text(source: DataSource) -> Iterator[IO[str]]:
    path: Traversable = Path(source) if isinstance(source, str | os.PathLike) else source
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise MarketDataError(f"cannot open {_name_of(source)}: {exc}") from exc
    with raw:
        binary = gzip.GzipFile(fileobj=raw) if path.name.endswith(".gz") else raw
        with io.TextIOWrapper(binary, encoding="utf-8-sig", newline="") as text:
            try:
                yield text
            except (OSError, EOFError, UnicodeDecodeError) as exc:
                raise MarketDataError(f"cannot read {_name_of(source)}: {exc}") from exc
