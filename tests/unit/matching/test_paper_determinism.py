"""Same input, same fills: determinism, and properties of random orders over real bars.

The bars are the BTCUSDT demo excerpt bundled with the package (real 1-minute bars).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from decimal import Decimal
from importlib.resources import files

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.matching.matching_support import D, request

from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueEvent, VenueFill
from ordergate.matching import (
    ExecutionRules,
    FeedStep,
    MatchingEngine,
    PaperMarket,
    ReplayFeed,
    load_bar_series,
    load_demo_market,
)

RICH = {"acc": {"USDT": D(10**9), "USD": D(10**9)}, "other": {"USDT": D(10**6)}}
TICK = D("0.1")
SLIPPAGE_TICKS = 3


@functools.cache
def btc_steps(count: int) -> tuple[FeedStep, ...]:
    data = files("ordergate.matching").joinpath("data")
    series = load_bar_series(data.joinpath("btcusdt-perp-1m-20220103-20220105.csv.gz"))
    feed = ReplayFeed({"BTCUSDT": series})
    return tuple(step for step in iter(feed.next_step, None))[:count]


def run_scenario(market: PaperMarket, balances: dict[str, dict[str, Decimal]]) -> list[VenueEvent]:
    """A fixed script of steps, orders, cancels and replaces over all demo symbols."""
    engine = MatchingEngine(market.instruments, balances, session="det", rules=market.rules)
    events: list[VenueEvent] = []
    placed: list[tuple[str, str, str]] = []
    for index in range(400):
        step = market.feed.next_step()
        assert step is not None
        events += engine.apply_step(step)
        for update in step.updates:
            if index % 5:
                continue
            symbol, last = update.symbol, update.last
            instrument = next(i for i in market.instruments if i.symbol == symbol)
            tick, qty = instrument.tick_size, str(instrument.min_qty * 10)
            near = instrument.round_price(last)
            side = Side.BUY if index % 10 else Side.SELL
            for kind, order in (
                ("m", request(f"m{index}{symbol}", side, OrderType.MARKET, qty, symbol=symbol)),
                (
                    "l",
                    request(
                        f"l{index}{symbol}",
                        side.opposite,
                        OrderType.LIMIT,
                        qty,
                        str(near + (20 if side is Side.BUY else -20) * tick),
                        symbol=symbol,
                    ),
                ),
                (
                    "s",
                    request(
                        f"s{index}{symbol}",
                        side,
                        OrderType.STOP,
                        qty,
                        None,
                        str(near + (15 if side is Side.BUY else -15) * tick),
                        symbol=symbol,
                        tif=TimeInForce.DAY,
                    ),
                ),
                (
                    "r",
                    request(
                        f"r{index}{symbol}",
                        side.opposite,
                        OrderType.LIMIT,
                        qty,
                        str(near),
                        symbol=symbol,
                        reduce_only=True,
                        tif=TimeInForce.IOC,
                    ),
                ),
            ):
                events += engine.submit(order)[1]
                placed.append((kind, symbol, order.client_order_id))
        if index % 37 == 0:
            for kind, symbol, client_order_id in placed[-6:]:
                open_ids = {o.client_order_id for o in engine.open_orders("acc", symbol)}
                if client_order_id in open_ids and kind == "l":
                    events += engine.cancel("acc", symbol, client_order_id)
                elif client_order_id in open_ids and kind == "s":
                    report = engine.order_report("acc", symbol, client_order_id)
                    assert report is not None
                    events += engine.replace(
                        "acc", symbol, client_order_id, report.qty * 2, None, None
                    )
    return events


def test_same_steps_and_orders_run_twice_give_identical_events():
    first = run_scenario(load_demo_market(), RICH)
    second = run_scenario(load_demo_market(), RICH)

    assert len(fills := [e for e in first if isinstance(e, VenueFill)]) > 50
    assert {fill.symbol for fill in fills} == {"BTCUSDT", "EURUSD", "GBPUSD"}
    assert first == second


def test_events_do_not_depend_on_instrument_or_balance_order():
    market = load_demo_market()
    shuffled = PaperMarket(tuple(reversed(market.instruments)), market.rules, market.feed)
    reordered = {
        account: dict(reversed(list(cash.items())))
        for account, cash in reversed(list(RICH.items()))
    }

    assert run_scenario(shuffled, reordered) == run_scenario(load_demo_market(), RICH)


OrderSpec = tuple[int, Side, OrderType, int, int, int, TimeInForce, bool]
order_specs = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=149),  # step index at which to submit
        st.sampled_from(Side),
        st.sampled_from(OrderType),
        st.integers(min_value=-300, max_value=300),  # price offset in ticks from last
        st.integers(min_value=-50, max_value=50),  # stop-limit: limit offset from stop
        st.integers(min_value=1, max_value=40),  # qty in lot steps
        st.sampled_from(TimeInForce),
        st.booleans(),  # reduce-only
    ),
    max_size=25,
)


def fill_bounds(points: Sequence[tuple[Decimal, Decimal]]) -> tuple[Decimal, Decimal]:
    low = min(min(bid, ask) for bid, ask in points)
    high = max(max(bid, ask) for bid, ask in points)
    slip = TICK * SLIPPAGE_TICKS
    return low - slip, high + slip


@settings(max_examples=100)
@given(specs=order_specs)
def test_random_orders_fill_within_the_step_range_and_position_is_sum_of_fills(specs):
    steps = btc_steps(150)
    market = load_demo_market_cached()
    engine = MatchingEngine(
        market.instruments,
        RICH,
        session="p",
        rules={"BTCUSDT": ExecutionRules(slippage_ticks=SLIPPAGE_TICKS)},
    )
    by_step: dict[int, list[tuple[int, OrderSpec]]] = {}
    for number, spec in enumerate(specs):
        by_step.setdefault(spec[0], []).append((number, spec))
    fills: list[VenueFill] = []
    limits: dict[str, tuple[Side, Decimal | None, OrderType]] = {}
    for index, step in enumerate(steps):
        quote = engine.quote("BTCUSDT")
        for number, spec in by_step.get(index, []):
            _, side, order_type, offset, limit_offset, lots, tif, reduce_only = spec
            last = quote.last if quote else D(47_000)
            level = last + offset * TICK
            price = stop = None
            if order_type is OrderType.LIMIT:
                price = level
            elif order_type is OrderType.STOP:
                stop = level
            elif order_type is OrderType.STOP_LIMIT:
                stop, price = level, level + limit_offset * TICK
            client_order_id = f"o{number}"
            limits[client_order_id] = (side, price, order_type)
            order = request(
                client_order_id,
                side,
                order_type,
                str(lots * D("0.001")),
                None if price is None else str(price),
                None if stop is None else str(stop),
                tif=tif,
                reduce_only=reduce_only,
            )
            produced = engine.submit(order)[1]
            arrival = [(quote.bid, quote.ask)] if quote else []
            for fill in (e for e in produced if isinstance(e, VenueFill)):
                low, high = fill_bounds(arrival)
                assert low <= fill.price <= high
                if order_type is OrderType.LIMIT and price is not None:
                    assert fill.price <= price if side is Side.BUY else fill.price >= price
                fills.append(fill)
        produced = engine.apply_step(step)
        # A gap jumps from the last quote to the step's first point: a resting limit in
        # between fills at its limit (decision 0034), so the range includes the last quote.
        before = [(quote.bid, quote.ask)] if quote else []
        low, high = fill_bounds([(p.bid, p.ask) for u in step.updates for p in u.points] + before)
        for fill in (e for e in produced if isinstance(e, VenueFill)):
            side, price, order_type = limits[fill.client_order_id]
            # With no quote before, a limit that rested from before any market fills at it.
            at_its_limit = not before and fill.price == price
            assert low <= fill.price <= high or at_its_limit
            if order_type is OrderType.LIMIT and price is not None:
                assert fill.price <= price if side is Side.BUY else fill.price >= price
            fills.append(fill)

    signed = sum((f.qty if f.side is Side.BUY else -f.qty for f in fills), D(0))
    positions = engine.positions("acc")
    assert (positions[0].qty if positions else D(0)) == signed
    for client_order_id in {f.client_order_id for f in fills}:
        report = engine.order_report("acc", "BTCUSDT", client_order_id)
        assert report is not None
        own = [fill.qty for fill in fills if fill.client_order_id == client_order_id]
        assert report.filled_qty == sum(own)
        assert report.filled_qty <= report.qty


@functools.cache
def load_demo_market_cached() -> PaperMarket:
    return load_demo_market(loop=False)
