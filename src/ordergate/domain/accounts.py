"""Accounts: cash per currency, and the margin arithmetic over positions and open orders."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ZERO, Side


class NetPosition(Protocol):
    """What margin arithmetic needs of a position (a live one or a stored row)."""

    @property
    def symbol(self) -> str: ...

    @property
    def qty(self) -> Decimal: ...

    @property
    def avg_price(self) -> Decimal: ...


class Account:
    """Cash balances of one account; moved by deposits, realized PnL and fees only."""

    __slots__ = ("account_id", "balances", "updated_ts")

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.balances: dict[str, Decimal] = {}
        self.updated_ts = 0

    def credit(self, currency: str, amount: Decimal, ts: int) -> None:
        self.balances[currency] = self.balances.get(currency, ZERO) + amount
        self.updated_ts = ts


@dataclass(frozen=True, slots=True)
class CurrencyMargin:
    """Margin figures of one settlement currency of an account."""

    currency: str
    balance: Decimal
    unrealized_pnl: Decimal
    equity: Decimal
    position_margin: Decimal
    order_margin: Decimal

    @property
    def used_margin(self) -> Decimal:
        return self.position_margin + self.order_margin

    @property
    def free_margin(self) -> Decimal:
        return self.equity - self.used_margin


def position_exposure(
    position: NetPosition, instrument: Instrument, mark: Decimal | None
) -> tuple[Decimal, Decimal]:
    """(unrealized PnL, initial margin) of a position valued at `mark`, else its average."""
    price = position.avg_price if mark is None else mark
    upnl = position.qty * (price - position.avg_price) * instrument.contract_size
    return upnl, instrument.initial_margin(abs(position.qty), price)


def margin_by_currency(
    balances: Mapping[str, Decimal],
    positions: Iterable[NetPosition],
    order_margin: Mapping[str, Decimal],
    instruments: Mapping[str, Instrument],
    marks: Mapping[str, Decimal],
) -> dict[str, CurrencyMargin]:
    """Compute balance, equity, used and free margin per currency.

    Positions are valued at the mark where one is known, else at their average price.
    `order_margin` is what open orders reserve per currency: every open order that is
    not reduce-only reserves the margin of its remaining quantity at its own price (the
    worst case: all of them fill).
    """
    unrealized: dict[str, Decimal] = {}
    position_margin: dict[str, Decimal] = {}
    for position in positions:
        if position.qty == ZERO:
            continue
        instrument = instruments[position.symbol]
        ccy = instrument.quote_currency
        upnl, margin = position_exposure(position, instrument, marks.get(position.symbol))
        unrealized[ccy] = unrealized.get(ccy, ZERO) + upnl
        position_margin[ccy] = position_margin.get(ccy, ZERO) + margin
    currencies = set(balances) | set(unrealized) | set(position_margin) | set(order_margin)
    result: dict[str, CurrencyMargin] = {}
    for ccy in sorted(currencies):
        balance = balances.get(ccy, ZERO)
        upnl = unrealized.get(ccy, ZERO)
        result[ccy] = CurrencyMargin(
            currency=ccy,
            balance=balance,
            unrealized_pnl=upnl,
            equity=balance + upnl,
            position_margin=position_margin.get(ccy, ZERO),
            order_margin=order_margin.get(ccy, ZERO),
        )
    return result


def margin_needed(
    instrument: Instrument,
    side: Side,
    qty: Decimal,
    price: Decimal,
    position_qty: Decimal,
    reduce_only: bool,
) -> Decimal:
    """Initial margin a new order needs: none for the part that only reduces the position."""
    if reduce_only:
        return ZERO
    reducing = ZERO
    if position_qty != ZERO and (position_qty > ZERO) != (side is Side.BUY):
        reducing = min(abs(position_qty), qty)
    return instrument.initial_margin(qty - reducing, price)
