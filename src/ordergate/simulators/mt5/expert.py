"""`ExpertAdvisor`: the EA's side of the bridge protocol over a simulated trade server.

Pure and synchronous, as `mql5/OrdergateBridge.mq5` is single-threaded: `handle` takes
one request frame and returns the reply and the events it published, `tick` moves the
market and returns the events, `heartbeat` returns one. The sockets around it are the
simulator's server. Everything it writes follows docs/mt5-bridge.md and validates
against the protocol's schema (the tests check).

- Session and sequence: a new session per instance (an EA start); numbered events,
  1, 2, 3 ...; the last `ring` kept for `events_since`.
- Idempotency: `IdMap`, persisted before each send; a repeat answers as the first did,
  with `duplicate: true`, and sends nothing.
- Events from the trade server's transactions: `fill` from each deal, the order events
  from the order's new state, a `position` event per position touched, an `account`
  event after any deal.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Mapping, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any, Final

from ordergate.domain.values import ZERO
from ordergate.protocols.mt5 import VERSION
from ordergate.protocols.mt5.retcodes import Outcome, name_of, outcome_of
from ordergate.simulators.mt5.ids import DONE, REFUSED, SENDING, IdMap, token_of
from ordergate.simulators.mt5.model import (
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
from ordergate.simulators.mt5.trade_server import TradeServer

Frame = dict[str, Any]
Event = tuple[str, Frame]  # (topic, object)

DEFAULT_RING: Final = 4096
_REJECT: Final = 10006  # TRADE_RETCODE_REJECT: the server's refusal with no other reason
_ERROR_OF: Final = {
    Outcome.REQUOTED: "REJECTED",
    Outcome.REJECTED: "REJECTED",
    Outcome.BUSY: "BUSY",
    Outcome.UNKNOWN: "UNKNOWN_OUTCOME",
}


class BridgeError(Exception):
    """A command's error reply: `code` and what goes with it."""

    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.error: Frame = {"code": code, "message": message, **extra}


