"""The paper venue over the full reference market data (skipped when it is absent).

Matching throughput over the same file is a benchmark: `python -m bench.paper_matching`.
"""

from __future__ import annotations

import asyncio
import gzip
from decimal import Decimal
from importlib.resources import files
from pathlib import Path

import pytest

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderRequest
from ordergate.matching import (
    ReplayFeed,
    load_bar_series,
    load_bid_ask_bar_series,
    parse_timestamp_ns,
)
from ordergate.venues.paper import PaperVenue

REFERENCE = Path("/work/shared/reference/market-data")
BTC_FILE = REFERENCE / "btc-perp-20211231-20220201_1m.csv"
GBP_BID = REFERENCE / "gbpusd-m1-bid-2012.csv"
GBP_ASK = REFERENCE / "gbpusd-m1-ask-2012.csv"
EUR_FILE = REFERENCE / "6EH4.XCME_1min_bars_20240101_20240131.csv.gz"
DEMO = files("ordergate.matching").joinpath("data")
MINUTE = 60_000_000_000

pytestmark = pytest.mark.skipif(
    not REFERENCE.is_dir(),
    reason=f"reference market data not found at {REFERENCE} (not shipped with the package)",
)

BTC = Instrument(
    symbol="BTCUSDT",
    base_currency="BTC",
    quote_currency="USDT",
    tick_size=Decimal("0.1"),
    lot_step=Decimal("0.001"),
    min_qty=Decimal("0.001"),
    contract_size=Decimal(1),
    margin_rate=Decimal("0.01"),
    maker_fee_rate=Decimal("0.0002"),
    taker_fee_rate=Decimal("0.00055"),
)


def test_btc_file_loads_with_exact_prices():
    series = load_bar_series(BTC_FILE)

    assert len(series.event_times) == 45_031
    assert series.interval_ns == MINUTE
    assert series.event_times[0] == parse_timestamp_ns("2021-12-31 23:02:00")
    assert str(series.bars[0].open) == "46319.0"


def test_gbpusd_bid_ask_pair_loads_with_a_spread():
    series = load_bid_ask_bar_series(GBP_BID, GBP_ASK)

    assert len(series.event_times) == 30_117
    first = series.points(0)[0]
    assert (str(first.bid), str(first.ask)) == ("1.57597", "1.57608")


def test_euro_fx_gzip_file_loads_with_timestamp_utc_column():
    series = load_bar_series(EUR_FILE)

    assert len(series.event_times) == 29_996
    assert series.event_times[0] == parse_timestamp_ns("2024-01-01 23:02:00")


@pytest.mark.parametrize(
    ("excerpt", "source", "first_row", "last_row"),
    [
        ("eurusd-6eh4-xcme-1m-20240112-20240115.csv.gz", EUR_FILE, 10959, 13589),
        ("btcusdt-perp-1m-20220103-20220105.csv.gz", BTC_FILE, 2940, 7259),
        ("gbpusd-m1-bid-20120201-20120203.csv.gz", GBP_BID, 1, 4185),
        ("gbpusd-m1-ask-20120201-20120203.csv.gz", GBP_ASK, 1, 4185),
    ],
)
def test_bundled_excerpt_is_an_unchanged_cut_of_its_source(excerpt, source, first_row, last_row):
    raw = source.read_bytes()
    lines = (gzip.decompress(raw) if source.name.endswith(".gz") else raw).splitlines(True)
    cut = gzip.decompress(DEMO.joinpath(excerpt).read_bytes()).splitlines(True)

    assert cut == [lines[0], *lines[first_row : last_row + 1]]


def test_advance_over_btc_file_fills_resting_orders_as_the_month_falls():
    feed = ReplayFeed({"BTCUSDT": load_bar_series(BTC_FILE)})
    venue = PaperVenue([BTC], feed, {"acc": {"USDT": Decimal(10**9)}}, session="month")
    steps, filled = asyncio.run(replay_with_resting_orders(venue))

    assert steps == 45_030
    assert 0 < filled < 300


async def replay_with_resting_orders(venue: PaperVenue) -> tuple[int, int]:
    """Rest 300 orders around the first close, replay the whole file: (steps, filled)."""
    await venue.connect()
    venue.advance()  # the first close is 46,377
    # 150 buys from 33,000 up to 46,000 and 150 sells from 46,400 up: all rest at first,
    # and the month's fall to ~33,000 fills the buys one after another.
    for number in range(300):
        buy = number < 150
        price = Decimal(33_000 + 87 * number) if buy else Decimal(46_400 + 100 * (number - 150))
        order = VenueOrderRequest(
            f"c{number}",
            "acc",
            "BTCUSDT",
            Side.BUY if buy else Side.SELL,
            OrderType.LIMIT,
            Decimal("0.001"),
            price,
            None,
            TimeInForce.GTC,
            False,
        )
        await venue.submit_order(order)
    assert len(await venue.get_open_orders("acc")) == 300
    steps = 0
    while venue.advance():
        steps += 1
    return steps, 300 - len(await venue.get_open_orders("acc"))
