"""Fault rules: scope, count, probability from a seeded RNG, and their validation."""

from __future__ import annotations

import json

import pytest

from ordergate.domain.errors import InvalidRequest
from ordergate.simulators.bybit.corrupt import NOT_JSON_BODY, PADDING_FIELD, corrupted
from ordergate.simulators.bybit.faults import FaultKind, FaultPlan, FaultRule

CREATE = "/v5/order/create"


def test_count_limits_firings_and_the_rule_then_leaves():
    plan = FaultPlan(seed=0)
    plan.add(FaultRule(FaultKind.HTTP_ERROR, scope=CREATE, count=2))

    fired = [plan.refusal(CREATE) is not None for _ in range(3)]

    assert fired == [True, True, False]
    assert plan.rules() == []
    assert len(plan.fired) == 2


def test_scope_matches_one_target_or_every_one():
    plan = FaultPlan(seed=0)
    plan.add(FaultRule(FaultKind.WS_WITHHOLD, scope="execution"))
    plan.add(FaultRule(FaultKind.LATENCY, delay=0.1))

    assert plan.websocket("order") is None
    assert plan.websocket("execution") is not None
    assert plan.latency("/v5/market/time") == pytest.approx(0.1)


def test_latencies_add_up_and_other_kinds_take_the_first_rule():
    plan = FaultPlan(seed=0)
    plan.add(FaultRule(FaultKind.LATENCY, delay=0.1))
    plan.add(FaultRule(FaultKind.LATENCY, scope=CREATE, delay=0.2))
    plan.add(FaultRule(FaultKind.RATE_LIMIT, scope=CREATE, count=1))
    plan.add(FaultRule(FaultKind.HTTP_ERROR, scope=CREATE, count=1))

    assert plan.latency(CREATE) == pytest.approx(0.3)
    first = plan.refusal(CREATE)
    second = plan.refusal(CREATE)

    assert (first.kind, second.kind) == (FaultKind.RATE_LIMIT, FaultKind.HTTP_ERROR)


def test_probability_is_repeatable_for_a_seed():
    def pattern(seed: int) -> list[bool]:
        plan = FaultPlan(seed)
        plan.add(FaultRule(FaultKind.WS_DUPLICATE, probability=0.3))
        return [plan.websocket("order") is not None for _ in range(50)]

    assert pattern(1) == pattern(1)
    assert pattern(1) != pattern(2)
    assert 5 < sum(pattern(1)) < 30


def test_probability_counts_only_firings_against_the_count():
    plan = FaultPlan(seed=3)
    plan.add(FaultRule(FaultKind.LOST_RESPONSE, count=2, probability=0.5))

    firings = sum(plan.lost_response(CREATE) is not None for _ in range(40))

    assert firings == 2


@pytest.mark.parametrize(
    "rule",
    [
        {"kind": FaultKind.LATENCY},
        {"kind": FaultKind.HTTP_ERROR, "delay": 1.0},
        {"kind": FaultKind.HTTP_ERROR, "status": 404},
        {"kind": FaultKind.WS_DROP, "count": 0},
        {"kind": FaultKind.WS_DROP, "probability": 0.0},
        {"kind": FaultKind.WS_DROP, "scope": ""},
        {"kind": FaultKind.OVERSIZED, "size": 0},
    ],
)
def test_inconsistent_rules_are_refused(rule):
    with pytest.raises(InvalidRequest):
        FaultRule(**rule)


def test_clear_keeps_the_log_of_fired_faults():
    plan = FaultPlan(seed=0)
    plan.add(FaultRule(FaultKind.WS_REORDER))
    plan.websocket("wallet")

    plan.clear()

    assert plan.websocket("wallet") is None
    assert [(f.kind, f.target) for f in plan.fired] == [(FaultKind.WS_REORDER, "wallet")]


def test_corrupting_faults_fire_on_their_own_side_only():
    plan = FaultPlan(seed=0)
    plan.add(FaultRule(FaultKind.TRUNCATED, scope=CREATE, count=1))
    plan.add(FaultRule(FaultKind.WS_TRUNCATED, scope="order", count=1))

    assert plan.refusal(CREATE) is None
    assert plan.lost_response(CREATE) is None
    assert plan.websocket("order").kind is FaultKind.WS_TRUNCATED
    assert plan.corrupt_answer(CREATE).kind is FaultKind.TRUNCATED
    assert plan.corrupt_answer(CREATE) is None
    assert plan.rules() == []


MESSAGE = json.dumps({"retCode": 0, "retMsg": "OK", "result": {"orderId": "1"}})


@pytest.mark.parametrize("kind", [FaultKind.NOT_JSON, FaultKind.WS_NOT_JSON])
def test_not_json_is_an_html_page(kind):
    assert corrupted(MESSAGE, FaultRule(kind)) == NOT_JSON_BODY


@pytest.mark.parametrize("kind", [FaultKind.TRUNCATED, FaultKind.WS_TRUNCATED])
def test_truncated_is_the_first_half(kind):
    cut = corrupted(MESSAGE, FaultRule(kind))

    assert cut == MESSAGE[: len(MESSAGE) // 2]
    with pytest.raises(json.JSONDecodeError):
        json.loads(cut)


@pytest.mark.parametrize("kind", [FaultKind.OVERSIZED, FaultKind.WS_OVERSIZED])
@pytest.mark.parametrize("size", [1, 200, 10_000])
def test_oversized_is_the_same_json_padded_to_the_size(kind, size):
    padded = corrupted(MESSAGE, FaultRule(kind, size=size))

    if size > len(MESSAGE) + 100:
        assert len(padded) == size
    else:  # no room: padded all the same, by one character
        assert len(padded) > len(MESSAGE)
    answer = json.loads(padded)
    assert answer.pop(PADDING_FIELD).strip("x") == ""
    assert answer == json.loads(MESSAGE)


def test_only_a_corrupting_fault_corrupts():
    assert FaultKind.WS_OVERSIZED.corrupts
    assert not FaultKind.WS_DROP.corrupts
    with pytest.raises(ValueError, match="does not corrupt"):
        corrupted(MESSAGE, FaultRule(FaultKind.WS_DROP))
