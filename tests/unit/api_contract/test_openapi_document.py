"""The OpenAPI document declares, for every operation, each status it can answer, and every
error answer in the one error shape.

The app is built (no engine starts: its lifespan does not run) and its document walked.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from ordergate.api.app import create_app
from ordergate.api.auth import PUBLIC_PATHS, required_scope
from ordergate.api.edge.guard import guarded_router
from ordergate.api.openapi import ERROR_REF
from ordergate.api.reason_codes import REASON_CODES
from ordergate.auth.keys import Scope
from ordergate.config.settings import Settings

METHODS = {"get", "post", "put", "patch", "delete"}
# Answers whose body is the route's own, not an error: a probe saying the engine is down.
OWN_BODIES = {("/health", "503"), ("/ready", "503")}


def build_app() -> FastAPI:
    return create_app(Settings(_env_file=None))


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return build_app().openapi()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def test_openapi_document_has_every_route(document: dict[str, Any]) -> None:
    assert len(list(operations(document))) >= 30


def test_openapi_every_operation_declares_what_the_edge_answers(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        statuses = set(operation["responses"])
        where = (method, path, sorted(statuses))

        assert {"422", "431"} <= statuses, where
        if path in PUBLIC_PATHS:
            assert not {"401", "403", "429"} & statuses, where
        else:
            assert {"401", "429", "503"} <= statuses, where
            needs_more_than_read = required_scope(method, path) is not Scope.READ
            assert ("403" in statuses) is needs_more_than_read, where
        if "requestBody" in operation:
            assert {"408", "413"} <= statuses, where
        else:
            assert not {"408", "413"} & statuses, where


def test_openapi_routes_declare_their_own_refusals(document: dict[str, Any]) -> None:
    paths = document["paths"]

    assert (
        "ORDER_NOT_FOUND"
        in paths["/v1/orders/{order_id}"]["get"]["responses"]["404"]["description"]
    )
    assert "409" in paths["/v1/orders/{order_id}/cancel"]["post"]["responses"]
    assert (
        "IDEMPOTENCY_KEY_REUSED" in paths["/v1/orders"]["post"]["responses"]["409"]["description"]
    )
    assert "ACCOUNT_NOT_FOUND" in paths["/v1/reconcile"]["post"]["responses"]["404"]["description"]
    assert "409" not in paths["/v1/orders"]["get"]["responses"]


def test_openapi_every_error_answer_is_the_error_schema(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        for status, response in operation["responses"].items():
            if int(status) < 400 or (path, status) in OWN_BODIES:
                continue
            schema = response["content"]["application/json"]["schema"]

            assert schema == {"$ref": ERROR_REF}, (method, path, status)


def test_openapi_has_no_framework_validation_error(document: dict[str, Any]) -> None:
    text = json.dumps(document)

    assert "HTTPValidationError" not in text
    assert "#/components/schemas/ValidationError" not in text


def test_openapi_error_schema_enumerates_reason_codes_and_validation_problems(
    document: dict[str, Any],
) -> None:
    schemas = document["components"]["schemas"]
    error = schemas["ErrorOut"]

    assert error["required"] == ["reason_code", "detail"]
    assert error["properties"]["reason_code"]["enum"] == list(REASON_CODES)
    detail = error["properties"]["detail"]["anyOf"]
    assert {"type": "string"} in detail
    assert {"type": "array", "items": {"$ref": "#/components/schemas/ValidationProblem"}} in detail
    assert set(schemas["ValidationProblem"]["required"]) == {"type", "loc", "msg"}


def test_openapi_refusals_declare_their_headers(document: dict[str, Any]) -> None:
    for method, path, operation in operations(document):
        responses = operation["responses"]
        for status, response in responses.items():
            assert response["headers"]["X-Trace-Id"]["required"], (method, path, status)
        if "401" in responses:
            assert "WWW-Authenticate" in responses["401"]["headers"], (method, path)
        if "429" in responses:
            assert responses["429"]["headers"]["Retry-After"]["required"], (method, path)


class WidgetIn(BaseModel):
    name: str


def test_openapi_a_route_added_later_is_described_without_declaring_anything() -> None:
    app = build_app()
    guarded = guarded_router(prefix="/v1/widgets")
    plain = APIRouter(prefix="/v1/admin/gadgets")

    @guarded.post("")
    async def make_widget(body: WidgetIn) -> WidgetIn:
        return body

    @plain.get("")
    async def list_gadgets() -> list[str]:
        return []

    app.include_router(guarded)
    app.include_router(plain)
    paths = app.openapi()["paths"]

    widget = paths["/v1/widgets"]["post"]["responses"]
    assert {"401", "403", "408", "413", "422", "429", "431", "503"} <= set(widget)
    assert widget["403"]["description"].startswith("the key's scope is below `trade`")
    gadgets = paths["/v1/admin/gadgets"]["get"]["responses"]
    assert {"401", "403", "422", "429", "431", "503"} <= set(gadgets)
    assert "404" not in gadgets  # an admin route is served on the admin listener too


def test_openapi_document_asked_twice_is_the_same(document: dict[str, Any]) -> None:
    app = build_app()

    first = json.dumps(app.openapi(), sort_keys=True)
    second = json.dumps(app.openapi(), sort_keys=True)

    assert first == second
    assert first == json.dumps(document, sort_keys=True)
