"""`Simulation`: one NautilusTrader `BacktestEngine`, driven one market step at a time.

What it holds:
- one simulated exchange per ordergate account (`OG1`, `OG2`, … in account order: a
  NautilusTrader venue has one account), each a MARGIN account netting positions, with
  an L1 book fed by quotes, `use_message_queue=False` (a request is carried out inside
  the call that sends it, as the paper venue's are), and every ordergate instrument as a
  `CryptoPerpetual`;
- `_Bridge`, a strategy with no logic of its own: ordergate's requests go through it
  with ordergate's client order ids, and every order event it receives goes to `sink`.

A market step is `run(start=now, end=ts, streaming=True)` over the step's quotes, all
stamped `ts`: NautilusTrader's clocks then follow ordergate's market-data time. Its
clock would go back without complaint, so `step` refuses an earlier time.

Single-threaded: NautilusTrader's kernel is not thread-safe; call this only from the
event loop's thread, and never await in the middle of a call.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Final

from nautilus_trader.backtest.engine import BacktestEngine
from nautilus_trader.backtest.models import MakerTakerFeeModel
from nautilus_trader.config import BacktestEngineConfig, LoggingConfig, RiskEngineConfig
from nautilus_trader.core.uuid import UUID4
from nautilus_trader.execution.messages import CancelOrder, ModifyOrder
from nautilus_trader.model.data import QuoteTick
from nautilus_trader.model.enums import AccountType, BookType, OmsType
from nautilus_trader.model.events import OrderEvent
from nautilus_trader.model.identifiers import ClientOrderId, InstrumentId, Venue
from nautilus_trader.model.objects import Money
from nautilus_trader.trading.config import StrategyConfig
from nautilus_trader.trading.strategy import Strategy

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import OrderType, Side, TimeInForce
from ordergate.matching.feed import FeedStep
from ordergate.venues.nautilus.convert import (
    instrument_id,
    money,
    perpetual,
    precision_of,
    tif_to_nautilus,
    to_price,
    to_quantity,
)
from ordergate.venues.nautilus_vocabulary import side_to_nautilus

# Client order ids of the orders that rebuild positions after a restart: they trade at
# no fee, and the venue streams none of their events.
SEED_PREFIX: Final = "OGSEED-"
# ordergate throttles its own requests; NautilusTrader's limits count simulated time, in
# which a whole burst of requests happens at one instant.
_UNTHROTTLED: Final = "100000/00:00:01"


class SeedAwareFees(MakerTakerFeeModel):  # type: ignore[misc]  # NautilusTrader has no stubs
    """NautilusTrader's maker/taker fees, except none for the seeding orders of a restart
    (the journal's balance already holds every fee paid)."""

    def get_commission(self, order: Any, fill_qty: Any, fill_px: Any, instrument: Any) -> Any:
        if order.client_order_id.value.startswith(SEED_PREFIX):
            return Money(0, instrument.quote_currency)
        return super().get_commission(order, fill_qty, fill_px, instrument)


class _Bridge(Strategy):  # type: ignore[misc]  # NautilusTrader has no stubs
    """A logic-free strategy (an Actor may not submit orders): it carries ordergate's
    requests in and every order event out, in the order NautilusTrader emits them."""

    def __init__(self, sink: Callable[[Any], None]) -> None:
        super().__init__(
            StrategyConfig(strategy_id="OrdergateBridge-001", log_events=False, log_commands=False)
        )
        self._sink = sink

    def on_event(self, event: Any) -> None:
        if isinstance(event, OrderEvent):
            self._sink(event)


class Simulation:
    """NautilusTrader's simulated exchanges for ordergate's accounts (see the module)."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        balances: Mapping[str, Mapping[str, Decimal]],
        *,
        start_ns: int,
        quote_size: Decimal,
        sink: Callable[[Any], None],
    ) -> None:
        """Build the engine: `balances` is each account's cash per currency, `start_ns`
        the time before the first step, `quote_size` the size of both sides of every
        quote (what a taker order fills at the touch before the rest slips a tick)."""
        self._engine = BacktestEngine(
            BacktestEngineConfig(
                trader_id="ORDERGATE-001",
                logging=LoggingConfig(bypass_logging=True),
                risk_engine=RiskEngineConfig(
                    max_order_submit_rate=_UNTHROTTLED, max_order_modify_rate=_UNTHROTTLED
                ),
                run_analysis=False,
            )
        )
        self._instruments = {i.symbol: i for i in instruments}
        self._venues: dict[str, Venue] = {}
        self._accounts: dict[Venue, str] = {}
        self._sizes = {
            i.symbol: to_quantity(quote_size, precision_of(i.lot_step)) for i in instruments
        }
        for number, account in enumerate(sorted(balances), start=1):
            cash = balances[account]
            if not cash:
                raise InvalidRequest(f"account {account!r} has no balance to trade with")
            venue = Venue(f"OG{number}")
            self._engine.add_venue(
                venue=venue,
                oms_type=OmsType.NETTING,
                account_type=AccountType.MARGIN,
                base_currency=None,  # one balance per currency, as ordergate keeps them
                starting_balances=[money(amount, ccy) for ccy, amount in sorted(cash.items())],
                default_leverage=Decimal(1),  # margin_init is ordergate's margin_rate
                book_type=BookType.L1_MBP,
                use_message_queue=False,
                bar_execution=False,  # fed quotes: the paper venue's own price path
                fee_model=SeedAwareFees(),
            )
            for instrument in instruments:
                self._engine.add_instrument(perpetual(instrument, venue))
            self._venues[account] = venue
            self._accounts[venue] = account
        self._bridge = _Bridge(sink)
        self._engine.add_strategy(self._bridge)
        self._now = start_ns
        self._run([], start_ns)  # starts the kernel, its clocks at `start_ns`

    @property
    def now_ns(self) -> int:
        return self._now

    @property
    def accounts(self) -> tuple[str, ...]:
        return tuple(self._venues)

    def has_account(self, account: str) -> bool:
        return account in self._venues

    def account_of(self, iid: InstrumentId) -> str:
        return self._accounts[iid.venue]

    def instrument_id(self, account: str, symbol: str) -> InstrumentId:
        return instrument_id(symbol, self._venues[account])

    # --- the market ---------------------------------------------------------------------

    def step(self, step: FeedStep) -> None:
        """Match one feed step: each point of each update, as a quote stamped `step.ts`,
        on every account's exchange, in the feed's order."""
        quotes = [
            self.quote_tick(account, update.symbol, point.bid, point.ask, step.ts)
            for update in step.updates
            if update.symbol in self._instruments
            for point in update.points
            for account in self._venues
        ]
        self._run(quotes, step.ts)

    def quote_tick(
        self, account: str, symbol: str, bid: Decimal, ask: Decimal, ts: int
    ) -> QuoteTick:
        """A quote of `symbol` on `account`'s exchange, its prices on the tick (nearest)."""
        instrument = self._instruments[symbol]
        precision = precision_of(instrument.tick_size)
        size = self._sizes[symbol]
        # NautilusTrader cannot hold a price off the instrument's grid (a RuntimeError in
        # `run`); market data sometimes has one (a bar at 46319.55 on a 0.1 tick).
        return QuoteTick(
            instrument_id=self.instrument_id(account, symbol),
            bid_price=to_price(instrument.round_price(bid), precision),
            ask_price=to_price(instrument.round_price(ask), precision),
            bid_size=size,
            ask_size=size,
            ts_event=ts,
            ts_init=ts,
        )

    def run_quotes(self, quotes: Sequence[QuoteTick], ts: int) -> None:
        """Match these quotes (all stamped `ts`) as one step."""
        self._run(quotes, ts)

    def _run(self, data: Sequence[QuoteTick], ts: int) -> None:
        if ts < self._now:
            raise InvalidRequest(f"market step at {ts} is before the venue's time {self._now}")
        engine = self._engine
        engine.clear_data()
        if data:
            engine.add_data(list(data), validate=False, sort=False)
        # With no data the clocks stay at `start`: so start where the last step ended.
        engine.run(start=self._now, end=ts, streaming=True)
        self._now = ts

    # --- requests (each completes inside the call: no message queue) ---------------------

    def submit(
        self,
        account: str,
        symbol: str,
        client_order_id: str,
        side: Side,
        order_type: OrderType,
        qty: Decimal,
        price: Decimal | None,
        stop_price: Decimal | None,
        time_in_force: TimeInForce,
        reduce_only: bool,
        expire_ns: int | None,
    ) -> None:
        """Submit through the bridge, as a strategy would: NautilusTrader's risk engine,
        then its simulated exchange. `expire_ns`: the GTD time a DAY order is sent with."""
        instrument = self._instruments[symbol]
        iid = self.instrument_id(account, symbol)
        tick, lot = precision_of(instrument.tick_size), precision_of(instrument.lot_step)
        factory = self._bridge.order_factory
        common: dict[str, Any] = {
            "reduce_only": reduce_only,
            "client_order_id": ClientOrderId(client_order_id),
        }
        nautilus_side = side_to_nautilus(side)
        quantity = to_quantity(qty, lot)
        tif = tif_to_nautilus(time_in_force)
        expire = None if expire_ns is None else datetime.fromtimestamp(expire_ns // 10**9, UTC)
        if order_type is OrderType.MARKET:
            # A market order cannot wait for its day's end: it fills or is refused now.
            market_tif = tif_to_nautilus(
                TimeInForce.GTC if time_in_force is TimeInForce.DAY else time_in_force
            )
            order = factory.market(iid, nautilus_side, quantity, time_in_force=market_tif, **common)
        elif order_type is OrderType.LIMIT:
            assert price is not None  # ordergate's requests carry the prices their type needs
            order = factory.limit(
                iid,
                nautilus_side,
                quantity,
                to_price(price, tick),
                time_in_force=tif,
                expire_time=expire,
                **common,
            )
        elif order_type is OrderType.STOP:
            assert stop_price is not None
            order = factory.stop_market(
                iid,
                nautilus_side,
                quantity,
                to_price(stop_price, tick),
                time_in_force=tif,
                expire_time=expire,
                **common,
            )
        else:
            assert price is not None
            assert stop_price is not None
            order = factory.stop_limit(
                iid,
                nautilus_side,
                quantity,
                to_price(price, tick),
                to_price(stop_price, tick),
                time_in_force=tif,
                expire_time=expire,
                **common,
            )
        self._bridge.submit_order(order)

    def cancel(self, order: Any) -> None:
        """Send a cancel for an order NautilusTrader knows, open or not: the exchange
        answers a closed one with `OrderCancelRejected` (a strategy's `cancel_order`
        would silently send nothing)."""
        bridge = self._bridge
        command = CancelOrder(
            trader_id=bridge.trader_id,
            strategy_id=bridge.id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            command_id=UUID4(),
            ts_init=bridge.clock.timestamp_ns(),
        )
        bridge._msgbus.send(endpoint="ExecEngine.execute", msg=command)

    def modify(
        self, order: Any, qty: Decimal, price: Decimal | None, stop_price: Decimal | None
    ) -> None:
        """Send a modify through NautilusTrader's risk engine (which answers a closed order
        with `OrderModifyRejected`), unfiltered by the strategy's "nothing changed" check."""
        bridge = self._bridge
        symbol = order.instrument_id.symbol.value
        instrument = self._instruments[symbol]
        tick, lot = precision_of(instrument.tick_size), precision_of(instrument.lot_step)
        command = ModifyOrder(
            trader_id=bridge.trader_id,
            strategy_id=bridge.id,
            instrument_id=order.instrument_id,
            client_order_id=order.client_order_id,
            venue_order_id=order.venue_order_id,
            quantity=to_quantity(qty, lot),
            price=None if price is None else to_price(price, tick),
            trigger_price=None if stop_price is None else to_price(stop_price, tick),
            command_id=UUID4(),
            ts_init=bridge.clock.timestamp_ns(),
        )
        bridge._msgbus.send(endpoint="RiskEngine.execute", msg=command)

    # --- NautilusTrader's state ----------------------------------------------------------

    def order(self, client_order_id: str) -> Any:
        """NautilusTrader's order of this client order id, or None."""
        return self._engine.cache.order(ClientOrderId(client_order_id))

    def open_orders(self, account: str) -> list[Any]:
        return list(self._engine.cache.orders_open(venue=self._venues[account]))

    def positions(self, account: str) -> list[Any]:
        return list(self._engine.cache.positions_open(venue=self._venues[account]))

    def balances(self, account: str) -> Iterable[Any]:
        """The account's `AccountBalance`s, per currency."""
        balances: dict[Any, Any] = self._engine.portfolio.account(self._venues[account]).balances()
        return balances.values()

    def forget_closed_orders(self) -> None:
        """Drop closed orders and their account events from NautilusTrader's cache, which
        otherwise keeps every order (the venue keeps its own record of closed ones)."""
        cache = self._engine.cache
        cache.purge_closed_orders(ts_now=self._now, buffer_secs=0)
        cache.purge_closed_positions(ts_now=self._now, buffer_secs=0)
        cache.purge_account_events(ts_now=self._now, lookback_secs=0)

    def dispose(self) -> None:
        """End the run and release the engine (its kernel holds process-wide resources;
        disposing a kernel still running logs NautilusTrader's state-machine errors)."""
        self._engine.end()
        self._engine.dispose()
