"""`NautilusVenue`: NautilusTrader's simulated exchange behind the `Venue` port.

Like the paper venue it is three ports at once: the `Venue`, the `MarketData` (`quote`)
and the `Clock` (`now_ns`, market-data time), over the same replay feed. Each feed step
is one NautilusTrader `run` (`simulation`); fills, acceptances, rejections and expiries
are NautilusTrader's, translated (`translate`). Requests finish inside their call
(`use_message_queue=False`), so a submit's receipt is its acceptance or its rejection,
and the stream carries what follows, numbered 1, 2, 3.

Refused at once with `RejectedByVenue`, as by the paper venue: a client order id the
venue has seen (NautilusTrader would deny it with an event naming the live order), and a
cancel or replace of an order it does not know. Everything NautilusTrader itself answers
(a denial by its risk engine, a rejection by its exchange, a refused cancel or modify)
is streamed.

After a restart, `restore` rebuilds the engine with the journal's cash, positions and
open orders (see its docstring). docs/decisions/0032 says what differs from the paper
venue and why.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

import msgspec
from nautilus_trader.model.events import (
    OrderAccepted,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderRejected,
)

from ordergate.domain.errors import InvalidRequest, RejectedByVenue, RetryableVenueError
from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.venue_reports import (
    Quote,
    SubmitReceipt,
    VenueBalance,
    VenueEvent,
    VenueFill,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)
from ordergate.matching import DUPLICATE_CLIENT_ORDER_ID, ORDER_CLOSED, ORDER_NOT_FOUND
from ordergate.matching.feed import FeedStep, ReplayFeed, SymbolUpdate
from ordergate.matching.market import PaperMarket
from ordergate.matching.pacing import paced
from ordergate.matching.restore import RestoredOrder, check_restored_order
from ordergate.venues.event_queue import VenueEventQueue
from ordergate.venues.nautilus.convert import day_expiry_ns
from ordergate.venues.nautilus.registry import OrderRegistry
from ordergate.venues.nautilus.simulation import SEED_PREFIX, Simulation
from ordergate.venues.nautilus.translate import (
    EventTranslator,
    OrderNotes,
    client_order_id_of,
    report_of,
)
from ordergate.venues.nautilus_vocabulary import decimal_of

# Both sides of every quote: large enough that an ordinary order fills at the touch, as
# on the paper venue; a smaller one makes NautilusTrader fill the rest a tick worse.
DEFAULT_QUOTE_SIZE: Final = Decimal(1_000_000)
# How often (in orders) NautilusTrader's cache, which keeps every order, is emptied of
# closed ones (the registry keeps their reports).
FORGET_EVERY: Final = 1024
_ANSWERS = (OrderAccepted, OrderRejected, OrderDenied, OrderFilled, OrderCanceled)
_UNFILLED = {TimeInForce.IOC: ReasonCode.IOC_UNFILLED, TimeInForce.FOK: ReasonCode.FOK_UNFILLED}


class NautilusVenue:
    """NautilusTrader's matching over replayed market data: `Venue`, `MarketData`, `Clock`."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        feed: ReplayFeed,
        balances: Mapping[str, Mapping[str, Decimal]],
        *,
        session: str,
        quote_size: Decimal = DEFAULT_QUOTE_SIZE,
        name: str = "nautilus",
    ) -> None:
        """Create the venue; `session` (ordergate passes its journal's head sequence)
        keeps trade ids unique across restarts, `quote_size` is both sides' size."""
        first = feed.first_ts
        start = 0 if first is None else first - feed.interval_ns
        self._instrument_list = tuple(instruments)
        self._instruments = {i.symbol: i for i in instruments}
        self._feed = feed
        self._quote_size = quote_size
        self._name = name
        self._connected = False
        self._stream = VenueEventQueue()
        self._translator = EventTranslator(session)
        self._inbox: list[Any] = []
        self._orders = OrderRegistry()
        self._quotes: dict[str, Quote] = {}
        self._configured = {a: dict(b) for a, b in balances.items()}
        self._sim = self._build(self._configured, start)

    @classmethod
    def from_market(
        cls,
        market: PaperMarket,
        balances: Mapping[str, Mapping[str, Decimal]],
        *,
        session: str,
        quote_size: Decimal = DEFAULT_QUOTE_SIZE,
        name: str = "nautilus",
    ) -> NautilusVenue:
        """Build a venue over a loaded market (its execution rules are the paper venue's
        and do not apply: NautilusTrader fills by its own)."""
        return cls(
            market.instruments,
            market.feed,
            balances,
            session=session,
            quote_size=quote_size,
            name=name,
        )

    @property
    def name(self) -> str:
        return self._name

    @property
    def live(self) -> bool:
        return False

    @property
    def acceptance_window(self) -> float:
        return 0.0  # no message queue: a request is carried out, or not, inside its call

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return self._instruments

    def quote(self, symbol: str) -> Quote | None:
        """The last quote NautilusTrader matched against for `symbol` (its prices on the
        tick: NautilusTrader cannot hold others)."""
        return self._quotes.get(symbol)

    def now_ns(self) -> int:
        """Market-data time; before the first step, the first step's time minus one interval."""
        return self._sim.now_ns

    def close(self) -> None:
        """Release NautilusTrader's engine (after the engine has stopped)."""
        self._sim.dispose()

    # --- the market --------------------------------------------------------------------------

    def advance(self) -> bool:
        """Match the next feed step; return False (changing nothing) at the end of data."""
        step = self._feed.next_step()
        if step is None:
            return False
        self.apply_step(step)
        return True

    def apply_step(self, step: FeedStep) -> None:
        """Match one market step that comes from outside the replay (a test's scenario);
        its time must not be earlier than the venue's."""
        self._sim.step(step)
        for update in step.updates:
            if update.symbol in self._instruments and update.points:
                self._quotes[update.symbol] = self._quote_of(update, step.ts)
        self._stream_events(self._take())

    def seek(self, ts: int) -> None:
        """Skip, without matching orders, every step at or before `ts` (after a restart):
        the skipped steps' last prices become the market, and the clock reads `ts`."""
        target = max(ts, self.now_ns())
        quotes = []
        for update in self._feed.seek(ts):
            if update.symbol not in self._instruments or not update.points:
                continue
            quote = self._quotes[update.symbol] = self._quote_of(update, update.ts)
            quotes += [
                self._sim.quote_tick(account, update.symbol, quote.bid, quote.ask, target)
                for account in self._sim.accounts
            ]
        self._sim.run_quotes(quotes, target)
        self._stream_events(self._take())

    async def run(self, bars_per_second: float) -> None:
        """Advance at `bars_per_second` steps per second until cancelled or out of data."""
        await paced(self.advance, bars_per_second)

    # --- Venue -------------------------------------------------------------------------------

    async def connect(self) -> None:
        self._connected = True

    async def disconnect(self) -> None:
        self._connected = False

    async def submit_order(self, request: VenueOrderRequest) -> SubmitReceipt:
        self._require_connection()
        coid = request.client_order_id
        if self._orders.knows(coid) or self._sim.order(coid) is not None:
            raise RejectedByVenue(
                f"client order id {coid!r} already used", code=DUPLICATE_CLIENT_ORDER_ID
            )
        if not self._sim.has_account(request.account) or request.symbol not in self._instruments:
            return self._reject_unknown(request)
        notes = OrderNotes(
            request.account,
            request.symbol,
            request.side,
            request.type,
            request.time_in_force,
            self._orders.next_arrival(),
        )
        self._orders.add(coid, notes)
        day = request.time_in_force is TimeInForce.DAY and request.type is not OrderType.MARKET
        try:
            self._sim.submit(
                request.account,
                request.symbol,
                coid,
                request.side,
                request.type,
                request.qty,
                request.price,
                request.stop_price,
                request.time_in_force,
                request.reduce_only,
                day_expiry_ns(self.now_ns()) if day else None,
            )
        except (ValueError, TypeError) as exc:  # NautilusTrader's argument checks (qty 0)
            self._orders.discard(coid)
            raise RejectedByVenue(str(exc), code=ReasonCode.VENUE_REJECTED) from exc
        events = self._take()
        first = next(
            (e for e in events if isinstance(e, _ANSWERS) and client_order_id_of(e) == coid), None
        )
        refused = isinstance(first, OrderRejected | OrderDenied)
        self._stream_events(events, answered=None if refused else coid)
        order = self._sim.order(coid)
        venue_order_id = notes.venue_order_id or (
            order.venue_order_id.value if order is not None and order.venue_order_id else None
        )
        if notes.arrival % FORGET_EVERY == 0:
            self._sim.forget_closed_orders()
        return SubmitReceipt(venue_order_id, accepted=not refused)

    async def cancel_order(self, account: str, symbol: str, client_order_id: str) -> None:
        self._require_connection()
        order, notes = self._known_order(account, symbol, client_order_id)
        notes.cancel_requested = True
        self._sim.cancel(order)
        self._answer(client_order_id, "cancel")

    async def replace_order(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> None:
        self._require_connection()
        order, notes = self._known_order(account, symbol, client_order_id)
        try:
            self._sim.modify(order, qty - notes.filled_before, price, stop_price)
        except (ValueError, TypeError) as exc:  # below what filled before a restart
            raise RejectedByVenue(str(exc), code=ReasonCode.ORDER_NOT_REPLACEABLE) from exc
        self._answer(client_order_id, "replace")

    async def get_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        self._require_connection()
        report = self._report(client_order_id)
        if report is None or (report.account, report.symbol) != (account, symbol):
            return None
        return report

    async def get_open_orders(
        self, account: str, symbol: str | None = None
    ) -> list[VenueOrderReport]:
        self._require_connection()
        if not self._sim.has_account(account):
            return []
        found: list[tuple[int, VenueOrderReport]] = []
        for order in self._sim.open_orders(account):
            coid = order.client_order_id.value
            notes = self._orders.open_notes(coid)
            if notes is None or (symbol is not None and notes.symbol != symbol):
                continue  # an order of the venue's own (none: seeding orders never rest)
            report = report_of(order, notes, coid)
            if report is not None:
                found.append((notes.arrival, report))
        return [report for _, report in sorted(found, key=lambda pair: pair[0])]

    async def get_positions(self, account: str) -> list[VenuePosition]:
        self._require_connection()
        if not self._sim.has_account(account):
            return []
        positions = [
            VenuePosition(
                account,
                p.instrument_id.symbol.value,
                Decimal(str(p.signed_decimal_qty())),
                # NautilusTrader keeps the average in a float: its shortest repr, exactly.
                Decimal(str(p.avg_px_open)),
            )
            for p in self._sim.positions(account)
        ]
        return sorted((p for p in positions if p.qty != ZERO), key=lambda p: p.symbol)

    async def get_balances(self, account: str) -> list[VenueBalance]:
        self._require_connection()
        if not self._sim.has_account(account):
            return []
        balances = [
            VenueBalance(account, b.currency.code, decimal_of(b.total))
            for b in self._sim.balances(account)
        ]
        return sorted(balances, key=lambda b: b.currency)

    async def get_fills(self, account: str, since_ts: int = 0) -> list[VenueFill]:
        self._require_connection()
        return self._stream.fills(account, since_ts)

    def events(self) -> AsyncIterator[VenueEvent]:
        return self._stream.events()

    def drain_events(self) -> list[VenueEvent]:
        """What the venue has queued, without waiting: for a caller that steps the market
        itself and reads between steps (the parity report), instead of `events()`."""
        return self._stream.drain()

    # --- restart -----------------------------------------------------------------------------

    def restore(
        self,
        open_orders: Sequence[VenueOrderReport | RestoredOrder],
        positions: Sequence[VenuePosition],
        balances: Sequence[VenueBalance],
    ) -> None:
        """Re-seed a fresh venue with ordergate's view after a restart.

        NautilusTrader's state cannot be set, only traded into, so the engine is built
        again at the current time with the journal's cash; each position is bought or
        sold at its average price (rounded to the tick) from a quote at that price, by a
        seeding order that pays no fee and streams nothing; then the market's real quotes
        come back and each open order is submitted again, with its client order id, for
        its remainder (what filled before is added back to every report, and its venue
        order id stays the one ordergate knows). An IOC or FOK order cannot rest: it is
        canceled, and a DAY order whose day has ended expires, each with its event.
        """
        accounts = self._sim.accounts
        if not self._orders.is_empty() or any(self._sim.positions(a) for a in accounts):
            raise InvalidRequest("restore needs a venue with no orders and no positions")
        now = self.now_ns()
        # The journal's cash replaces the configured cash, currency by currency.
        cash = {account: dict(amounts) for account, amounts in self._configured.items()}
        for balance in balances:
            cash.setdefault(balance.account, {})[balance.currency] = balance.balance
        self._sim.dispose()
        self._sim = self._build(cash, now)
        for number, position in enumerate(sorted(positions, key=lambda p: (p.account, p.symbol))):
            self._seed_position(position, f"{SEED_PREFIX}{number + 1}", now)
        self._take()  # the seeding orders' events: no notes, nothing streamed
        self._sim.run_quotes(
            [
                self._sim.quote_tick(account, q.symbol, q.bid, q.ask, now)
                for q in self._quotes.values()
                for account in self._sim.accounts
            ],
            now,
        )
        restored = [o if isinstance(o, RestoredOrder) else RestoredOrder(o) for o in open_orders]
        restored.sort(key=lambda r: (r.report.ts, r.report.account, r.report.client_order_id))
        for item in restored:
            self._restore_order(item)

    def _seed_position(self, position: VenuePosition, client_order_id: str, now: int) -> None:
        instrument = self._instruments.get(position.symbol)
        if instrument is None or not self._sim.has_account(position.account):
            raise InvalidRequest(f"position in {position.account}/{position.symbol}: unknown")
        if position.qty == ZERO:
            return
        price = instrument.round_price(position.avg_price)
        tick = self._sim.quote_tick(position.account, position.symbol, price, price, now)
        self._sim.run_quotes([tick], now)
        side = Side.BUY if position.qty > ZERO else Side.SELL
        self._sim.submit(
            position.account,
            position.symbol,
            client_order_id,
            side,
            OrderType.MARKET,
            abs(position.qty),
            None,
            None,
            TimeInForce.IOC,
            False,
            None,
        )

    def _restore_order(self, item: RestoredOrder) -> None:
        report = item.report
        coid = report.client_order_id
        known = self._orders.knows(coid)
        check_restored_order(item, self._instruments.get(report.symbol), known)
        if not self._sim.has_account(report.account):
            raise InvalidRequest(f"restored order {coid}: unknown account {report.account!r}")
        notes = OrderNotes.restored(
            report.account,
            report.symbol,
            report.side,
            report.type,
            item.time_in_force,
            self._orders.next_arrival(),
            report.filled_qty,
            report.avg_fill_price,
            report.venue_order_id,
        )
        now = self.now_ns()
        expire = day_expiry_ns(report.ts) if item.time_in_force is TimeInForce.DAY else None
        ended: VenueEvent | None = None
        if item.time_in_force in _UNFILLED:
            code = _UNFILLED[item.time_in_force]
            seq = self._translator.next_seq()
            ended = VenueOrderCanceled(coid, code, "cannot rest", seq, now, report.filled_qty)
        elif expire is not None and expire <= now:
            code = ReasonCode.DAY_ORDER_EXPIRED
            ended = VenueOrderExpired(
                coid, code, self._translator.next_seq(), now, report.filled_qty
            )
        if ended is not None:
            status = (
                OrderStatus.CANCELED if item.time_in_force in _UNFILLED else OrderStatus.EXPIRED
            )
            self._orders.remember(
                coid, msgspec.structs.replace(report, status=status, ts=now), notes
            )
            self._stream.publish([ended])
            return
        self._orders.add(coid, notes)
        self._sim.submit(
            report.account,
            report.symbol,
            coid,
            report.side,
            report.type,
            report.qty - report.filled_qty,
            report.price,
            report.stop_price,
            item.time_in_force,
            item.reduce_only,
            expire,
        )
        self._stream_events(self._take(), answered=coid)

    # --- helpers -----------------------------------------------------------------------------

    def _build(self, balances: Mapping[str, Mapping[str, Decimal]], start_ns: int) -> Simulation:
        # Every account holds each quote currency it may pay fees or PnL in, if only 0.
        cash = {account: dict(amounts) for account, amounts in balances.items()}
        for amounts in cash.values():
            for instrument in self._instrument_list:
                amounts.setdefault(instrument.quote_currency, ZERO)
        return Simulation(
            self._instrument_list,
            cash,
            start_ns=start_ns,
            quote_size=self._quote_size,
            sink=self._inbox.append,
        )

    def _quote_of(self, update: SymbolUpdate, ts: int) -> Quote:
        """The update's last point as NautilusTrader holds it: on the tick."""
        point, instrument = update.points[-1], self._instruments[update.symbol]
        bid, ask = instrument.round_price(point.bid), instrument.round_price(point.ask)
        return Quote(update.symbol, bid, ask, update.last, ts)

    def _take(self) -> list[Any]:
        events = self._inbox[:]
        self._inbox.clear()
        return events

    def _stream_events(self, events: Sequence[Any], answered: str | None = None) -> None:
        """Translate and stream NautilusTrader's events, in their order. `answered`: the
        order whose acceptance the submit's receipt carries (its OrderAccepted is muted)."""
        out: list[VenueEvent] = []
        now = self.now_ns()
        touched: dict[str, OrderNotes] = {}
        for event in events:
            coid = client_order_id_of(event)
            open_notes = self._orders.open_notes(coid)
            if open_notes is not None:
                touched[coid] = open_notes
            notes = self._orders.notes(coid)
            if notes is None:
                continue  # a seeding order's
            if coid == answered and isinstance(event, OrderAccepted):
                answered = None
                continue
            order = self._sim.order(coid)
            venue_event = self._translator.translate(event, notes, order, now)
            if venue_event is not None:
                out.append(venue_event)
        # NautilusTrader's orders are already in their final state: close them once all
        # their events (and fills) are counted.
        for coid, notes in touched.items():
            order = self._sim.order(coid)
            if order is not None and order.is_closed:
                self._orders.close(coid, report_of(order, notes, coid))
        self._stream.publish(out)

    def _answer(self, client_order_id: str, request: str) -> None:
        """Stream what NautilusTrader answered a cancel or replace with; refuse the request
        if it answered nothing (its risk engine drops a command it cannot route)."""
        events = self._take()
        if not any(client_order_id_of(e) == client_order_id for e in events):
            raise RejectedByVenue(
                f"{request} of {client_order_id!r}: NautilusTrader answered nothing",
                code=ORDER_CLOSED,
            )
        self._stream_events(events)

    def _report(self, client_order_id: str) -> VenueOrderReport | None:
        notes = self._orders.open_notes(client_order_id)
        if notes is not None:
            order = self._sim.order(client_order_id)
            return None if order is None else report_of(order, notes, client_order_id)
        return self._orders.closed_report(client_order_id)

    def _known_order(
        self, account: str, symbol: str, client_order_id: str
    ) -> tuple[Any, OrderNotes]:
        """NautilusTrader's order and its notes, for a cancel or replace of ordergate's."""
        notes = self._orders.notes(client_order_id)
        if notes is None or (notes.account, notes.symbol) != (account, symbol):
            raise RejectedByVenue(
                f"no order {client_order_id!r} for {account}/{symbol}", code=ORDER_NOT_FOUND
            )
        order = self._sim.order(client_order_id)
        if order is None:  # closed long ago: NautilusTrader no longer holds it
            raise RejectedByVenue(f"order {client_order_id!r} is closed", code=ORDER_CLOSED)
        return order, notes

    def _reject_unknown(self, request: VenueOrderRequest) -> SubmitReceipt:
        """Reject, on the stream as the paper venue does, an order for an account or a
        symbol this venue does not trade."""
        what = (
            f"unknown account {request.account!r}"
            if not self._sim.has_account(request.account)
            else f"unknown symbol {request.symbol!r}"
        )
        now = self.now_ns()
        coid = request.client_order_id
        notes = OrderNotes(
            request.account,
            request.symbol,
            request.side,
            request.type,
            request.time_in_force,
            self._orders.next_arrival(),
        )
        report = VenueOrderReport(
            coid,
            None,
            request.account,
            request.symbol,
            request.side,
            request.type,
            request.qty,
            request.price,
            request.stop_price,
            OrderStatus.REJECTED,
            ZERO,
            None,
            now,
        )
        self._orders.remember(coid, report, notes)
        seq = self._translator.next_seq()
        self._stream.publish([VenueOrderRejected(coid, ReasonCode.VENUE_REJECTED, what, seq, now)])
        return SubmitReceipt(None, accepted=False)

    def _require_connection(self) -> None:
        if not self._connected:
            raise RetryableVenueError(f"venue {self.name} is not connected")
