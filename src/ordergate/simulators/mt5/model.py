"""The objects of a simulated MT5 trade server: symbols, ticks, requests, orders, deals,
positions, and the trade transactions a request produces.

Values are `Decimal` (MT5 keeps doubles; the bridge writes them with the symbol's
digits, so the simulator keeps them exact). Times are milliseconds in the server's clock.
Names follow MQL5 (`MqlTradeRequest`, `ORDER_STATE_*`, `DEAL_ENTRY_*`) in the protocol's
lower case.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from enum import StrEnum

from ordergate.domain.values import ZERO


class Action(StrEnum):
    """`TRADE_ACTION_*` of a request."""

    DEAL = "deal"  # a market order, or a position's close
    PENDING = "pending"  # a limit, stop or stop-limit order
    MODIFY = "modify"  # a pending order's prices or expiry
    REMOVE = "remove"  # cancel a pending order


class TxType(StrEnum):
    """`TRADE_TRANSACTION_*`: what `OnTradeTransaction` is told, in the order MT5 says."""

    ORDER_ADD = "order_add"
    ORDER_UPDATE = "order_update"
    ORDER_DELETE = "order_delete"
    DEAL_ADD = "deal_add"
    HISTORY_ADD = "history_add"
    POSITION = "position"
    REQUEST = "request"


@dataclass(frozen=True, slots=True)
class Session:
    """Trading hours of one weekday (0 Sunday), minutes from midnight, server time."""

    day: int
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class SymbolSpec:
    """What `SymbolInfo*` says of a symbol. `sessions` empty: always open."""

    symbol: str
    digits: int
    contract_size: Decimal
    volume_min: Decimal
    volume_step: Decimal
    volume_max: Decimal
    currency_base: str
    currency_profit: str
    stops_level: int = 0
    freeze_level: int = 0
    filling_modes: tuple[str, ...] = ("FOK", "IOC", "RETURN")
    trade_mode: str = "full"
    sessions: tuple[Session, ...] = ()

    @property
    def point(self) -> Decimal:
        return Decimal(1).scaleb(-self.digits)

    def on_digits(self, price: Decimal) -> Decimal:
        """`price` on the symbol's digits, half to even (whatever the decimal context)."""
        return price.quantize(self.point, rounding=ROUND_HALF_EVEN)

    def volume_ok(self, volume: Decimal) -> bool:
        steps = (volume - self.volume_min) / self.volume_step
        return self.volume_min <= volume <= self.volume_max and steps == steps.to_integral()


@dataclass(frozen=True, slots=True)
class Tick:
    symbol: str
    bid: Decimal
    ask: Decimal
    time: int


@dataclass(frozen=True, slots=True)
class TradeRequest:
    """`MqlTradeRequest`, with the bridge's names: `price` is a limit's price and
    `stop_price` a stop's trigger (MT5's `price` and `stoplimit` by type)."""

    action: Action
    symbol: str = ""
    side: str = "buy"
    type: str = "market"
    volume: Decimal = ZERO
    price: Decimal | None = None
    stop_price: Decimal | None = None
    sl: Decimal | None = None
    tp: Decimal | None = None
    time_in_force: str = "GTC"
    expiration: int | None = None
    filling: str | None = None
    deviation: int = 0
    magic: int = 0
    comment: str = ""
    position: int | None = None  # hedging: the position a deal closes
    order: int | None = None  # modify and remove: the order


@dataclass(frozen=True, slots=True)
class TradeResult:
    """`MqlTradeResult`: the server's answer to one request."""

    retcode: int
    order: int | None = None
    deal: int | None = None
    volume: Decimal = ZERO
    price: Decimal | None = None
    bid: Decimal | None = None
    ask: Decimal | None = None
    comment: str = ""


@dataclass(slots=True)
class Order:
    ticket: int
    symbol: str
    side: str
    type: str
    state: str
    volume_initial: Decimal
    volume_current: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    sl: Decimal | None
    tp: Decimal | None
    time_in_force: str
    filling: str
    expiration: int | None
    time_setup: int
    magic: int
    comment: str
    time_done: int | None = None
    position_id: int | None = None
    triggered: bool = False  # a stop-limit whose trigger was reached: now a limit
    closes: int | None = None  # hedging: the position this order closes
    retcode: int | None = None  # why the server rejected it after placing it

    @property
    def is_open(self) -> bool:
        return self.state in ("started", "placed", "partial")


@dataclass(frozen=True, slots=True)
class Deal:
    ticket: int
    order: int
    position_id: int
    symbol: str
    side: str
    entry: str
    reason: str
    price: Decimal
    volume: Decimal
    commission: Decimal
    swap: Decimal
    fee: Decimal
    profit: Decimal
    time: int
    magic: int
    comment: str


@dataclass(slots=True)
class Position:
    ticket: int
    symbol: str
    side: str
    volume: Decimal
    price_open: Decimal
    time: int
    magic: int
    sl: Decimal | None = None
    tp: Decimal | None = None
    swap: Decimal = ZERO


@dataclass(frozen=True, slots=True)
class Transaction:
    """One `MqlTradeTransaction`: what changed, by ticket."""

    type: TxType
    order: int | None = None
    deal: int | None = None
    position: int | None = None


@dataclass(slots=True)
class Account:
    login: int
    currency: str
    margin_mode: str  # netting, exchange, hedging
    leverage: int
    balance: Decimal
    server: str = "Ordergate-Sim"
    company: str = "ordergate MT5 simulator"
