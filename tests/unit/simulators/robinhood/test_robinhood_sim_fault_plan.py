"""The fault plan: kinds, scopes and parameters checked; faults counted as they act."""

from __future__ import annotations

import pytest
from robinhood_sim_builders import D

from ordergate.domain.errors import InvalidRequest
from ordergate.simulators.robinhood.faults import Fault, FaultKind, FaultPlan, build_fault


def test_a_request_fault_acts_on_its_path_or_route_pattern_only():
    plan = FaultPlan()
    plan.add("server_error", 2, "/orders/{order_id}/", {"status": 503})

    assert plan.take(FaultKind.SERVER_ERROR, "/orders/", "/orders/") is None
    taken = plan.take(FaultKind.SERVER_ERROR, "/orders/abc/", "/orders/{order_id}/")
    again = plan.take(FaultKind.SERVER_ERROR, "/orders/{order_id}/", "")

    assert taken == again == Fault(FaultKind.SERVER_ERROR, "/orders/{order_id}/", status=503)
    assert plan.take(FaultKind.SERVER_ERROR, "/orders/abc/", "/orders/{order_id}/") is None
    assert plan.fired == ["server_error", "server_error"]
    assert plan.armed() == []


def test_faults_act_in_the_order_armed_and_only_their_kind():
    plan = FaultPlan()
    plan.add("rate_limit", 1, None, {"retry_after": 5})
    plan.add("rate_limit", 3, None, {})

    assert plan.take(FaultKind.TOKEN_EXPIRED, "/x/", "/x/") is None
    assert plan.take(FaultKind.RATE_LIMIT, "/x/", "/x/").retry_after == 5
    assert plan.take(FaultKind.RATE_LIMIT, "/x/", "/x/").retry_after == 1
    assert [(fault.kind, left) for fault, left in plan.armed()] == [(FaultKind.RATE_LIMIT, 2)]


def test_lost_response_defaults_to_posting_orders():
    assert build_fault("lost_response", None, {}).path == "/orders/"
    assert build_fault("lost_response", None, {"delay": 2}).delay == 2.0
    assert build_fault("partial_then_cancel", None, {"quantity": "1.5"}).quantity == D("1.5")


@pytest.mark.parametrize(
    ("kind", "path", "params"),
    [
        ("meteor", None, {}),
        ("rate_limit", None, {"status": 503}),
        ("server_error", None, {"status": 404}),
        ("rate_limit", None, {"retry_after": 0}),
        ("lost_response", None, {"delay": 0}),
        ("lost_response", None, {"delay": True}),
        ("partial_then_cancel", None, {"quantity": "-1"}),
        ("partial_then_cancel", None, {"quantity": 0.5}),
        ("fill_on_cancel", "/orders/", {}),
    ],
)
def test_bad_faults_are_refused(kind, path, params):
    with pytest.raises(InvalidRequest):
        build_fault(kind, path, params)


def test_a_count_below_one_is_refused():
    with pytest.raises(InvalidRequest):
        FaultPlan().add("rate_limit", 0, None, {})
