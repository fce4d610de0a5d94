"""`nautilus` over a SQLite journal: what ordergate held when it stopped, NautilusTrader's
engine (built afresh in the next process) holds again — the position, the resting order
(cancelable), the cash — and trading goes on from there."""

from __future__ import annotations

from pathlib import Path

from ordergate.unified import OrderSide, OrderType, UnifiedOrderRequest, connect

SYMBOL = "BTCUSDT"


def test_restart_reseeds_position_resting_order_and_cash(
    isolated_environment: Path, tmp_path: Path
) -> None:
    db = str(tmp_path / "og.db")
    options = {"db": db, "paper_bars_per_second": 0, "account_currency": "USDT"}
    with connect(engine="nautilus", **options) as first:
        market = first.submit_order(UnifiedOrderRequest(SYMBOL, OrderSide.BUY, 0.02))
        limit = first.submit_order(
            UnifiedOrderRequest(SYMBOL, OrderSide.BUY, 0.01, OrderType.LIMIT, price=10000.0)
        )
        assert (market.status, limit.status) == ("FILLED", "PENDING")
        positions_before = first.get_positions()
        balance_before = first.get_account_state().balance

    with connect(engine="nautilus", **options) as second:
        positions_after = second.get_positions()
        balance_after = second.get_account_state().balance
        resting = second.get_order(limit.id)
        canceled = second.cancel_order(limit.id)
        closed = second.close_all()

        assert [(p.symbol, p.quantity) for p in positions_after] == [
            (p.symbol, p.quantity) for p in positions_before
        ]
        assert balance_after == balance_before
        assert resting is not None
        assert resting.status == "PENDING"
        assert canceled.status == "CANCELED"
        assert [(r.status, r.filled_qty) for r in closed] == [("FILLED", 0.02)]
        assert second.get_positions() == []
