"""Which scope a request needs: the (method, path prefix) table and the defaults."""

from __future__ import annotations

import pytest

from ordergate.api.auth import PUBLIC_PATHS, required_scope
from ordergate.auth import Scope


@pytest.mark.parametrize(
    ("method", "path", "scope"),
    [
        ("GET", "/v1/orders", Scope.READ),
        ("GET", "/v1/orders/{order_id}", Scope.READ),
        ("HEAD", "/v1/orders", Scope.READ),
        ("POST", "/v1/orders", Scope.TRADE),
        ("POST", "/v1/orders/{order_id}/cancel", Scope.TRADE),
        ("POST", "/v1/orders/{order_id}/replace", Scope.TRADE),
        ("DELETE", "/v1/orders/{order_id}", Scope.TRADE),
        ("POST", "/v1/positions/{symbol}/close", Scope.TRADE),
        ("GET", "/paper/orders", Scope.READ),
        ("POST", "/paper/order", Scope.TRADE),
        ("POST", "/paper/orders/{order_id}/cancel", Scope.TRADE),
        # the exceptions
        ("POST", "/v1/orders/preview", Scope.READ),
        ("POST", "/v1/reconcile", Scope.ADMIN),
        ("POST", "/api/v1/sync", Scope.ADMIN),
        ("GET", "/v1/admin/state", Scope.ADMIN),
        ("POST", "/v1/admin/state", Scope.ADMIN),
        ("POST", "/v1/admin/close-all", Scope.ADMIN),
        ("POST", "/v1/admin/arm", Scope.ADMIN),
        ("POST", "/v1/admin", Scope.ADMIN),
        ("POST", "/v2/risk/admin/reset", Scope.ADMIN),
        # an exception is a path prefix by whole segments, for its method only
        ("POST", "/v1/orders/previews", Scope.TRADE),
        ("GET", "/v1/reconcile", Scope.READ),
        ("GET", "/api/v1/sync", Scope.READ),
        ("POST", "/v1/administrators", Scope.TRADE),
        # routes nobody has written yet get the default by method
        ("GET", "/v1/risk/limits", Scope.READ),
        ("PUT", "/v1/risk/limits", Scope.TRADE),
        ("PATCH", "/v1/widgets/{id}", Scope.TRADE),
    ],
)
def test_required_scope_method_and_path_expected_scope(
    method: str, path: str, scope: Scope
) -> None:
    assert required_scope(method, path) is scope


def test_required_scope_lowercase_method_same_as_uppercase() -> None:
    assert required_scope("post", "/v1/orders") is Scope.TRADE


def test_public_paths_health_live_ready_docs_only() -> None:
    assert {"/health", "/live", "/ready", "/docs", "/openapi.json"} <= PUBLIC_PATHS
    assert not any(p.startswith(("/v1", "/paper", "/api")) for p in PUBLIC_PATHS)
