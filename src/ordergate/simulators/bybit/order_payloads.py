"""Orders and executions in Bybit's JSON: the REST list items and the private topics.

The keys and value types follow the recorded Bybit payloads (`http_get_orders_realtime`,
`http_get_executions`, `ws_account_order`, `ws_account_execution`): REST and websocket
differ in a few keys and in how an absent value is written (`null` vs `""` / `"0"`).
One departure: `orderIv` (options only) is `""` in REST lists as on the `order` topic,
where the recordings have `null`; NautilusTrader's schema requires a string there, and
Bybit documents the field as a string.
A conditional order carries `stopOrderType` "Stop", its `triggerPrice`,
`triggerDirection` and `triggerBy` in every payload, before and after it triggers (as
the recorded `ws_account_order_stop_*` and a triggered `ws_account_order_filled` show);
a plain order has "", "0", 0 and "". Executions of a triggered conditional order say
`stopOrderType` Stop and `createType` CreateByStopOrder. Fields of features the
simulator does not offer (TP/SL, options, self-match prevention) carry Bybit's neutral
values.
"""

from __future__ import annotations

from ordergate.domain.values import ZERO, OrderType, Side
from ordergate.simulators.bybit import formats
from ordergate.simulators.bybit.config import InstrumentSpec
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.records import ExecutionRecord, OrderRecord

_SIDES = {Side.BUY: "Buy", Side.SELL: "Sell"}
_TYPES = {OrderType.LIMIT: "Limit", OrderType.MARKET: "Market"}
CATEGORY = "linear"
CREATE_BY_USER = "CreateByUser"
CREATE_BY_STOP_ORDER = "CreateByStopOrder"
STOP = "Stop"


def side_name(side: Side) -> str:
    return _SIDES[side]


def order_rest(order: OrderRecord, spec: InstrumentSpec) -> JsonObject:
    """An order as `/v5/order/realtime` and `/v5/order/history` list it."""
    avg = order.avg_price
    return {
        "orderId": order.order_id,
        "orderLinkId": order.order_link_id,
        "blockTradeId": None,
        "symbol": order.symbol,
        "price": _order_price(order, spec),
        "qty": formats.qty(spec, order.qty),
        "side": _SIDES[order.side],
        "isLeverage": "",
        "positionIdx": 0,
        "orderStatus": order.status.value,
        "cancelType": order.cancel_type,
        "rejectReason": order.reject_reason,
        "avgPrice": None if avg is None else formats.plain(avg),
        **_order_amounts(order, spec),
        "timeInForce": order.time_in_force.value,
        "orderType": _TYPES[order.order_type],
        "stopOrderType": _stop_order_type(order),
        "orderIv": "",
        "triggerPrice": _trigger_price(order, spec),
        "takeProfit": "0",
        "stopLoss": "0",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "triggerDirection": _trigger_direction(order),
        "triggerBy": _trigger_by(order),
        "lastPriceOnCreated": _last_price_on_created(order, spec),
        "reduceOnly": order.reduce_only,
        "closeOnTrigger": order.close_on_trigger,
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "tpslMode": "",
        "tpLimitPrice": "0",
        "slLimitPrice": "0",
        "placeType": "",
        "createdTime": str(order.created_ms),
        "updatedTime": str(order.updated_ms),
    }


def order_ws(order: OrderRecord, spec: InstrumentSpec) -> JsonObject:
    """An order as the private `order` topic sends it."""
    avg = order.avg_price
    return {
        "category": CATEGORY,
        "symbol": order.symbol,
        "orderId": order.order_id,
        "side": _SIDES[order.side],
        "orderType": _TYPES[order.order_type],
        "cancelType": order.cancel_type,
        "price": _order_price(order, spec),
        "qty": formats.qty(spec, order.qty),
        "orderIv": "",
        "timeInForce": order.time_in_force.value,
        "orderStatus": order.status.value,
        "orderLinkId": order.order_link_id,
        "lastPriceOnCreated": _last_price_on_created(order, spec),
        "reduceOnly": order.reduce_only,
        **_order_amounts(order, spec),
        "avgPrice": "0" if avg is None else formats.plain(avg),
        "blockTradeId": "",
        "positionIdx": 0,
        "createdTime": str(order.created_ms),
        "updatedTime": str(order.updated_ms),
        "rejectReason": order.reject_reason,
        "triggerPrice": _trigger_price(order, spec),
        "takeProfit": "0",
        "stopLoss": "0",
        "tpTriggerBy": "",
        "slTriggerBy": "",
        "tpLimitPrice": "0",
        "slLimitPrice": "0",
        "closeOnTrigger": order.close_on_trigger,
        "placeType": "",
        "smpType": "None",
        "smpGroup": 0,
        "smpOrderId": "",
        "feeCurrency": spec.quote_coin,
        "triggerBy": _trigger_by(order),
        "stopOrderType": _stop_order_type(order),
        "triggerDirection": _trigger_direction(order),
        "tpslMode": "",
        "createType": CREATE_BY_USER,
    }


