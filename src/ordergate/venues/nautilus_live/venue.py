"""`NautilusLiveVenue`: ordergate's `Venue` port over a NautilusTrader `TradingNode`
trading through NautilusTrader's Bybit adapter.

Requests go to the bridge strategy inside the node (`bridge`), which submits, cancels
and modifies through NautilusTrader's risk engine, execution engine and Bybit execution
client. Orders are named with ordergate's client order id, which NautilusTrader sends
as Bybit's `orderLinkId` (32 hex characters: within Bybit's 36). What NautilusTrader
then tells the bridge is translated (`translate`) and streamed on `events()`, numbered
by this adapter. Queries read Bybit directly through NautilusTrader's HTTP API
(`reports`), so they are the venue's truth, before and after a restart alike.

A submit's receipt carries no venue order id and `accepted=False`: NautilusTrader hands
the order to its engines and answers nothing; the acceptance, rejection or denial
arrives on the stream. A second submit of a client order id NautilusTrader already has
sends nothing and answers for the order it has, so a resent submit never makes a second
venue order. Cancelling or replacing an order NautilusTrader does not have open is
refused at once (`VENUE_ORDER_NOT_FOUND`), as Bybit would.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any, Final

from nautilus_trader.model.enums import TimeInForce as NtTimeInForce
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId

from ordergate.domain.errors import RejectedByVenue, RetryableVenueError
from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import OrderType, TimeInForce
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
    VenueReconnected,
)
from ordergate.venues.nautilus_live import translate
from ordergate.venues.nautilus_live.config import NautilusLiveConfig
from ordergate.venues.nautilus_live.node import BridgeNode
from ordergate.venues.nautilus_live.reports import BybitAccount
from ordergate.venues.nautilus_live.translate import EventTranslator
from ordergate.venues.nautilus_vocabulary import decimal_of, side_to_nautilus
from ordergate.venues.single_account import check_account, check_may_send

# NautilusTrader 1.221's Bybit client sends a stop's trigger price only as a spot order's
# `stopLoss`: on a linear product a STOP or STOP_LIMIT goes out as a plain market or
# limit order (with `tpslMode` set and no trigger), which Bybit would carry out at once.
# Those types are refused before anything is sent (docs/decisions/0033).
_SENDABLE: Final = frozenset({OrderType.MARKET, OrderType.LIMIT})
_TIME_IN_FORCE: Final = {
    TimeInForce.GTC: NtTimeInForce.GTC,
    TimeInForce.IOC: NtTimeInForce.IOC,
    TimeInForce.FOK: NtTimeInForce.FOK,
}
# Bybit's receive window (NautilusTrader's default): a signed request older than this is
# refused, so one that has not arrived by then never will.
_RECV_WINDOW_SECONDS: Final = 5.0
_FIRST_RETRY_DELAY_SECONDS: Final = 1.0


class NautilusLiveVenue:
    """One Bybit account through NautilusTrader's live Bybit adapter, as an ordergate `Venue`."""

    def __init__(
        self, config: NautilusLiveConfig, *, may_send: Callable[[], bool] | None = None
    ) -> None:
        """`may_send`: asked before each request is handed to NautilusTrader; once it
        says no, nothing more is sent (None: always send)."""
        self._config = config
        self._may_send = may_send
        self._events: asyncio.Queue[VenueEvent] = asyncio.Queue()
        self._translator = EventTranslator(config.account, config.instrument_ids, self._filled)
        self._node: BridgeNode | None = None
        self._reads: BybitAccount | None = None
        self._instruments: list[Instrument] = []
        self._connections = 0

    @property
    def name(self) -> str:
        return self._config.name

    @property
    def live(self) -> bool:
        return self._config.live

    @property
    def acceptance_window(self) -> float:
        """Bybit's receive window, plus the delays of NautilusTrader's own retries of a
        create (1 s, doubling): until then a create may still be sent and carried out."""
        retries = self._config.max_retries
        return _RECV_WINDOW_SECONDS + _FIRST_RETRY_DELAY_SECONDS * ((1 << retries) - 1)

    @property
    def instruments(self) -> list[Instrument]:
        """The configured symbols as ordergate instruments (known once connected)."""
        return list(self._instruments)

    def connection_problem(self) -> str | None:
        if self._node is None:
            return "not connected"
        return self._node.connection_problem()

    # --- lifecycle ---------------------------------------------------------------------------

    async def connect(self) -> None:
        """Build and start a node; it connects, reconciles and starts the bridge."""
        if self._node is not None:
            return
        node = BridgeNode(self._config, asyncio.get_running_loop(), self._on_nautilus_event)
        await node.start()
        self._node = node
        self._reads = BybitAccount(
            node.http, node.clock, self._config.account, self._config.instrument_ids
        )
        self._instruments = [
            translate.instrument(node.instrument(iid), symbol)
            for iid, symbol in self._config.instrument_ids.items()
        ]
        self._connections += 1
        if self._connections > 1:
            # A new node: what happened at the venue since the last one stopped is unknown.
            detail = f"{self.name}: a new NautilusTrader node"
            self._events.put_nowait(VenueReconnected(detail, node.clock.timestamp_ns()))

    async def disconnect(self) -> None:
        node, self._node, self._reads = self._node, None, None
        if node is not None:
            await node.stop()

    # --- requests ------------------------------------------------------------------------------

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        node = self._connected()
        self._check_account(request.account)
        known = node.cache.order(ClientOrderId(request.client_order_id))
        if known is not None:
            venue_order_id = known.venue_order_id
            return SubmitReceipt(None if venue_order_id is None else str(venue_order_id))
        order = self._order_of(node, request)
        self._check_may_send()
        try:
            node.bridge.place(order)
        except Exception as exc:
            raise RejectedByVenue(f"NautilusTrader refused the order: {exc!r}") from exc
        return SubmitReceipt(None)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        node = self._connected()
        self._check_account(account)
        order = self._open_order(node, client_order_id, "cancel")
        if order.is_pending_cancel:
            return  # asked already; the answer is on its way
        self._check_may_send()
        node.bridge.cancel(order)

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        node = self._connected()
        self._check_account(account)
        order = self._open_order(node, client_order_id, "replace")
        nt_instrument = node.instrument(str(order.instrument_id))
        quantity = nt_instrument.make_qty(qty)
        new_price = None if price is None else nt_instrument.make_price(price)
        trigger = None if stop_price is None else nt_instrument.make_price(stop_price)
        current = (order.quantity, _price_of(order), _trigger_of(order))
        if (quantity, new_price, trigger) == current:
            raise RejectedByVenue(
                f"order {client_order_id}: the replace changes nothing",
                code=ReasonCode.VENUE_REJECTED,
            )
        self._check_may_send()
        node.bridge.modify(order, quantity, new_price, trigger)

    # --- queries -------------------------------------------------------------------------------

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        reads = self._reading(account)
        if symbol not in self._config.symbols:
            return None
        return await reads.order(symbol, client_order_id)

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        return await self._reading(account).open_orders(symbol)

    async def get_positions(self, account: str) -> list[VenuePosition]:
        return await self._reading(account).positions()

    async def get_balances(self, account: str) -> list[VenueBalance]:
        return await self._reading(account).balances()

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        return await self._reading(account).fills(since_ts)

    async def fetch_quotes(self) -> list[Quote]:
        """The configured symbols' best prices from Bybit's REST tickers."""
        if self._reads is None:
            raise RetryableVenueError(f"{self.name} is not connected")
        return await self._reads.quotes()

    async def events(self) -> AsyncIterator[VenueEvent]:
        while True:
            yield await self._events.get()

    # --- inside ----------------------------------------------------------------------------------

    def _on_nautilus_event(self, event: Any) -> None:
        """On the loop's thread (the bridge hands every event over): translate and stream."""
        translated = self._translator.translate(event)
        if translated is not None:
            self._events.put_nowait(translated)

    def _filled(self, client_order_id: str) -> Decimal | None:
        node = self._node
        order = None if node is None else node.cache.order(ClientOrderId(client_order_id))
        return None if order is None else decimal_of(order.filled_qty)

    def _order_of(self, node: BridgeNode, request: VenueOrderRequest) -> Any:
        instrument_id = self._config.instrument_id(request.symbol)
        nt_instrument = node.instrument(instrument_id)
        if nt_instrument is None:
            raise RejectedByVenue(
                f"{self.name} does not trade {request.symbol}", code=ReasonCode.SYMBOL_NOT_ALLOWED
            )
        if request.type not in _SENDABLE:
            raise RejectedByVenue(
                f"{self.name} takes MARKET and LIMIT orders: NautilusTrader 1.221's Bybit client "
                f"drops a {request.type} order's trigger price on linear products, so it would "
                "execute at once",
                code=ReasonCode.UNSUPPORTED_ORDER_TYPE,
            )
        time_in_force = _TIME_IN_FORCE.get(request.time_in_force)
        if time_in_force is None:
            raise RejectedByVenue(
                f"Bybit has no {request.time_in_force} orders",
                code=ReasonCode.UNSUPPORTED_ORDER_TYPE,
            )
        factory = node.bridge.order_factory
        terms: dict[str, Any] = {
            "instrument_id": InstrumentId.from_str(instrument_id),
            "order_side": side_to_nautilus(request.side),
            "quantity": nt_instrument.make_qty(request.qty),
            "time_in_force": time_in_force,
            "reduce_only": request.reduce_only,
            "client_order_id": ClientOrderId(request.client_order_id),
        }
        if request.type is OrderType.MARKET:
            return factory.market(**terms)
        assert request.price is not None  # a LIMIT request carries its price
        return factory.limit(price=nt_instrument.make_price(request.price), **terms)

    def _open_order(self, node: BridgeNode, client_order_id: str, what: str) -> Any:
        order = node.cache.order(ClientOrderId(client_order_id))
        if order is None or order.is_closed:
            state = "unknown" if order is None else order.status_string()
            raise RejectedByVenue(
                f"no open order {client_order_id} to {what} at {self.name} ({state})",
                code=ReasonCode.VENUE_ORDER_NOT_FOUND,
            )
        return order

    def _connected(self) -> BridgeNode:
        if self._node is None:
            raise RetryableVenueError(f"{self.name} is not connected")
        return self._node

    def _reading(self, account: str) -> BybitAccount:
        self._check_account(account)
        if self._reads is None:
            raise RetryableVenueError(f"{self.name} is not connected")
        return self._reads

    def _check_may_send(self) -> None:
        check_may_send(self.name, self._may_send)

    def _check_account(self, account: str) -> None:
        check_account(self.name, self._config.account, account)


def _price_of(order: Any) -> Any:
    return getattr(order, "price", None) if order.has_price else None


def _trigger_of(order: Any) -> Any:
    return getattr(order, "trigger_price", None) if order.has_trigger_price else None
