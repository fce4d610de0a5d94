"""Conditional orders against the market: the checks Bybit makes, and how they are worked.

A conditional order is worked by the paper engine as a stop (`Market` + trigger) or a
stop-limit (`Limit` + trigger); when it triggers is the engine's stop rule, not a second
evaluator here. That rule watches the simulated book: a rising trigger (a Buy) fires
when the ask reaches it, a falling one (a Sell) when the bid reaches it. The simulator
has one market, so `triggerBy` `LastPrice`, `MarkPrice` and `IndexPrice` are accepted,
kept and echoed, but all fire on that book (a manual quote's last price defaults to
its mid; a replayed bar's is its close).

Bybit refuses a trigger the price has already passed: rising at or below the current
price is `110092` ("expect Rising, but trigger_price[..] <= current[..]"), falling at or
above it `110093` (Bybit's v5 error-code list; ccxt maps both to InvalidOrder). The
current price here is the one the trigger watches (the ask for a rising trigger, the
bid for a falling one), so an accepted conditional order never fires on arrival.
Before the symbol has any price there is nothing to check against: the order is
accepted and fires at the first quote that reaches it. The same check applies to a new
trigger price on amend.

Bybit holds at most 10 untriggered conditional orders per symbol (`110009`); they do not
count towards the 500 open orders of `110020`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from ordergate.domain.values import OrderType
from ordergate.engine.venue_reports import Quote
from ordergate.simulators.bybit.errors import BybitError, RetCode
from ordergate.simulators.bybit.records import OrderRecord, Trigger, TriggerDirection

MAX_OPEN_ORDERS_PER_SYMBOL: Final = 500
MAX_CONDITIONAL_ORDERS_PER_SYMBOL: Final = 10
_ENGINE_TYPES: Final = {OrderType.MARKET: OrderType.STOP, OrderType.LIMIT: OrderType.STOP_LIMIT}


def engine_order_type(order_type: OrderType, trigger: Trigger | None) -> OrderType:
    """The paper engine's type for a Bybit order: a conditional one is a stop (limit)."""
    return order_type if trigger is None else _ENGINE_TYPES[order_type]


def check_trigger(trigger: Trigger, quote: Quote | None) -> None:
    """Refuse a trigger the market has already reached (nothing to check without a quote)."""
    if quote is None:
        return
    price, by = trigger.price, trigger.by.value
    if trigger.direction is TriggerDirection.RISE:
        if price <= quote.ask:
            raise BybitError(
                RetCode.TRIGGER_NOT_RISING,
                f"expect Rising, but trigger_price[{price}] <= current[{quote.ask}]??{by}",
            )
    elif price >= quote.bid:
        raise BybitError(
            RetCode.TRIGGER_NOT_FALLING,
            f"expect Falling, but trigger_price[{price}] >= current[{quote.bid}]??{by}",
        )


def check_order_count(open_orders: Sequence[OrderRecord], conditional: bool) -> None:
    """Refuse an order beyond the symbol's limit of its kind (`open_orders`: the symbol's)."""
    waiting = sum(record.awaits_trigger for record in open_orders)
    if conditional and waiting >= MAX_CONDITIONAL_ORDERS_PER_SYMBOL:
        raise BybitError(
            RetCode.TOO_MANY_CONDITIONAL_ORDERS,
            "The number of stop orders exceeds the maximum allowable limit",
        )
    if not conditional and len(open_orders) - waiting >= MAX_OPEN_ORDERS_PER_SYMBOL:
        raise BybitError(RetCode.TOO_MANY_OPEN_ORDERS, "number of active orders exceeds 500")
