"""NautilusTrader's events, reports and instruments in ordergate's terms, built from
NautilusTrader's own objects (no I/O, no node)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.reports import FillReport, OrderStatusReport, PositionStatusReport
from nautilus_trader.model.currencies import USDT
from nautilus_trader.model.enums import LiquiditySide as NtLiquidity
from nautilus_trader.model.enums import OrderSide as NtSide
from nautilus_trader.model.enums import OrderStatus as NtStatus
from nautilus_trader.model.enums import OrderType as NtType
from nautilus_trader.model.enums import PositionSide, TimeInForce
from nautilus_trader.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderModifyRejected,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
)
from nautilus_trader.model.identifiers import (
    AccountId,
    ClientOrderId,
    InstrumentId,
    StrategyId,
    TradeId,
    TraderId,
    VenueOrderId,
)
from nautilus_trader.model.objects import Money, Price, Quantity
from nautilus_trader.test_kit.providers import TestInstrumentProvider

from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import LiquiditySide, OrderStatus, OrderType, Side
from ordergate.engine.venue_reports import (
    VenueCancelRejected,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueReplaceRejected,
)
from ordergate.venues.nautilus_live.translate import (
    EventTranslator,
    fill,
    instrument,
    order_report,
    position,
)
from ordergate.venues.nautilus_vocabulary import DENIED_BY

D = Decimal
IID = InstrumentId.from_str("BTCUSDT-LINEAR.BYBIT")
COID = ClientOrderId("767caae3e1105ca688a55190530efbf9")
VOID = VenueOrderId("ef834f08-003b-4cd5-bbd6-48caadf76515")
ACCOUNT_ID = AccountId("BYBIT-UNIFIED")
WHO = {"trader_id": TraderId("ORDERGATE-001"), "strategy_id": StrategyId("ORDERGATE-BRIDGE")}
TS = 1_700_000_000_000_000_000


def ids(**more: object) -> dict[str, object]:
    return {**WHO, "instrument_id": IID, "client_order_id": COID, "event_id": UUID4(), **more}


FILLED = D("0.004")


def translator(filled: Decimal | None = FILLED) -> EventTranslator:
    return EventTranslator("main", {str(IID): "BTCUSDT"}, lambda coid: filled)


def filled_event(
    trade_id: str = "c3a1-exec", liquidity: NtLiquidity = NtLiquidity.MAKER
) -> OrderFilled:
    return OrderFilled(
        **ids(),
        venue_order_id=VOID,
        account_id=ACCOUNT_ID,
        trade_id=TradeId(trade_id),
        position_id=None,
        order_side=NtSide.SELL,
        order_type=NtType.LIMIT,
        last_qty=Quantity.from_str("0.004"),
        last_px=Price.from_str("50010.0"),
        currency=USDT,
        commission=Money.from_str("0.04000800 USDT"),
        liquidity_side=liquidity,
        ts_event=TS,
        ts_init=TS + 1,
    )


def test_a_fill_keeps_the_venues_trade_id_quantity_price_and_fee():
    [event] = [translator().translate(filled_event())]

    assert event == VenueFill(
        client_order_id=str(COID),
        account="main",
        symbol="BTCUSDT",
        side=Side.SELL,
        trade_id="c3a1-exec",
        qty=D("0.004"),
        price=D("50010.0"),
        fee=D("0.04000800"),
        fee_currency="USDT",
        liquidity=LiquiditySide.MAKER,
        venue_seq=1,
        ts=TS,
    )


def test_events_are_numbered_from_one_without_gaps_skipping_muted_ones():
    numbering = translator()
    events = [
        OrderSubmitted(**ids(), account_id=ACCOUNT_ID, ts_event=TS, ts_init=TS),
        OrderAccepted(**ids(), venue_order_id=VOID, account_id=ACCOUNT_ID, ts_event=TS, ts_init=TS),
        OrderTriggered(
            **ids(), venue_order_id=VOID, account_id=ACCOUNT_ID, ts_event=TS, ts_init=TS
        ),
        filled_event("t1", NtLiquidity.TAKER),
        filled_event("t2", NtLiquidity.TAKER),
    ]

    translated = [numbering.translate(e) for e in events]

    assert translated[0] is None  # submitted
    assert translated[2] is None  # triggered
    assert [getattr(e, "venue_seq", None) for e in translated if e is not None] == [1, 2, 3]
    assert translated[1] == VenueOrderAccepted(str(COID), str(VOID), 1, TS)
    assert [e.liquidity for e in translated[3:] if isinstance(e, VenueFill)] == [
        LiquiditySide.TAKER,
        LiquiditySide.TAKER,
    ]


def test_a_venue_rejection_and_a_risk_engine_denial_are_told_apart_by_their_reason():
    rejected = OrderRejected(
        **ids(), account_id=ACCOUNT_ID, reason="Insufficient balance", ts_event=TS, ts_init=TS
    )
    denied = OrderDenied(**ids(), reason="MAX_ORDER_SUBMIT_RATE", ts_init=TS)
    numbering = translator()

    assert numbering.translate(rejected) == VenueOrderRejected(
        str(COID), ReasonCode.VENUE_REJECTED, "Insufficient balance", 1, TS
    )
    assert numbering.translate(denied) == VenueOrderRejected(
        str(COID), ReasonCode.VENUE_REJECTED, DENIED_BY + "MAX_ORDER_SUBMIT_RATE", 2, TS
    )


def test_a_cancel_and_an_expiry_carry_what_nautilus_trader_has_filled():
    canceled = OrderCanceled(
        **ids(), venue_order_id=VOID, account_id=ACCOUNT_ID, ts_event=TS, ts_init=TS
    )
    expired = OrderExpired(
        **ids(), venue_order_id=VOID, account_id=ACCOUNT_ID, ts_event=TS, ts_init=TS
    )
    numbering = translator(filled=D("0.004"))

    assert numbering.translate(canceled) == VenueOrderCanceled(
        str(COID), None, None, 1, TS, filled_qty=D("0.004")
    )
    assert numbering.translate(expired) == VenueOrderExpired(
        str(COID), None, 2, TS, filled_qty=D("0.004")
    )


def test_an_update_is_a_replace_and_refusals_of_cancel_and_modify_keep_their_reason():
    updated = OrderUpdated(
        **ids(),
        venue_order_id=VOID,
        account_id=ACCOUNT_ID,
        quantity=Quantity.from_str("0.010"),
        price=Price.from_str("49900.0"),
        trigger_price=None,
        ts_event=TS,
        ts_init=TS,
    )
    refusal = {"venue_order_id": VOID, "account_id": ACCOUNT_ID, "ts_event": TS, "ts_init": TS}
    cancel_rejected = OrderCancelRejected(**ids(), reason="order not exists", **refusal)
    modify_rejected = OrderModifyRejected(**ids(), reason="too late", **refusal)
    numbering = translator()

    assert numbering.translate(updated) == VenueOrderReplaced(
        str(COID), D("0.010"), D("49900.0"), None, 1, TS
    )
    assert numbering.translate(cancel_rejected) == VenueCancelRejected(
        str(COID), ReasonCode.VENUE_REJECTED, "order not exists", 2, TS
    )
    assert numbering.translate(modify_rejected) == VenueReplaceRejected(
        str(COID), ReasonCode.VENUE_REJECTED, "too late", 3, TS
    )


def test_a_fill_of_an_instrument_not_traded_here_is_not_streamed():
    numbering = EventTranslator("main", {}, lambda coid: None)

    assert numbering.translate(filled_event()) is None


def status_report(status: NtStatus, filled: str, **more: object) -> OrderStatusReport:
    terms: dict[str, object] = {
        "account_id": ACCOUNT_ID,
        "instrument_id": IID,
        "client_order_id": COID,
        "venue_order_id": VOID,
        "order_side": NtSide.BUY,
        "order_type": NtType.LIMIT,
        "time_in_force": TimeInForce.GTC,
        "order_status": status,
        "price": Price.from_str("49000.0"),
        "trigger_price": Price.from_str("0.0"),
        "quantity": Quantity.from_str("0.020"),
        "filled_qty": Quantity.from_str(filled),
        "avg_px": D("49000.0") if D(filled) > 0 else None,
        "report_id": UUID4(),
        "ts_accepted": TS,
        "ts_last": TS,
        "ts_init": TS,
        **more,
    }
    return OrderStatusReport(**terms)


@pytest.mark.parametrize(
    ("status", "filled", "expected"),
    [
        (NtStatus.ACCEPTED, "0.000", OrderStatus.ACCEPTED),
        (NtStatus.ACCEPTED, "0.005", OrderStatus.PARTIALLY_FILLED),
        (NtStatus.PARTIALLY_FILLED, "0.005", OrderStatus.PARTIALLY_FILLED),
        (NtStatus.TRIGGERED, "0.000", OrderStatus.ACCEPTED),
        (NtStatus.FILLED, "0.020", OrderStatus.FILLED),
        (NtStatus.CANCELED, "0.005", OrderStatus.CANCELED),
        (NtStatus.REJECTED, "0.000", OrderStatus.REJECTED),
        (NtStatus.EXPIRED, "0.000", OrderStatus.EXPIRED),
    ],
)
def test_an_order_report_has_ordergates_status(status, filled, expected):
    report = order_report(status_report(status, filled), "main", "BTCUSDT")

    assert report is not None
    assert (report.status, report.filled_qty) == (expected, D(filled))
    assert (report.type, report.price, report.stop_price) == (OrderType.LIMIT, D("49000.0"), None)
    assert report.avg_fill_price == (D("49000.0") if D(filled) > 0 else None)


def test_an_order_report_without_a_client_order_id_is_no_order_of_ordergates():
    report = status_report(NtStatus.ACCEPTED, "0.000", client_order_id=None)

    assert order_report(report, "main", "BTCUSDT") is None


def test_a_position_report_is_signed_and_a_flat_one_is_none():
    def report(side: PositionSide, qty: str) -> PositionStatusReport:
        return PositionStatusReport(
            account_id=ACCOUNT_ID,
            instrument_id=IID,
            position_side=side,
            quantity=Quantity.from_str(qty),
            report_id=UUID4(),
            ts_last=TS,
            ts_init=TS,
            avg_px_open=D("50010.0"),
        )

    short = position(report(PositionSide.SHORT, "0.030"), "main", "BTCUSDT")

    assert short is not None
    assert (short.qty, short.avg_price) == (D("-0.030"), D("50010.0"))
    assert position(report(PositionSide.FLAT, "0.000"), "main", "BTCUSDT") is None


def test_a_fill_report_is_a_fill_with_the_venues_trade_id():
    report = FillReport(
        account_id=ACCOUNT_ID,
        instrument_id=IID,
        venue_order_id=VOID,
        trade_id=TradeId("exec-1"),
        order_side=NtSide.BUY,
        last_qty=Quantity.from_str("0.010"),
        last_px=Price.from_str("50010.0"),
        commission=Money.from_str("0.27505500 USDT"),
        liquidity_side=NtLiquidity.TAKER,
        report_id=UUID4(),
        ts_event=TS,
        ts_init=TS,
        client_order_id=COID,
    )

    booked = fill(report, "main", "BTCUSDT")

    assert booked is not None
    assert (booked.trade_id, booked.qty, booked.price, booked.fee, booked.venue_seq) == (
        "exec-1",
        D("0.010"),
        D("50010.0"),
        D("0.27505500"),
        None,
    )


def test_an_instrument_keeps_its_grid_limits_fees_and_margin():
    perpetual = TestInstrumentProvider.btcusdt_perp_binance()

    converted = instrument(perpetual, "BTCUSDT")

    assert (converted.tick_size, converted.lot_step, converted.min_qty) == (
        D("0.1"),
        D("0.001"),
        D("0.001"),
    )
    assert (converted.max_qty, converted.min_notional) == (D("1000.000"), D("10.00000000"))
    assert (converted.maker_fee_rate, converted.taker_fee_rate) == (D("0.0002"), D("0.00018"))
    assert (converted.margin_rate, converted.contract_size) == (D("0.05"), D(1))
    assert (converted.base_currency, converted.quote_currency) == ("BTC", "USDT")
