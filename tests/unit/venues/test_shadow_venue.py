"""The shadow venue: a paper book seeded from the real account, moved by its live quotes,
and nothing ever sent to the real venue."""

from __future__ import annotations

from decimal import Decimal

import pytest
from tests.fakes import BTC, FakeMarket

from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.ports import MarketData, Venue
from ordergate.engine.venue_reports import (
    SubmitReceipt,
    VenueBalance,
    VenueFill,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)
from ordergate.venues.shadow import ReadOnlyVenue, ShadowVenue, VenueReads

D = Decimal
ACCOUNT = "main"
START = 1_000_000_000_000
READS = frozenset({"connect", "disconnect", "get_positions", "get_balances", "get_open_orders"})


class RealVenue:
    """A real venue as far as the shadow could reach it: it records every call, and a
    write fails the test (the shadow must never get that far)."""

    name = "realex"

    def __init__(
        self,
        positions: list[VenuePosition] | None = None,
        balances: list[VenueBalance] | None = None,
        open_orders: list[VenueOrderReport] | None = None,
    ) -> None:
        self.positions = positions or []
        self.balances = balances or [VenueBalance(ACCOUNT, "USDT", D(10_000))]
        self.open_orders = open_orders or []
        self.calls: list[str] = []

    async def connect(self) -> None:
        self.calls.append("connect")

    async def disconnect(self) -> None:
        self.calls.append("disconnect")

    async def get_positions(self, account: str) -> list[VenuePosition]:
        self.calls.append("get_positions")
        return [p for p in self.positions if p.account == account]

    async def get_balances(self, account: str) -> list[VenueBalance]:
        self.calls.append("get_balances")
        return [b for b in self.balances if b.account == account]

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        self.calls.append("get_open_orders")
        return list(self.open_orders)

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        self.calls.append("submit_order")
        raise AssertionError("the shadow venue sent an order to the real venue")

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        self.calls.append("cancel_order")
        raise AssertionError("the shadow venue sent a cancel to the real venue")

    async def replace_order(self, *args: object) -> None:
        self.calls.append("replace_order")
        raise AssertionError("the shadow venue sent a replace to the real venue")


def shadow_of(real: RealVenue, market: FakeMarket) -> ShadowVenue:
    return ShadowVenue(ReadOnlyVenue(real), market, [BTC], [ACCOUNT], session="s0", start_ns=START)


def request(
    coid: str,
    side: Side = Side.BUY,
    qty: str = "0.010",
    price: str | None = None,
) -> VenueOrderRequest:
    return VenueOrderRequest(
        client_order_id=coid,
        account=ACCOUNT,
        symbol=BTC.symbol,
        side=side,
        type=OrderType.MARKET if price is None else OrderType.LIMIT,
        qty=D(qty),
        price=None if price is None else D(price),
        stop_price=None,
        time_in_force=TimeInForce.GTC,
        reduce_only=False,
    )


async def drain(venue: ShadowVenue) -> list[object]:
    """What the venue has streamed so far (without waiting for more)."""
    return list(venue.drain_events())


@pytest.fixture
def market() -> FakeMarket:
    quotes = FakeMarket()
    quotes.set(BTC.symbol, "50000.0", "50000.1", ts=START + 1)
    return quotes


async def test_shadow_venue_is_a_venue_and_market_data_that_is_never_live(market):
    venue = shadow_of(RealVenue(), market)
    as_venue: Venue = venue
    as_market: MarketData = venue

    assert (as_venue.name, as_venue.live, as_venue.acceptance_window) == (
        "shadow-realex",
        False,
        0.0,
    )
    assert as_market.quote(BTC.symbol) is None  # nothing matched before connect


async def test_shadow_venue_connect_seeds_the_book_with_the_real_positions_and_cash(market):
    real = RealVenue(
        positions=[VenuePosition(ACCOUNT, BTC.symbol, D("0.500"), D("48000.0"))],
        balances=[VenueBalance(ACCOUNT, "USDT", D("12345.67"))],
    )
    venue = shadow_of(real, market)

    await venue.connect()

    assert await venue.get_positions(ACCOUNT) == real.positions
    assert await venue.get_balances(ACCOUNT) == real.balances
    assert venue.quote(BTC.symbol).bid == D("50000.0")


@pytest.mark.parametrize(("qty", "side"), [("0.500", Side.BUY), ("-0.250", Side.SELL)])
async def test_shadow_venue_reports_one_opening_fill_per_real_position(market, qty, side):
    real = RealVenue(positions=[VenuePosition(ACCOUNT, BTC.symbol, D(qty), D("48000.0"))])
    venue = shadow_of(real, market)
    await venue.connect()

    fills = await venue.get_fills(ACCOUNT, since_ts=START * 10)  # listed whatever the time

    assert fills == [
        VenueFill(
            client_order_id="shadow-open-main-BTCUSDT",
            account=ACCOUNT,
            symbol=BTC.symbol,
            side=side,
            trade_id="shadow-open-s0-main-BTCUSDT",
            qty=abs(D(qty)),
            price=D("48000.0"),
            fee=D(0),
            fee_currency="USDT",
            liquidity=LiquiditySide.TAKER,
            venue_seq=None,
            ts=START,
        )
    ]


