"""Fault rules: scope, count, probability from a seeded RNG, and their validation."""

from __future__ import annotations

import pytest

from ordergate.domain.errors import InvalidRequest
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
