"""Markets described by TOML files, and the demo bundled with the package."""

from __future__ import annotations

import gzip
from importlib.resources import files
from pathlib import Path

import pytest
from tests.unit.matching.matching_support import D

from ordergate.matching import MarketDataError, load_demo_market, load_market
from ordergate.venues.paper import PaperVenue

DATA = files("ordergate.matching").joinpath("data")


def test_demo_market_has_the_three_demo_instruments_with_their_specs():
    market = load_demo_market()

    by_symbol = {instrument.symbol: instrument for instrument in market.instruments}
    assert sorted(by_symbol) == ["BTCUSDT", "EURUSD", "GBPUSD"]
    btc, eur, gbp = by_symbol["BTCUSDT"], by_symbol["EURUSD"], by_symbol["GBPUSD"]
    assert (btc.quote_currency, btc.tick_size, btc.lot_step, btc.min_notional) == (
        "USDT",
        D("0.1"),
        D("0.001"),
        D(5),
    )
    assert (btc.maker_fee_rate, btc.taker_fee_rate, btc.margin_rate) == (
        D("0.0002"),
        D("0.00055"),
        D("0.01"),
    )
    for fx in (eur, gbp):
        assert (fx.quote_currency, fx.tick_size, fx.lot_step, fx.min_qty) == (
            "USD",
            D("0.00001"),
            D("0.01"),
            D("0.01"),
        )
        assert (fx.contract_size, fx.margin_rate, fx.taker_fee_rate) == (
            D(100_000),
            D("0.01"),
            D(0),
        )


def test_demo_feed_starts_all_symbols_together_and_loops():
    market = load_demo_market()

    first = market.feed.next_step()

    assert first is not None
    assert [update.symbol for update in first.updates] == ["BTCUSDT", "EURUSD", "GBPUSD"]
    assert market.feed.loop is True
    gbp = first.updates[2].points[0]
    assert gbp.ask > gbp.bid  # a real spread from the bid/ask pair


def test_demo_market_loads_only_the_symbols_asked_for():
    market = load_demo_market(symbols=("BTCUSDT",))

    assert [instrument.symbol for instrument in market.instruments] == ["BTCUSDT"]
    assert market.feed.symbols == ("BTCUSDT",)
    assert market.feed.span_ns == 4_320 * 60_000_000_000  # BTC's own three days


def test_demo_market_refuses_symbols_it_does_not_have():
    with pytest.raises(MarketDataError, match="DOGEUSDT"):
        load_demo_market(symbols=("BTCUSDT", "DOGEUSDT"))


def test_demo_market_loop_can_be_switched_off():
    assert load_demo_market(loop=False).feed.loop is False


def test_demo_data_files_are_small_gzipped_csv_with_a_readme():
    names = sorted(entry.name for entry in DATA.iterdir())
    data_files = [name for name in names if name.endswith(".csv.gz")]

    assert "README.md" in names
    assert "demo.toml" in names
    assert len(data_files) == 4
    assert sum(len(DATA.joinpath(name).read_bytes()) for name in data_files) < 1_000_000
    readme = DATA.joinpath("README.md").read_text()
    assert all(name in readme for name in data_files)


def test_demo_venue_builds_and_trades_from_the_market():
    venue = PaperVenue.from_market(load_demo_market(), {"acc": {"USD": D(1000)}}, session="1")

    assert venue.advance()
    quote = venue.quote("EURUSD")
    assert quote is not None
    assert quote.ts == venue.now_ns()


def write_market(tmp_path: Path, extra: str = "", data: str = 'bars = "btc.csv.gz"') -> Path:
    (tmp_path / "btc.csv.gz").write_bytes(
        gzip.compress(
            b"timestamp,open,high,low,close\n"
            b"2022-01-03 00:00:00,100.0,101.0,99.0,100.5\n"
            b"2022-01-03 00:01:00,100.5,100.5,100.0,100.2\n"
        )
    )
    spec = tmp_path / "market.toml"
    spec.write_text(
        f"""
[feed]
loop = false

[instruments.BTCUSDT]
base_currency = "BTC"
quote_currency = "USDT"
tick_size = "0.1"
lot_step = "0.001"
min_qty = "0.001"
slippage_ticks = 1
max_passive_qty_per_step = "0.5"
{extra}
{data}
"""
    )
    return spec


def test_load_market_reads_instruments_rules_and_relative_data_paths(tmp_path):
    market = load_market(write_market(tmp_path))

    (instrument,) = market.instruments
    assert (instrument.symbol, instrument.tick_size, instrument.margin_rate) == (
        "BTCUSDT",
        D("0.1"),
        D(1),
    )
    assert market.rules["BTCUSDT"].slippage_ticks == 1
    assert market.rules["BTCUSDT"].max_passive_qty_per_step == D("0.5")
    assert market.feed.loop is False
    assert market.feed.interval_ns == 60_000_000_000


def test_load_market_override_switches_loop_on(tmp_path):
    assert load_market(write_market(tmp_path), loop=True).feed.loop is True


@pytest.mark.parametrize(
    ("extra", "data", "message"),
    [
        ("colour = 'red'", 'bars = "btc.csv.gz"', "unknown keys"),
        ("", "", "exactly one"),
        ("", 'bars = "btc.csv.gz"\nquotes = "btc.csv.gz"', "exactly one"),
        ("margin_rate = 'lots'", 'bars = "btc.csv.gz"', "not a number"),
        ("margin_rate = '2'", 'bars = "btc.csv.gz"', "margin_rate"),
        ("", 'bars = "absent.csv"', "cannot open"),
        ("slippage_ticks = 1.5", 'bars = "btc.csv.gz"', "integer"),
    ],
)
def test_load_market_refuses_bad_files_with_the_reason(tmp_path, extra, data, message):
    spec = write_market(tmp_path, extra, data)
    text = spec.read_text()
    if "slippage_ticks = 1.5" in extra:
        text = text.replace("slippage_ticks = 1\n", "")
    spec.write_text(text)

    with pytest.raises(MarketDataError, match=message):
        load_market(spec)
