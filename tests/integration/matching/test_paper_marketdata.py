"""Loading bars and quotes from CSV: formats, exact decimals, event times and price paths."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest
from tests.unit.matching.matching_support import MINUTE, D

from ordergate.matching import (
    Bar,
    BarSeries,
    MarketDataError,
    load_bar_series,
    load_bid_ask_bar_series,
    load_quote_series,
    parse_timestamp_ns,
)

JAN_2 = 1_704_153_600_000_000_000  # 2024-01-02T00:00:00Z
HEADER = "timestamp,open,high,low,close\n"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2024-01-02 00:00:00", JAN_2),
        ("2024-01-02 00:00:00.000000", JAN_2),
        ("2024-01-02 00:00:00+00:00", JAN_2),
        ("2024-01-02T01:00:00+01:00", JAN_2),
        ("2024-01-02T00:00:00Z", JAN_2),
        ("2024-01-02 00:00:00.000000123", JAN_2 + 123),
        ("2024-01-02 00:00:00.5", JAN_2 + 500_000_000),
    ],
)
def test_parse_timestamp_formats_give_utc_nanoseconds(text, expected):
    assert parse_timestamp_ns(text) == expected


def test_parse_timestamp_rejects_garbage():
    with pytest.raises(MarketDataError):
        parse_timestamp_ns("yesterday")


def write(path: Path, text: str) -> Path:
    if path.name.endswith(".gz"):
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return path


BARS = (
    "timestamp,open,high,low,close,volume\n"
    "2024-01-02 00:00:00,1.10760,1.10785,1.10700,1.10780,205\n"
    "2024-01-02 00:01:00,1.10780,1.10790,1.10600,1.10700,10\n"
    "2024-01-02 00:03:00,1.1070,1.1070,1.1070,1.1070,1\n"
)


@pytest.mark.parametrize("name", ["bars.csv", "bars.csv.gz"])
def test_load_bars_keeps_decimals_as_written_and_infers_interval(tmp_path, name):
    series = load_bar_series(write(tmp_path / name, BARS))

    assert series.interval_ns == MINUTE
    assert series.bars[0].high == D("1.10785")
    assert str(series.bars[2].close) == "1.1070"
    assert list(series.event_times) == [JAN_2 + MINUTE, JAN_2 + 2 * MINUTE, JAN_2 + 4 * MINUTE]


def test_load_bars_accepts_timestamp_utc_column_and_explicit_interval(tmp_path):
    text = BARS.replace("timestamp,", "timestamp_utc,")

    series = load_bar_series(write(tmp_path / "b.csv", text), interval_ns=5 * MINUTE)

    assert series.event_times[0] == JAN_2 + 5 * MINUTE


def test_bar_path_goes_to_the_nearer_extreme_first():
    high_near = BarSeries([Bar(0, D(10), D(11), D(5), D(8))], interval_ns=1)
    low_near = BarSeries([Bar(0, D(10), D(15), D(9), D(12))], interval_ns=1)
    tie = BarSeries([Bar(0, D(10), D(12), D(8), D(9))], interval_ns=1)

    def bids(series: BarSeries) -> list[int]:
        return [int(point.bid) for point in series.points(0)]

    assert bids(high_near) == [10, 11, 5, 8]
    assert bids(low_near) == [10, 9, 15, 12]
    assert bids(tie) == [10, 12, 8, 9]


def test_bar_path_drops_repeated_points():
    flat_open = BarSeries([Bar(0, D(10), D(10), D(9), D(9))], interval_ns=1)

    assert [point.bid for point in flat_open.points(0)] == [D(10), D(9)]


def test_bid_ask_bars_walk_the_ask_in_the_bid_bar_order(tmp_path):
    bid = write(
        tmp_path / "bid.csv",
        "timestamp,open,high,low,close\n"
        "2012-02-01 00:00:00+00:00,1.57597,1.57606,1.57576,1.57576\n",
    )
    ask = write(
        tmp_path / "ask.csv",
        "timestamp,open,high,low,close\n"
        "2012-02-01 00:00:00+00:00,1.57608,1.57610,1.57585,1.57585\n",
    )

    series = load_bid_ask_bar_series(bid, ask, interval_ns=MINUTE)

    assert [(str(p.bid), str(p.ask)) for p in series.points(0)] == [
        ("1.57597", "1.57608"),
        ("1.57606", "1.57610"),
        ("1.57576", "1.57585"),
    ]
    assert series.last_price(0) == (D("1.57576") + D("1.57585")) / 2


def test_bid_ask_bars_with_different_times_are_refused(tmp_path):
    bid = write(tmp_path / "bid.csv", f"{HEADER}2012-02-01 00:00:00,1,1,1,1\n")
    ask = write(tmp_path / "ask.csv", f"{HEADER}2012-02-01 00:01:00,1,1,1,1\n")

    with pytest.raises(MarketDataError):
        load_bid_ask_bar_series(bid, ask, interval_ns=MINUTE)


def test_load_quotes_gives_one_point_per_row(tmp_path):
    path = write(
        tmp_path / "q.csv",
        "timestamp,bid,ask,bid_size,ask_size\n"
        "2024-01-02 00:00:00,1.1000,1.1002,5,5\n"
        "2024-01-02 00:00:01,1.1001,1.1003,5,5\n",
    )

    series = load_quote_series(path)

    assert list(series.event_times) == [JAN_2, JAN_2 + 1_000_000_000]
    assert [(p.bid, p.ask) for p in series.points(1)] == [(D("1.1001"), D("1.1003"))]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty"),
        ("time,open,high,low,close\n", "timestamp"),
        ("timestamp,open,high,close\n", "low"),
        ("timestamp,open,high,low,close\n2024-01-02 00:00:00,1,2,0.5,3\n", "outside"),
        ("timestamp,open,high,low,close\n2024-01-02 00:00:00,1,1,1,x\n", "malformed"),
        ("timestamp,open,high,low,close\n2024-01-02 00:00:00,1,1,1\n", "malformed"),
        (
            "timestamp,open,high,low,close\n2024-01-02 00:01:00,1,1,1,1\n"
            "2024-01-02 00:00:00,1,1,1,1\n",
            "not after",
        ),
    ],
)
def test_load_bars_refuses_malformed_files_with_the_reason(tmp_path, text, message):
    with pytest.raises(MarketDataError, match=message):
        load_bar_series(write(tmp_path / "bad.csv", text), interval_ns=MINUTE)


def test_load_bars_missing_file_raises_market_data_error(tmp_path):
    with pytest.raises(MarketDataError):
        load_bar_series(tmp_path / "absent.csv")


def test_single_bar_needs_an_explicit_interval(tmp_path):
    path = write(tmp_path / "one.csv", f"{HEADER}2024-01-02 00:00:00,1,1,1,1\n")

    with pytest.raises(MarketDataError, match="interval"):
        load_bar_series(path)
