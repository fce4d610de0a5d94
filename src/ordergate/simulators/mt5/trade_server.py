"""`TradeServer`: a deterministic MT5 trade server and its account, for the EA simulator.

Pure and synchronous: no clock (time is the last tick's), no I/O, no randomness. Each
request returns the server's `TradeResult` and the trade transactions it produced, in
the order MT5 produces them; `tick` moves the market and returns what it triggered.

What it models:
- three ticket spaces (orders, deals, positions; a position's ticket is the ticket of the
  order that opened it), counting up from configurable starts;
- netting (one position per symbol: an opposite deal reduces, closes or reverses it,
  `inout`) and hedging (each deal without `position` opens one; a deal with `position`
  closes that one, `out`);
- market orders at the touch (a `price` further than `deviation` points from it is a
  requote with the new prices), pending limit, stop and stop-limit orders matched on
  ticks (a limit at its price, a stop at the touch), DAY and SPECIFIED expiry, FOK / IOC /
  RETURN against `liquidity` (the volume a market order can take at once; unset:
  unlimited), and resting orders filled up to `resting_liquidity` a tick (unset: as
  `liquidity`), so that a partial fill lasts until a later tick;
- positions' SL and TP closed by the server (`reason` `sl` / `tp`), with no request, and
  stop-out: below `stop_out_level` (margin level, %) the most losing position is closed
  (`reason` `so`) until the account is above it again;
- a stop order triggered when the account no longer has the margin for it: rejected
  after it was placed (`NO_MONEY`), which the EA tells as `order_rejected`;
- checks and their retcodes: unknown or disabled symbol (`INVALID` / `TRADE_DISABLED`),
  outside the symbol's sessions (`MARKET_CLOSED`), volume off min/step/max
  (`INVALID_VOLUME`), a pending price on the wrong side or inside the stops level
  (`INVALID_PRICE`), SL/TP inside it (`INVALID_STOPS`), a filling the symbol does not
  allow (`INVALID_FILL`), margin beyond free margin (`NO_MONEY`), a modify changing
  nothing (`NO_CHANGES`) or inside the freeze level (`FROZEN`), an unknown order
  (`INVALID_ORDER`), a closed position (`POSITION_CLOSED`).

Money: profit is (close - open) x volume x contract size in the symbol's profit currency,
which the account is assumed to hold (a USD account trading xxxUSD symbols); commission
is `commission_per_lot` per side; margin is notional / leverage at the open price.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Final

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ZERO
from ordergate.simulators.mt5.model import (
    Account,
    Action,
    Deal,
    Order,
    Position,
    SymbolSpec,
    Tick,
    TradeRequest,
    TradeResult,
    Transaction,
    TxType,
)

DONE: Final = 10009
PLACED: Final = 10008
DONE_PARTIAL: Final = 10010
REQUOTE: Final = 10004
INVALID: Final = 10013
INVALID_VOLUME: Final = 10014
INVALID_PRICE: Final = 10015
INVALID_STOPS: Final = 10016
TRADE_DISABLED: Final = 10017
MARKET_CLOSED: Final = 10018
NO_MONEY: Final = 10019
PRICE_OFF: Final = 10021
INVALID_EXPIRATION: Final = 10022
NO_CHANGES: Final = 10025
FROZEN: Final = 10029
INVALID_FILL: Final = 10030
INVALID_ORDER: Final = 10035
POSITION_CLOSED: Final = 10036

_MS_PER_DAY: Final = 86_400_000
_MS_PER_MINUTE: Final = 60_000


class TradeServer:
    """One MT5 account on a simulated trade server (see the module)."""

    def __init__(
        self,
        symbols: Sequence[SymbolSpec],
        account: Account,
        *,
        commission_per_lot: Decimal = ZERO,
        liquidity: dict[str, Decimal] | None = None,
        resting_liquidity: dict[str, Decimal] | None = None,
        stop_out_level: Decimal = Decimal(50),
        first_order: int = 1_000_001,
        first_deal: int = 2_000_001,
    ) -> None:
        if account.margin_mode not in ("netting", "exchange", "hedging"):
            raise InvalidRequest(f"unknown margin mode {account.margin_mode!r}")
        self.account = account
        self.symbols = {spec.symbol: spec for spec in symbols}
        self._commission = commission_per_lot
        self._liquidity = dict(liquidity or {})
        self._resting_liquidity = dict(resting_liquidity or {})
        self._stop_out_level = stop_out_level
        self._next_order = first_order
        self._next_deal = first_deal
        self._ticks: dict[str, Tick] = {}
        self._now = 0
        self.orders: dict[int, Order] = {}  # every order, open and history
        self.deals: list[Deal] = []
        self.positions: dict[int, Position] = {}  # open only, by ticket

    # --- the market ------------------------------------------------------------------------

    @property
    def now(self) -> int:
        return self._now

    def last_tick(self, symbol: str) -> Tick | None:
        return self._ticks.get(symbol)

    def tick(self, tick: Tick) -> list[Transaction]:
        """A new quote: expire, trigger and fill pending orders, close SL/TP positions."""
        if tick.symbol not in self.symbols:
            raise InvalidRequest(f"no symbol {tick.symbol!r}")
        self._ticks[tick.symbol] = tick
        self._now = max(self._now, tick.time)
        out: list[Transaction] = []
        for order in sorted(self.open_orders(tick.symbol), key=lambda o: o.ticket):
            if order.is_open:
                self._work(order, tick, out)
        for position in sorted(self.open_positions(tick.symbol), key=lambda p: p.ticket):
            self._protect(position, tick, out)
        self._stop_out(out)
        return out

    def margin_level(self) -> Decimal | None:
        """Equity as a percentage of margin (None: no margin used)."""
        margin = self.margin()
        return None if margin == ZERO else self.equity() / margin * 100

    # --- requests --------------------------------------------------------------------------

    def send(self, request: TradeRequest) -> tuple[TradeResult, list[Transaction]]:
        """Carry out one request, as `OrderSend` does."""
        if request.action is Action.DEAL:
            return self._deal(request)
        if request.action is Action.PENDING:
            return self._pending(request)
        if request.action is Action.MODIFY:
            return self._modify(request)
        return self._remove(request)

    def _deal(self, request: TradeRequest) -> tuple[TradeResult, list[Transaction]]:
        spec, refused = self._check_market(request)
        if refused is not None:
            return refused, []
        tick = self._ticks[spec.symbol]
        price = tick.ask if request.side == "buy" else tick.bid
        if (
            request.price is not None
            and abs(request.price - price) > spec.point * request.deviation
        ):
            return TradeResult(REQUOTE, price=price, bid=tick.bid, ask=tick.ask), []
        closes = None
        if request.position is not None:
            target = self.positions.get(request.position)
            if target is None:
                return self._quoted(POSITION_CLOSED, tick), []
            if target.side == request.side or request.volume > target.volume:
                return self._quoted(INVALID_VOLUME, tick), []
            closes = target.ticket
        filling = request.filling or spec.filling_modes[0]
        if filling not in spec.filling_modes:
            return self._quoted(INVALID_FILL, tick), []
        if closes is None and not self._affordable(spec, request.side, request.volume, price):
            return self._quoted(NO_MONEY, tick), []
        available = self._liquidity.get(spec.symbol, request.volume)
        if filling == "FOK" and available < request.volume:
            return self._quoted(10006, tick), []  # TRADE_RETCODE_REJECT: not all at once
        order = self._new_order(request, "market", filling, closes)
        out = [Transaction(TxType.ORDER_ADD, order=order.ticket)]
        volume = min(request.volume, available)
        deal = self._fill(order, volume, price, "expert", out)
        order.state = "filled" if order.volume_current == ZERO else "canceled"
        order.time_done = self._now
        out += [
            Transaction(TxType.ORDER_DELETE, order=order.ticket),
            Transaction(TxType.HISTORY_ADD, order=order.ticket),
            Transaction(TxType.REQUEST, order=order.ticket, deal=deal.ticket),
        ]
        retcode = DONE if volume == request.volume else DONE_PARTIAL
        return TradeResult(
            retcode, order.ticket, deal.ticket, volume, price, tick.bid, tick.ask
        ), out

    def _pending(self, request: TradeRequest) -> tuple[TradeResult, list[Transaction]]:
        spec, refused = self._check_market(request)
        if refused is not None:
            return refused, []
        tick = self._ticks[spec.symbol]
        level = request.stop_price if request.type in ("stop", "stop_limit") else request.price
        if level is None or (request.type == "stop_limit" and request.price is None):
            return self._quoted(INVALID_PRICE, tick), []
        if not self._away(spec, tick, request.side, request.type, level):
            return self._quoted(INVALID_PRICE, tick), []
        if not self._stops_ok(spec, request.side, level, request.sl, request.tp):
            return self._quoted(INVALID_STOPS, tick), []
        if request.time_in_force in ("SPECIFIED", "SPECIFIED_DAY") and (
            request.expiration is None or request.expiration <= self._now
        ):
            return self._quoted(INVALID_EXPIRATION, tick), []
        filling = request.filling or "RETURN"
        reference = request.price if request.price is not None else level
        if not self._affordable(spec, request.side, request.volume, reference):
            return self._quoted(NO_MONEY, tick), []
        order = self._new_order(request, request.type, filling, None)
        order.state = "placed"
        out = [
            Transaction(TxType.ORDER_ADD, order=order.ticket),
            Transaction(TxType.REQUEST, order=order.ticket),
        ]
        return TradeResult(PLACED, order.ticket, None, ZERO, None, tick.bid, tick.ask), out

    def _modify(self, request: TradeRequest) -> tuple[TradeResult, list[Transaction]]:
        order = self.orders.get(request.order or 0)
        if order is None or not order.is_open or order.type == "market":
            return TradeResult(INVALID_ORDER), []
        spec = self.symbols[order.symbol]
        tick = self._ticks[order.symbol]
        trigger = order.type in ("stop", "stop_limit") and not order.triggered
        level = order.stop_price if trigger else order.price
        assert level is not None  # a pending order has its price
        if abs(self._touch(tick, order.side) - level) <= spec.point * spec.freeze_level:
            return self._quoted(FROZEN, tick), []
        changed = {
            "price": request.price if request.price is not None else order.price,
            "stop_price": request.stop_price
            if request.stop_price is not None
            else order.stop_price,
            "sl": request.sl,
            "tp": request.tp,
            "expiration": request.expiration
            if request.expiration is not None
            else order.expiration,
        }
        current = {
            "price": order.price,
            "stop_price": order.stop_price,
            "sl": order.sl,
            "tp": order.tp,
            "expiration": order.expiration,
        }
        if changed == current:
            return self._quoted(NO_CHANGES, tick), []
        new_level = changed["stop_price"] if trigger else changed["price"]
        assert isinstance(new_level, Decimal)
        if not self._away(spec, tick, order.side, order.type if trigger else "limit", new_level):
            return self._quoted(INVALID_PRICE, tick), []
        order.price = changed["price"]  # type: ignore[assignment]
        order.stop_price = changed["stop_price"]  # type: ignore[assignment]
        order.sl, order.tp = request.sl, request.tp
        order.expiration = changed["expiration"]  # type: ignore[assignment]
        out = [
            Transaction(TxType.ORDER_UPDATE, order=order.ticket),
            Transaction(TxType.REQUEST, order=order.ticket),
        ]
        return TradeResult(DONE, order.ticket, None, ZERO, None, tick.bid, tick.ask), out

    def _remove(self, request: TradeRequest) -> tuple[TradeResult, list[Transaction]]:
        order = self.orders.get(request.order or 0)
        if order is None or not order.is_open or order.type == "market":
            return TradeResult(INVALID_ORDER), []
        out: list[Transaction] = []
        self._close_order(order, "canceled", out)
        out.append(Transaction(TxType.REQUEST, order=order.ticket))
        return TradeResult(DONE, order.ticket), out

    # --- queries -----------------------------------------------------------------------------

    def open_orders(self, symbol: str | None = None) -> list[Order]:
        return [
            o
            for o in self.orders.values()
            if o.is_open and o.type != "market" and (symbol is None or o.symbol == symbol)
        ]

    def open_positions(self, symbol: str | None = None) -> list[Position]:
        return [p for p in self.positions.values() if symbol is None or p.symbol == symbol]

    def deals_between(self, since: int, until: int | None = None) -> list[Deal]:
        return [d for d in self.deals if d.time >= since and (until is None or d.time <= until)]

    def margin(self) -> Decimal:
        return sum(
            (
                self._margin(self.symbols[p.symbol], p.volume, p.price_open)
                for p in self.positions.values()
            ),
            ZERO,
        )

    def equity(self) -> Decimal:
        return self.account.balance + sum(
            (self._floating(p) for p in self.positions.values()), ZERO
        )

    # --- the work ----------------------------------------------------------------------------

    def _work(self, order: Order, tick: Tick, out: list[Transaction]) -> None:
        if self._expired(order, tick.time):
            self._close_order(order, "expired", out)
            return
        if order.type in ("stop", "stop_limit") and not order.triggered:
            assert order.stop_price is not None
            touch = self._touch(tick, order.side)
            reached = (
                touch >= order.stop_price if order.side == "buy" else touch <= order.stop_price
            )
            if not reached:
                return
            spec = self.symbols[order.symbol]
            level = order.price if order.price is not None else touch
            if not self._affordable(spec, order.side, order.volume_current, level):
                # Placed while there was margin, triggered when there is none.
                order.retcode = NO_MONEY
                self._close_order(order, "rejected", out)
                return
            if order.type == "stop":
                self._fill_pending(order, touch, out)
                return
            order.triggered = True  # a stop-limit becomes a limit at its price
            out.append(Transaction(TxType.ORDER_UPDATE, order=order.ticket))
        assert order.price is not None
        touch = self._touch(tick, order.side)
        if (touch <= order.price) if order.side == "buy" else (touch >= order.price):
            self._fill_pending(order, order.price, out)

    def _fill_pending(self, order: Order, price: Decimal, out: list[Transaction]) -> None:
        available = self._resting_liquidity.get(
            order.symbol, self._liquidity.get(order.symbol, order.volume_current)
        )
        volume = min(order.volume_current, available)
        self._fill(order, volume, price, "expert", out)
        if order.volume_current == ZERO:
            order.state, order.time_done = "filled", self._now
            out += [
                Transaction(TxType.ORDER_DELETE, order=order.ticket),
                Transaction(TxType.HISTORY_ADD, order=order.ticket),
            ]
        elif order.filling == "IOC":
            self._close_order(order, "canceled", out)
        else:
            order.state = "partial"
            out.append(Transaction(TxType.ORDER_UPDATE, order=order.ticket))

    def _protect(self, position: Position, tick: Tick, out: list[Transaction]) -> None:
        """Close a position whose SL or TP the market reached, as the server does."""
        touch = tick.bid if position.side == "buy" else tick.ask
        for reason, level in (("sl", position.sl), ("tp", position.tp)):
            if level is None:
                continue
            loss_side = (touch <= level) if position.side == "buy" else (touch >= level)
            gain_side = (touch >= level) if position.side == "buy" else (touch <= level)
            if (reason == "sl" and loss_side) or (reason == "tp" and gain_side):
                self._server_close(position, touch, reason, f"[{reason} {level}]", out)
                return

    def _stop_out(self, out: list[Transaction]) -> None:
        """Below the stop-out level, close the most losing position until the account is
        above it again (or flat), as the server does (`reason` `so`)."""
        while (level := self.margin_level()) is not None and level < self._stop_out_level:
            position = min(self.positions.values(), key=lambda p: (self._floating(p), p.ticket))
            tick = self._ticks[position.symbol]
            touch = tick.bid if position.side == "buy" else tick.ask
            self._server_close(position, touch, "so", f"[so {level:.1f}%]", out)

    def _server_close(
        self, position: Position, price: Decimal, reason: str, comment: str, out: list[Transaction]
    ) -> None:
        """The server's own market order closing `position` whole, with no request."""
        side = "sell" if position.side == "buy" else "buy"
        order = Order(
            ticket=self._order_ticket(),
            symbol=position.symbol,
            side=side,
            type="market",
            state="started",
            volume_initial=position.volume,
            volume_current=position.volume,
            price=None,
            stop_price=None,
            sl=None,
            tp=None,
            time_in_force="GTC",
            filling="IOC",
            expiration=None,
            time_setup=self._now,
            magic=position.magic,
            comment=comment,
            closes=position.ticket if self.account.margin_mode == "hedging" else None,
        )
        self.orders[order.ticket] = order
        out.append(Transaction(TxType.ORDER_ADD, order=order.ticket))
        self._fill(order, position.volume, price, reason, out)
        order.state, order.time_done = "filled", self._now
        out += [
            Transaction(TxType.ORDER_DELETE, order=order.ticket),
            Transaction(TxType.HISTORY_ADD, order=order.ticket),
        ]

    def _fill(
        self, order: Order, volume: Decimal, price: Decimal, reason: str, out: list[Transaction]
    ) -> Deal:
        """Book one deal of `order` against the account's positions."""
        spec = self.symbols[order.symbol]
        if self.account.margin_mode == "hedging":  # a close names its position; else a new one
            position = None if order.closes is None else self.positions.get(order.closes)
        else:  # netting: the symbol's one position, if any
            position = next(iter(self.open_positions(order.symbol)), None)
        profit, entry = ZERO, "in"
        if position is None:
            position = Position(
                order.ticket, order.symbol, order.side, volume, price, self._now, order.magic
            )
            self.positions[position.ticket] = position
        elif position.side == order.side:  # netting: adds to the position
            total = position.volume + volume
            position.price_open = (position.price_open * position.volume + price * volume) / total
            position.volume = total
        else:
            closed = min(volume, position.volume)
            sign = 1 if position.side == "buy" else -1
            profit = (price - position.price_open) * closed * spec.contract_size * sign
            rest = volume - closed
            position.volume -= closed
            entry = "out"
            if position.volume == ZERO:
                del self.positions[position.ticket]
                if rest > ZERO:  # netting: the deal reverses the position
                    entry = "inout"
                    position = Position(
                        order.ticket, order.symbol, order.side, rest, price, self._now, order.magic
                    )
                    self.positions[position.ticket] = position
        commission = -(self._commission * volume)
        deal = Deal(
            ticket=self._deal_ticket(),
            order=order.ticket,
            position_id=position.ticket,
            symbol=order.symbol,
            side=order.side,
            entry=entry,
            reason=reason,
            price=price,
            volume=volume,
            commission=commission,
            swap=ZERO,
            fee=ZERO,
            profit=profit,
            time=self._now,
            magic=order.magic,
            comment=order.comment,
        )
        self.deals.append(deal)
        self.account.balance += profit + commission
        order.volume_current -= volume
        order.position_id = order.position_id or position.ticket
        out.append(
            Transaction(
                TxType.DEAL_ADD, order=order.ticket, deal=deal.ticket, position=position.ticket
            )
        )
        return deal

    def _close_order(self, order: Order, state: str, out: list[Transaction]) -> None:
        order.state, order.time_done = state, self._now
        out += [
            Transaction(TxType.ORDER_DELETE, order=order.ticket),
            Transaction(TxType.HISTORY_ADD, order=order.ticket),
        ]

    # --- checks ------------------------------------------------------------------------------

    def _check_market(self, request: TradeRequest) -> tuple[SymbolSpec, TradeResult | None]:
        spec = self.symbols.get(request.symbol)
        if spec is None:
            return _UNKNOWN_SPEC, TradeResult(INVALID, comment=f"no symbol {request.symbol}")
        tick = self._ticks.get(spec.symbol)
        if tick is None:
            return spec, TradeResult(PRICE_OFF, comment="no quote yet")
        if spec.trade_mode == "disabled" or (
            spec.trade_mode in ("long_only", "short_only")
            and spec.trade_mode != f"{'long' if request.side == 'buy' else 'short'}_only"
        ):
            return spec, self._quoted(TRADE_DISABLED, tick)
        if not self._in_session(spec, tick.time):
            return spec, self._quoted(MARKET_CLOSED, tick)
        if not spec.volume_ok(request.volume):
            return spec, self._quoted(INVALID_VOLUME, tick)
        return spec, None

    def _in_session(self, spec: SymbolSpec, time: int) -> bool:
        if not spec.sessions:
            return True
        day = (time // _MS_PER_DAY + 4) % 7  # 1970-01-01 was a Thursday
        minute = (time % _MS_PER_DAY) // _MS_PER_MINUTE
        return any(s.day == day and s.start <= minute < s.end for s in spec.sessions)

    def _away(self, spec: SymbolSpec, tick: Tick, side: str, kind: str, level: Decimal) -> bool:
        """Whether a pending order's price is on its side of the market, past the stops level."""
        gap = spec.point * spec.stops_level
        if kind == "limit":
            return level <= tick.ask - gap if side == "buy" else level >= tick.bid + gap
        return level >= tick.ask + gap if side == "buy" else level <= tick.bid - gap

    def _stops_ok(
        self, spec: SymbolSpec, side: str, price: Decimal, sl: Decimal | None, tp: Decimal | None
    ) -> bool:
        gap = spec.point * spec.stops_level
        below, above = (sl, tp) if side == "buy" else (tp, sl)
        return (below is None or below <= price - gap) and (above is None or above >= price + gap)

    def _affordable(self, spec: SymbolSpec, side: str, volume: Decimal, price: Decimal) -> bool:
        if self.account.margin_mode != "hedging":
            held = next(iter(self.open_positions(spec.symbol)), None)
            if held is not None and held.side != side and volume <= held.volume:
                return True  # only reduces the position
        free = self.equity() - self.margin()
        return self._margin(spec, volume, price) <= free

    def _margin(self, spec: SymbolSpec, volume: Decimal, price: Decimal) -> Decimal:
        return volume * spec.contract_size * price / self.account.leverage

    def _floating(self, position: Position) -> Decimal:
        tick = self._ticks.get(position.symbol)
        if tick is None:
            return ZERO
        spec = self.symbols[position.symbol]
        close = tick.bid if position.side == "buy" else tick.ask
        sign = 1 if position.side == "buy" else -1
        return (close - position.price_open) * position.volume * spec.contract_size * sign

    def _expired(self, order: Order, time: int) -> bool:
        if order.time_in_force == "DAY":
            return time // _MS_PER_DAY > order.time_setup // _MS_PER_DAY
        if order.time_in_force in ("SPECIFIED", "SPECIFIED_DAY") and order.expiration is not None:
            return time >= order.expiration
        return False

    # --- helpers -----------------------------------------------------------------------------

    @staticmethod
    def _touch(tick: Tick, side: str) -> Decimal:
        """The price an order on `side` is matched against: a buy meets the ask."""
        return tick.ask if side == "buy" else tick.bid

    @staticmethod
    def _quoted(retcode: int, tick: Tick) -> TradeResult:
        return TradeResult(retcode, bid=tick.bid, ask=tick.ask)

    def _new_order(
        self, request: TradeRequest, kind: str, filling: str, closes: int | None
    ) -> Order:
        order = Order(
            ticket=self._order_ticket(),
            symbol=request.symbol,
            side=request.side,
            type=kind,
            state="started",
            volume_initial=request.volume,
            volume_current=request.volume,
            price=request.price if kind in ("limit", "stop_limit") else None,
            stop_price=request.stop_price if kind in ("stop", "stop_limit") else None,
            sl=request.sl,
            tp=request.tp,
            time_in_force=request.time_in_force,
            filling=filling,
            expiration=request.expiration,
            time_setup=self._now,
            magic=request.magic,
            comment=request.comment,
            closes=closes,
        )
        self.orders[order.ticket] = order
        return order

    def _order_ticket(self) -> int:
        ticket, self._next_order = self._next_order, self._next_order + 1
        return ticket

    def _deal_ticket(self) -> int:
        ticket, self._next_deal = self._next_deal, self._next_deal + 1
        return ticket


_UNKNOWN_SPEC: Final = SymbolSpec("?", 0, Decimal(1), Decimal(1), Decimal(1), Decimal(1), "?", "?")