def execution_rest(execution: ExecutionRecord, spec: InstrumentSpec) -> JsonObject:
    """An execution as `/v5/execution/list` lists it."""
    return {
        "symbol": execution.symbol,
        "orderId": execution.order_id,
        "orderLinkId": execution.order_link_id,
        "side": _SIDES[execution.side],
        "orderPrice": _execution_order_price(execution, spec),
        "orderQty": formats.qty(spec, execution.order_qty),
        "leavesQty": formats.qty(spec, execution.leaves_qty),
        "createType": _create_type(execution),
        "orderType": _TYPES[execution.order_type],
        "stopOrderType": STOP if execution.conditional else "",
        "execFee": formats.plain(execution.exec_fee),
        "execId": execution.exec_id,
        "execPrice": formats.price(spec, execution.exec_price),
        "execQty": formats.qty(spec, execution.exec_qty),
        "execType": "Trade",
        "execValue": formats.plain(execution.exec_value),
        "execTime": str(execution.exec_time_ms),
        "feeCurrency": execution.fee_currency,
        "isMaker": execution.is_maker,
        "feeRate": formats.plain(execution.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "markPrice": formats.price(spec, execution.mark_price),
        "indexPrice": formats.price(spec, execution.mark_price),
        "underlyingPrice": "",
        "blockTradeId": "",
        "closedSize": formats.qty(spec, execution.closed_size),
        "seq": execution.seq,
    }


def execution_ws(execution: ExecutionRecord, spec: InstrumentSpec) -> JsonObject:
    """An execution as the private `execution` topic sends it."""
    return {
        "category": CATEGORY,
        "symbol": execution.symbol,
        "closedSize": formats.qty(spec, execution.closed_size),
        "execFee": formats.plain(execution.exec_fee),
        "execId": execution.exec_id,
        "execPrice": formats.price(spec, execution.exec_price),
        "execQty": formats.qty(spec, execution.exec_qty),
        "execType": "Trade",
        "execValue": formats.plain(execution.exec_value),
        "feeRate": formats.plain(execution.fee_rate),
        "tradeIv": "",
        "markIv": "",
        "blockTradeId": "",
        "markPrice": formats.price(spec, execution.mark_price),
        "indexPrice": formats.price(spec, execution.mark_price),
        "underlyingPrice": "",
        "leavesQty": formats.qty(spec, execution.leaves_qty),
        "orderId": execution.order_id,
        "orderLinkId": execution.order_link_id,
        "orderPrice": _execution_order_price(execution, spec),
        "orderQty": formats.qty(spec, execution.order_qty),
        "orderType": _TYPES[execution.order_type],
        "stopOrderType": STOP if execution.conditional else "",
        "side": _SIDES[execution.side],
        "execTime": str(execution.exec_time_ms),
        "isLeverage": "0",
        "isMaker": execution.is_maker,
        "seq": execution.seq,
    }


def _order_amounts(order: OrderRecord, spec: InstrumentSpec) -> JsonObject:
    leaves = order.leaves_qty
    leaves_value = ZERO if order.price is None else leaves * order.price
    return {
        "leavesQty": formats.qty(spec, leaves),
        "leavesValue": formats.plain(leaves_value),
        "cumExecQty": formats.qty(spec, order.cum_exec_qty),
        "cumExecValue": formats.plain(order.cum_exec_value),
        "cumExecFee": formats.plain(order.cum_exec_fee),
    }


def _order_price(order: OrderRecord, spec: InstrumentSpec) -> str:
    """A limit's price; "0" for a market order, which has none."""
    return "0" if order.price is None else formats.price(spec, order.price)


def _execution_order_price(execution: ExecutionRecord, spec: InstrumentSpec) -> str:
    price = execution.order_price
    return "0" if price is None else formats.price(spec, price)


def _stop_order_type(order: OrderRecord) -> str:
    return "" if order.trigger is None else STOP


def _trigger_price(order: OrderRecord, spec: InstrumentSpec) -> str:
    return "0" if order.trigger is None else formats.price(spec, order.trigger.price)


def _trigger_direction(order: OrderRecord) -> int:
    return 0 if order.trigger is None else int(order.trigger.direction)


def _trigger_by(order: OrderRecord) -> str:
    return "" if order.trigger is None else order.trigger.by.value


def _create_type(execution: ExecutionRecord) -> str:
    return CREATE_BY_STOP_ORDER if execution.conditional else CREATE_BY_USER


def _last_price_on_created(order: OrderRecord, spec: InstrumentSpec) -> str:
    last = order.last_price_on_created
    return "0" if last is None else formats.price(spec, last)
