"""Reading a `POST orders/` body: what robin_stocks sends is a ticket; the rest is refused
field by field, in Django REST framework's shape."""

from __future__ import annotations

import uuid

import pytest
from robinhood_sim_builders import D

from ordergate.simulators.robinhood.admission import read_ticket
from ordergate.simulators.robinhood.errors import RobinhoodError
from ordergate.simulators.robinhood.sessions import Session
from ordergate.simulators.robinhood.stocks import CATALOGUE

AAPL = CATALOGUE["AAPL"]
REF = str(uuid.uuid4())


def form(**changes: object) -> dict[str, object]:
    """A limit buy as robin_stocks 3.4.0 posts it (all strings)."""
    body: dict[str, object] = {
        "account": "https://api.robinhood.com/accounts/5RS71234/",
        "instrument": f"https://api.robinhood.com/instruments/{AAPL.instrument_id}/",
        "symbol": "AAPL",
        "price": "189.5",
        "ask_price": "190.01",
        "bid_price": "190.0",
        "bid_ask_timestamp": "2024-03-12 11:00:00.000000",
        "quantity": "10",
        "ref_id": REF,
        "type": "limit",
        "time_in_force": "gtc",
        "trigger": "immediate",
        "side": "buy",
        "market_hours": "regular_hours",
        "extended_hours": "False",
        "order_form_version": "4",
        "preset_percent_limit": "0.05",
    }
    body.update(changes)
    return {name: value for name, value in body.items() if value is not None}


def read(**changes: object):
    return read_ticket(form(**changes), "5RS71234", CATALOGUE)


def test_robin_stocks_limit_buy_reads_as_a_ticket():
    ticket = read()

    assert (ticket.symbol, ticket.side, ticket.order_type, ticket.trigger) == (
        "AAPL",
        "buy",
        "limit",
        "immediate",
    )
    assert (ticket.quantity, ticket.price, ticket.stop_price) == (D(10), D("189.5"), None)
    assert (ticket.ref_id, ticket.time_in_force, ticket.extended_hours) == (REF, "gtc", False)
    assert (ticket.preset_percent_limit, ticket.session) == (D("0.05"), Session.REGULAR)


def test_a_json_body_with_real_types_reads_the_same():
    body = form(quantity=10, extended_hours=True)

    ticket = read_ticket(body, "5RS71234", CATALOGUE)

    assert (ticket.quantity, ticket.extended_hours, ticket.session) == (
        D(10),
        True,
        Session.EXTENDED,
    )


def test_the_simulators_own_origin_is_accepted_in_links():
    ticket = read(
        account="http://127.0.0.1:8400/accounts/5RS71234/",
        instrument=f"http://127.0.0.1:8400/instruments/{AAPL.instrument_id}/",
    )

    assert ticket.symbol == "AAPL"


def test_a_market_sell_needs_no_price():
    ticket = read(type="market", side="sell", price=None, preset_percent_limit=None)

    assert (ticket.order_type, ticket.price, ticket.session) == ("market", None, Session.REGULAR)


@pytest.mark.parametrize(
    ("changes", "answer"),
    [
        (
            {"account": "https://api.robinhood.com/accounts/OTHER/"},
            {"account": ["Invalid hyperlink - Object does not exist."]},
        ),
        (
            {"instrument": "https://api.robinhood.com/instruments/nope/"},
            {"instrument": ["Invalid hyperlink - Object does not exist."]},
        ),
        ({"symbol": "MSFT"}, {"non_field_errors": ["Symbol does not match instrument."]}),
        ({"side": "short"}, {"side": ['"short" is not a valid choice.']}),
        ({"type": "stop"}, {"type": ['"stop" is not a valid choice.']}),
        ({"time_in_force": "opg"}, {"time_in_force": ['"opg" is not a valid choice.']}),
        ({"quantity": None}, {"quantity": ["This field is required."]}),
        ({"quantity": "ten"}, {"quantity": ["A valid number is required."]}),
        ({"quantity": "0"}, {"quantity": ["Ensure this value is greater than 0."]}),
        (
            {"quantity": "0.0000001"},
            {"quantity": ["Ensure that there are no more than 6 decimal places."]},
        ),
        ({"price": None}, {"price": ["This field is required."]}),
        ({"price": "189.505"}, {"price": ["Ensure that there are no more than 2 decimal places."]}),
        ({"price": "0.12345"}, {"price": ["Ensure that there are no more than 4 decimal places."]}),
        ({"trigger": "stop"}, {"stop_price": ["This field is required."]}),
        ({"ref_id": "not-a-uuid"}, {"ref_id": ["Must be a valid UUID."]}),
        ({"extended_hours": "maybe"}, {"extended_hours": ["Must be a valid boolean."]}),
        ({"market_hours": "night"}, {"market_hours": ['"night" is not a valid choice.']}),
    ],
)
def test_refusals_name_the_field(changes, answer):
    with pytest.raises(RobinhoodError) as refused:
        read(**changes)

    assert (refused.value.status, refused.value.body) == (400, answer)


def test_a_sub_dollar_price_may_have_four_decimals():
    assert read(price="0.1234").price == D("0.1234")
