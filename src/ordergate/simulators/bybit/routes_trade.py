"""Private order routes: create, amend, cancel, cancel-all, open orders and history.

`/v5/order/realtime` lists open orders and, like Bybit, also finds a recently closed
order (one of the last 500) asked for by `orderId` or `orderLinkId`; `openOnly` other
than 0 lists the recently closed ones. `/v5/order/history` lists every order, open and
closed, in the query's time window. Lists are newest first. Open orders include
untriggered conditional ones; lists and cancel-all take every kind of order unless
`orderFilter` says otherwise (see `queries.order_kind`), as on a unified account.
"""

from __future__ import annotations

from collections.abc import Callable

from ordergate.simulators.bybit import admission
from ordergate.simulators.bybit.admission import LINEAR, read_category
from ordergate.simulators.bybit.exchange import BybitExchange
from ordergate.simulators.bybit.formats import JsonObject
from ordergate.simulators.bybit.order_payloads import order_rest
from ordergate.simulators.bybit.params import Params
from ordergate.simulators.bybit.queries import order_kind, page, selected_symbols, time_window
from ordergate.simulators.bybit.records import OrderRecord
from ordergate.simulators.bybit.rest import Route


class TradeRoutes:
    def __init__(self, exchange: BybitExchange, clock: Callable[[], int]) -> None:
        self._exchange = exchange
        self._clock = clock

    def routes(self) -> list[Route]:
        return [
            Route("POST", "/v5/order/create", True, self.create),
            Route("POST", "/v5/order/amend", True, self.amend),
            Route("POST", "/v5/order/cancel", True, self.cancel),
            Route("POST", "/v5/order/cancel-all", True, self.cancel_all),
            Route("GET", "/v5/order/realtime", True, self.realtime),
            Route("GET", "/v5/order/history", True, self.history),
        ]

    def operations(self) -> dict[str, tuple[str, Callable[[Params], JsonObject]]]:
        """The trade websocket's operations: op -> (the REST path it mirrors, its handler)."""
        return {
            "order.create": ("/v5/order/create", self.create),
            "order.amend": ("/v5/order/amend", self.amend),
            "order.cancel": ("/v5/order/cancel", self.cancel),
        }

    def create(self, params: Params) -> JsonObject:
        order = admission.parse_new_order(params, self._exchange.specs)
        return _ids(self._exchange.create_order(order))

    def amend(self, params: Params) -> JsonObject:
        amendment = admission.parse_amendment(params, self._exchange.specs)
        return _ids(self._exchange.amend_order(amendment))

    def cancel(self, params: Params) -> JsonObject:
        ref = admission.parse_order_ref(params, self._exchange.specs)
        return _ids(self._exchange.cancel_order(ref))

    def cancel_all(self, params: Params) -> JsonObject:
        admission.require_linear(params)
        symbols = selected_symbols(params, self._exchange.specs, required=True)
        kind = order_kind(params)
        cancelled = [
            record
            for symbol in sorted(symbols)
            for record in self._exchange.cancel_all(symbol, kind)
        ]
        return {"list": [_ids(record) for record in cancelled], "success": "1"}

    def realtime(self, params: Params) -> JsonObject:
        category = read_category(params)
        symbols = selected_symbols(params, self._exchange.specs, required=True)
        order_id = params.optional_text("orderId")
        order_link_id = params.optional_text("orderLinkId")
        open_only = params.integer("openOnly", 0)
        kind = order_kind(params)
        candidates: list[OrderRecord] = []
        if order_id is not None or order_link_id is not None:
            found = self._exchange.find_order(order_id, order_link_id)
            recent = {record.order_id for record in self._exchange.recently_closed()}
            if found is not None and (found.is_open or found.order_id in recent):
                candidates = [found]
        elif open_only == 0:
            candidates = self._exchange.open_orders()
        else:
            candidates = self._exchange.recently_closed()
        listed = [
            record
            for record in candidates
            if category == LINEAR and record.symbol in symbols and kind(record)
        ]
        return self._page(listed, params)

    def history(self, params: Params) -> JsonObject:
        category = read_category(params)
        symbols = selected_symbols(params, self._exchange.specs, required=False)
        start, end = time_window(params, self._clock() // 1_000_000)
        order_id = params.optional_text("orderId")
        order_link_id = params.optional_text("orderLinkId")
        status = params.optional_text("orderStatus")
        kind = order_kind(params)
        listed = [
            record
            for record in self._exchange.orders()
            if category == LINEAR
            and kind(record)
            and record.symbol in symbols
            and start <= record.created_ms <= end
            and order_id in (None, record.order_id)
            and order_link_id in (None, record.order_link_id)
            and status in (None, record.status.value)
        ]
        return self._page(listed, params)

    def _page(self, records: list[OrderRecord], params: Params) -> JsonObject:
        placed = {record.order_id: index for index, record in enumerate(self._exchange.orders())}
        newest_first = sorted(records, key=lambda record: placed[record.order_id], reverse=True)
        items, cursor = page(newest_first, params, default=20, maximum=50)
        specs = self._exchange.specs
        return {
            "list": [order_rest(record, specs[record.symbol]) for record in items],
            "nextPageCursor": cursor,
        }


def _ids(record: OrderRecord) -> JsonObject:
    return {"orderId": record.order_id, "orderLinkId": record.order_link_id}
