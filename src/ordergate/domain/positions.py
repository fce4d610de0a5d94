"""The position book: net positions per (account, symbol), built from fills and nothing else.

A position is the running sum of its fills. Fills are de-duplicated by (account, order,
trade id), so a fill delivered twice, by a websocket and again by a REST poll, counts
once, while the two legs of a self-trade that share a venue trade id both count. Venue
position snapshots are compared with the book (reconciliation), never copied into it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import NamedTuple

from ordergate.domain.events import OrderFilled
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ZERO


@dataclass(slots=True)
class Position:
    """A netted position. `qty` is signed (long > 0); `avg_price` is that of the open qty.

    `realized_pnl` is in the quote currency, before fees; `fees` are the fees paid in the
    quote currency (fees charged in another currency go to the account only).
    """

    account: str
    symbol: str
    qty: Decimal = ZERO
    avg_price: Decimal = ZERO
    realized_pnl: Decimal = ZERO
    fees: Decimal = ZERO
    updated_ts: int = 0
    # How many times it opened from flat or flipped: tells one holding from the next.
    openings: int = 0

    def unrealized_pnl(self, mark: Decimal, contract_size: Decimal) -> Decimal:
        return self.qty * (mark - self.avg_price) * contract_size

    def unrealized_pct(self, mark: Decimal, contract_size: Decimal) -> Decimal:
        """Unrealized PnL as a percentage of the position's notional at its average price."""
        notional = abs(self.qty) * self.avg_price * contract_size
        if notional == ZERO:
            return ZERO
        return self.unrealized_pnl(mark, contract_size) / notional * 100


class FillEffect(NamedTuple):
    """What one fill did: the position after it, and the cash it realized (a tuple: one
    is built per fill, and a frozen dataclass took four times as long to build)."""

    position: Position
    realized_pnl: Decimal


class PositionBook:
    def __init__(self, *, dedupe: bool = True) -> None:
        """`dedupe`: remember every trade id to apply each once (the engine's book, fed
        by venues that resend); a book fed only fills it made itself, each once (the
        paper venue's ledger), need not hold one id per fill ever made."""
        self._positions: dict[tuple[str, str], Position] = {}
        self._by_account: dict[str, list[Position]] = {}
        self._seen_trades: set[tuple[str, str, str]] = set()
        self._dedupe = dedupe

    def __iter__(self) -> Iterator[Position]:
        return iter(self._positions.values())

    def of_account(self, account: str) -> list[Position]:
        """The account's positions (flat ones included), in the order they opened."""
        return self._by_account.get(account, [])

    def get(self, account: str, symbol: str) -> Position | None:
        return self._positions.get((account, symbol))

    def qty(self, account: str, symbol: str) -> Decimal:
        position = self._positions.get((account, symbol))
        return ZERO if position is None else position.qty

    def has_fill(self, account: str, order_id: str, trade_id: str) -> bool:
        return (account, order_id, trade_id) in self._seen_trades

    def restore(self, position: Position) -> None:
        """Hold a position as a checkpoint had it (after the positions opened before it)."""
        self._positions[(position.account, position.symbol)] = position
        self._by_account.setdefault(position.account, []).append(position)

    def forget_trades(self, account: str, order_id: str, trade_ids: Iterable[str]) -> None:
        """Stop holding a retired order's trade ids: its order holds them, and the order
        comes back with them (`remember_trades`) before any fill of it is applied."""
        seen = self._seen_trades
        for trade_id in trade_ids:
            seen.discard((account, order_id, trade_id))

    def remember_trades(self, account: str, order_id: str, trade_ids: Iterable[str]) -> None:
        self._seen_trades.update((account, order_id, trade_id) for trade_id in trade_ids)

    def apply_fill(self, fill: OrderFilled, instrument: Instrument) -> FillEffect | None:
        """Apply a fill; return None, changing nothing, if its trade id was seen before."""
        if self._dedupe:
            trade_key = (fill.account, fill.order_id, fill.trade_id)
            if trade_key in self._seen_trades:
                return None
            self._seen_trades.add(trade_key)
        key = (fill.account, fill.symbol)
        position = self._positions.get(key)
        if position is None:
            position = self._positions[key] = Position(fill.account, fill.symbol)
            self._by_account.setdefault(fill.account, []).append(position)
        signed = fill.qty if fill.side.sign > 0 else -fill.qty
        realized = ZERO
        old = position.qty
        if old == ZERO or (old > ZERO) == (signed > ZERO):
            if old == ZERO:
                position.openings += 1
            new = old + signed
            position.avg_price = (position.avg_price * abs(old) + fill.price * fill.qty) / abs(new)
            position.qty = new
        else:
            closed = min(abs(old), fill.qty)
            direction = 1 if old > ZERO else -1
            realized = closed * (fill.price - position.avg_price) * instrument.contract_size
            realized = realized * direction
            new = old + signed
            if new == ZERO:
                position.avg_price = ZERO
            elif (new > ZERO) != (old > ZERO):
                position.avg_price = fill.price  # flipped: the remainder opened at this price
                position.openings += 1
            position.qty = new
            position.realized_pnl += realized
        if fill.fee_currency == instrument.quote_currency:
            position.fees += fill.fee
        position.updated_ts = fill.ts
        return FillEffect(position, realized)
