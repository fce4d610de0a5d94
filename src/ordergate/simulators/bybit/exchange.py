"""The simulated Bybit account: the paper matching engine wrapped in Bybit's records.

Every request and market step goes to the paper `MatchingEngine`; the `VenueEvent`s it
returns are translated into Bybit order, execution, position and wallet records, kept
for queries and handed to listeners (the private websocket) as one batch per request
or step. Matching, margin and positions are the engine's; this module adds what Bybit
has on top:

- ids: `orderId` and `execId` are deterministic UUIDs (`IdSource`); the engine knows
  an order by its `orderId` (its client order id), so orders without an `orderLinkId`
  work too. An `orderLinkId` is unique among all orders the account ever placed
  (`110072`), including ones closed long ago.
- refusals answered synchronously, creating nothing: a duplicate `orderLinkId`, a
  reduce-only order with nothing to reduce (`110017`), more than 500 open orders on a
  symbol (`110020`), a notional under the minimum (`110094`) and, from the engine, a
  margin shortfall (`110007`).
- PostOnly: a post-only limit that would take liquidity is created and cancelled at
  once (`EC_PostOnlyWillTakeLiquidity`), without reaching the engine; otherwise it
  works as GTC, and an amend that would make it take is refused (`10001`). Market
  orders work as IOC, as on Bybit.
- `seq`: per symbol, +1 for each execution of the account (the first is 1). An
  execution carries its number; the position update sent after it carries the same
  number, so a consumer that tracks `seq` per symbol sees a gap when a message is lost.
- batches: per order, an acceptance followed in the same batch by a fill or cancel is
  reported only by its later states (Bybit reports a market order as Filled, not New
  then Filled). A batch that changed anything ends with a wallet snapshot.
- conditional orders (see `conditional`): worked by the engine as stops and
  stop-limits, recorded `Untriggered`. When one triggers, its `Triggered` state is
  streamed before what follows in the same batch (its fill, or `New` if it rests as a
  limit); the engine emits nothing for a trigger, so the exchange asks it
  (`has_triggered`) about every order still waiting. Cancelled before it triggered, an
  order ends `Deactivated`. Amending one may change its quantity, limit price and, until
  it triggers, its trigger price. Like every engine order, an untriggered one reserves
  margin (at its limit, else its trigger price), where Bybit reserves none until it
  triggers. Its executions say `stopOrderType` Stop and `createType`
  CreateByStopOrder.
- times are the wall clock (`clock`), in ms; the engine's clock follows it, one market
  step at a time.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from decimal import Decimal
from typing import Final

from ordergate.domain.errors import RejectedByVenue
from ordergate.domain.events import OrderFilled
from ordergate.domain.positions import PositionBook
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, LiquiditySide, OrderType, Side
from ordergate.domain.values import TimeInForce as EngineTimeInForce
from ordergate.engine.venue_reports import (
    Quote,
    VenueEvent,
    VenueFill,
    VenueOrderAccepted,
    VenueOrderCanceled,
    VenueOrderExpired,
    VenueOrderRejected,
    VenueOrderReplaced,
    VenueOrderRequest,
)
from ordergate.matching import ExecutionRules, FeedStep, MatchingEngine, SymbolUpdate
from ordergate.matching.marketdata import PricePoint
from ordergate.matching.rules import is_marketable
from ordergate.simulators.bybit.admission import (
    Amendment,
    NewOrder,
    OrderRef,
    check_notional,
    check_terms,
)
from ordergate.simulators.bybit.conditional import (
    check_order_count,
    check_trigger,
    engine_order_type,
)
from ordergate.simulators.bybit.config import InstrumentSpec
from ordergate.simulators.bybit.errors import BybitError, RetCode, params_error
from ordergate.simulators.bybit.quotes import QuoteBoard, SessionStats
from ordergate.simulators.bybit.records import (
    CANCEL_BY_REDUCE_ONLY,
    CANCEL_BY_USER,
    CANCEL_UNKNOWN,
    REJECT_NO_FULL_FILL,
    REJECT_NO_IMMEDIATE_QTY,
    REJECT_NONE,
    REJECT_PER_CANCEL_REQUEST,
    REJECT_POST_ONLY_WOULD_TAKE,
    ExecutionRecord,
    OrderRecord,
    OrderStatus,
    PositionRecord,
    StreamItem,
    TimeInForce,
    Trigger,
    WalletRecord,
)
from ordergate.simulators.bybit.valuation import PositionStats, position_record, wallet_record
from ordergate.simulators.ids import IdSource

ACCOUNT: Final = "unified"
NS_PER_MS: Final = 1_000_000
RECENT_CLOSED_KEPT: Final = 500  # closed orders `/v5/order/realtime` still finds
_ENGINE_TIF: Final = {
    TimeInForce.GTC: EngineTimeInForce.GTC,
    TimeInForce.POST_ONLY: EngineTimeInForce.GTC,
    TimeInForce.IOC: EngineTimeInForce.IOC,
    TimeInForce.FOK: EngineTimeInForce.FOK,
}
# (cancelType, rejectReason) for the engine's cancel reasons; None is the user's cancel.
_CANCELS: Final[Mapping[str | None, tuple[str, str]]] = {
    None: (CANCEL_BY_USER, REJECT_PER_CANCEL_REQUEST),
    ReasonCode.IOC_UNFILLED: (CANCEL_UNKNOWN, REJECT_NO_IMMEDIATE_QTY),
    ReasonCode.FOK_UNFILLED: (CANCEL_UNKNOWN, REJECT_NO_FULL_FILL),
    ReasonCode.REDUCE_ONLY_CANCELED: (CANCEL_BY_REDUCE_ONLY, REJECT_NONE),
}
_OTHER_CANCEL: Final = (CANCEL_UNKNOWN, "EC_Others")

Listener = Callable[[Sequence[StreamItem]], None]


class BybitExchange:
    """One unified account trading linear perpetuals on the paper engine."""

    def __init__(
        self,
        specs: Sequence[InstrumentSpec],
        balances: Mapping[str, Decimal],
        *,
        rules: Mapping[str, ExecutionRules],
        ids: IdSource,
        clock: Callable[[], int],
    ) -> None:
        self._specs = {spec.symbol: spec for spec in specs}
        self._instruments = {spec.symbol: spec.instrument() for spec in specs}
        self._ids = ids
        self._clock = clock
        start = clock()
        self._start_ms = start // NS_PER_MS
        self._step_ts = start
        self._engine = MatchingEngine(
            list(self._instruments.values()),
            {ACCOUNT: dict(balances)},
            session="bybit",
            rules=rules,
            start_ns=start,
        )
        self._orders: dict[str, OrderRecord] = {}
        self._link_ids: dict[str, str] = {}
        self._recent_closed: deque[str] = deque(maxlen=RECENT_CLOSED_KEPT)
        # Conditional orders not triggered yet, in the order they were placed.
        self._awaiting: dict[str, None] = {}
        self._executions: list[ExecutionRecord] = []
        # A mirror of the engine's positions, fed the same fills, for what a fill
        # realised and how much it closed (the engine books those into cash only).
        self._book = PositionBook()
        self._stats = {
            symbol: PositionStats(self._start_ms, self._start_ms) for symbol in self._specs
        }
        self._board = QuoteBoard()
        self._listeners: list[Listener] = []

    @property
    def specs(self) -> Mapping[str, InstrumentSpec]:
        return self._specs

    def now_ms(self) -> int:
        return self._clock() // NS_PER_MS

    def subscribe(self, listener: Listener) -> None:
        """Call `listener` with every batch of records the account's changes produce."""
        self._listeners.append(listener)

    # --- requests ----------------------------------------------------------------------

    def create_order(self, order: NewOrder) -> OrderRecord:
        """Place an order; raise `BybitError` if Bybit would refuse it outright."""
        if order.order_link_id in self._link_ids:
            raise BybitError(RetCode.DUPLICATE_ORDER_LINK_ID, "OrderLinkedID is duplicate")
        spec = self._specs[order.symbol]
        if order.reduce_only:
            self._check_reduce_only(order.symbol, order.side)
        check_order_count(self.open_orders(order.symbol), order.trigger is not None)
        quote = self._engine.quote(order.symbol)
        if order.trigger is not None:
            check_trigger(order.trigger, quote)
        reference = order.price
        if reference is None and order.trigger is not None:
            reference = order.trigger.price
        if reference is None and quote is not None:
            reference = quote.price_for(order.side)
        if reference is not None and not order.reduce_only:
            check_notional(spec, order.qty, reference)
        now = self.now_ms()
        record = OrderRecord(
            order_id=self._ids.next("order"),
            order_link_id=order.order_link_id,
            symbol=order.symbol,
            side=order.side,
            order_type=order.order_type,
            qty=order.qty,
            price=order.price,
            time_in_force=order.time_in_force,
            reduce_only=order.reduce_only,
            close_on_trigger=order.close_on_trigger,
            status=OrderStatus.NEW if order.trigger is None else OrderStatus.UNTRIGGERED,
            created_ms=now,
            updated_ms=now,
            last_price_on_created=None if quote is None else quote.last,
            trigger=order.trigger,
        )
        if _would_take(order, quote):
            self._register(record)
            cancelled = self._store(
                replace(
                    record,
                    status=OrderStatus.CANCELLED,
                    cancel_type=CANCEL_UNKNOWN,
                    reject_reason=REJECT_POST_ONLY_WOULD_TAKE,
                )
            )
            self._publish([cancelled])
            return cancelled
        request = VenueOrderRequest(
            client_order_id=record.order_id,
            account=ACCOUNT,
            symbol=order.symbol,
            side=order.side,
            type=engine_order_type(order.order_type, order.trigger),
            qty=order.qty,
            price=order.price,
            stop_price=None if order.trigger is None else order.trigger.price,
            time_in_force=_ENGINE_TIF[order.time_in_force],
            reduce_only=order.reduce_only,
        )
        _, events = self._engine.submit(request)
        if events and isinstance(events[0], VenueOrderRejected):
            raise _refusal(events[0].reason_code, events[0].reason)
        self._register(record)
        self._publish(self._absorb(events, now))
        return self._orders[record.order_id]

    def amend_order(self, amendment: Amendment) -> OrderRecord:
        """Change an open order's quantity, price and/or (until it triggers) trigger price;
        it keeps its place in the queue."""
        record = self._open_order(amendment.ref, "replace")
        if record.order_type is OrderType.MARKET and amendment.price is not None:
            raise params_error("params error: a market order has no price to amend")
        qty = record.qty if amendment.qty is None else amendment.qty
        price = record.price if amendment.price is None else amendment.price
        trigger = self._amended_trigger(record, amendment)
        if qty == record.qty and price == record.price and trigger == record.trigger:
            raise params_error(
                "The order remains unchanged as the parameters entered match the existing ones."
            )
        if qty <= record.cum_exec_qty:
            raise BybitError(
                RetCode.AMEND_NOT_ABOVE_FILLED,
                "The number of contracts modified cannot be less than or equal to the filled "
                "quantity",
            )
        spec = self._specs[record.symbol]
        check_terms(spec, record.order_type, qty, price)
        reference = price if price is not None or trigger is None else trigger.price
        if reference is not None and not record.reduce_only:
            check_notional(spec, qty, reference)
        if record.time_in_force is TimeInForce.POST_ONLY and price is not None:
            quote = self._engine.quote(record.symbol)
            if quote is not None and is_marketable(
                record.side, price, PricePoint(quote.bid, quote.ask)
            ):
                raise params_error("a PostOnly order amended to this price would take liquidity")
        stop_price = trigger.price if trigger is not None and record.awaits_trigger else None
        try:
            events = self._engine.replace(
                ACCOUNT, record.symbol, record.order_id, qty, amendment.price, stop_price
            )
        except RejectedByVenue as exc:
            raise _refusal(exc.code, exc.message) from exc
        if trigger != record.trigger:
            self._orders[record.order_id] = replace(record, trigger=trigger)
        self._publish(self._absorb(events, self.now_ms()))
        return self._orders[record.order_id]

    def cancel_order(self, ref: OrderRef) -> OrderRecord:
        record = self._open_order(ref, "cancel")
        events = self._engine.cancel(ACCOUNT, record.symbol, record.order_id)
        self._publish(self._absorb(events, self.now_ms()))
        return self._orders[record.order_id]

    def cancel_all(
        self, symbol: str | None, selects: Callable[[OrderRecord], bool] = lambda _: True
    ) -> list[OrderRecord]:
        """Cancel every open order (of `symbol`, or of every symbol) that `selects` picks,
        in one batch."""
        records = [record for record in self.open_orders(symbol) if selects(record)]
        events: list[VenueEvent] = []
        for record in records:
            events.extend(self._engine.cancel(ACCOUNT, record.symbol, record.order_id))
        self._publish(self._absorb(events, self.now_ms()))
        return [self._orders[record.order_id] for record in records]

    # --- market ------------------------------------------------------------------------

    def move_market(self, updates: Sequence[SymbolUpdate]) -> None:
        """Apply one market step now: match resting orders against the updates' prices."""
        ts = max(self._clock(), self._step_ts)
        self._step_ts = ts
        stamped = tuple(
            SymbolUpdate(update.symbol, ts, update.points, update.last)
            for update in sorted(updates, key=lambda update: update.symbol)
        )
        events = self._engine.apply_step(FeedStep(ts, stamped))
        now = ts // NS_PER_MS
        for update in stamped:
            self._board.record(update, now)
        self._publish(self._absorb(events, now))

    def quote(self, symbol: str) -> Quote | None:
        return self._engine.quote(symbol)

    def session_stats(self, symbol: str) -> SessionStats | None:
        return self._board.stats(symbol)

    # --- queries -----------------------------------------------------------------------

    def find_order(self, order_id: str | None, order_link_id: str | None) -> OrderRecord | None:
        """Any order ever placed, by `orderId` (preferred) or `orderLinkId`."""
        if order_id is not None:
            return self._orders.get(order_id)
        if order_link_id is not None:
            found = self._link_ids.get(order_link_id)
            return None if found is None else self._orders[found]
        return None

    def orders(self) -> list[OrderRecord]:
        """Every order, in the order they were placed."""
        return list(self._orders.values())

    def open_orders(self, symbol: str | None = None) -> list[OrderRecord]:
        return [
            record
            for record in self._orders.values()
            if record.is_open and (symbol is None or record.symbol == symbol)
        ]

    def recently_closed(self) -> list[OrderRecord]:
        """The last closed orders (up to 500), which Bybit still serves as realtime."""
        return [self._orders[order_id] for order_id in self._recent_closed]

    def executions(self) -> list[ExecutionRecord]:
        return list(self._executions)

    def position(self, symbol: str) -> PositionRecord:
        held = {position.symbol: position for position in self._engine.positions(ACCOUNT)}
        return position_record(
            self._specs[symbol],
            self._instruments[symbol],
            held.get(symbol),
            self._mark(symbol),
            self._stats[symbol],
        )

    def positions(self) -> list[PositionRecord]:
        """Open (non-flat) positions, by symbol."""
        return [self.position(p.symbol) for p in self._engine.positions(ACCOUNT)]

    def wallet(self) -> WalletRecord:
        coins = {spec.quote_coin for spec in self._specs.values()}
        realised: dict[str, Decimal] = {}
        marks: dict[str, Decimal] = {}
        for symbol, spec in self._specs.items():
            coin = spec.quote_coin
            realised[coin] = realised.get(coin, ZERO) + self._stats[symbol].cum_realised
            mark = self._mark(symbol)
            if mark is not None:
                marks[symbol] = mark
        return wallet_record(
            {balance.currency: balance.balance for balance in self._engine.balances(ACCOUNT)},
            self._engine.positions(ACCOUNT),
            {coin: self._engine.order_margin(ACCOUNT, coin) for coin in sorted(coins)},
            self._specs,
            self._instruments,
            marks,
            realised,
        )

    # --- translation -------------------------------------------------------------------

    def _absorb(self, events: Sequence[VenueEvent], now: int) -> list[StreamItem]:
        """Apply the engine's events to the records; return the batch to stream."""
        items: list[StreamItem] = []
        acceptances: dict[str, int] = {}
        superseded: set[int] = set()
        for event in events:
            # The engine emits nothing else here: a refused submit is answered by
            # `create_order`, and it refuses cancels and replaces by raising.
            if not isinstance(
                event,
                VenueOrderAccepted
                | VenueFill
                | VenueOrderCanceled
                | VenueOrderExpired
                | VenueOrderReplaced,
            ):
                continue
            order_id = event.client_order_id
            if order_id in acceptances:
                superseded.add(acceptances.pop(order_id))
            if isinstance(event, VenueOrderAccepted):
                acceptances[order_id] = len(items)
                items.append(self._orders[order_id])
                continue
            items.extend(self._triggered(order_id, now))
            if isinstance(event, VenueFill):
                items.extend(self._fill(event, now))
            elif isinstance(event, VenueOrderReplaced):
                record = self._orders[order_id]
                price = record.price if event.price is None else event.price
                changed = replace(record, qty=event.qty, price=price, updated_ms=now)
                items.append(self._store(changed))
            else:
                items.append(self._close(order_id, event.reason_code, now))
        for order_id in list(self._awaiting):
            # Triggered without an event: a stop-limit now resting as a limit.
            for triggered in self._triggered(order_id, now):
                items += [triggered, self._store(replace(triggered, status=OrderStatus.NEW))]
        batch = [item for index, item in enumerate(items) if index not in superseded]
        if batch:
            batch.append(self.wallet())
        return batch

    def _fill(self, fill: VenueFill, now: int) -> list[StreamItem]:
        record = self._orders[fill.client_order_id]
        before = self._book.qty(ACCOUNT, fill.symbol)
        effect = self._book.apply_fill(
            OrderFilled(
                order_id=fill.client_order_id,
                account=ACCOUNT,
                symbol=fill.symbol,
                side=fill.side,
                trade_id=fill.trade_id,
                qty=fill.qty,
                price=fill.price,
                fee=fill.fee,
                fee_currency=fill.fee_currency,
                liquidity=fill.liquidity,
                ts=fill.ts,
            ),
            self._instruments[fill.symbol],
        )
        realised = (ZERO if effect is None else effect.realized_pnl) - fill.fee
        reducing = before != ZERO and (before > ZERO) != (fill.side is Side.BUY)
        stats = self._stats[fill.symbol]
        if before == ZERO:
            stats.created_ms, stats.cur_realised = now, ZERO
        stats.seq += 1
        stats.updated_ms = now
        stats.cum_realised += realised
        stats.cur_realised += realised
        cum_qty = record.cum_exec_qty + fill.qty
        done = cum_qty == record.qty
        record = self._store(
            replace(
                record,
                status=OrderStatus.FILLED if done else OrderStatus.PARTIALLY_FILLED,
                cum_exec_qty=cum_qty,
                cum_exec_value=record.cum_exec_value + fill.qty * fill.price,
                cum_exec_fee=record.cum_exec_fee + fill.fee,
                updated_ms=now,
            )
        )
        instrument = self._instruments[fill.symbol]
        maker = fill.liquidity is LiquiditySide.MAKER
        mark = self._mark(fill.symbol)
        execution = ExecutionRecord(
            exec_id=self._ids.derive("exec", fill.trade_id),
            order_id=record.order_id,
            order_link_id=record.order_link_id,
            symbol=fill.symbol,
            side=fill.side,
            order_type=record.order_type,
            order_price=record.price,
            order_qty=record.qty,
            leaves_qty=record.leaves_qty,
            exec_price=fill.price,
            exec_qty=fill.qty,
            exec_fee=fill.fee,
            fee_rate=instrument.maker_fee_rate if maker else instrument.taker_fee_rate,
            fee_currency=fill.fee_currency,
            is_maker=maker,
            exec_time_ms=now,
            mark_price=fill.price if mark is None else mark,
            closed_size=min(abs(before), fill.qty) if reducing else ZERO,
            seq=stats.seq,
            conditional=record.is_conditional,
        )
        self._executions.append(execution)
        return [execution, record, self.position(fill.symbol)]

    def _close(self, order_id: str, reason_code: str | None, now: int) -> OrderRecord:
        cancel_type, reject_reason = _CANCELS.get(reason_code, _OTHER_CANCEL)
        record = self._orders[order_id]
        return self._store(
            replace(
                record,
                status=OrderStatus.DEACTIVATED if record.awaits_trigger else OrderStatus.CANCELLED,
                cancel_type=cancel_type,
                reject_reason=reject_reason,
                updated_ms=now,
            )
        )

    def _triggered(self, order_id: str, now: int) -> list[OrderRecord]:
        """The order's `Triggered` state if the engine has triggered it since it waited."""
        record = self._orders[order_id]
        if not record.awaits_trigger or not self._engine.has_triggered(ACCOUNT, order_id):
            return []
        return [self._store(replace(record, status=OrderStatus.TRIGGERED, updated_ms=now))]

    # --- helpers -----------------------------------------------------------------------

    def _register(self, record: OrderRecord) -> None:
        self._orders[record.order_id] = record
        if record.order_link_id:
            self._link_ids[record.order_link_id] = record.order_id
        if record.awaits_trigger:
            self._awaiting[record.order_id] = None

    def _store(self, record: OrderRecord) -> OrderRecord:
        """Keep the order's new state; remember it among the recently closed if it closed."""
        was_open = self._orders[record.order_id].is_open
        self._orders[record.order_id] = record
        if was_open and not record.is_open:
            self._recent_closed.append(record.order_id)
        if not record.awaits_trigger:
            self._awaiting.pop(record.order_id, None)
        return record

    def _amended_trigger(self, record: OrderRecord, amendment: Amendment) -> Trigger | None:
        """The trigger an amendment leaves the order with (checked against the market)."""
        trigger = record.trigger
        if amendment.trigger_price is None and amendment.trigger_by is None:
            return trigger
        if trigger is None:
            raise params_error("params error: only a conditional order has a trigger to amend")
        amended = replace(
            trigger,
            price=trigger.price if amendment.trigger_price is None else amendment.trigger_price,
            by=trigger.by if amendment.trigger_by is None else amendment.trigger_by,
        )
        if amended == trigger:
            return trigger
        if not record.awaits_trigger:
            raise params_error("params error: the order has triggered; its trigger is final")
        if amended.price != trigger.price:
            check_trigger(amended, self._engine.quote(record.symbol))
        return amended

    def _open_order(self, ref: OrderRef, action: str) -> OrderRecord:
        record = self.find_order(ref.order_id, ref.order_link_id)
        if record is None or record.symbol != ref.symbol or not record.is_open:
            raise BybitError(RetCode.ORDER_NOT_FOUND, f"order not exists or too late to {action}")
        return record

    def _check_reduce_only(self, symbol: str, side: Side) -> None:
        held = self._book.qty(ACCOUNT, symbol)
        if held == ZERO or (held > ZERO) == (side is Side.BUY):
            raise BybitError(
                RetCode.REDUCE_ONLY_NOT_SATISFIED,
                "current position is zero, cannot fix reduce-only order qty",
            )

    def _mark(self, symbol: str) -> Decimal | None:
        quote = self._engine.quote(symbol)
        return None if quote is None else quote.last

    def _publish(self, batch: Sequence[StreamItem]) -> None:
        if batch:
            for listener in self._listeners:
                listener(batch)


def _would_take(order: NewOrder, quote: Quote | None) -> bool:
    """A PostOnly limit that the current book would fill as taker."""
    if order.time_in_force is not TimeInForce.POST_ONLY or order.price is None or quote is None:
        return False
    return is_marketable(order.side, order.price, PricePoint(quote.bid, quote.ask))


def _refusal(code: str, reason: str) -> BybitError:
    """The Bybit answer to a refusal of the engine."""
    if code == ReasonCode.VENUE_INSUFFICIENT_MARGIN:
        return BybitError(RetCode.INSUFFICIENT_BALANCE, f"ab not enough for new order: {reason}")
    return params_error(reason)