class ExpertAdvisor:
    """The EA over one trade server (see the module)."""

    def __init__(
        self,
        server: TradeServer,
        *,
        session: str,
        ids: IdMap,
        gmt_offset_s: int = 0,
        ring: int = DEFAULT_RING,
        name: str = "OrdergateBridge simulator",
        fired: list[str] | None = None,
    ) -> None:
        """`fired`: where each injected retcode is noted as it is used (tests ask)."""
        self.server = server
        self.session = session
        self.ids = ids
        self.gmt_offset_s = gmt_offset_s
        self._ring: deque[Frame] = deque(maxlen=ring)
        self._ring_size = ring
        self._seq = 0
        self._name = name
        self._handlers: Mapping[str, Callable[[Frame], Frame]] = {
            "hello": self._hello,
            "ping": self._ping,
            "get_symbols": self._get_symbols,
            "get_quotes": self._get_quotes,
            "submit_order": self._submit_order,
            "cancel_order": self._cancel_order,
            "modify_order": self._modify_order,
            "get_order": self._get_order,
            "get_open_orders": self._get_open_orders,
            "get_positions": self._get_positions,
            "get_account": self._get_account,
            "close_position": self._close_position,
            "close_all": self._close_all,
            "get_deals": self._get_deals,
            "events_since": self._events_since,
        }
        self._pending_events: list[Event] = []
        self._injected: deque[int] = deque()
        self.fired = [] if fired is None else fired

    @property
    def last_seq(self) -> int:
        return self._seq

    def inject_retcode(self, retcode: int) -> None:
        """The next order sent answers `retcode` (a fault, per test). A refusal or a busy
        server sends nothing; an unknown outcome (`TIMEOUT`) carries the order out and
        loses the answer, as a trade server that answered too late does."""
        self._injected.append(retcode)

    # --- the three entry points ------------------------------------------------------------

    def handle(self, request: Frame) -> tuple[Frame, list[Event]]:
        """Answer one request; return the reply and the events published meanwhile."""
        self._pending_events = []
        req_id = request.get("req_id") if isinstance(request.get("req_id"), str) else None
        try:
            if request.get("v") != VERSION:
                raise BridgeError("UNSUPPORTED_VERSION", f"version {request.get('v')!r}")
            cmd, args = request.get("cmd"), request.get("args")
            if req_id is None or not isinstance(args, dict) or not isinstance(cmd, str):
                raise BridgeError("BAD_REQUEST", "a request needs v, req_id, cmd and args")
            handler = self._handlers.get(cmd)
            if handler is None:
                raise BridgeError("UNKNOWN_COMMAND", f"no command {cmd!r}")
            result = handler(args)
            reply = self._envelope(req_id) | {"ok": True, "result": result}
        except BridgeError as exc:
            reply = self._envelope(req_id) | {"ok": False, "error": _error(exc.error)}
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
            error = {"code": "BAD_REQUEST", "message": f"malformed arguments: {exc}"}
            reply = self._envelope(req_id) | {"ok": False, "error": _error(error)}
        reply["last_seq"] = self._seq  # after what this request published
        return reply, self._pending_events

    def tick(self, tick: Tick) -> list[Event]:
        """A new quote at the trade server; the events it caused."""
        self._pending_events = []
        self._publish(self.server.tick(tick))
        return self._pending_events

    def heartbeat(self) -> Event:
        """The unnumbered heartbeat: it carries the last event's seq."""
        now = self.server.now
        frame = self._event_envelope("heartbeat", now, self._seq)
        frame |= {"server_time": now, "terminal_connected": True}
        return ("evt.heartbeat", frame)

    # --- commands ----------------------------------------------------------------------------

    def _hello(self, args: Frame) -> Frame:
        versions = args.get("versions")
        if versions is not None and VERSION not in versions:
            raise BridgeError("UNSUPPORTED_VERSION", f"this EA speaks version {VERSION}")
        return {
            "version": VERSION,
            "ea": self._name,
            "session": self.session,
            "last_seq": self._seq,
            "account": self._account(),
            "server_time": self.server.now,
            "gmt_offset_s": self.gmt_offset_s,
            "ring": self._ring_size,
            "terminal_connected": True,
        }

    def _ping(self, args: Frame) -> Frame:
        return {"server_time": self.server.now, "terminal_connected": True}

    def _get_symbols(self, args: Frame) -> Frame:
        wanted = args.get("symbols") or sorted(self.server.symbols)
        unknown = [s for s in wanted if s not in self.server.symbols]
        if unknown:
            raise BridgeError("NOT_FOUND", f"no symbol {unknown[0]}")
        return {"symbols": [_spec(self.server.symbols[s]) for s in wanted]}

    def _get_quotes(self, args: Frame) -> Frame:
        wanted = args.get("symbols") or sorted(self.server.symbols)
        unknown = [s for s in wanted if s not in self.server.symbols]
        if unknown:
            raise BridgeError("NOT_FOUND", f"no symbol {unknown[0]}")
        quotes = []
        for symbol in wanted:
            tick = self.server.last_tick(symbol)
            if tick is not None:
                spec = self.server.symbols[symbol]
                quotes.append(
                    {
                        "symbol": symbol,
                        "bid": _price(spec, tick.bid),
                        "ask": _price(spec, tick.ask),
                        "time": tick.time,
                    }
                )
        return {"quotes": quotes}

    def _submit_order(self, args: Frame) -> Frame:
        request = TradeRequest(
            action=Action.DEAL if args["type"] == "market" else Action.PENDING,
            symbol=args["symbol"],
            side=args["side"],
            type=args["type"],
            volume=Decimal(args["volume"]),
            price=_decimal(args.get("price")),
            stop_price=_decimal(args.get("stop_price")),
            sl=_decimal(args.get("sl")),
            tp=_decimal(args.get("tp")),
            time_in_force=args.get("time_in_force", "GTC"),
            expiration=args.get("expiration"),
            filling=args.get("filling"),
            deviation=args.get("deviation", 0),
            magic=args.get("magic", 0),
            comment=token_of(args["client_order_id"]),
            position=args.get("position"),
        )
        return self._send_once(args["client_order_id"], request)

    def _close_position(self, args: Frame) -> Frame:
        position = self.server.positions.get(args["ticket"])
        entry = self.ids.get(args["client_order_id"])
        if position is None and entry is None:
            raise BridgeError("NOT_FOUND", f"no open position {args['ticket']}")
        volume = Decimal(args["volume"]) if "volume" in args else None
        request = TradeRequest(
            action=Action.DEAL,
            symbol=position.symbol if position else "",
            side="sell" if position and position.side == "buy" else "buy",
            volume=volume or (position.volume if position else Decimal(0)),
            deviation=args.get("deviation", 0),
            magic=args.get("magic", 0),
            comment=token_of(args["client_order_id"]),
            position=args["ticket"] if self.server.account.margin_mode == "hedging" else None,
        )
        result = self._send_once(args["client_order_id"], request)
        return result | {"position": args["ticket"]}

    def _close_all(self, args: Frame) -> Frame:
        prefix, symbol = args["client_order_id_prefix"], args.get("symbol")
        closes = []
        for position in sorted(self.server.open_positions(symbol), key=lambda p: p.ticket):
            coid = f"{prefix}:{position.ticket}"
            try:
                done = self._close_position({"ticket": position.ticket, "client_order_id": coid})
                closes.append(
                    {
                        "position": position.ticket,
                        "client_order_id": coid,
                        "ticket": done["ticket"],
                        "duplicate": done["duplicate"],
                        "retcode": done["retcode"],
                        "retcode_name": done["retcode_name"],
                    }
                )
            except BridgeError as exc:
                closes.append(
                    {
                        "position": position.ticket,
                        "client_order_id": coid,
                        "ticket": exc.error.get("ticket"),
                        "duplicate": bool(exc.error.get("duplicate", False)),
                        "retcode": exc.error.get("retcode") or _REJECT,
                        "retcode_name": exc.error.get("retcode_name") or name_of(_REJECT),
                    }
                )
        return {"closes": closes}

    def _cancel_order(self, args: Frame) -> Frame:
        order = self._order_named(args)
        if order.state == "canceled":
            return {"ticket": order.ticket, "duplicate": True, "state": "canceled"}
        if not order.is_open:
            raise BridgeError(
                "CLOSED", f"order {order.ticket} is {order.state}", ticket=order.ticket
            )
        result, txs = self.server.send(TradeRequest(Action.REMOVE, order=order.ticket))
        self._check(result)
        self._publish(txs)
        return {
            "ticket": order.ticket,
            "duplicate": False,
            "state": order.state,
            "retcode": result.retcode,
            "retcode_name": name_of(result.retcode),
        }

    def _modify_order(self, args: Frame) -> Frame:
        order = self._order_named(args)
        if not order.is_open:
            raise BridgeError(
                "CLOSED", f"order {order.ticket} is {order.state}", ticket=order.ticket
            )
        request = TradeRequest(
            Action.MODIFY,
            order=order.ticket,
            price=_decimal(args.get("price")),
            stop_price=_decimal(args.get("stop_price")),
            sl=_decimal(args["sl"]) if "sl" in args else order.sl,
            tp=_decimal(args["tp"]) if "tp" in args else order.tp,
            expiration=args.get("expiration"),
        )
        result, txs = self.server.send(request)
        duplicate = outcome_of(result.retcode) is Outcome.NO_CHANGE
        if not duplicate:
            self._check(result)
        self._publish(txs)
        return {
            "ticket": order.ticket,
            "duplicate": duplicate,
            "order": self._order(order),
            "retcode": result.retcode,
            "retcode_name": name_of(result.retcode),
        }

    def _get_order(self, args: Frame) -> Frame:
        return {"order": self._order(self._order_named(args))}

    def _get_open_orders(self, args: Frame) -> Frame:
        orders = sorted(self.server.open_orders(args.get("symbol")), key=lambda o: o.ticket)
        return {"orders": [self._order(o) for o in orders]}

    def _get_positions(self, args: Frame) -> Frame:
        positions = sorted(self.server.open_positions(args.get("symbol")), key=lambda p: p.ticket)
        return {"positions": [self._position(p) for p in positions]}

    def _get_account(self, args: Frame) -> Frame:
        return {"account": self._account()}

    def _get_deals(self, args: Frame) -> Frame:
        deals = self.server.deals_between(args["since"], args.get("until"))
        symbol = args.get("symbol")
        return {"deals": [self._deal(d) for d in deals if symbol is None or d.symbol == symbol]}

    def _events_since(self, args: Frame) -> Frame:
        seq = args["seq"]
        events = [e for e in self._ring if e["seq"] > seq]
        oldest = self._ring[0]["seq"] if self._ring else self._seq + 1
        complete = seq <= self._seq and (seq + 1 >= oldest or seq == self._seq)
        return {"events": events if complete else [], "complete": complete}

    # --- sending once --------------------------------------------------------------------------

    def _send_once(self, client_order_id: str, request: TradeRequest) -> Frame:
        """Send `request` unless this client order id was sent before (see the module)."""
        entry = self.ids.get(client_order_id)
        if entry is not None:
            return self._repeat(entry)
        self.ids.sending(client_order_id)
        injected = self._injected.popleft() if self._injected else None
        if injected is not None:
            self.fired.append(f"retcode {injected}")
        txs: list[Transaction]
        if injected is not None and outcome_of(injected) is not Outcome.UNKNOWN:
            tick = self.server.last_tick(request.symbol)
            bid, ask = (None, None) if tick is None else (tick.bid, tick.ask)
            result, txs = TradeResult(injected, bid=bid, ask=ask), []
        else:
            result, txs = self.server.send(request)
            if injected is not None:  # carried out, and the answer lost
                self._publish(txs)
                result, txs = TradeResult(injected), []
        outcome = outcome_of(result.retcode)
        if outcome is Outcome.OK:
            order = self.server.orders[result.order or 0]
            reply = _submitted(result, order, self.server.symbols[order.symbol])
            self.ids.outcome(client_order_id, DONE, result.order, reply)
            self._publish(txs)
            return reply | {"duplicate": False}
        error = _refusal(result)
        if outcome is Outcome.BUSY:  # not sent: the id may be sent again
            self.ids.forget(client_order_id)
        elif outcome is not Outcome.UNKNOWN:  # an unknown outcome stays "sending"
            self.ids.outcome(client_order_id, REFUSED, None, error)
        raise BridgeError(**error)

    def _repeat(self, entry: Any) -> Frame:
        if entry.state == DONE and entry.reply is not None:
            order = self.server.orders.get(entry.ticket)
            reply = dict(entry.reply) | {"duplicate": True}
            if order is not None:
                reply["state"] = order.state
            return reply
        if entry.state == REFUSED and entry.reply is not None:
            raise BridgeError(**(dict(entry.reply) | {"duplicate": True}))
        assert entry.state == SENDING
        found = next((o for o in self.server.orders.values() if o.comment == entry.token), None)
        if found is None:
            raise BridgeError(
                "UNKNOWN_OUTCOME",
                "sent before, and neither an answer nor the order was found: ask get_order",
            )
        reply = {
            "ticket": found.ticket,
            "duplicate": True,
            "state": found.state,
            "retcode": 10009,
            "retcode_name": name_of(10009),
            "deal": None,
            "volume": None,
            "price": None,
            "bid": None,
            "ask": None,
        }
        self.ids.outcome(entry.client_order_id, DONE, found.ticket, reply)
        return reply

    def _check(self, result: TradeResult) -> None:
        if outcome_of(result.retcode) is not Outcome.OK:
            raise BridgeError(**_refusal(result))

    # --- events ----------------------------------------------------------------------------

    def _publish(self, transactions: Sequence[Transaction]) -> None:
        touched: list[int] = []
        for tx in transactions:
            if tx.type is TxType.DEAL_ADD and tx.deal is not None:
                deal = next(d for d in self.server.deals if d.ticket == tx.deal)
                self._emit("fill", deal.time, {"deal": self._deal(deal)})
                if tx.position is not None and tx.position not in touched:
                    touched.append(tx.position)
            elif tx.type is TxType.ORDER_ADD and tx.order is not None:
                order = self.server.orders[tx.order]
                if order.type != "market" and order.state == "placed":
                    self._emit("order_accepted", order.time_setup, {"order": self._order(order)})
            elif tx.type is TxType.HISTORY_ADD and tx.order is not None:
                order = self.server.orders[tx.order]
                if order.state == "rejected":
                    self._emit_late_rejection(order)
                    continue
                kind = {"canceled": "order_canceled", "expired": "order_expired"}.get(order.state)
                # A market order canceled is the rest of a partial IOC: told when part filled.
                part_filled = ZERO < order.volume_current < order.volume_initial
                if kind is not None and (order.type != "market" or part_filled):
                    self._emit(
                        kind, order.time_done or self.server.now, {"order": self._order(order)}
                    )
            elif tx.type is TxType.ORDER_UPDATE and tx.order is not None:
                order = self.server.orders[tx.order]
                if order.is_open:
                    self._emit("order_modified", self.server.now, {"order": self._order(order)})
        for ticket in touched:
            self._emit_position(ticket)
        if touched:
            self._emit("account", self.server.now, {"account": self._account()})

    def _emit_late_rejection(self, order: Order) -> None:
        """A pending order the server refused after placing it (a stop triggered without
        the margin for it)."""
        retcode = order.retcode or _REJECT
        payload = {
            "client_order_id": self.ids.id_of(order.ticket, order.comment),
            "ticket": order.ticket,
            "retcode": retcode,
            "retcode_name": name_of(retcode),
            "message": "the trade server rejected the order after it was accepted",
        }
        self._emit("order_rejected", order.time_done or self.server.now, payload)

    def _emit_position(self, ticket: int) -> None:
        position = self.server.positions.get(ticket)
        symbol = position.symbol if position else self._symbol_of_position(ticket)
        payload = {
            "position_id": ticket,
            "symbol": symbol,
            "closed": position is None,
            "position": None if position is None else self._position(position),
        }
        self._emit("position", self.server.now, payload)

    def _symbol_of_position(self, ticket: int) -> str:
        return next(d.symbol for d in reversed(self.server.deals) if d.position_id == ticket)

    def _emit(self, kind: str, ts: int, payload: Frame) -> None:
        self._seq += 1
        frame = self._event_envelope(kind, ts, self._seq) | payload
        self._ring.append(frame)
        self._pending_events.append((f"evt.{kind}", frame))

    def _event_envelope(self, kind: str, ts: int, seq: int) -> Frame:
        return {"v": VERSION, "session": self.session, "seq": seq, "ts": ts, "type": kind}

    def _envelope(self, req_id: str | None) -> Frame:
        return {"v": VERSION, "req_id": req_id, "session": self.session, "last_seq": self._seq}

    # --- objects -----------------------------------------------------------------------------

    def _order_named(self, args: Frame) -> Order:
        if "client_order_id" in args:
            entry = self.ids.get(args["client_order_id"])
            ticket = entry.ticket if entry is not None else None
            what = f"client_order_id {args['client_order_id']}"
        else:
            ticket, what = args["ticket"], f"ticket {args['ticket']}"
        order = None if ticket is None else self.server.orders.get(ticket)
        if order is None:
            raise BridgeError("NOT_FOUND", f"no order for {what}")
        return order

    def _order(self, order: Order) -> Frame:
        spec = self.server.symbols[order.symbol]
        return {
            "ticket": order.ticket,
            "client_order_id": self.ids.id_of(order.ticket, order.comment),
            "symbol": order.symbol,
            "side": order.side,
            "type": order.type,
            "state": order.state,
            "volume_initial": _volume(spec, order.volume_initial),
            "volume_current": _volume(spec, order.volume_current),
            "price": _price(spec, order.price),
            "stop_price": _price(spec, order.stop_price),
            "sl": _price(spec, order.sl),
            "tp": _price(spec, order.tp),
            "time_in_force": order.time_in_force,
            "filling": order.filling,
            "expiration": order.expiration,
            "time_setup": order.time_setup,
            "time_done": order.time_done,
            "position_id": order.position_id,
            "magic": order.magic,
            "comment": order.comment[:31],
        }

    def _deal(self, deal: Deal) -> Frame:
        spec = self.server.symbols[deal.symbol]
        return {
            "ticket": deal.ticket,
            "order": deal.order,
            "position_id": deal.position_id,
            "client_order_id": self.ids.id_of(deal.order, deal.comment),
            "symbol": deal.symbol,
            "side": deal.side,
            "entry": deal.entry,
            "reason": deal.reason,
            "price": _price(spec, deal.price),
            "volume": _volume(spec, deal.volume),
            "commission": _money(deal.commission),
            "swap": _money(deal.swap),
            "fee": _money(deal.fee),
            "profit": _money(deal.profit),
            "time": deal.time,
            "magic": deal.magic,
        }

    def _position(self, position: Position) -> Frame:
        spec = self.server.symbols[position.symbol]
        opening = self.server.orders.get(position.ticket)  # a position's ticket is its order's
        tick = self.server.last_tick(position.symbol)
        current = None if tick is None else (tick.bid if position.side == "buy" else tick.ask)
        sign = 1 if position.side == "buy" else -1
        profit = (
            Decimal(0)
            if current is None
            else (current - position.price_open) * position.volume * spec.contract_size * sign
        )
        return {
            "ticket": position.ticket,
            "symbol": position.symbol,
            "side": position.side,
            "volume": _volume(spec, position.volume),
            "price_open": _price(spec, position.price_open),
            "price_current": _price(spec, current) or "0",
            "sl": _price(spec, position.sl),
            "tp": _price(spec, position.tp),
            "swap": _money(position.swap),
            "profit": _money(profit),
            "time": position.time,
            "magic": position.magic,
            "client_order_id": self.ids.id_of(position.ticket, opening.comment if opening else ""),
        }

    def _account(self) -> Frame:
        account = self.server.account
        margin = self.server.margin()
        equity = self.server.equity()
        return {
            "login": account.login,
            "server": account.server,
            "company": account.company,
            "currency": account.currency,
            "margin_mode": account.margin_mode,
            "leverage": account.leverage,
            "balance": _money(account.balance),
            "equity": _money(equity),
            "margin": _money(margin),
            "margin_free": _money(equity - margin),
            "margin_level": None if margin == 0 else _money(equity / margin * 100),
            "trade_allowed": True,
        }


