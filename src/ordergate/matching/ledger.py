"""The paper venue's own books: cash per account and currency, and net positions.

Positions are kept by the domain's `PositionBook` from the venue's own fills; cash moves
by the realized PnL and the fee of each fill, in the instrument's quote currency. Margin
figures come from the domain's margin arithmetic, so the venue and ordergate's pre-trade
risk agree on what an order needs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal

from ordergate.domain.accounts import margin_needed, position_exposure
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.events import OrderFilled
from ordergate.domain.instruments import Instrument
from ordergate.domain.positions import PositionBook
from ordergate.domain.values import ZERO, LiquiditySide, Side
from ordergate.engine.venue_reports import VenueBalance, VenuePosition


class PaperLedger:
    """Cash and positions of every account the venue knows."""

    __slots__ = ("_cash", "_instruments", "_positions", "_restored")

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        balances: Mapping[str, Mapping[str, Decimal]],
    ) -> None:
        self._instruments = instruments
        self._cash: dict[str, dict[str, Decimal]] = {
            account: dict(per_currency) for account, per_currency in balances.items()
        }
        # Its fills are its own, each made once (trade ids from one counter): no id kept.
        self._positions = PositionBook(dedupe=False)
        self._restored = 0

    def has_account(self, account: str) -> bool:
        return account in self._cash

    def position_qty(self, account: str, symbol: str) -> Decimal:
        return self._positions.qty(account, symbol)

    def has_positions(self) -> bool:
        return any(position.qty != ZERO for position in self._positions)

    def apply_fill(self, fill: OrderFilled) -> None:
        """Book a fill: move the position, credit realized PnL and debit the fee."""
        instrument = self._instruments[fill.symbol]
        effect = self._positions.apply_fill(fill, instrument)
        assert effect is not None  # a book that does not dedupe applies every fill
        cash = self._cash.setdefault(fill.account, {})
        ccy = instrument.quote_currency
        cash[ccy] = cash.get(ccy, ZERO) + effect.realized_pnl
        cash[fill.fee_currency] = cash.get(fill.fee_currency, ZERO) - fill.fee

    def margin_needed(
        self, account: str, symbol: str, side: Side, qty: Decimal, price: Decimal
    ) -> Decimal:
        """Initial margin a new order needs (none for the part that reduces the position)."""
        instrument = self._instruments[symbol]
        position = self._positions.qty(account, symbol)
        return margin_needed(instrument, side, qty, price, position, reduce_only=False)

    def free_margin(
        self,
        account: str,
        currency: str,
        order_margin: Decimal,
        mark_of: Callable[[str], Decimal | None],
    ) -> Decimal:
        """Cash + unrealized PnL - position margin - `order_margin`, in `currency`."""
        free = self._cash.get(account, {}).get(currency, ZERO) - order_margin
        for position in self._positions.of_account(account):
            if position.qty == ZERO:
                continue
            instrument = self._instruments[position.symbol]
            if instrument.quote_currency == currency:
                upnl, margin = position_exposure(position, instrument, mark_of(position.symbol))
                free += upnl - margin
        return free

    def positions(self, account: str) -> list[VenuePosition]:
        """Open (non-flat) positions of `account`, by symbol."""
        found = [
            VenuePosition(p.account, p.symbol, p.qty, p.avg_price)
            for p in self._positions
            if p.account == account and p.qty != ZERO
        ]
        return sorted(found, key=lambda position: position.symbol)

    def balances(self, account: str) -> list[VenueBalance]:
        """Cash of `account` per currency, by currency."""
        cash = self._cash.get(account, {})
        return [VenueBalance(account, ccy, cash[ccy]) for ccy in sorted(cash)]

    def set_balance(self, account: str, currency: str, amount: Decimal) -> None:
        self._cash.setdefault(account, {})[currency] = amount

    def open_account(self, account: str) -> None:
        self._cash.setdefault(account, {})

    def restore_position(self, position: VenuePosition, ts: int) -> None:
        """Re-open a position at its average price, as one synthetic fill with no fee."""
        if position.symbol not in self._instruments:
            raise InvalidRequest(f"cannot restore a position in unknown {position.symbol}")
        if self._positions.qty(position.account, position.symbol) != ZERO:
            raise InvalidRequest(f"position {position.account}/{position.symbol} exists")
        if position.qty == ZERO:
            return
        self.open_account(position.account)
        self._restored += 1
        instrument = self._instruments[position.symbol]
        self._positions.apply_fill(
            OrderFilled(
                order_id="restore",
                account=position.account,
                symbol=position.symbol,
                side=Side.BUY if position.qty > ZERO else Side.SELL,
                trade_id=f"restore-{self._restored}",
                qty=abs(position.qty),
                price=position.avg_price,
                fee=ZERO,
                fee_currency=instrument.quote_currency,
                liquidity=LiquiditySide.TAKER,
                ts=ts,
            ),
            instrument,
        )
