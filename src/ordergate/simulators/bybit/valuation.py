"""Positions and the unified wallet valued the way Bybit reports them.

Sizes, average prices, cash and the margin open orders reserve are the paper engine's;
this module only values them at the mark (the last price) with the domain's margin
arithmetic, so the figures a client reads agree with the margin the engine checks.

- positionIM is the initial margin at the mark (size x mark / leverage), positionMM the
  maintenance margin (size x mark x maintenance rate), unrealisedPnl is at the mark;
  no liquidation price is computed (Bybit's `liqPrice` is left empty).
- Only the coins the instruments settle in carry margin; other coins in the wallet are
  shown, valued in USD at `<COIN>USDT`'s last price where there is one, and count
  toward total equity and wallet balance only. A settlement coin is worth 1 USD.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ordergate.domain.accounts import margin_by_currency, position_exposure
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ONE, ZERO
from ordergate.engine.venue_reports import VenuePosition
from ordergate.simulators.bybit.config import InstrumentSpec
from ordergate.simulators.bybit.records import CoinRecord, PositionRecord, WalletRecord


@dataclass(slots=True)
class PositionStats:
    """What Bybit reports of a position beyond its size: sequence, times, realised PnL.

    Realised PnL is net of fees, as Bybit's is; `cur_realised` restarts when a position
    opens from flat.
    """

    created_ms: int
    updated_ms: int
    seq: int = 0
    cum_realised: Decimal = ZERO
    cur_realised: Decimal = ZERO


def position_record(
    spec: InstrumentSpec,
    instrument: Instrument,
    position: VenuePosition | None,
    mark: Decimal | None,
    stats: PositionStats,
) -> PositionRecord:
    """The symbol's position valued at `mark` (its average price when there is none)."""
    size = ZERO if position is None else position.qty
    avg = ZERO if position is None else position.avg_price
    price = mark if mark is not None else avg
    upnl = im = ZERO
    if position is not None:
        upnl, im = position_exposure(position, instrument, price)
    return PositionRecord(
        symbol=spec.symbol,
        size=size,
        avg_price=avg,
        mark_price=price,
        leverage=spec.leverage,
        position_im=im,
        position_mm=abs(size) * price * spec.maintenance_margin_rate,
        unrealised_pnl=upnl,
        cur_realised_pnl=stats.cur_realised,
        cum_realised_pnl=stats.cum_realised,
        seq=stats.seq,
        created_ms=stats.created_ms,
        updated_ms=stats.updated_ms,
    )


def wallet_record(
    cash: Mapping[str, Decimal],
    positions: Sequence[VenuePosition],
    order_margin: Mapping[str, Decimal],
    specs: Mapping[str, InstrumentSpec],
    instruments: Mapping[str, Instrument],
    marks: Mapping[str, Decimal],
    cum_realised: Mapping[str, Decimal],
) -> WalletRecord:
    """The unified wallet: every coin held, and account totals in USD."""
    margins = margin_by_currency(cash, positions, order_margin, instruments, marks)
    settle_coins = {spec.quote_coin for spec in specs.values()}
    maintenance: dict[str, Decimal] = {}
    for position in positions:
        spec = specs[position.symbol]
        price = marks.get(position.symbol, position.avg_price)
        mm = abs(position.qty) * price * spec.maintenance_margin_rate
        maintenance[spec.quote_coin] = maintenance.get(spec.quote_coin, ZERO) + mm
    coins: list[CoinRecord] = []
    equity = wallet = upl = initial = mm_total = ZERO
    for coin in sorted(margins):
        figures = margins[coin]
        rate = ONE if coin in settle_coins else marks.get(f"{coin}USDT", ZERO)
        coin_mm = maintenance.get(coin, ZERO)
        coins.append(
            CoinRecord(
                coin=coin,
                wallet_balance=figures.balance,
                equity=figures.equity,
                unrealised_pnl=figures.unrealized_pnl,
                cum_realised_pnl=cum_realised.get(coin, ZERO),
                total_order_im=figures.order_margin,
                total_position_im=figures.position_margin,
                total_position_mm=coin_mm,
                available_to_withdraw=max(figures.free_margin, ZERO),
                usd_value=figures.equity * rate,
            )
        )
        equity += figures.equity * rate
        wallet += figures.balance * rate
        if coin in settle_coins:
            upl += figures.unrealized_pnl
            initial += figures.used_margin
            mm_total += coin_mm
    settled_wallet = sum((cash.get(coin, ZERO) for coin in settle_coins), ZERO)
    margin_balance = settled_wallet + upl
    return WalletRecord(
        coins=tuple(coins),
        total_equity=equity,
        total_wallet_balance=wallet,
        total_margin_balance=margin_balance,
        total_available_balance=max(margin_balance - initial, ZERO),
        total_perp_upl=upl,
        total_initial_margin=initial,
        total_maintenance_margin=mm_total,
    )