# --- values on the wire ----------------------------------------------------------------------


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)


def _fixed(value: Decimal, places: int) -> str:
    """`value` with `places` decimals, half to even whatever the process's decimal context
    says (ccxt's `decimal_to_precision` sets the shared context to half up)."""
    return str(value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN))


def _price(spec: SymbolSpec, value: Decimal | None) -> str | None:
    return None if value is None else _fixed(value, spec.digits)


def _volume(spec: SymbolSpec, value: Decimal) -> str:
    places = max(0, -spec.volume_step.normalize().as_tuple().exponent)  # type: ignore[operator]
    return _fixed(value, places)


def _money(value: Decimal) -> str:
    return _fixed(value, 2)


def _spec(spec: SymbolSpec) -> Frame:
    return {
        "symbol": spec.symbol,
        "digits": spec.digits,
        "point": _fixed(spec.point, spec.digits),
        "tick_size": _fixed(spec.point, spec.digits),
        "contract_size": str(spec.contract_size),
        "volume_min": _volume(spec, spec.volume_min),
        "volume_step": _volume(spec, spec.volume_step),
        "volume_max": _volume(spec, spec.volume_max),
        "stops_level": spec.stops_level,
        "freeze_level": spec.freeze_level,
        "currency_base": spec.currency_base,
        "currency_profit": spec.currency_profit,
        "currency_margin": spec.currency_base,
        "filling_modes": list(spec.filling_modes),
        "trade_mode": spec.trade_mode,
        "sessions": [{"day": s.day, "from": s.start, "to": s.end} for s in spec.sessions],
    }


