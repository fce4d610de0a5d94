"""Stock prices shaped from the bundled series, and the replay that steps them."""

from __future__ import annotations

from robinhood_sim_builders import D

from ordergate.matching import PricePoint, SymbolUpdate
from ordergate.simulators.robinhood.market import ReplayDriver, StockShaper, manual_touch, shape
from ordergate.simulators.robinhood.matching import Touch
from ordergate.simulators.robinhood.stocks import CATALOGUE

AAPL, SPY = CATALOGUE["AAPL"], CATALOGUE["SPY"]


def test_a_stock_starts_at_its_level_and_moves_amplified_on_the_cent():
    assert shape(AAPL, D(1)) == Touch(D("190.00"), D("190.01"), D("190.00"))
    assert shape(AAPL, D("1.001")).bid == D("190.76")  # 190 * (1 + 4 * 0.001)
    assert shape(SPY, D("0.9")).bid == D("460.60")  # 470 * (1 - 0.2 * 0.1)


def test_the_first_point_of_a_series_anchors_its_stocks():
    shaper = StockShaper([AAPL, SPY])
    first = SymbolUpdate("EURUSD", 0, (PricePoint(D("1.1"), D("1.1")),), D("1.1"))
    later = SymbolUpdate(
        "EURUSD", 1, (PricePoint(D("1.1011"), D("1.1011")), PricePoint(D("1.1"), D("1.1"))), D(1)
    )

    assert shaper.touches(first) == [("AAPL", shape(AAPL, D(1)))]
    assert [t.bid for _, t in shaper.touches(later)] == [D("190.76"), D("190.00")]
    assert shaper.touches(SymbolUpdate("GBPUSD", 0, (), D(1))) == []
    assert shaper.sources == ("BTCUSDT", "EURUSD")


def test_the_replay_steps_each_stock_from_its_own_series():
    steps: list[tuple[str, Touch]] = []
    driver = ReplayDriver(CATALOGUE, lambda symbol, touch: steps.append((symbol, touch)), 1.0)

    for _ in range(3):
        assert driver.advance()

    assert {symbol for symbol, _ in steps} == {"AAPL", "MSFT", "SPY"}
    first = dict(reversed(steps))
    assert (first["AAPL"].bid, first["MSFT"].bid, first["SPY"].bid) == (
        D("190.00"),
        D("370.00"),
        D("470.00"),
    )
    assert all(touch.ask - touch.bid == D("0.01") for _, touch in steps)


def test_a_manual_quote_lasts_at_the_bid_unless_given():
    assert manual_touch(D(1), D(2), None).last == D(1)
    assert manual_touch(D(1), D(2), D("1.5")).last == D("1.5")
