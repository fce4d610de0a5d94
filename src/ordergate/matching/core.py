"""The paper venue's matching core: pure, synchronous and deterministic.

Same input, same fills: no clock (time is the market-data time of the last step), no
randomness, and no dict or set order in any decision. Every method returns the venue
events it produced, in order, each with the next `venue_seq` (one counter for the whole
venue) and `ts` = the current market-data time. How orders fill is in `working` (and
fill prices in `rules`); this module takes requests, keeps every order the venue ever
had, checks margin, answers queries and re-seeds after a restart.

- Submit: a duplicate client order id (per account) raises `RejectedByVenue`
  (`DUPLICATE_CLIENT_ORDER_ID`) and creates nothing. Any other refusal (unknown account
  or symbol, off-grid terms, notional below the minimum, `VENUE_INSUFFICIENT_MARGIN`) is
  a `VenueOrderRejected` on the stream, and the order is kept as REJECTED for queries.
  Otherwise `VenueOrderAccepted`, then whatever the order does on arrival.
- Margin: an order that is not reduce-only needs the initial margin of the part that
  does not reduce the position (domain `margin_needed`), valued at its limit price, its
  stop price, or the current price for a market order. Free margin in the quote
  currency = cash + unrealized PnL at the last prices - position margin - the margin
  the account's open orders reserve (remainder x own price; reduce-only and unpriced
  market orders reserve none). A market order that arrives before its symbol has any
  price is not checked.
- Cancel / replace refusals raise `RejectedByVenue` (`ORDER_NOT_FOUND`, `ORDER_CLOSED`,
  `REPLACE_BELOW_FILLED`, `ORDER_NOT_REPLACEABLE`, `VENUE_INSUFFICIENT_MARGIN`); this
  venue never emits `VenueCancelRejected` or `VenueReplaceRejected`. A replace applies
  at once (a None price keeps the current one), keeps the order's arrival priority, is
  checked for margin only if it reserves more, and is worked again from the current
  price (a limit that now crosses fills). Replacing the quantity down to the filled
  quantity completes the order as FILLED.
- Ids: `{session}-O{n}` for orders and `{session}-T{n}` for trades; ordergate passes a
  new session at each start, so ids stay unique across restarts.
- Triggers: a stop or stop-limit that triggers emits no event of its own (a stop-limit
  that rests after its trigger emits nothing at all); `has_triggered` tells a venue
  that reports the trigger (the Bybit simulator's `Triggered` status) that it happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Final

from ordergate.domain.errors import InvalidRequest, RejectedByVenue
from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, OrderStatus
from ordergate.engine.venue_reports import (
    Quote,
    VenueBalance,
    VenueEvent,
    VenueOrderAccepted,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueOrderReport,
    VenueOrderRequest,
    VenuePosition,
)
from ordergate.matching.book import PaperOrder
from ordergate.matching.checks import (
    DUPLICATE_CLIENT_ORDER_ID,
    ORDER_CLOSED,
    ORDER_NOT_FOUND,
    Refusal,
    check_request,
    check_terms,
)
from ordergate.matching.feed import FeedStep, SymbolUpdate
from ordergate.matching.ledger import PaperLedger
from ordergate.matching.marketdata import NS_PER_DAY
from ordergate.matching.restore import RestoredOrder, check_restored_order
from ordergate.matching.rules import ExecutionRules, taker_price
from ordergate.matching.working import WorkingOrders

# Closed orders the venue still answers for (queries, duplicate client order ids), and how
# often (in orders placed) it forgets the older ones.
CLOSED_ORDER_HISTORY: Final = 10_000
FORGET_EVERY: Final = 1024


class MatchingEngine:
    """A simulated exchange: orders, cash and positions, moved by steps of market data."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        balances: Mapping[str, Mapping[str, Decimal]],
        *,
        session: str,
        rules: Mapping[str, ExecutionRules] | None = None,
        start_ns: int = 0,
        history: int = CLOSED_ORDER_HISTORY,
    ) -> None:
        """Create the books: `balances` is the cash per account and currency, `session`
        makes ids unique across restarts, `start_ns` is the time before the first step,
        `history` how many closed orders it still answers for (a venue forgets too)."""
        by_symbol = {instrument.symbol: instrument for instrument in instruments}
        if len(by_symbol) != len(instruments):
            raise InvalidRequest("instruments repeat a symbol")
        rules = rules or {}
        unknown = sorted(set(rules) - set(by_symbol))
        if unknown:
            raise InvalidRequest(f"execution rules for unknown symbols: {unknown}")
        self._instruments = by_symbol
        self._ledger = PaperLedger(by_symbol, balances)
        self._working = WorkingOrders(
            by_symbol,
            {symbol: rules.get(symbol, ExecutionRules()) for symbol in by_symbol},
            self._ledger,
            session=session,
            start_ns=start_ns,
        )
        self._session = session
        self._order_count = 0
        self._priority = 0
        self._history = history
        self._orders: dict[tuple[str, str], PaperOrder] = {}
        # Venue order ids of restored orders (an earlier run's may share this session's
        # prefix). Ids made for submits need no set: the counter keeps them unique.
        self._restored_ids: set[str] = set()

    @property
    def now_ns(self) -> int:
        """Market-data time: the last step's, or the start time before any."""
        return self._working.now_ns

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        return self._instruments

    # --- requests ----------------------------------------------------------------------------

    def submit(
        self, request: VenueOrderRequest, *, stream_ack: bool = True
    ) -> tuple[str, list[VenueEvent]]:
        """Take an order; return its venue order id and the events it produced.

        With `stream_ack` False, an acceptance produces no event (and uses no sequence
        number): the caller answers it synchronously instead. A rejection is always an
        event.
        """
        key = (request.account, request.client_order_id)
        if key in self._orders:
            raise RejectedByVenue(
                f"client order id {request.client_order_id!r} already used",
                code=DUPLICATE_CLIENT_ORDER_ID,
            )
        now = self.now_ns
        order = PaperOrder(
            priority=self._next_priority(),
            venue_order_id=self._next_order_id(),
            client_order_id=request.client_order_id,
            account=request.account,
            symbol=request.symbol,
            side=request.side,
            type=request.type,
            qty=request.qty,
            price=request.price,
            stop_price=request.stop_price,
            time_in_force=request.time_in_force,
            reduce_only=request.reduce_only,
            accepted_day=now // NS_PER_DAY,
            ts=now,
        )
        self._orders[key] = order
        if self._order_count % FORGET_EVERY == 0:
            self._forget_closed()
        reference = order.reserve_price
        point = self._working.point(request.symbol)
        if reference is None and point is not None:
            reference = taker_price(order.side, point)
        account_known = self._ledger.has_account(request.account)
        instrument = self._instruments.get(request.symbol)
        refusal = check_request(request, instrument, account_known, reference)
        if refusal is None and reference is not None and not order.reduce_only:
            refusal = self._check_margin(order, order.qty, reference)
        events: list[VenueEvent] = []
        if refusal is not None:
            order.status = OrderStatus.REJECTED
            seq = self._working.next_seq()
            events.append(
                VenueOrderRejected(order.client_order_id, refusal.code, refusal.reason, seq, now)
            )
        else:
            if stream_ack:
                seq = self._working.next_seq()
                events.append(
                    VenueOrderAccepted(order.client_order_id, order.venue_order_id, seq, now)
                )
            self._working.accept(order, events)
        return order.venue_order_id, events

    def cancel(self, account: str, symbol: str, client_order_id: str) -> list[VenueEvent]:
        """Cancel an open order; raise `RejectedByVenue` if it is unknown or closed."""
        order = self._open_order(account, symbol, client_order_id)
        events: list[VenueEvent] = []
        self._working.cancel(order, None, None, events)
        return events

    def replace(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
    ) -> list[VenueEvent]:
        """Amend an open order's quantity and prices (None keeps a price)."""
        order = self._open_order(account, symbol, client_order_id)
        if qty < order.filled_qty:
            raise RejectedByVenue(
                f"quantity {qty} is below the filled {order.filled_qty}",
                code=ReasonCode.REPLACE_BELOW_FILLED,
            )
        for name, value, used in (
            ("price", price, order.type.needs_price),
            ("stop price", stop_price, order.type.needs_stop_price),
        ):
            if value is not None and not used:
                raise RejectedByVenue(
                    f"a {order.type} order has no {name}", code=ReasonCode.ORDER_NOT_REPLACEABLE
                )
        new_price = order.price if price is None else price
        new_stop = order.stop_price if stop_price is None else stop_price
        if qty != order.filled_qty:
            instrument = self._instruments[order.symbol]
            refusal = check_terms(instrument, order.type, qty, new_price, new_stop)
            if refusal is not None:
                raise RejectedByVenue(refusal.reason, code=ReasonCode.ORDER_NOT_REPLACEABLE)
        self._check_replace_margin(order, qty, new_price if new_price is not None else new_stop)
        now = self.now_ns
        order.qty, order.price, order.stop_price, order.ts = qty, new_price, new_stop, now
        seq = self._working.next_seq()
        events: list[VenueEvent] = [
            VenueOrderReplaced(order.client_order_id, qty, new_price, new_stop, seq, now)
        ]
        self._working.reactivate(order, events)
        return events

    # --- market data -------------------------------------------------------------------------

    def apply_step(self, step: FeedStep) -> list[VenueEvent]:
        """Match one feed step; return the events it produced."""
        return self._working.apply_step(step)

    def skip_to(self, ts: int, latest: tuple[SymbolUpdate, ...]) -> None:
        """After a feed seek: take the skipped steps' last prices, set the clock to `ts`."""
        self._working.skip_to(ts, latest)

    def quote(self, symbol: str) -> Quote | None:
        """The symbol's prices after the last step that had it, or None before any."""
        return self._working.quote(symbol)

    # --- queries -----------------------------------------------------------------------------

    def order_report(
        self, account: str, symbol: str, client_order_id: str
    ) -> VenueOrderReport | None:
        """Any order the venue ever had (open or closed), or None."""
        order = self._orders.get((account, client_order_id))
        if order is None or order.symbol != symbol:
            return None
        return order.report()

    def has_triggered(self, account: str, client_order_id: str) -> bool:
        """Whether a stop or stop-limit order has triggered (False for an unknown order and
        for every other type)."""
        order = self._orders.get((account, client_order_id))
        return order is not None and order.triggered

    def open_orders(self, account: str, symbol: str | None = None) -> list[VenueOrderReport]:
        """Open orders of `account` (optionally of one symbol), in arrival order."""
        orders = self._working.open_orders(account)
        return [
            orders[priority].report()
            for priority in sorted(orders)
            if symbol is None or orders[priority].symbol == symbol
        ]

    def positions(self, account: str) -> list[VenuePosition]:
        return self._ledger.positions(account)

    def balances(self, account: str) -> list[VenueBalance]:
        return self._ledger.balances(account)

    def order_margin(self, account: str, currency: str) -> Decimal:
        """Initial margin the account's open orders reserve in `currency`, as margin checks
        count it (a venue that reports account figures shows the same number)."""
        return self._working.reserved_total(account, currency)

    # --- restart -----------------------------------------------------------------------------

    def restore(
        self,
        open_orders: Sequence[VenueOrderReport | RestoredOrder],
        positions: Sequence[VenuePosition],
        balances: Sequence[VenueBalance],
    ) -> list[VenueEvent]:
        """Re-seed a fresh venue with ordergate's view after a restart.

        Balances replace cash; positions reopen at their average price; open orders rest
        again with their ids, filled quantity and average price, and are matched from
        the next step on. A plain report restores as GTC and not reduce-only (a report
        does not carry those terms): wrap it in `RestoredOrder` to say otherwise. The
        only events are the cancels of restored IOC / FOK orders, which cannot rest.
        """
        if self._orders or self._ledger.has_positions():
            raise InvalidRequest("restore needs a venue with no orders and no positions")
        for balance in sorted(balances, key=lambda b: (b.account, b.currency)):
            self._ledger.set_balance(balance.account, balance.currency, balance.balance)
        for position in sorted(positions, key=lambda p: (p.account, p.symbol)):
            self._ledger.restore_position(position, self.now_ns)
        restored = [
            item if isinstance(item, RestoredOrder) else RestoredOrder(item) for item in open_orders
        ]
        restored.sort(key=lambda r: (r.report.ts, r.report.account, r.report.client_order_id))
        events: list[VenueEvent] = []
        for item in restored:
            self._restore_order(item, events)
        return events

    def _restore_order(self, item: RestoredOrder, events: list[VenueEvent]) -> None:
        report = item.report
        key = (report.account, report.client_order_id)
        check_restored_order(item, self._instruments.get(report.symbol), key in self._orders)
        venue_order_id = report.venue_order_id or self._next_order_id()
        if venue_order_id in self._restored_ids:  # restore comes before any submit
            raise InvalidRequest(f"venue order id {venue_order_id} restored twice")
        avg = report.avg_fill_price
        order = PaperOrder(
            priority=self._next_priority(),
            venue_order_id=venue_order_id,
            client_order_id=report.client_order_id,
            account=report.account,
            symbol=report.symbol,
            side=report.side,
            type=report.type,
            qty=report.qty,
            price=report.price,
            stop_price=report.stop_price,
            time_in_force=item.time_in_force,
            reduce_only=item.reduce_only,
            accepted_day=report.ts // NS_PER_DAY,
            ts=report.ts,
            status=report.status,
            filled_qty=report.filled_qty,
            filled_notional=ZERO if avg is None else avg * report.filled_qty,
        )
        self._ledger.open_account(order.account)
        self._orders[key] = order
        self._restored_ids.add(venue_order_id)
        self._working.reinstate(order, events)

    # --- helpers -----------------------------------------------------------------------------

    def _check_margin(
        self, order: PaperOrder, qty: Decimal, price: Decimal, exclude: PaperOrder | None = None
    ) -> Refusal | None:
        """Refuse `qty` of `order` at `price` if the account's free margin is short."""
        needed = self._ledger.margin_needed(order.account, order.symbol, order.side, qty, price)
        if needed == ZERO:
            return None
        ccy = self._instruments[order.symbol].quote_currency
        reserved = self._working.reserved_total(order.account, ccy, exclude)
        free = self._ledger.free_margin(order.account, ccy, reserved, self._working.mark)
        if needed <= free:
            return None
        return Refusal(
            ReasonCode.VENUE_INSUFFICIENT_MARGIN,
            f"initial margin {needed} {ccy} exceeds free margin {free} {ccy}",
        )

    def _check_replace_margin(self, order: PaperOrder, qty: Decimal, price: Decimal | None) -> None:
        """Refuse a replace that reserves more margin than the account has free."""
        if order.reduce_only or price is None:
            return
        new_leaves = qty - order.filled_qty
        instrument = self._instruments[order.symbol]
        if instrument.initial_margin(new_leaves, price) <= self._working.reserved_margin(order):
            return
        refusal = self._check_margin(order, new_leaves, price, exclude=order)
        if refusal is not None:
            raise RejectedByVenue(refusal.reason, code=refusal.code)

    def _open_order(self, account: str, symbol: str, client_order_id: str) -> PaperOrder:
        order = self._orders.get((account, client_order_id))
        if order is None or order.symbol != symbol:
            raise RejectedByVenue(
                f"no order {client_order_id!r} for {account}/{symbol}", code=ORDER_NOT_FOUND
            )
        if not order.is_open:
            raise RejectedByVenue(f"order {client_order_id!r} is {order.status}", code=ORDER_CLOSED)
        return order

    def _forget_closed(self) -> None:
        """Forget the oldest closed orders beyond `history`, as a venue's order history
        ends somewhere: memory stays bounded by what is open and recent."""
        excess = len(self._orders) - self._working.open_count() - self._history
        forgotten = []
        for key, order in self._orders.items():
            if excess <= 0:
                break
            if not order.is_open:
                forgotten.append(key)
                excess -= 1
        for key in forgotten:
            self._restored_ids.discard(self._orders.pop(key).venue_order_id)

    def _next_priority(self) -> int:
        self._priority += 1
        return self._priority

    def _next_order_id(self) -> str:
        while True:
            self._order_count += 1
            venue_order_id = f"{self._session}-O{self._order_count}"
            if venue_order_id not in self._restored_ids:
                return venue_order_id
