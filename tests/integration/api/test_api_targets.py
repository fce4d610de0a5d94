"""/v1/targets: set target positions over REST, read them back beside the positions, and
the same set sent again answered 200 from the journal, placing nothing."""

from __future__ import annotations

from decimal import Decimal

from tests.integration.api.support import Api

D = Decimal


async def test_targets_post_places_toward_each_target_and_get_shows_the_gap(api: Api) -> None:
    body = {
        "targets": {"BTCUSDT": "0.010", "EURUSD": "-0.10"},
        "strategy": "reb",
        "idempotency_key": "bar-1",
    }
    response = await api.http.post("/v1/targets", json=body)
    assert response.status_code == 201, response.text
    placed = response.json()
    assert (placed["set_id"], placed["duplicate"]) == ("bar-1", False)
    assert [(s["symbol"], s["side"], s["qty"]) for s in placed["steps"]] == [
        ("BTCUSDT", "BUY", "0.01"),
        ("EURUSD", "SELL", "0.1"),
    ]
    assert [o["strategy"] for o in placed["orders"]] == ["reb", "reb"]
    await api.application.partition.engine.settle()  # type: ignore[union-attr]

    again = await api.http.post("/v1/targets", json=body)
    listed = await api.http.get("/v1/targets", params={"strategy": "reb"})

    assert (again.status_code, again.json()["duplicate"]) == (200, True)
    assert again.json()["steps"] == placed["steps"]
    rows = {row["symbol"]: row for row in listed.json()}
    assert {s: (D(r["target"]), D(r["position"]), D(r["gap"])) for s, r in rows.items()} == {
        "BTCUSDT": (D("0.010"), D("0.01"), D(0)),
        "EURUSD": (D("-0.10"), D("-0.1"), D(0)),
    }
    assert rows["BTCUSDT"]["order_status"] == "FILLED"
    assert len(await api.orders(strategy="reb")) == 2


async def test_targets_same_key_other_targets_is_409(api: Api) -> None:
    body = {"targets": {"BTCUSDT": "0.010"}, "strategy": "reb", "idempotency_key": "k"}
    assert (await api.http.post("/v1/targets", json=body)).status_code == 201

    body["targets"] = {"BTCUSDT": "0.020"}
    refused = await api.http.post("/v1/targets", json=body)

    assert refused.status_code == 409
    assert refused.json()["reason_code"] == "IDEMPOTENCY_KEY_REUSED"


async def test_targets_malformed_sets_are_422(api: Api) -> None:
    for body in (
        {"targets": {}, "strategy": "reb"},
        {"targets": {"BTCUSDT": "1e3"}, "strategy": "reb"},
        {"targets": {"BTCUSDT": "0.01"}},
        {"targets": {"BTCUSDT": "0.01"}, "strategy": "reb", "order_type": "STOP"},
        {"targets": {"BTCUSDT": "0.01"}, "strategy": "reb", "idempotency_key": "k" * 49},
    ):
        response = await api.http.post("/v1/targets", json=body)
        assert response.status_code == 422, body
        assert response.json()["reason_code"] == "VALIDATION_ERROR"


async def test_targets_under_halt_answer_the_reason_and_place_nothing(api: Api) -> None:
    halted = await api.http.post("/v1/admin/state", json={"state": "HALTED", "reason": "drill"})
    assert halted.status_code == 200, halted.text

    response = await api.http.post(
        "/v1/targets", json={"targets": {"BTCUSDT": "0.010"}, "strategy": "reb"}
    )

    step = response.json()["steps"][0]
    assert (step["order_id"], step["reason_code"]) == (None, "TRADING_HALTED")
    assert await api.orders(strategy="reb") == []
