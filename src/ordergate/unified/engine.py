"""`AsyncOrdergateEngine`: seed 004's `ExecutionEngine` over an embedded ordergate.

Every call goes through the whole engine (risk, gates, journal) by way of the Python API
(`ordergate.oms.Oms`); this module only translates the seed's vocabulary to ordergate's
and back. `OrdergateEngine` (`unified.blocking`) is this engine run on a background event
loop, so the blocking and the async interfaces cannot drift apart.

    async with await connect_async(engine="paper") as engine:
        result = await engine.submit_order(UnifiedOrderRequest("BTCUSDT", OrderSide.BUY, 0.01))
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import TracebackType
from typing import Any

from ordergate.app.market_steps import market_stepper
from ordergate.config.settings import Settings
from ordergate.domain.errors import Conflict, EngineStopped, InvalidRequest, NotFound
from ordergate.domain.values import OrderType, TimeInForce
from ordergate.engine.commands import ArmTrading, ClosePosition
from ordergate.engine.target_views import TargetView
from ordergate.engine.trading import mark_price
from ordergate.engine.views import OrderView
from ordergate.oms.embedded import Oms
from ordergate.unified.answers import (
    account_state_of,
    instrument_of,
    position_of,
    quote_of,
    refusal_of,
    refused_on,
    result_of,
)
from ordergate.unified.engines import settings_for
from ordergate.unified.numbers import NumberIn, plain, plain_or_none
from ordergate.unified.vocabulary import (
    UnifiedAccountState,
    UnifiedInstrument,
    UnifiedOrderRequest,
    UnifiedOrderResult,
    UnifiedPosition,
    UnifiedQuote,
)


class AsyncOrdergateEngine:
    """Seed 004's interface as coroutines, over an embedded ordergate.

    `strategy` names the orders this engine places (ordergate's per-strategy limits and
    views). `wait_for_venue` (default) answers once the venue has answered, or after
    `api_wait_ms`, as the REST API does; False answers as soon as the order is journaled,
    `PENDING`, as the seed says of an event-driven venue.
    """

    def __init__(
        self, settings: Settings, *, strategy: str | None = None, wait_for_venue: bool = True
    ) -> None:
        self.settings = settings
        self.strategy = strategy
        self.wait_for_venue = wait_for_venue
        self._oms: Oms | None = None

    # --- connection -------------------------------------------------------------------------

    async def connect(self) -> None:
        """Start ordergate (journal, venue, engine); a second call does nothing."""
        if self._oms is not None:
            return
        oms = Oms(self.settings)
        await oms.__aenter__()
        self._oms = oms

    async def disconnect(self) -> None:
        """Stop ordergate and release the venue and the journal; idempotent."""
        if self._oms is None:
            return
        oms, self._oms = self._oms, None
        await oms.__aexit__(None, None, None)

    async def __aenter__(self) -> AsyncOrdergateEngine:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.disconnect()

    @property
    def connected(self) -> bool:
        return self._oms is not None

    @property
    def oms(self) -> Oms:
        """The Python API underneath, for what the seed's interface does not say."""
        if self._oms is None:
            raise EngineStopped("connect() the engine before calling it")
        return self._oms

    @property
    def account(self) -> str:
        """The account this engine trades (`default_account`)."""
        return self.settings.default_account

    # --- the seed's interface ---------------------------------------------------------------

    async def get_account_state(self) -> UnifiedAccountState:
        """Balance, equity, used and available margin in the account's main currency
        (`account_currency`, else the currency of its largest balance)."""
        margins = await self.oms.account(self.account)
        return account_state_of(margins, self.settings.account_currency, self.account)

    async def get_positions(self) -> list[UnifiedPosition]:
        """Every open position, with its unrealized PnL at the current mark."""
        oms = self.oms
        trading = oms.app.trading
        instruments = trading.instruments
        return [
            position_of(view, instruments[view.symbol], mark_price(trading, view.symbol))
            for view in await oms.positions(self.account)
        ]

    async def submit_order(self, order: UnifiedOrderRequest) -> UnifiedOrderResult:
        """Place `order` through risk, the gates and the journal.

        A risk denial or a venue rejection is a `REJECTED` result with its reason; a
        malformed request (a limit without a price) raises `InvalidRequest`, and a
        `ref_id` reused for a different order `IdempotencyConflict`: nothing is recorded.
        """
        view = await self.oms.place(
            order.symbol,
            order.side,
            plain(order.quantity, "quantity"),
            order.type,
            price=plain_or_none(order.price, "price"),
            stop_price=plain_or_none(order.stop_price, "stop_price"),
            time_in_force=TimeInForce(str(order.time_in_force).upper()),
            reduce_only=order.reduce_only,
            stop_loss=plain_or_none(order.stop_loss, "stop_loss"),
            take_profit=plain_or_none(order.take_profit, "take_profit"),
            idempotency_key=order.ref_id,
            strategy=self.strategy,
            account=self.account,
            wait=self.wait_for_venue,
        )
        return result_of(view)

    async def close_position(
        self, symbol: str, quantity: NumberIn | None = None
    ) -> UnifiedOrderResult:
        """Close the `symbol` position with a reduce-only market order, wholly or by
        `quantity`. No position (or one already closing, or a gate that refuses) is a
        `REJECTED` result with its reason code (`NO_POSITION`, ...), not an exception."""
        qty = plain_or_none(quantity, "quantity")
        command = ClosePosition(self.account, symbol, qty, strategy=self.strategy)
        try:
            view = await self.oms.app.trading.close_position(command)
        except Conflict as refused:
            return refusal_of(refused, symbol)
        return result_of(await self._settled(view))

    async def close_all(self) -> list[UnifiedOrderResult]:
        """Cancel every open order of the account and flatten every position; answer the
        closing orders' results."""
        outcome = await self.oms.close_all(self.account)
        return [result_of(await self._settled(view)) for view in outcome.closing]

    # --- beyond the seed --------------------------------------------------------------------

    async def cancel_order(self, order_id: str) -> UnifiedOrderResult:
        """Cancel a working order. An order that has already ended answers as it is, with
        the refusal (`ORDER_ALREADY_TERMINAL: ...`) as `error`; an unknown id raises
        `NotFound`."""
        oms = self.oms
        try:
            view = await oms.cancel(order_id, "unified cancel_order", self.wait_for_venue)
        except Conflict as refused:
            current = await oms.order(order_id)
            if current is None:
                raise
            return refused_on(current, refused)
        return result_of(view)

    async def get_order(self, order_id: str) -> UnifiedOrderResult | None:
        """The order as last journaled; None if there is no such order."""
        view = await self.oms.order(order_id)
        return None if view is None else result_of(view)

    async def get_quote(self, symbol: str) -> UnifiedQuote | None:
        """The symbol's best prices now; None before the venue has quoted it."""
        quote = self.oms.app.trading.quote(symbol)
        return None if quote is None else quote_of(quote)

    async def get_quotes(self, symbols: Iterable[str] | None = None) -> dict[str, UnifiedQuote]:
        """The quotes of `symbols` (default: every instrument) the venue has given."""
        trading = self.oms.app.trading
        wanted = sorted(trading.instruments) if symbols is None else symbols
        return {s: quote_of(q) for s in wanted if (q := trading.quote(s)) is not None}

    async def get_instrument(self, symbol: str) -> UnifiedInstrument:
        """What sizing an order in `symbol` needs; `NotFound` for a symbol not traded."""
        instrument = self.oms.app.trading.instruments.get(symbol)
        if instrument is None:
            raise NotFound(f"no instrument {symbol!r} on this venue")
        return instrument_of(instrument)

    async def symbols(self) -> list[str]:
        """Every symbol the venue trades here."""
        return sorted(self.oms.app.trading.instruments)

    async def market_time_ns(self) -> int:
        """The engine's time: the wall clock live, market-data time on the paper venue."""
        return self.oms.app.trading.now_ns()

    async def set_targets(
        self,
        targets: Mapping[str, NumberIn],
        *,
        order_type: OrderType = OrderType.MARKET,
        idempotency_key: str | None = None,
    ) -> list[UnifiedOrderResult]:
        """Take each position to its target ({symbol: signed quantity}) with this engine's
        strategy's orders; answer the orders placed toward them.

        ordergate works the gap against the worst case (open orders count as filled) and
        rounds it to each instrument's step; `targets()` says, per symbol, what was done
        and why not. Needs the engine's `strategy` name (a target belongs to a strategy).
        """
        if self.strategy is None:
            raise InvalidRequest("targets belong to a strategy: connect(strategy=...) first")
        wanted = {symbol: plain(qty, f"target of {symbol}") for symbol, qty in targets.items()}
        outcome = await self.oms.set_targets(
            wanted,
            strategy=self.strategy,
            account=self.account,
            idempotency_key=idempotency_key,
            order_type=order_type,
        )
        return [result_of(await self._settled(view)) for view in outcome.orders]

    async def targets(self) -> list[TargetView]:
        """This engine's strategy's targets held, each beside its position and gap."""
        return await self.oms.targets(self.account, self.strategy)

    async def step_market(self) -> bool | None:
        """Move a held paper market one step and let the engine take it in: True if it
        moved, False at the end of its data, None when the market is not held here (a
        paced replay, a real venue, a shadow book): it moves by itself."""
        step = market_stepper(self.oms.app)
        return None if step is None else await step()

    async def arming_needed(self) -> str | None:
        """The exact confirmation that arms this engine's account, if the venue trades
        real money and the account is not armed on it; else None."""
        trading = self.oms.app.trading
        if not trading.venue_live:
            return None
        venue = trading.venue_name
        if any(a.account == self.account and a.venue == venue for a in trading.gates.armed):
            return None
        return f"ARM {self.account} ON {venue}"

    async def arm(self, confirmation: str, actor: str) -> None:
        """Arm live trading for this engine's account: `confirmation` must read exactly
        what `arming_needed` says (`InvalidRequest` otherwise), as the admin API's does."""
        trading = self.oms.app.trading
        await trading.arm(ArmTrading(self.account, trading.venue_name, confirmation, actor))

    async def _settled(self, view: OrderView) -> OrderView:
        """`view` once the venue has answered its latest request, if this engine waits."""
        if not self.wait_for_venue:
            return view
        trading = self.oms.app.trading
        return await trading.wait_for_venue(view.order_id, self.settings.api_wait_ms / 1000)


async def connect_async(
    engine: str | None = None,
    mode: str | None = None,
    *,
    strategy: str | None = None,
    wait_for_venue: bool = True,
    **overrides: Any,
) -> AsyncOrdergateEngine:
    """A connected `AsyncOrdergateEngine` on `engine` (`paper`, `bybit-sim`,
    `ccxt:<exchange>`) in `mode` (`live`, `shadow`, `dry-run`).

    Settings come from the environment and `.env` as `ordergate serve` reads them;
    `overrides` set any `Settings` field by name (`db=":memory:"`). `engine` and `mode`
    None: as the environment says. Raise `ConfigurationError` for an engine not
    available yet or settings that cannot be used.
    """
    client = AsyncOrdergateEngine(
        settings_for(engine, mode, **overrides), strategy=strategy, wait_for_venue=wait_for_venue
    )
    await client.connect()
    return client
