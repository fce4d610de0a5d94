"""`ORDERGATE_MODE=dry-run` over REST: every order runs the whole pre-trade path and is
journaled with its verdict (PLANNED or DENIED); nothing reaches the venue."""

from __future__ import annotations

from pathlib import Path

from tests.integration.api.support import make_settings, running


async def test_dry_run_orders_end_planned_or_denied_and_reach_no_venue(market: Path) -> None:
    async with running(make_settings(market, mode="dry-run")) as api:
        planned = await api.place(symbol="BTCUSDT", side="BUY", qty="0.010")
        denied = await api.place(symbol="BTCUSDT", side="BUY", qty="0.0105")  # off the step
        limit = await api.place(
            symbol="BTCUSDT", side="BUY", qty="0.010", type="LIMIT", price="30000"
        )
        seed_view = await api.http.get(f"/api/v1/orders/{planned['id']}")

        assert (planned["status"], planned["reason_code"]) == ("PLANNED", None)
        assert (denied["status"], denied["reason_code"]) == ("DENIED", "QTY_NOT_ON_STEP")
        assert limit["status"] == "PLANNED"
        assert seed_view.json()["status"] == "cancelled"
        venue = api.venue
        assert await venue.get_open_orders("default") == []
        assert await venue.get_fills("default") == []
        assert await api.fills() == []
        assert api.application.partition.engine.state.journal_mode == "dry-run"  # type: ignore[union-attr]
