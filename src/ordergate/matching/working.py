"""The working orders of the paper venue and the rules that fill them.

Holds market-data time, the venue's event sequence, the latest prices, every open order
(indexed per symbol by `RestingOrders`) and the DAY orders by acceptance date. It acts
on an order when it arrives (or is replaced) and at every point of every step:

- arrival: a market order fills at once at the ask / bid plus slippage; with no price
  yet it waits and fills at the next point. A limit marketable on arrival fills at once
  at the ask / bid as taker, else rests. A stop already touched triggers at once.
- step: DAY orders accepted on an earlier UTC date than the step's expire first; then
  each symbol's points are walked in order and, at each point, the orders that could act
  in the step act in arrival order: a waiting market order fills, a stop triggers, a
  touched limit fills as maker (prices: `rules`).
- trigger: a stop fills at once as taker whatever its time in force; a stop-limit
  becomes a limit, filled as taker at the trigger price if marketable there, else
  IOC / FOK cancel and the rest wait as a limit.
- IOC cancels what did not fill at once (`IOC_UNFILLED`); FOK fills all at once or
  nothing (`FOK_UNFILLED`).
- taker fills are complete; a maker fill takes at most `max_passive_qty_per_step` of one
  order per step (if set), the rest waits for later steps.
- reduce-only: a fill is capped at the size that flattens the position. Flat or on the
  order's side when it would fill, the order is canceled (`REDUCE_ONLY_CANCELED`); a
  fill cut short by the cap cancels the remainder (it could only open a position); a FOK
  larger than the position is `FOK_UNFILLED` with no fill.
- fees: notional x the maker or taker rate, in the quote currency, booked with the
  realized PnL in the ledger.
- prices: a venue trades on its tick, so market data off the instrument's grid (a bar at
  46821.75 on a 0.1 tick) is snapped to the nearest tick, half to even, before anything
  matches or is quoted: NautilusTrader does the same, and unsnapped the venue filled at
  prices no order could carry (found by `ordergate parity`).
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping
from decimal import Decimal

from ordergate.domain.events import OrderFilled
from ordergate.domain.instruments import Instrument
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, LiquiditySide, OrderStatus, OrderType, TimeInForce
from ordergate.engine.venue_reports import (
    Quote,
    VenueEvent,
    VenueFill,
    VenueOrderCanceled,
    VenueOrderExpired,
)
from ordergate.matching.book import PaperOrder, RestingOrders
from ordergate.matching.feed import FeedStep, SymbolUpdate
from ordergate.matching.ledger import PaperLedger
from ordergate.matching.marketdata import NS_PER_DAY, MarketDataError, PricePoint, format_timestamp
from ordergate.matching.rules import (
    ExecutionRules,
    is_marketable,
    is_triggered,
    taker_price,
    trigger_price,
    with_slippage,
)

_UNFILLED = {TimeInForce.IOC: ReasonCode.IOC_UNFILLED, TimeInForce.FOK: ReasonCode.FOK_UNFILLED}


class WorkingOrders:
    """Open orders, prices and time of the paper venue; fills orders as the market moves."""

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        rules: Mapping[str, ExecutionRules],
        ledger: PaperLedger,
        *,
        session: str,
        start_ns: int,
    ) -> None:
        self._instruments = instruments
        self._rules = rules
        self._ledger = ledger
        self._session = session
        self._now = start_ns
        self._venue_seq = 0
        self._trade_count = 0
        self._open: dict[str, dict[int, PaperOrder]] = {}
        self._books = {symbol: RestingOrders() for symbol in instruments}
        self._day_heap: list[tuple[int, int]] = []
        self._day_orders: dict[int, PaperOrder] = {}
        self._last: dict[str, SymbolUpdate] = {}
        # Margin reserved by open orders per (account, currency), kept in step by `_sync`
        # so a margin check does not walk every open order.
        self._reserved: dict[tuple[str, str], Decimal] = {}

    @property
    def now_ns(self) -> int:
        return self._now

    def next_seq(self) -> int:
        """The next venue sequence number (one counter for every event of the venue)."""
        self._venue_seq += 1
        return self._venue_seq

    # --- prices --------------------------------------------------------------------------

    def point(self, symbol: str) -> PricePoint | None:
        """The current prices of `symbol`: the last point of its last step."""
        update = self._last.get(symbol)
        return None if update is None else update.points[-1]

    def quote(self, symbol: str) -> Quote | None:
        update = self._last.get(symbol)
        if update is None:
            return None
        point = update.points[-1]
        return Quote(symbol, point.bid, point.ask, update.last, update.ts)

    def mark(self, symbol: str) -> Decimal | None:
        update = self._last.get(symbol)
        return None if update is None else update.last

    def skip_to(self, ts: int, latest: tuple[SymbolUpdate, ...]) -> None:
        """Take prices from skipped steps without matching, and move the clock to `ts`."""
        for update in latest:
            self._last[update.symbol] = self._on_tick(update)
        self._now = max(self._now, ts)

    # --- orders ----------------------------------------------------------------------------

    def open_orders(self, account: str) -> Mapping[int, PaperOrder]:
        """Open orders of `account` by priority (arrival order)."""
        return self._open.get(account, {})

    def open_count(self) -> int:
        return sum(len(orders) for orders in self._open.values())

    def reserved_margin(self, order: PaperOrder) -> Decimal:
        """Margin an open order reserves: its remainder at its own price (none if unpriced)."""
        price = order.reserve_price
        if price is None or order.reduce_only or not order.is_open:
            return ZERO
        return self._instruments[order.symbol].initial_margin(order.leaves_qty, price)

    def reserved_total(
        self, account: str, currency: str, exclude: PaperOrder | None = None
    ) -> Decimal:
        """Margin the account's open orders reserve in `currency` (less `exclude`'s)."""
        total = self._reserved.get((account, currency), ZERO)
        return total - self.counted_margin(exclude) if exclude is not None else total

    def counted_margin(self, order: PaperOrder) -> Decimal:
        """The margin `order` is counted with in its account's reserved total: valued again,
        exactly as when it was counted (the same numbers; the paper venue's instruments do
        not change)."""
        if order.counted_price is None:
            return ZERO
        leaves = order.counted_qty - order.counted_filled
        return self._instruments[order.symbol].initial_margin(leaves, order.counted_price)

    def _sync(self, order: PaperOrder) -> None:
        """Bring the reserved total in step with `order` after it changed (idempotent)."""
        margin = self.reserved_margin(order)
        delta = margin - self.counted_margin(order)
        if delta:
            key = (order.account, self._instruments[order.symbol].quote_currency)
            self._reserved[key] = self._reserved.get(key, ZERO) + delta
            if margin:  # valued as `reserved_margin` valued it
                order.counted_qty, order.counted_filled = order.qty, order.filled_qty
                order.counted_price = order.reserve_price
            else:
                order.counted_price = None

    def accept(self, order: PaperOrder, events: list[VenueEvent]) -> None:
        """Start working a new order: fill, trigger or rest it at the current price."""
        self._open.setdefault(order.account, {})[order.priority] = order
        self._activate(order, events)
        self._sync(order)

    def reactivate(self, order: PaperOrder, events: list[VenueEvent]) -> None:
        """Work a replaced order again from the current price (it may now fill)."""
        self._sync(order)
        if order.leaves_qty == ZERO:
            order.status = OrderStatus.FILLED
            self._retire(order)
            return
        self._books[order.symbol].remove(order)
        self._activate(order, events)
        self._sync(order)

    def reinstate(self, order: PaperOrder, events: list[VenueEvent]) -> None:
        """Rest a restored order as it was, without matching it now.

        An IOC or FOK order cannot rest: it gets the cancel it would have had at once.
        """
        self._open.setdefault(order.account, {})[order.priority] = order
        self._rest_or_cancel(order, events)
        self._sync(order)

    def cancel(
        self, order: PaperOrder, code: str | None, reason: str | None, events: list[VenueEvent]
    ) -> None:
        order.status = OrderStatus.CANCELED
        order.ts = self._now
        self._retire(order)
        events.append(
            VenueOrderCanceled(
                order.client_order_id, code, reason, self.next_seq(), self._now, order.filled_qty
            )
        )

    # --- steps ----------------------------------------------------------------------------

    def apply_step(self, step: FeedStep) -> list[VenueEvent]:
        """Move to the step's time, expire DAY orders, and match every symbol's points."""
        if step.ts < self._now:
            raise MarketDataError(
                f"step at {format_timestamp(step.ts)} is before the venue's time "
                f"{format_timestamp(self._now)}"
            )
        self._now = step.ts
        events: list[VenueEvent] = []
        day = step.ts // NS_PER_DAY
        if self._day_heap and self._day_heap[0][0] < day:
            self._expire_day_orders(day, events)
        for update in step.updates:
            update = self._on_tick(update)
            book = self._books.get(update.symbol)
            if book:
                self._match(book, update, events)
            self._last[update.symbol] = update
        return events

    def _on_tick(self, update: SymbolUpdate) -> SymbolUpdate:
        """`update` with every price on its instrument's tick (itself when all are)."""
        instrument = self._instruments.get(update.symbol)
        if instrument is None:
            return update
        tick = instrument.tick_size
        for point in update.points:
            if point.bid % tick or point.ask % tick:
                break
        else:
            return update
        points = tuple(
            PricePoint(instrument.round_price(p.bid), instrument.round_price(p.ask))
            for p in update.points
        )
        return SymbolUpdate(update.symbol, update.ts, points, update.last)

    def _match(self, book: RestingOrders, update: SymbolUpdate, events: list[VenueEvent]) -> None:
        points = update.points
        bids = [point.bid for point in points]
        asks = [point.ask for point in points]
        candidates = book.candidates(min(bids), max(bids), min(asks), max(asks))
        for index, point in enumerate(points):
            gap = index == 0
            for order in candidates:
                if not order.is_open:
                    continue
                if order.is_stop_pending:
                    if is_triggered(order.side, _stop_of(order), point):
                        self._trigger(order, point, gap, events)
                elif order.price is None:
                    self._take(order, self._slipped(order, taker_price(order.side, point)), events)
                elif is_marketable(order.side, order.price, point):
                    self._make(order, order.price, update.ts, events)

    def _expire_day_orders(self, day: int, events: list[VenueEvent]) -> None:
        heap = self._day_heap
        while heap and heap[0][0] < day:
            _, priority = heapq.heappop(heap)
            order = self._day_orders.pop(priority)
            if order.is_open:
                order.status = OrderStatus.EXPIRED
                order.ts = self._now
                self._retire(order)
                code = ReasonCode.DAY_ORDER_EXPIRED
                events.append(
                    VenueOrderExpired(
                        order.client_order_id, code, self.next_seq(), self._now, order.filled_qty
                    )
                )

    # --- rules -----------------------------------------------------------------------------

    def _activate(self, order: PaperOrder, events: list[VenueEvent]) -> None:
        point = self.point(order.symbol)
        if order.is_stop_pending:
            if point is not None and is_triggered(order.side, _stop_of(order), point):
                self._trigger(order, point, True, events)
            else:
                self._rest(order)
        elif point is None:
            self._rest_or_cancel(order, events)
        elif order.price is None:
            self._take(order, self._slipped(order, taker_price(order.side, point)), events)
        elif is_marketable(order.side, order.price, point):
            self._take(order, taker_price(order.side, point), events)
        else:
            self._rest_or_cancel(order, events)

    def _trigger(
        self, order: PaperOrder, point: PricePoint, gap: bool, events: list[VenueEvent]
    ) -> None:
        order.triggered = True
        price = trigger_price(order.side, _stop_of(order), point, gap)
        if order.type is OrderType.STOP:
            self._take(order, self._slipped(order, price), events)
        elif order.price is not None and is_marketable(
            order.side, order.price, PricePoint(price, price)
        ):
            self._take(order, price, events)
        else:
            self._rest_or_cancel(order, events)

    def _take(self, order: PaperOrder, price: Decimal, events: list[VenueEvent]) -> None:
        """Fill the whole remainder as taker, unless reduce-only or FOK says otherwise."""
        qty = order.leaves_qty
        room = self._reduce_room(order) if order.reduce_only else qty
        if room == ZERO:
            self.cancel(order, ReasonCode.REDUCE_ONLY_CANCELED, "no position to reduce", events)
        elif room < qty and order.time_in_force is TimeInForce.FOK:
            self.cancel(order, ReasonCode.FOK_UNFILLED, "position smaller than the order", events)
        else:
            self._fill(order, min(qty, room), price, LiquiditySide.TAKER, events)
            if room < qty:
                self.cancel(order, ReasonCode.REDUCE_ONLY_CANCELED, "position closed", events)

    def _make(
        self, order: PaperOrder, price: Decimal, step_ts: int, events: list[VenueEvent]
    ) -> None:
        """Fill a touched resting order as maker, within the per-step liquidity cap."""
        qty = order.leaves_qty
        cap = self._rules[order.symbol].max_passive_qty_per_step
        if cap is not None:
            if order.cap_step_ts != step_ts:
                order.cap_step_ts, order.cap_used = step_ts, ZERO
            qty = min(qty, cap - order.cap_used)
            if qty <= ZERO:
                return
        room = self._reduce_room(order) if order.reduce_only else qty
        if room == ZERO:
            self.cancel(order, ReasonCode.REDUCE_ONLY_CANCELED, "no position to reduce", events)
            return
        filled = min(qty, room)
        order.cap_used += filled
        self._fill(order, filled, price, LiquiditySide.MAKER, events)
        if room < qty:
            self.cancel(order, ReasonCode.REDUCE_ONLY_CANCELED, "position closed", events)

    def _fill(
        self,
        order: PaperOrder,
        qty: Decimal,
        price: Decimal,
        liquidity: LiquiditySide,
        events: list[VenueEvent],
    ) -> None:
        instrument = self._instruments[order.symbol]
        maker = liquidity is LiquiditySide.MAKER
        rate = instrument.maker_fee_rate if maker else instrument.taker_fee_rate
        fee = instrument.notional(qty, price) * rate
        ccy = instrument.quote_currency
        self._trade_count += 1
        trade_id = f"{self._session}-T{self._trade_count}"
        order.filled_qty += qty
        order.filled_notional += qty * price
        order.ts = self._now
        done = order.leaves_qty == ZERO
        order.status = OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED
        fill = OrderFilled(
            order.venue_order_id,
            order.account,
            order.symbol,
            order.side,
            trade_id,
            qty,
            price,
            fee,
            ccy,
            liquidity,
            self._now,
        )
        self._ledger.apply_fill(fill)
        events.append(
            VenueFill(
                client_order_id=order.client_order_id,
                account=order.account,
                symbol=order.symbol,
                side=order.side,
                trade_id=trade_id,
                qty=qty,
                price=price,
                fee=fee,
                fee_currency=ccy,
                liquidity=liquidity,
                venue_seq=self.next_seq(),
                ts=self._now,
            )
        )
        if done:
            self._retire(order)
        else:
            self._sync(order)

    def _rest_or_cancel(self, order: PaperOrder, events: list[VenueEvent]) -> None:
        code = _UNFILLED.get(order.time_in_force)
        if code is None:
            self._rest(order)
        else:
            self.cancel(order, code, f"{order.time_in_force} order not filled at once", events)

    def _rest(self, order: PaperOrder) -> None:
        self._books[order.symbol].add(order)
        if order.time_in_force is TimeInForce.DAY and order.priority not in self._day_orders:
            self._day_orders[order.priority] = order
            heapq.heappush(self._day_heap, (order.accepted_day, order.priority))

    def _retire(self, order: PaperOrder) -> None:
        self._books[order.symbol].remove(order)
        self._open.get(order.account, {}).pop(order.priority, None)
        self._sync(order)

    def _reduce_room(self, order: PaperOrder) -> Decimal:
        """How much of `order` only reduces the position: zero if flat or on its side."""
        position = self._ledger.position_qty(order.account, order.symbol)
        if position == ZERO or (position > ZERO) == (order.side.sign > 0):
            return ZERO
        return abs(position)

    def _slipped(self, order: PaperOrder, price: Decimal) -> Decimal:
        tick = self._instruments[order.symbol].tick_size
        slippage = tick * self._rules[order.symbol].slippage_ticks
        return with_slippage(order.side, price, slippage, tick)


def _stop_of(order: PaperOrder) -> Decimal:
    stop = order.stop_price
    if stop is None:  # a stop type always has one (checked on submit)
        raise ValueError(f"order {order.client_order_id} has no stop price")
    return stop
