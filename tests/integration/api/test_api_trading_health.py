"""GET /v1/health/trading and the control plane behind it (/v1/admin/state, arm,
clear-dirty): every closed gate with its reason, and who set it."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.integration.api.support import Api, make_settings, running

from ordergate.auth.keys import split_key
from ordergate.domain.events import InstrumentCleared, TradingArmed, TradingStateChanged
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import VenueOrderRequest

D = Decimal


def key_id(api: Api) -> str:
    parts = split_key(api.http.headers["X-API-Key"])
    assert parts is not None
    return parts[0]


def journaled(api: Api, kind: type) -> list[Any]:
    return [e for e in api.application.partition.store.events() if isinstance(e, kind)]


async def trading_health(api: Api) -> dict[str, Any]:
    response = await api.http.get("/v1/health/trading")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def admin(api: Api, route: str, expected: int = 200, **body: Any) -> dict[str, Any]:
    response = await api.http.post(f"/v1/admin/{route}", json=body)
    assert response.status_code == expected, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def admin_state(api: Api) -> dict[str, Any]:
    response = await api.http.get("/v1/admin/state")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


# --- open ---------------------------------------------------------------------------------------


async def test_trading_health_nothing_closed_is_trading_open(api: Api) -> None:
    health = await trading_health(api)

    assert health["trading_open"] is True
    assert health["closed_gates"] == []
    assert health["engine_running"] is True
    assert (health["venue"], health["venue_live"]) == ("paper", False)
    assert health["gates"] == {"trading_states": [], "dirty": [], "armed": []}
    assert {f["symbol"]: f["stale"] for f in health["feeds"]} == {
        "BTCUSDT": False,
        "EURUSD": False,
    }


async def test_trading_health_lists_each_accounts_last_reconciliation(api: Api) -> None:
    health = await trading_health(api)  # the reconciler ran on start

    assert [(r["account"], r["diffs"]) for r in health["last_reconciliation"]] == [
        ("alt", []),
        ("default", []),
    ]


# --- trading states -----------------------------------------------------------------------------


async def test_admin_state_halted_closes_gate_with_reason_and_key_as_actor(api: Api) -> None:
    actor = f"key:{key_id(api)}"

    gates = await admin(
        api, "state", account="default", symbol="EURUSD", state="HALTED", reason="maintenance"
    )

    [halted] = gates["trading_states"]
    assert (halted["account"], halted["symbol"], halted["state"]) == ("default", "EURUSD", "HALTED")
    assert (halted["reason"], halted["actor"]) == ("maintenance", actor)
    health = await trading_health(api)
    assert health["trading_open"] is False
    assert health["closed_gates"] == [f"HALTED default/EURUSD: maintenance ({actor})"]
    assert (await admin_state(api))["trading_states"] == gates["trading_states"]
    [event] = journaled(api, TradingStateChanged)
    assert (event.account, event.symbol, event.state, event.actor) == (
        "default",
        "EURUSD",
        "HALTED",
        actor,
    )
    denied = await api.place(symbol="EURUSD", side="BUY", qty="0.10")
    assert (denied["status"], denied["reason_code"]) == ("DENIED", "TRADING_HALTED")


async def test_admin_state_active_again_reopens_trading(api: Api) -> None:
    await admin(api, "state", account="default", state="REDUCING", reason="safe mode")
    assert (await trading_health(api))["closed_gates"] == [
        f"REDUCING default/*: safe mode (key:{key_id(api)})"
    ]

    gates = await admin(api, "state", account="default", state="ACTIVE", reason="all clear")

    assert gates["trading_states"] == []
    health = await trading_health(api)
    assert (health["trading_open"], health["closed_gates"]) == (True, [])
    assert [e.state for e in journaled(api, TradingStateChanged)] == ["REDUCING", "ACTIVE"]


# --- dirty marks ----------------------------------------------------------------------------------


async def dirty_eurusd(api: Api) -> None:
    """A reconciliation that finds an order placed at the venue behind ordergate's back,
    with unknown orders only alerted: EURUSD of `default` is left in doubt."""
    await api.application.partition.engine.stop_reconciling()  # nothing else reconciles meanwhile
    await api.venue.submit_order(
        VenueOrderRequest(
            client_order_id="manual-1",
            account="default",
            symbol="EURUSD",
            side=Side.BUY,
            type=OrderType.LIMIT,
            qty=D("0.10"),
            price=D("1.09000"),
            stop_price=None,
            time_in_force=TimeInForce.GTC,
            reduce_only=False,
        )
    )
    response = await api.http.post("/v1/reconcile", params={"account": "default"})
    assert response.status_code == 200, response.text
    assert response.json()[0]["agreed"] is False


async def test_trading_health_dirty_mark_closes_gate_with_cause(market: Path) -> None:
    async with running(make_settings(market, reconcile={"order_unknown": "ALERT"})) as api:
        await dirty_eurusd(api)

        health = await trading_health(api)

    assert health["trading_open"] is False
    [gate] = health["closed_gates"]
    assert gate.startswith("dirty default/EURUSD: RECONCILIATION_MISMATCH")
    [dirty] = health["gates"]["dirty"]
    assert (dirty["account"], dirty["symbol"], dirty["cause"]) == (
        "default",
        "EURUSD",
        "RECONCILIATION_MISMATCH",
    )
    [last] = [r for r in health["last_reconciliation"] if r["account"] == "default"]
    assert [line.split()[0] for line in last["diffs"]] == ["ORDER_UNKNOWN"]


async def test_admin_clear_dirty_reopens_gate_and_journals_who(market: Path) -> None:
    async with running(make_settings(market, reconcile={"order_unknown": "ALERT"})) as api:
        await dirty_eurusd(api)
        denied = await api.place(symbol="EURUSD", side="BUY", qty="0.10")
        assert denied["reason_code"] == "INSTRUMENT_DIRTY"

        gates = await admin(api, "clear-dirty", account="default", reason="checked by hand")

        assert gates["dirty"] == []
        assert (await admin_state(api))["dirty"] == []
        health = await trading_health(api)
        assert (health["trading_open"], health["closed_gates"]) == (True, [])
        [cleared] = journaled(api, InstrumentCleared)
        assert (cleared.account, cleared.symbol) == ("default", None)
        assert f"key:{key_id(api)}" in cleared.reason
        assert "checked by hand" in cleared.reason
        placed = await api.place(symbol="EURUSD", side="BUY", qty="0.10")
        assert placed["status"] == "FILLED"


# --- stale feed -----------------------------------------------------------------------------------


async def test_trading_health_stale_feed_closes_gate_when_configured(market: Path) -> None:
    eurusd = market.parent / "eurusd.csv"
    eurusd.write_text("\n".join(eurusd.read_text().splitlines()[:3]) + "\n")  # two bars
    settings = make_settings(market, limits={"feed_stale_after_ms": 90_000})
    async with running(settings) as api:
        await api.advance(3)  # BTCUSDT moves on; EURUSD has said nothing for 2 minutes

        health = await trading_health(api)
        denied = await api.place(symbol="EURUSD", side="BUY", qty="0.10")

    assert health["trading_open"] is False
    assert health["closed_gates"] == ["feed EURUSD: no price for 120000 ms (limit 90000 ms)"]
    feeds = {f["symbol"]: f for f in health["feeds"]}
    assert (feeds["EURUSD"]["stale"], feeds["EURUSD"]["age_ms"]) == (True, 120_000)
    assert (feeds["BTCUSDT"]["stale"], feeds["BTCUSDT"]["age_ms"]) == (False, 0)
    assert denied["reason_code"] == "FEED_STALE"


async def test_trading_health_feed_without_staleness_limit_never_closes(api: Api) -> None:
    await api.advance(3)

    health = await trading_health(api)

    assert health["trading_open"] is True
    assert all(f["stale_after_ms"] is None and not f["stale"] for f in health["feeds"])


# --- arming ---------------------------------------------------------------------------------------


async def test_admin_arm_with_matching_confirmation_is_journaled(api: Api) -> None:
    actor = f"key:{key_id(api)}"

    gates = await admin(
        api, "arm", account="default", venue="paper", confirmation="ARM default ON paper"
    )

    assert gates["armed"] == [{"account": "default", "venue": "paper", "actor": actor}]
    assert (await admin_state(api))["armed"] == gates["armed"]
    [armed] = journaled(api, TradingArmed)
    assert (armed.account, armed.venue, armed.actor) == ("default", "paper", actor)
    assert (await trading_health(api))["gates"]["armed"] == gates["armed"]


async def test_admin_arm_wrong_confirmation_is_422_arm_confirmation(api: Api) -> None:
    body = await admin(
        api, "arm", 422, account="default", venue="paper", confirmation="ARM alt ON paper"
    )

    assert body["reason_code"] == "ARM_CONFIRMATION"
    assert journaled(api, TradingArmed) == []
    assert (await admin_state(api))["armed"] == []


async def test_admin_arm_other_venue_is_409_arm_wrong_venue(api: Api) -> None:
    body = await admin(
        api, "arm", 409, account="default", venue="bybit", confirmation="ARM default ON bybit"
    )

    assert body["reason_code"] == "ARM_WRONG_VENUE"
    assert journaled(api, TradingArmed) == []
