"""Orders as `GET orders/{id}/` (and `POST orders/`, and each `GET orders/` result) answer.

The keys are those of the recorded payloads (`shared/reference/robinhood`, sanko's 2016
captures) plus the ones later captures add: `ref_id`, `extended_hours`, an `id` per
execution, `instrument_id`, `market_hours`, `preset_percent_limit`, the day-trade
override flags. `cancel` is the order's cancel URL while it can be cancelled and null
once it is terminal; `average_price` is null until the first execution.
"""

from __future__ import annotations

from ordergate.domain.values import ZERO
from ordergate.simulators.robinhood.orders import Execution, SimOrder
from ordergate.simulators.robinhood.stocks import StockSpec
from ordergate.simulators.robinhood.wire import (
    FEE_PLACES,
    JsonObject,
    Urls,
    fixed,
    order_number,
    timestamp,
)


def order_payload(order: SimOrder, spec: StockSpec, urls: Urls) -> JsonObject:
    ticket = order.ticket
    last = order.executions[-1].ns if order.executions else order.updated_ns
    return {
        "id": order.id,
        "ref_id": ticket.ref_id,
        "url": urls.order(order.id),
        "account": urls.account(),
        "position": urls.position(spec.instrument_id),
        "cancel": urls.cancel(order.id) if order.cancellable else None,
        "instrument": urls.instrument(spec.instrument_id),
        "instrument_id": spec.instrument_id,
        "cumulative_quantity": order_number(order.filled),
        "average_price": order_number(order.average_price),
        "fees": fixed(ZERO, FEE_PLACES),
        "state": order.wire_state.value,
        "type": ticket.order_type,
        "side": ticket.side,
        "time_in_force": ticket.time_in_force,
        "trigger": ticket.trigger,
        "price": order_number(ticket.price),
        "stop_price": order_number(ticket.stop_price),
        "quantity": order_number(ticket.quantity),
        "reject_reason": order.reject_reason,
        "created_at": timestamp(order.created_ns),
        "updated_at": timestamp(order.updated_ns),
        "last_transaction_at": timestamp(last),
        "executions": [execution_payload(execution) for execution in order.executions],
        "extended_hours": ticket.extended_hours,
        "market_hours": ticket.market_hours,
        "preset_percent_limit": None
        if ticket.preset_percent_limit is None
        else str(ticket.preset_percent_limit),
        "client_id": None,
        "override_day_trade_checks": False,
        "override_dtbp_checks": False,
    }


def execution_payload(execution: Execution) -> JsonObject:
    return {
        "id": execution.id,
        "price": order_number(execution.price),
        "quantity": order_number(execution.quantity),
        "settlement_date": execution.settlement_date.isoformat(),
        "timestamp": timestamp(execution.ns),
    }
