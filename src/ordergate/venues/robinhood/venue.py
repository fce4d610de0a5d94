"""`RobinhoodVenue`: ordergate's `Venue` port over one Robinhood account, through the
real robin_stocks package (`client`).

- **Limit orders only.** Robinhood's market buys are limits at the ask plus a 5% collar
  anyway; this venue takes LIMIT orders, GTC or DAY (`gfd`), and refuses anything else
  before sending (`UNSUPPORTED_ORDER_TYPE`, naming LIMIT). ordergate's risk limits deny
  them earlier still: the `robinhood` venue defaults `allowed_order_types` to LIMIT, and
  a LIMIT sent without a price is priced at the configured offset from the touch.
- **Once per client order id.** The order is posted with `ref_id` = the client order id
  as a UUID (`translate.ref_id_of`): a resend is refused by Robinhood (400, ref_id
  exists), and the venue then answers with the order it finds by that `ref_id`.
- **Fills by polling.** Robinhood has no stream: every `poll_interval` each working order
  is read and its cumulative executions diffed (`translate.fills_of`: each execution once,
  by its id, with the order's fees). A state past `unconfirmed` is the acceptance; a
  cancel (with or without executions), a rejection and a fill end it. Orders placed
  before a restart are found again from the open orders and tracked.
- **Queries** read Robinhood: an order by id (or by `ref_id`), the open orders, the
  positions, the account's cash, the executions since a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

import robin_stocks.robinhood as rh
import structlog
from robin_stocks.robinhood import helper as rh_helper
from robin_stocks.robinhood import urls as rh_urls

from ordergate.domain.errors import (
    AmbiguousVenueError,
    RejectedByVenue,
    VenueError,
)
from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderRejected,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)
from ordergate.venues.robinhood import translate
from ordergate.venues.robinhood.client import (
    RobinhoodClient,
    Throttled,
    VenueStopped,
    refusal_text,
)
from ordergate.venues.robinhood.config import RobinhoodConfig
from ordergate.venues.single_account import check_account, check_may_send

log = structlog.get_logger("ordergate.venues.robinhood")

_TIME_IN_FORCE: Final = {TimeInForce.GTC: "gtc", TimeInForce.DAY: "gfd"}
_CENT: Final = Decimal("0.01")


@dataclass(slots=True)
class _Working:
    """What the venue has said of one working order."""

    client_order_id: str
    symbol: str
    acknowledged: bool = False
    seen: set[str] = field(default_factory=set)  # execution ids passed on
    charged: Decimal = ZERO  # the order's fees passed on


class RobinhoodVenue:
    """One Robinhood account through robin_stocks, as an ordergate `Venue`."""

    def __init__(
        self, config: RobinhoodConfig, *, may_send: Callable[[], bool] | None = None
    ) -> None:
        self._config = config
        self._may_send = may_send
        self._client = RobinhoodClient(config)
        self._events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._connected = False
        self._account_url = ""
        self._instrument_urls: dict[str, str] = {}  # symbol -> instrument URL
        self._symbols: dict[str, str] = {}  # instrument URL -> symbol
        self._instruments: list[Instrument] = []
        self._quotes: dict[str, Quote] = {}
        self._working: dict[str, _Working] = {}  # Robinhood order id -> its tracking
        # Client order id -> Robinhood order id, of the orders working (memory follows
        # what is open, not the history).
        self._ids: dict[str, str] = {}
        self._poller: asyncio.Task[None] | None = None

    # --- identity ----------------------------------------------------------------------------

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def live(self) -> bool:
        return self._config.live

    @property
    def acceptance_window(self) -> float:
        """A post that timed out was carried out by then, or never will be."""
        return self._config.timeout

    @property
    def instruments(self) -> list[Instrument]:
        return list(self._instruments)

    def connection_problem(self) -> str | None:
        if self._client.stopped is not None:
            return self._client.stopped
        return None if self._connected else "not connected"

    def halted(self) -> str | None:
        """Why the venue takes no orders until a person acts (None: it takes them)."""
        return self._client.stopped

    # --- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Log in, read the account and the instruments, and start polling.

        A login that needs a person does not fail the start: the venue stays up, says
        why on `/health` and `/v1/health/trading`, and refuses every order until then."""
        if self._connected:
            return
        self._instruments = [_equity(symbol) for symbol in self._config.symbols]
        try:
            await self._client.start()
        except VenueStopped as exc:
            log.error("robinhood login stopped the venue", reason=str(exc))
            return
        profile = (await self._client.call("account", rh.profiles.load_account_profile)).value
        self._account_url = profile["url"]
        found = await self._client.call(
            "instruments", rh.stocks.get_instruments_by_symbols, list(self._config.symbols)
        )
        for instrument in found.value or []:
            if instrument:
                self._instrument_urls[instrument["symbol"]] = instrument["url"]
                self._symbols[instrument["url"]] = instrument["symbol"]
        missing = sorted(set(self._config.symbols) - set(self._instrument_urls))
        if missing:
            raise RejectedByVenue(
                f"robinhood has no instrument {', '.join(missing)}",
                code=ReasonCode.SYMBOL_NOT_ALLOWED,
            )
        self._instruments = [
            _equity(i["symbol"], i) for i in found.value or [] if i and i["symbol"]
        ]
        for order in await self._open_orders():
            self._track(order)
        self._connected = True
        self._poller = asyncio.create_task(self._poll(), name=f"{self.name}-poll")

    async def disconnect(self) -> None:
        poller, self._poller = self._poller, None
        if poller is not None:
            poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await poller
        self._connected = False
        await self._client.close()

    # --- requests ----------------------------------------------------------------------------

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        self._check_account(request.account)
        payload = self._payload(request)
        self._check_may_send()
        answer = await self._client.call(
            "submit", rh_helper.request_post, rh_urls.orders_url(), payload, changes=True
        )
        if answer.refusal is not None:
            if "ref_id" in answer.refusal:
                # Sent before: the order is there, under this ref_id.
                order = await self._order_by_ref_id(request.client_order_id)
                if order is None:
                    raise AmbiguousVenueError(
                        f"order {request.client_order_id}: Robinhood has its ref_id but "
                        "does not list the order yet"
                    )
            else:
                raise _refused(request.client_order_id, answer.refusal)
        else:
            order = answer.value
            if not isinstance(order, dict) or "id" not in order:
                raise AmbiguousVenueError(f"submit: an answer without an order: {order!r}")
        self._track(order)
        await self._observe(order)  # a marketable order can answer filled already
        return SubmitReceipt(order["id"], accepted=False)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        self._check_account(account)
        order_id = await self._order_id(client_order_id)
        if order_id is None:
            raise RejectedByVenue(
                f"order {client_order_id}: Robinhood has no such order",
                code=ReasonCode.VENUE_ORDER_NOT_FOUND,
            )
        self._check_may_send()
        answer = await self._client.call(
            "cancel", rh.orders.cancel_stock_order, order_id, changes=True
        )
        if answer.refusal is not None:
            raise RejectedByVenue(
                f"order {client_order_id}: Robinhood refused the cancel: "
                f"{refusal_text(answer.refusal)}",
                code=ReasonCode.ORDER_ALREADY_TERMINAL,
            )

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        self._check_account(account)
        if await self._order_id(client_order_id) is None:
            raise RejectedByVenue(
                f"order {client_order_id}: Robinhood has no such order",
                code=ReasonCode.VENUE_ORDER_NOT_FOUND,
            )
        raise RejectedByVenue(
            f"order {client_order_id}: Robinhood cannot change a stock order; cancel it and "
            "place a new one",
            code=ReasonCode.ORDER_NOT_REPLACEABLE,
        )

    # --- queries -----------------------------------------------------------------------------

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        self._check_account(account)
        order_id = self._ids.get(client_order_id)
        external = client_order_id.removeprefix(translate.EXTERNAL_PREFIX)
        if order_id is None and external != client_order_id:
            order_id = external
        if order_id is not None:
            order = await self._read(order_id)
        else:
            order = await self._order_by_ref_id(client_order_id)
        if order is None:
            return None
        if not translate.is_final(order) and order["id"] not in self._working:
            # Found after a submit in doubt (or a restart): follow it from now on.
            self._track(order)
            await self._observe(order)
        return translate.report_of(order, account, await self._symbol_of(order))

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        self._check_account(account)
        reports = []
        for order in await self._open_orders():
            report = translate.report_of(order, account, await self._symbol_of(order))
            if symbol is None or report.symbol == symbol:
                reports.append(report)
        return reports

    async def get_positions(self, account: str) -> list[VenuePosition]:
        self._check_account(account)
        answer = await self._client.call("positions", rh.account.get_open_stock_positions)
        positions = []
        for held in answer.value or []:
            qty = Decimal(held["quantity"])
            if qty != ZERO:
                symbol = await self._symbol_of({"instrument": held["instrument"]})
                positions.append(
                    VenuePosition(account, symbol, qty, Decimal(held["average_buy_price"]))
                )
        return sorted(positions, key=lambda p: p.symbol)

    async def get_balances(self, account: str) -> list[VenueBalance]:
        self._check_account(account)
        profile = (await self._client.call("account", rh.profiles.load_account_profile)).value
        return [VenueBalance(account, "USD", Decimal(profile["cash"]))]

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        self._check_account(account)
        start = datetime.fromtimestamp(since_ts / 1e9, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        answer = await self._client.call(
            "orders", rh.orders.get_all_stock_orders, None, None, start
        )
        fills: list[VenueFill] = []
        for order in answer.value or []:
            if order and order.get("executions"):
                symbol = await self._symbol_of(order)
                new, _ = translate.fills_of(order, account, symbol, set(), ZERO)
                fills += [f for f in new if f.ts >= since_ts]
        return sorted(fills, key=lambda f: (f.ts, f.trade_id))

    async def fetch_quotes(self) -> list[Quote]:
        """The traded stocks' best prices (`quotes/`); none while the venue is halted."""
        if self._client.stopped is not None:
            return []
        answer = await self._client.call("quotes", rh.stocks.get_quotes, list(self._config.symbols))
        quotes = []
        for raw in answer.value or []:
            if raw and raw.get("bid_price") and raw.get("ask_price"):
                bid, ask = Decimal(raw["bid_price"]), Decimal(raw["ask_price"])
                last = raw.get("last_trade_price")
                stamp = raw.get("updated_at")
                ts = translate.ns_of(stamp) if stamp else time.time_ns()
                quote = Quote(raw["symbol"], bid, ask, Decimal(last) if last else bid, ts)
                self._quotes[quote.symbol] = quote
                quotes.append(quote)
        return quotes

    async def events(self) -> AsyncIterator[VenueEvent]:
        while True:
            yield await self._events.get()

    # --- polling -------------------------------------------------------------------------------

    async def _poll(self) -> None:
        """Read each working order, every `poll_interval`, and say what changed.

        One order's failure does not stop the others' polls, nor the loop: a failed read
        is tried again on the next round (throttling ends the round early)."""
        while True:
            for order_id in list(self._working):
                try:
                    order = await self._read(order_id)
                    if order is not None:
                        await self._observe(order)
                except VenueStopped:
                    return  # a person must act; `halted` says why
                except Throttled as exc:
                    log.warning("robinhood poll throttled", order_id=order_id, error=str(exc))
                    break
                except VenueError as exc:
                    log.warning("robinhood poll failed", order_id=order_id, error=str(exc))
                except Exception:  # a defect must not silence every order's fills
                    log.exception("robinhood poll of an order failed", order_id=order_id)
            await asyncio.sleep(self._config.poll_interval)

    async def _observe(self, order: Mapping[str, Any]) -> None:
        tracked = self._working.get(order["id"])
        if tracked is None:
            return
        if not tracked.symbol:  # an instrument not traded here (an order from the app)
            tracked.symbol = await self._symbol_of(order)
        coid, ts = tracked.client_order_id, translate.ns_of(order["updated_at"])
        status = translate.status_of(order)
        fills, tracked.charged = translate.fills_of(
            order, self._config.account, tracked.symbol, tracked.seen, tracked.charged
        )
        state = order["state"]
        if not tracked.acknowledged and (fills or state in translate.WORKING):
            tracked.acknowledged = True
            self._events.put_nowait(VenueOrderAccepted(coid, order["id"], None, ts))
        for fill in fills:
            self._events.put_nowait(fill)
        if not status.is_terminal:
            return
        del self._working[order["id"]]
        self._ids.pop(coid, None)  # asked about again, it is found by its ref_id
        filled = Decimal(order.get("cumulative_quantity") or "0")
        if state in ("cancelled", "canceled"):
            self._events.put_nowait(VenueOrderCanceled(coid, None, None, None, ts, filled))
        elif state in ("rejected", "failed"):
            reason = str(order.get("reject_reason") or state)
            if tracked.acknowledged:
                # Ended after Robinhood had it working: a cancel by the venue.
                self._events.put_nowait(
                    VenueOrderCanceled(coid, ReasonCode.VENUE_REJECTED, reason, None, ts, filled)
                )
            else:
                self._events.put_nowait(
                    VenueOrderRejected(coid, ReasonCode.VENUE_REJECTED, reason, None, ts)
                )

    def _track(self, order: Mapping[str, Any]) -> None:
        """Follow an order until it ends (`_observe` lets go of it then)."""
        coid = translate.client_order_id_of(order)
        self._ids[coid] = order["id"]
        symbol = self._symbols.get(order["instrument"], "")
        self._working.setdefault(order["id"], _Working(coid, symbol))

    # --- reading --------------------------------------------------------------------------------

    async def _read(self, order_id: str) -> dict[str, Any] | None:
        answer = await self._client.call("order", rh.orders.get_stock_order_info, order_id)
        value = answer.value
        return value if isinstance(value, dict) and "id" in value else None

    async def _open_orders(self) -> list[dict[str, Any]]:
        answer = await self._client.call("open orders", rh.orders.get_all_open_stock_orders)
        return [o for o in answer.value or [] if o]

    async def _order_id(self, client_order_id: str) -> str | None:
        order_id = self._ids.get(client_order_id)
        if order_id is not None:
            return order_id
        external = client_order_id.removeprefix(translate.EXTERNAL_PREFIX)
        if external != client_order_id:
            return external
        order = await self._order_by_ref_id(client_order_id)
        return None if order is None else str(order["id"])

    async def _order_by_ref_id(self, client_order_id: str) -> dict[str, Any] | None:
        """The order sent under this client order id, from Robinhood's order list."""
        ref_id = translate.ref_id_of(client_order_id)
        answer = await self._client.call("orders", rh.orders.get_all_stock_orders)
        for order in answer.value or []:
            if order and order.get("ref_id") == ref_id:
                self._ids[client_order_id] = order["id"]
                return dict(order)
        return None

    async def _symbol_of(self, order: Mapping[str, Any]) -> str:
        url = order["instrument"]
        symbol = self._symbols.get(url)
        if symbol is None:
            answer = await self._client.call("instrument", rh.stocks.get_instrument_by_url, url)
            symbol = str((answer.value or {}).get("symbol") or url)
            self._symbols[url] = symbol
        return symbol

    # --- checks ----------------------------------------------------------------------------------

    def _payload(self, request: VenueOrderRequest) -> dict[str, Any]:
        if request.type is not OrderType.LIMIT or request.price is None:
            raise RejectedByVenue(
                f"{self.name} takes LIMIT orders only (GTC or DAY); {request.type} is not sent",
                code=ReasonCode.UNSUPPORTED_ORDER_TYPE,
            )
        time_in_force = _TIME_IN_FORCE.get(request.time_in_force)
        if time_in_force is None:
            raise RejectedByVenue(
                f"{self.name} takes LIMIT orders GTC or DAY; {request.time_in_force} is not sent",
                code=ReasonCode.UNSUPPORTED_ORDER_TYPE,
            )
        instrument = self._instrument_urls.get(request.symbol)
        if instrument is None:
            raise RejectedByVenue(
                f"{self.name} does not trade {request.symbol}", code=ReasonCode.SYMBOL_NOT_ALLOWED
            )
        quote = self._quotes.get(request.symbol)
        extended = self._config.extended_hours
        payload: dict[str, Any] = {
            "account": self._account_url,
            "instrument": instrument,
            "symbol": request.symbol,
            "price": format(request.price, "f"),
            "quantity": format(request.qty, "f"),
            "ref_id": translate.ref_id_of(request.client_order_id),
            "type": "limit",
            "time_in_force": time_in_force,
            "trigger": "immediate",
            "side": "buy" if request.side is Side.BUY else "sell",
            "market_hours": "extended_hours" if extended else "regular_hours",
            "extended_hours": extended,
            "order_form_version": 4,
        }
        if quote is not None:
            payload["bid_price"] = format(quote.bid, "f")
            payload["ask_price"] = format(quote.ask, "f")
            stamp = datetime.fromtimestamp(quote.ts / 1e9, tz=UTC)
            payload["bid_ask_timestamp"] = stamp.strftime("%Y-%m-%d %H:%M:%S.%f")
        return payload

    def _check_account(self, account: str) -> None:
        check_account(self.name, self._config.account, account)

    def _check_may_send(self) -> None:
        check_may_send(self.name, self._may_send)


def _refused(client_order_id: str, refusal: dict[str, Any]) -> RejectedByVenue:
    text = refusal_text(refusal)
    detail = f"order {client_order_id}: Robinhood refused it: {text}"
    if "buying power" in text.lower():
        return RejectedByVenue(detail, code=ReasonCode.VENUE_INSUFFICIENT_MARGIN)
    return RejectedByVenue(detail, code=ReasonCode.VENUE_REJECTED)


def _equity(symbol: str, instrument: Mapping[str, Any] | None = None) -> Instrument:
    """A US stock: prices in cents (Robinhood's `min_tick_size` where it gives one), whole
    shares (fractional orders are a market-order feature ordergate does not send)."""
    tick = (instrument or {}).get("min_tick_size")
    return Instrument(
        symbol=symbol,
        base_currency=symbol,
        quote_currency="USD",
        tick_size=Decimal(tick) if tick else _CENT,
        lot_step=Decimal(1),
        min_qty=Decimal(1),
    )
