"""The account routes: `accounts/` (and one account by number, with or without the
trailing slash robin_stocks leaves off), `positions/` (`nonzero=true`: only what is
held; `account_number=`), one position, and phoenix's `accounts/unified` (served under
`PHOENIX_PREFIX`)."""

from __future__ import annotations

from collections.abc import Callable

from ordergate.domain.values import ZERO
from ordergate.simulators.robinhood import errors
from ordergate.simulators.robinhood.account_payloads import (
    account_payload,
    phoenix_payload,
    position_payload,
)
from ordergate.simulators.robinhood.broker import Broker
from ordergate.simulators.robinhood.config import PHOENIX_PREFIX
from ordergate.simulators.robinhood.errors import detail
from ordergate.simulators.robinhood.paging import page_of
from ordergate.simulators.robinhood.rest import Answer, Call, Route
from ordergate.simulators.robinhood.wire import JsonObject, Urls


class AccountRoutes:
    def __init__(
        self,
        broker: Broker,
        account_number: str,
        urls: Urls,
        page_size: int,
        *,
        opened_ns: int,
        locked: Callable[[], bool],
    ) -> None:
        self._broker = broker
        self._account = account_number
        self._urls = urls
        self._page_size = page_size
        self._opened_ns = opened_ns
        self._locked = locked

    def routes(self) -> list[Route]:
        return [
            Route("GET", "/accounts/", self._accounts),
            Route("GET", "/accounts/{account_number}", self._account_by_number),
            Route("GET", "/accounts/{account_number}/", self._account_by_number),
            Route("GET", "/positions/", self._positions),
            Route("GET", "/positions/{account_number}/{instrument_id}/", self._position),
            Route("GET", f"{PHOENIX_PREFIX}/accounts/unified", self._unified),
        ]

    def _account_payload(self) -> JsonObject:
        return account_payload(
            self._broker,
            self._account,
            self._urls,
            opened_ns=self._opened_ns,
            locked=self._locked(),
        )

    def _accounts(self, call: Call) -> Answer:
        return Answer({"previous": None, "results": [self._account_payload()], "next": None})

    def _account_by_number(self, call: Call) -> Answer:
        if call.match["account_number"] != self._account:
            raise detail(404, errors.NOT_FOUND)
        return Answer(self._account_payload())

    def _positions(self, call: Call) -> Answer:
        held = [
            (symbol, holding)
            for symbol, holding in self._broker.ledger.holdings().items()
            if call.query.get("nonzero") != "true" or holding.quantity != ZERO
        ]
        if call.query.get("account_number", self._account) != self._account:
            held = []
        page = page_of(held, call.query.get("cursor"), self._page_size)
        query = {name: value for name, value in call.query.items() if name != "cursor"}
        results = [
            position_payload(
                self._broker, self._broker.stocks[symbol], holding, self._account, self._urls
            )
            for symbol, holding in page.items
        ]
        return Answer(
            {
                "previous": self._urls.page(call.path, query, page.previous_cursor),
                "results": results,
                "next": self._urls.page(call.path, query, page.next_cursor),
            }
        )

    def _position(self, call: Call) -> Answer:
        instrument_id = call.match["instrument_id"]
        spec = next(
            (s for s in self._broker.stocks.values() if s.instrument_id == instrument_id), None
        )
        holding = None if spec is None else self._broker.ledger.holding(spec.symbol)
        if call.match["account_number"] != self._account or spec is None or holding is None:
            raise detail(404, errors.NOT_FOUND)
        return Answer(position_payload(self._broker, spec, holding, self._account, self._urls))

    def _unified(self, call: Call) -> Answer:
        return Answer(phoenix_payload(self._broker))
