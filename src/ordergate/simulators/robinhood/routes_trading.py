"""The order routes: place (`POST orders/`), read one, list them, cancel one.

`GET orders/` lists the newest first, in pages of `page_size`, each `next` a full URL;
it filters by `account_numbers` and `updated_at[gte]` (an ISO date or time, UTC unless
it says otherwise), as robin_stocks'
`get_all_stock_orders(account_number=, start_date=)` asks. A successful cancel answers
200 `{}`; robin_stocks' `cancel_stock_order` returns that empty dict.
"""

from __future__ import annotations

from datetime import UTC, datetime

from ordergate.simulators.robinhood.admission import read_ticket
from ordergate.simulators.robinhood.broker import Broker
from ordergate.simulators.robinhood.errors import field_error
from ordergate.simulators.robinhood.order_payloads import order_payload
from ordergate.simulators.robinhood.orders import SimOrder
from ordergate.simulators.robinhood.paging import page_of
from ordergate.simulators.robinhood.rest import Answer, Call, Route
from ordergate.simulators.robinhood.wire import JsonObject, Urls

_NS_PER_SECOND = 1_000_000_000


class TradingRoutes:
    def __init__(self, broker: Broker, account_number: str, urls: Urls, page_size: int) -> None:
        self._broker = broker
        self._account = account_number
        self._urls = urls
        self._page_size = page_size

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/orders/", self._list),
            Route("POST", "/orders/", self._place),
            Route("GET", "/orders/{order_id}/", self._get),
            Route("POST", "/orders/{order_id}/cancel/", self._cancel),
        ]

    def payload(self, order: SimOrder) -> JsonObject:
        return order_payload(order, self._broker.stocks[order.ticket.symbol], self._urls)

    def _place(self, call: Call) -> Answer:
        ticket = read_ticket(call.body, self._account, self._broker.stocks)
        return Answer(self.payload(self._broker.place(ticket)), 201)

    def _get(self, call: Call) -> Answer:
        return Answer(self.payload(self._broker.order(call.match["order_id"])))

    def _cancel(self, call: Call) -> Answer:
        self._broker.cancel(call.match["order_id"])
        return Answer({})

    def _list(self, call: Call) -> Answer:
        orders = list(reversed(self._broker.orders()))
        accounts = call.query.get("account_numbers")
        if accounts is not None and self._account not in accounts.split(","):
            orders = []
        since = call.query.get("updated_at[gte]")
        if since is not None:
            floor = _parse_time(since)
            orders = [order for order in orders if order.updated_ns >= floor]
        page = page_of(orders, call.query.get("cursor"), self._page_size)
        query = {name: value for name, value in call.query.items() if name != "cursor"}
        return Answer(
            {
                "previous": self._urls.page(call.path, query, page.previous_cursor),
                "results": [self.payload(order) for order in page.items],
                "next": self._urls.page(call.path, query, page.next_cursor),
            }
        )


def _parse_time(text: str) -> int:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise field_error("updated_at[gte]", "Enter a valid date/time.") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)  # a date, or a time without zone: UTC
    return int(moment.timestamp()) * _NS_PER_SECOND + moment.microsecond * 1_000
