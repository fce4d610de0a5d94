"""The simulated MT5 trade server: netting and hedging books, pending orders on ticks,
the server's own SL/TP closes, the three ticket spaces, and the retcode of each check."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from ordergate.domain.values import ZERO
from ordergate.simulators.mt5.model import (
    Account,
    Action,
    Session,
    SymbolSpec,
    Tick,
    TradeRequest,
    TxType,
)
from ordergate.simulators.mt5.trade_server import TradeServer

D = Decimal
EURUSD = SymbolSpec(
    "EURUSD",
    digits=5,
    contract_size=D(100_000),
    volume_min=D("0.01"),
    volume_step=D("0.01"),
    volume_max=D(50),
    currency_base="EUR",
    currency_profit="USD",
    stops_level=10,
    freeze_level=5,
)
T0 = 1_704_196_800_000  # Tuesday 2024-01-02 12:00 server time


def server(mode: str = "netting", **kw: object) -> TradeServer:
    account = Account(login=7, currency="USD", margin_mode=mode, leverage=100, balance=D(10_000))
    ts = TradeServer([EURUSD], account, commission_per_lot=D("3.5"), **kw)  # type: ignore[arg-type]
    ts.tick(Tick("EURUSD", D("1.10000"), D("1.10002"), T0))
    return ts


def market(side: str, volume: str, **kw: object) -> TradeRequest:
    return TradeRequest(Action.DEAL, "EURUSD", side, "market", D(volume), **kw)  # type: ignore[arg-type]


def pending(side: str, kind: str, volume: str, **kw: object) -> TradeRequest:
    return TradeRequest(Action.PENDING, "EURUSD", side, kind, D(volume), **kw)  # type: ignore[arg-type]


def test_a_market_buy_fills_at_the_ask_in_the_order_mt5_reports_it():
    ts = server()

    result, txs = ts.send(market("buy", "0.10"))

    assert (result.retcode, result.volume, result.price) == (10009, D("0.10"), D("1.10002"))
    assert [t.type for t in txs] == [
        TxType.ORDER_ADD,
        TxType.DEAL_ADD,
        TxType.ORDER_DELETE,
        TxType.HISTORY_ADD,
        TxType.REQUEST,
    ]
    (position,) = ts.open_positions()
    # Three ticket spaces: the position is the ticket of the order that opened it.
    assert (result.order, result.deal, position.ticket) == (1_000_001, 2_000_001, 1_000_001)
    assert ts.account.balance == D(10_000) - D("0.35")


def test_netting_an_opposite_deal_larger_than_the_position_reverses_it():
    ts = server()
    ts.send(market("buy", "0.10"))
    ts.tick(Tick("EURUSD", D("1.10100"), D("1.10102"), T0 + 1000))

    result, _ = ts.send(market("sell", "0.30"))

    deal = ts.deals[-1]
    (position,) = ts.open_positions()
    assert (deal.entry, deal.volume, deal.profit) == ("inout", D("0.30"), D("9.8"))
    assert (position.side, position.volume, position.ticket) == ("sell", D("0.20"), result.order)


def test_hedging_keeps_positions_apart_and_closes_one_by_ticket():
    ts = server("hedging")
    first, _ = ts.send(market("buy", "0.10"))
    second, _ = ts.send(market("buy", "0.20"))

    closed, _ = ts.send(market("sell", "0.10", position=first.order))

    assert closed.retcode == 10009
    assert ts.deals[-1].entry == "out"
    assert [(p.ticket, p.volume) for p in ts.open_positions()] == [(second.order, D("0.20"))]
    assert ts.send(market("sell", "0.10", position=first.order))[0].retcode == 10036


def test_a_buy_limit_rests_then_fills_at_its_price_when_the_ask_reaches_it():
    ts = server()
    placed, txs = ts.send(pending("buy", "limit", "0.10", price=D("1.09900")))
    assert (placed.retcode, [t.type for t in txs]) == (10008, [TxType.ORDER_ADD, TxType.REQUEST])

    txs = ts.tick(Tick("EURUSD", D("1.09850"), D("1.09852"), T0 + 1000))

    assert ts.orders[placed.order or 0].state == "filled"
    assert ts.deals[-1].price == D("1.09900")
    assert TxType.DEAL_ADD in [t.type for t in txs]


def test_a_stop_limit_triggers_into_a_limit_then_fills():
    ts = server()
    placed, _ = ts.send(
        pending("buy", "stop_limit", "0.10", stop_price=D("1.10100"), price=D("1.10050"))
    )
    order = ts.orders[placed.order or 0]

    ts.tick(Tick("EURUSD", D("1.10110"), D("1.10112"), T0 + 1000))
    assert (order.triggered, order.state) == (True, "placed")
    ts.tick(Tick("EURUSD", D("1.10040"), D("1.10042"), T0 + 2000))

    assert (order.state, ts.deals[-1].price) == ("filled", D("1.10050"))


def test_a_day_order_expires_at_the_next_server_day():
    ts = server()
    placed, _ = ts.send(pending("sell", "limit", "0.10", price=D("1.11000"), time_in_force="DAY"))

    txs = ts.tick(Tick("EURUSD", D("1.10000"), D("1.10002"), T0 + 12 * 3_600_000 + 1))

    assert ts.orders[placed.order or 0].state == "expired"
    assert [t.type for t in txs] == [TxType.ORDER_DELETE, TxType.HISTORY_ADD]


def test_the_server_closes_a_position_at_its_stop_loss_with_no_request():
    ts = server()
    ts.send(market("buy", "0.10", sl=D("1.09800")))
    ts.positions[next(iter(ts.positions))].sl = D("1.09800")

    txs = ts.tick(Tick("EURUSD", D("1.09790"), D("1.09792"), T0 + 1000))

    deal = ts.deals[-1]
    assert (deal.reason, deal.entry, deal.price) == ("sl", "out", D("1.09790"))
    assert ts.open_positions() == []
    assert TxType.REQUEST not in [t.type for t in txs]


def test_below_the_stop_out_level_the_server_closes_the_most_losing_position():
    ts = server("hedging")
    ts.send(market("buy", "5.00"))  # margin 5,500 on 10,000
    ts.send(market("sell", "1.00"))  # a hedge, margin 1,100

    # Down 90 pips: the long loses 4,510, the short gains 898; the commissions were 21.
    ts.tick(Tick("EURUSD", D("1.09100"), D("1.09102"), T0 + 1000))
    assert ts.margin_level() == D(6_367) / D("6600.1") * 100  # equity over margin, about 96%
    assert len(ts.open_positions()) == 2
    # Down 110 more: equity below half the margin. The long goes; the short stays.
    txs = ts.tick(Tick("EURUSD", D("1.08000"), D("1.08002"), T0 + 2000))

    [kept] = ts.open_positions()
    assert kept.side == "sell"
    closing = ts.deals[-1]
    assert (closing.reason, closing.entry, closing.side, closing.volume) == (
        "so",
        "out",
        "sell",
        D("5.00"),
    )
    assert TxType.DEAL_ADD in [t.type for t in txs]
    assert ts.orders[closing.order].comment.startswith("[so ")
    level = ts.margin_level()
    assert level is not None
    assert level >= 50


def test_a_stop_triggered_without_the_margin_for_it_is_rejected_after_it_was_placed():
    ts = server()
    result, _ = ts.send(pending("buy", "stop", "9.00", stop_price=D("1.10500")))
    assert result.retcode == 10008  # placed: 9,900 of margin on 10,000
    ts.send(market("buy", "1.00"))  # now 1,100 of it is taken

    txs = ts.tick(Tick("EURUSD", D("1.10500"), D("1.10502"), T0 + 1000))

    order = ts.orders[result.order or 0]
    assert (order.state, order.retcode) == ("rejected", 10019)
    assert [t.type for t in txs] == [TxType.ORDER_DELETE, TxType.HISTORY_ADD]
    assert [p.volume for p in ts.open_positions()] == [D("1.00")]


def test_each_check_answers_its_retcode():
    ts = server()
    assert ts.send(market("buy", "0.015"))[0].retcode == 10014  # off the volume step
    assert ts.send(market("buy", "60"))[0].retcode == 10014  # above the maximum
    requote, _ = ts.send(market("buy", "0.10", price=D("1.09900"), deviation=5))
    assert (requote.retcode, requote.ask) == (10004, D("1.10002"))
    assert ts.send(market("buy", "20"))[0].retcode == 10019  # 2.2M notional at 1:100
    wrong_side = pending("buy", "limit", "0.10", price=D("1.10100"))
    assert ts.send(wrong_side)[0].retcode == 10015
    inside_stops = pending("buy", "limit", "0.10", price=D("1.09999"))
    assert ts.send(inside_stops)[0].retcode == 10015
    bad_sl = pending("buy", "limit", "0.10", price=D("1.09900"), sl=D("1.09899"))
    assert ts.send(bad_sl)[0].retcode == 10016
    assert ts.send(TradeRequest(Action.REMOVE, order=999))[0].retcode == 10035


def test_a_modify_that_changes_nothing_and_one_inside_the_freeze_level():
    ts = server()
    placed, _ = ts.send(pending("buy", "limit", "0.10", price=D("1.09900")))
    same = TradeRequest(Action.MODIFY, order=placed.order, price=D("1.09900"))
    assert ts.send(same)[0].retcode == 10025

    ts.tick(Tick("EURUSD", D("1.09901"), D("1.09903"), T0 + 1000))  # 3 points away: frozen
    moved = TradeRequest(Action.MODIFY, order=placed.order, price=D("1.09800"))
    assert ts.send(moved)[0].retcode == 10029


def test_outside_its_sessions_the_market_is_closed():
    weekdays = tuple(Session(day, 0, 1440) for day in range(1, 6))
    spec = SymbolSpec(
        "EURUSD", 5, D(100_000), D("0.01"), D("0.01"), D(50), "EUR", "USD", sessions=weekdays
    )
    account = Account(login=7, currency="USD", margin_mode="netting", leverage=100, balance=D(1))
    ts = TradeServer([spec], account)
    saturday = T0 + 4 * 86_400_000
    ts.tick(Tick("EURUSD", D("1.1"), D("1.1"), saturday))

    assert ts.send(market("buy", "0.01"))[0].retcode == 10018


def test_ioc_against_thin_liquidity_fills_part_and_says_so():
    ts = server(liquidity={"EURUSD": D("0.05")})

    result, _ = ts.send(market("buy", "0.10", filling="IOC"))

    assert (result.retcode, result.volume) == (10010, D("0.05"))
    assert ts.send(market("buy", "0.10", filling="FOK"))[0].retcode == 10006


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(["buy", "sell"]), st.integers(min_value=1, max_value=40)),
        min_size=1,
        max_size=25,
    ),
    st.sampled_from(["netting", "hedging"]),
)
def test_positions_are_the_sum_of_the_deals_and_cash_of_their_profit(deals, mode):
    ts = server(mode)
    for side, lots in deals:
        ts.send(market(side, str(D(lots) / 100)))

    signed = sum(((1 if d.side == "buy" else -1) * d.volume for d in ts.deals), ZERO)
    held = sum(((1 if p.side == "buy" else -1) * p.volume for p in ts.open_positions()), ZERO)
    booked = sum((d.profit + d.commission for d in ts.deals), ZERO)
    assert held == signed  # a hedging account with no closes keeps every deal open
    assert ts.account.balance == D(10_000) + booked
    assert len({d.ticket for d in ts.deals}) == len(ts.deals)
    if mode == "netting":
        assert len(ts.open_positions()) <= 1