async def test_shadow_venue_does_not_copy_the_real_open_orders(market):
    real_order = VenueOrderReport(
        "real-1", "V1", ACCOUNT, BTC.symbol, Side.BUY, OrderType.LIMIT, D("0.1"),
        D("40000.0"), None, OrderStatus.ACCEPTED, D(0), None, START,
    )  # fmt: skip
    venue = shadow_of(RealVenue(open_orders=[real_order]), market)
    await venue.connect()

    assert await venue.get_open_orders(ACCOUNT) == []


async def test_shadow_venue_market_order_fills_at_the_live_quote(market):
    venue = shadow_of(RealVenue(), market)
    await venue.connect()

    receipt = await venue.submit_order(request("m1"))
    events = await drain(venue)

    assert receipt.accepted
    assert (receipt.venue_order_id or "").startswith("shadow-s0-")
    fills = [e for e in events if isinstance(e, VenueFill)]
    assert [(f.qty, f.price) for f in fills] == [(D("0.010"), D("50000.1"))]
    assert await venue.get_positions(ACCOUNT) == [
        VenuePosition(ACCOUNT, BTC.symbol, D("0.010"), D("50000.1"))
    ]


async def test_shadow_venue_resting_limit_fills_when_the_live_quote_reaches_it(market):
    venue = shadow_of(RealVenue(), market)
    await venue.connect()
    await venue.submit_order(request("l1", price="49000.0"))
    assert [e for e in await drain(venue) if isinstance(e, VenueFill)] == []

    market.set(BTC.symbol, "48900.0", "48950.0", ts=START + 5)
    steps = venue.pull_quotes()
    fills = [e for e in await drain(venue) if isinstance(e, VenueFill)]

    assert steps == 1
    # The market jumped through the limit: a resting order fills at its limit.
    assert [(f.client_order_id, f.qty, f.price, f.ts) for f in fills] == [
        ("l1", D("0.010"), D("49000.0"), START + 5)
    ]
    assert (await venue.get_order(ACCOUNT, BTC.symbol, "l1")).status is OrderStatus.FILLED
    assert [f.client_order_id for f in await venue.get_fills(ACCOUNT)] == ["l1"]


async def test_shadow_venue_steps_take_the_quote_time_but_never_go_back(market):
    venue = shadow_of(RealVenue(), market)
    await venue.connect()
    market.set(BTC.symbol, "50001.0", "50001.1", ts=START + 100)
    venue.pull_quotes()

    market.set(BTC.symbol, "50002.0", "50002.1", ts=START + 50)  # a late quote
    venue.pull_quotes()
    unchanged = venue.pull_quotes()  # the same quote again: no step

    assert venue.now_ns == START + 100
    assert venue.quote(BTC.symbol).bid == D("50002.0")
    assert unchanged == 0


async def test_shadow_venue_restored_from_a_journal_reads_no_opening_book(market):
    real = RealVenue(positions=[VenuePosition(ACCOUNT, BTC.symbol, D("0.5"), D("48000.0"))])
    venue = shadow_of(real, market)
    journal_position = VenuePosition(ACCOUNT, BTC.symbol, D("0.2"), D("47000.0"))
    venue.restore([], [journal_position], [VenueBalance(ACCOUNT, "USDT", D(9_000))])

    await venue.connect()

    assert await venue.get_positions(ACCOUNT) == [journal_position]
    assert await venue.get_fills(ACCOUNT) == []
    assert "get_positions" not in real.calls


async def test_shadow_venue_sends_nothing_to_the_real_venue(market):
    real = RealVenue(positions=[VenuePosition(ACCOUNT, BTC.symbol, D("0.5"), D("48000.0"))])
    venue = shadow_of(real, market)
    await venue.connect()

    await venue.submit_order(request("m1"))
    await venue.submit_order(request("l1", price="49000.0"))
    await venue.replace_order(ACCOUNT, BTC.symbol, "l1", D("0.020"), D("49100.0"), None)
    await venue.cancel_order(ACCOUNT, BTC.symbol, "l1")
    await venue.get_fills(ACCOUNT)
    await venue.disconnect()

    assert set(real.calls) <= READS
    assert real.calls.count("connect") == real.calls.count("disconnect") == 1


def test_read_only_venue_has_no_way_to_send():
    reads: VenueReads = ReadOnlyVenue(RealVenue())

    for write in ("submit_order", "cancel_order", "replace_order", "_venue"):
        assert not hasattr(reads, write)
    assert not any(
        getattr(getattr(reads, slot), "__name__", "") in {"submit_order", "cancel_order"}
        for slot in ReadOnlyVenue.__slots__
    )