def _submitted(result: TradeResult, order: Order, spec: SymbolSpec) -> Frame:
    return {
        "ticket": result.order,
        "state": order.state,
        "retcode": result.retcode,
        "retcode_name": name_of(result.retcode),
        "deal": result.deal,
        "volume": _volume(spec, result.volume),
        "price": _price(spec, result.price),
        "bid": _price(spec, result.bid),
        "ask": _price(spec, result.ask),
    }


def _refusal(result: TradeResult) -> Frame:
    outcome = outcome_of(result.retcode)
    error: Frame = {
        "code": _ERROR_OF.get(outcome, "REJECTED"),
        "message": result.comment or name_of(result.retcode).removeprefix("TRADE_RETCODE_").lower(),
        "retcode": result.retcode,
        "retcode_name": name_of(result.retcode),
        "ticket": result.order,
    }
    if outcome is Outcome.REQUOTED:
        error["bid"] = None if result.bid is None else str(result.bid)
        error["ask"] = None if result.ask is None else str(result.ask)
    return error


def _error(error: Frame) -> Frame:
    """An error object with exactly the schema's fields."""
    allowed = ("code", "retcode", "retcode_name", "message", "ticket", "bid", "ask", "duplicate")
    return {key: error[key] for key in allowed if key in error}


def session_name(login: int, start_ms: int, counter: int) -> str:
    """A session id as the EA makes one: login, start time and a start counter."""
    return f"{login}-{start_ms}-{counter}"


def id_file(directory: Path, login: int) -> Path:
    """Where the EA keeps its id map: `<directory>/<login>-ids.jsonl`."""
    return directory / f"{login}-ids.jsonl"
