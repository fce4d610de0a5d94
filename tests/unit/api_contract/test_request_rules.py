"""What the OpenAPI document calls a valid request is what the server accepts.

Each rule is checked both ways: the document's schema (validated as schemathesis does, by
jsonschema-rs) and the server's own check (pydantic with ordergate's validators, the
engine's command checks, the cursor and status parsers) agree on generated values.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, TypeAdapter, ValidationError

from ordergate.api.routers.order_manager import SEED_STATUS_LIST_PATTERN, SeedStatuses
from ordergate.api.routers.orders import STATUS_LIST_PATTERN, parse_statuses
from ordergate.api.routers.paper import PaperOrderIn
from ordergate.api.schemas import (
    NAIVE_TIME_PATTERN,
    NAME_PATTERN,
    POSITIVE_DECIMAL_PATTERN,
    OrderIn,
    Positive,
    ReplaceIn,
    TimeBound,
)
from ordergate.api.trace_ids import TRACE_ID_PATTERN, trace_id_problem
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import OrderType, Side
from ordergate.engine.commands import PlaceOrder, ReplaceOrder
from ordergate.engine.queries import CURSOR_PATTERN, Cursor

DECIMAL_TEXT = st.text(alphabet="0123456789.-+eE _", max_size=22)
NUMBERS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(min_value=-(10**17), max_value=10**17),
    st.decimals(allow_nan=False, allow_infinity=False, places=14).map(float),
)


def schema_of(model: type[BaseModel]) -> Any:
    return jsonschema_rs.validator_for(model.model_json_schema(), validate_formats=True)


def accepted(adapter: TypeAdapter[Any], value: object) -> bool:
    try:
        adapter.validate_python(value)
    except ValidationError:
        return False
    return True


POSITIVE = TypeAdapter(Positive)
POSITIVE_SCHEMA = jsonschema_rs.validator_for(POSITIVE.json_schema())


@given(st.one_of(DECIMAL_TEXT, NUMBERS, st.from_regex(POSITIVE_DECIMAL_PATTERN, fullmatch=True)))
def test_positive_decimal_schema_valid_exactly_when_server_accepts(value: object) -> None:
    assert POSITIVE_SCHEMA.is_valid(value) == accepted(POSITIVE, value), value


@pytest.mark.parametrize(
    ("value", "valid"),
    [("0.25", True), ("1", True), (0.1, True), ("0", False), ("1e5", False), (" 1", False)],
)
def test_positive_decimal_examples(value: object, valid: bool) -> None:
    assert POSITIVE_SCHEMA.is_valid(value) is valid
    assert accepted(POSITIVE, value) is valid


@given(st.from_regex(NAME_PATTERN, fullmatch=True).filter(lambda name: len(name) <= 64))
def test_name_pattern_names_are_engine_names(name: str) -> None:
    PlaceOrder(account=name, symbol=name, side=Side.BUY, qty=Decimal(1), strategy=name)


@given(st.from_regex(CURSOR_PATTERN, fullmatch=True))
def test_cursor_pattern_text_always_decodes_and_round_trips(text: str) -> None:
    cursor = Cursor.decode(text)

    assert Cursor.decode(cursor.encode()) == cursor


@given(st.text(alphabet="0123456789.-e ", max_size=45))
def test_cursor_text_is_a_cursor_exactly_when_the_pattern_says(text: str) -> None:
    if jsonschema_rs.is_valid({"pattern": CURSOR_PATTERN}, text):
        Cursor.decode(text)
    else:
        with pytest.raises(InvalidRequest) as refused:
            Cursor.decode(text)
        assert refused.value.code == "BAD_CURSOR"


@given(st.text(alphabet="abcdefghilmnprstuwxyzABDEFILNPRTU_ ,", max_size=40))
def test_status_list_pattern_is_what_parse_statuses_takes(text: str) -> None:
    try:
        parse_statuses([text])
    except InvalidRequest:
        assert not jsonschema_rs.is_valid({"pattern": STATUS_LIST_PATTERN}, text)
    else:
        assert jsonschema_rs.is_valid({"pattern": STATUS_LIST_PATTERN}, text)


SEED_STATUSES = TypeAdapter(SeedStatuses)


@given(
    st.one_of(
        st.from_regex(SEED_STATUS_LIST_PATTERN, fullmatch=True),
        st.text(alphabet="abcdefilnprtuACDEFILNPRT_ ,", max_size=40),
    )
)
def test_seed_status_list_pattern_is_what_the_seed_route_takes(text: str) -> None:
    valid = jsonschema_rs.is_valid({"pattern": SEED_STATUS_LIST_PATTERN}, text)

    assert accepted(SEED_STATUSES, [text]) == valid, text


@given(st.text(alphabet=st.characters(max_codepoint=0x7F), max_size=70))
def test_trace_id_pattern_is_the_trace_id_rule(value: str) -> None:
    assert (trace_id_problem(value) is None) == jsonschema_rs.is_valid(
        {"pattern": TRACE_ID_PATTERN}, value
    )


TIME_BOUND = TypeAdapter(TimeBound)
TIME_SCHEMA = jsonschema_rs.validator_for(TIME_BOUND.json_schema(), validate_formats=True)


@given(
    st.one_of(
        st.datetimes().map(lambda moment: moment.isoformat()),
        st.datetimes(timezones=st.timezones()).map(lambda moment: moment.isoformat()),
        st.from_regex(NAIVE_TIME_PATTERN, fullmatch=True),
        st.text(alphabet="0123456789-:.TZ+ ", max_size=26),
    )
)
def test_time_bound_schema_valid_is_accepted(text: str) -> None:
    if TIME_SCHEMA.is_valid(text):
        assert accepted(TIME_BOUND, text), text


@pytest.mark.parametrize("text", ["0.5", "1700000000", "2024-01-02", "yesterday"])
def test_time_bound_refuses_what_is_not_a_date_time(text: str) -> None:
    assert not TIME_SCHEMA.is_valid(text)
    assert not accepted(TIME_BOUND, text)


PRICE = st.sampled_from([None, "1.5", 2])
ORDERS = st.fixed_dictionaries(
    {"symbol": st.just("EURUSD"), "side": st.just("BUY"), "qty": st.just("1")},
    optional={
        "type": st.sampled_from([t.value for t in OrderType]),
        "price": PRICE,
        "stop_price": PRICE,
        "price_at_offset": st.booleans(),
        "reduce_only": st.one_of(st.booleans(), st.just(0)),
        "stop_loss": PRICE,
        "take_profit": PRICE,
    },
)


@given(ORDERS)
def test_order_schema_valid_exactly_when_server_and_engine_accept(order: dict[str, Any]) -> None:
    try:
        OrderIn.model_validate(order).command("default")
    except (ValidationError, InvalidRequest):
        taken = False
    else:
        taken = True

    assert schema_of(OrderIn).is_valid(order) == taken, json.dumps(order)


@given(
    st.fixed_dictionaries(
        {"symbol": st.just("EURUSD"), "side": st.just("BUY"), "qty": st.just(1)},
        optional={"type": st.sampled_from(["market", "limit"]), "price": PRICE},
    )
)
def test_paper_order_schema_valid_exactly_when_the_engine_accepts(order: dict[str, Any]) -> None:
    try:
        body = PaperOrderIn.model_validate(order)
        PlaceOrder(
            account="default",
            symbol=body.symbol,
            side=body.side,
            qty=body.qty,
            type=OrderType.LIMIT if body.type.value == "limit" else OrderType.MARKET,
            price=body.price,
        )
    except (ValidationError, InvalidRequest):
        taken = False
    else:
        taken = True

    assert schema_of(PaperOrderIn).is_valid(order) == taken, json.dumps(order)


@given(st.fixed_dictionaries({}, optional={"qty": PRICE, "price": PRICE, "stop_price": PRICE}))
def test_replace_schema_valid_exactly_when_server_and_engine_accept(body: dict[str, Any]) -> None:
    try:
        replace = ReplaceIn.model_validate(body)
        ReplaceOrder("o-1", qty=replace.qty, price=replace.price, stop_price=replace.stop_price)
    except (ValidationError, InvalidRequest):
        taken = False
    else:
        taken = True

    assert schema_of(ReplaceIn).is_valid(body) == taken, body
