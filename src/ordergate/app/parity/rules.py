"""The rules that explain a difference between the paper venue and NautilusTrader.

Each rule is a convention one of the two venues follows, written down (docs/parity.md)
and checked here against what both did with one order and the market it met. A rule
explains an order only when the order's figures fit it exactly: a rule is not a
tolerance, and a difference no rule fits is reported as unexplained (and fails
`ordergate parity`). Pure: no venue, no I/O.

Fees are compared to the precision NautilusTrader keeps money in (the last decimal of
its figure, 10^-8 for USDT): the same executions with fees that differ only there are
the `fee-precision` rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Final

from ordergate.app.parity.orders import ParityOrder
from ordergate.app.parity.run import Compared, Fill, Market, Outcome
from ordergate.domain.reasons import ReasonCode
from ordergate.domain.values import ZERO, LiquiditySide, OrderStatus, OrderType, Side, TimeInForce
from ordergate.matching.marketdata import PricePoint


class Kind(StrEnum):
    """How an order's two outcomes compare."""

    SAME = "same"
    EXPLAINED = "explained"
    UNEXPLAINED = "unexplained"


@dataclass(frozen=True, slots=True)
class Rule:
    """A documented convention, and the check that an order's difference is exactly it."""

    name: str
    summary: str
    check: Callable[[Compared, Context], bool]


@dataclass(frozen=True, slots=True)
class Verdict:
    """One order's comparison: its kind and the rule that explains it."""

    compared: Compared
    kind: Kind
    rules: tuple[str, ...]


FEE_PRECISION: Final = "fee-precision"


@dataclass(frozen=True, slots=True)
class Context:
    """What a rule may look at beyond the order: the market both venues met, and every
    fill NautilusTrader made, by time (one order's fill can move its touch)."""

    market: Market
    nautilus_fills: Mapping[int, Sequence[tuple[ParityOrder, Fill]]]

    @classmethod
    def of(cls, market: Market, orders: Iterable[Compared]) -> Context:
        fills: dict[int, list[tuple[ParityOrder, Fill]]] = {}
        for compared in orders:
            for fill in compared.nautilus.fills:
                fills.setdefault(fill.ts, []).append((compared.order, fill))
        return cls(market, fills)


def judge_all(market: Market, orders: Sequence[Compared]) -> list[Verdict]:
    """Judge every order of a run, in the run's order."""
    context = Context.of(market, orders)
    return [judge(compared, context) for compared in orders]


def judge(compared: Compared, context: Context) -> Verdict:
    """Compare one order's outcomes and find the rule that explains their difference."""
    paper, nautilus = compared.paper, compared.nautilus
    if _same_ending(paper, nautilus) and _same_fills(paper.fills, nautilus.fills):
        if [f.fee for f in paper.fills] == [f.fee for f in nautilus.fills]:
            return Verdict(compared, Kind.SAME, ())
        return Verdict(compared, Kind.EXPLAINED, (FEE_PRECISION,))
    for rule in RULES:
        if rule.check(compared, context):
            return Verdict(compared, Kind.EXPLAINED, (rule.name,))
    return Verdict(compared, Kind.UNEXPLAINED, ())


# --- comparing ------------------------------------------------------------------------


def _ended(outcome: Outcome, status: OrderStatus, reason_code: str | None) -> bool:
    return (outcome.status, outcome.reason_code) == (status, reason_code)


def _same_ending(paper: Outcome, nautilus: Outcome) -> bool:
    return (paper.status, paper.reason_code) == (nautilus.status, nautilus.reason_code)


def _same_fills(paper: Sequence[Fill], nautilus: Sequence[Fill]) -> bool:
    """Same executions: time, quantity, price and liquidity; fees to NautilusTrader's
    precision."""
    if len(paper) != len(nautilus):
        return False
    return all(
        (p.ts, p.qty, p.price, p.liquidity) == (n.ts, n.qty, n.price, n.liquidity)
        and abs(p.fee - n.fee) <= _fee_unit(n.fee)
        for p, n in zip(paper, nautilus, strict=True)
    )


def sum_fees(fills: Sequence[Fill]) -> Decimal:
    return sum((fill.fee for fill in fills), ZERO)


def _fee_unit(fee: Decimal) -> Decimal:
    """One unit of the last decimal NautilusTrader keeps in `fee`."""
    exponent = fee.as_tuple().exponent
    return Decimal(1).scaleb(exponent if isinstance(exponent, int) else 0)


def _merged(fills: Sequence[Fill]) -> list[tuple[int, Decimal, LiquiditySide, Decimal]]:
    """Fills at the same time, price and liquidity as one: (ts, price, liquidity, qty)."""
    merged: list[tuple[int, Decimal, LiquiditySide, Decimal]] = []
    for fill in fills:
        if merged and merged[-1][:3] == (fill.ts, fill.price, fill.liquidity):
            ts, price, liquidity, qty = merged[-1]
            merged[-1] = (ts, price, liquidity, qty + fill.qty)
        else:
            merged.append((fill.ts, fill.price, fill.liquidity, fill.qty))
    return merged


def _total(fills: Sequence[Fill]) -> Decimal:
    return sum((fill.qty for fill in fills), ZERO)


def _worse(side: Side, price: Decimal, ticks: Decimal) -> Decimal:
    """`price` moved against `side` by `ticks` (a price amount)."""
    return price + ticks if side is Side.BUY else price - ticks


def _within_limit(side: Side, price: Decimal, limit: Decimal) -> bool:
    return price <= limit if side is Side.BUY else price >= limit


def _triggers(side: Side, stop: Decimal, point: PricePoint) -> bool:
    return point.ask >= stop if side is Side.BUY else point.bid <= stop


def _marketable(side: Side, limit: Decimal, point: PricePoint) -> bool:
    return point.ask <= limit if side is Side.BUY else point.bid >= limit


# --- the rules -------------------------------------------------------------------------


def _book_depth_passive(compared: Compared, context: Context) -> bool:
    """A resting order larger than the top of NautilusTrader's book fills in pieces of at
    most the top's size, at its price: the first where the paper venue filled it whole,
    the rest at the same quote or later ones (until it is canceled, expires or the data
    end)."""
    order, paper, nautilus = compared.order, compared.paper, compared.nautilus
    size = context.market.quote_size
    if order.qty <= size or len(paper.fills) != 1 or len(nautilus.fills) < 2:
        return False
    whole, pieces = paper.fills[0], nautilus.fills
    filled = _total(pieces)
    if not (
        whole.liquidity is LiquiditySide.MAKER
        and pieces[0].ts == whole.ts
        and all(
            (f.price, f.liquidity) == (whole.price, whole.liquidity)
            and f.qty <= size
            and f.ts >= whole.ts
            for f in pieces
        )
    ):
        return False
    if filled == whole.qty:
        return _same_ending(paper, nautilus)
    return filled < whole.qty and (
        nautilus.status in (OrderStatus.PARTIALLY_FILLED, OrderStatus.EXPIRED)
        or (nautilus.status is OrderStatus.CANCELED and order.cancel_at is not None)
    )


def _book_depth_taker(compared: Compared, context: Context) -> bool:
    """An order taking more than the top of NautilusTrader's book: the top's size fills
    at the touch, and then a market or stop order takes the rest one tick worse, an IOC
    cancels the rest, a FOK fills nothing, and a GTC or DAY limit rests the rest at its
    limit. The paper venue fills it whole at the touch."""
    order, paper, nautilus = compared.order, compared.paper, compared.nautilus
    market = context.market
    size = market.quote_size
    if order.qty <= size or not paper.fills or paper.fills[0].liquidity is not LiquiditySide.TAKER:
        return False
    first = paper.fills[0]
    if len(paper.fills) != 1 or first.qty != order.qty or paper.status is not OrderStatus.FILLED:
        return False
    top = Fill(first.ts, size, first.price, ZERO, LiquiditySide.TAKER)
    fills = nautilus.fills
    if order.time_in_force is TimeInForce.FOK:
        return not fills and (nautilus.status, nautilus.reason_code) == (
            OrderStatus.CANCELED,
            ReasonCode.FOK_UNFILLED,
        )
    if not fills or not _same_execution(fills[0], top):
        return False
    if order.type in (OrderType.MARKET, OrderType.STOP):
        rest = Fill(
            first.ts,
            order.qty - size,
            _worse(order.side, first.price, market.tick_size),
            ZERO,
            LiquiditySide.TAKER,
        )
        return (
            len(fills) == 2
            and _same_execution(fills[1], rest)
            and (nautilus.status is OrderStatus.FILLED)
        )
    if order.time_in_force is TimeInForce.IOC:
        return len(fills) == 1 and (nautilus.status, nautilus.reason_code) == (
            OrderStatus.CANCELED,
            ReasonCode.IOC_UNFILLED,
        )
    limit = order.price
    return (
        limit is not None
        and all(f.ts >= first.ts and _within_limit(order.side, f.price, limit) for f in fills[1:])
        and _total(fills) <= order.qty
    )


def _same_execution(fill: Fill, expected: Fill) -> bool:
    return (fill.ts, fill.qty, fill.price, fill.liquidity) == (
        expected.ts,
        expected.qty,
        expected.price,
        expected.liquidity,
    )


def _stop_limit_maker(compared: Compared, context: Context) -> bool:
    """A stop-limit the paper venue fills at its stop as taker: it walks a bar through
    every price between two points, so the stop triggers at the stop price, where the
    limit is marketable. NautilusTrader sees each point as a quote: when the quote that
    triggers the stop does not fill the limit at once (it jumped past the limit, or its
    passive fill simulation finds nothing there), the order rests as a limit and fills
    at a later quote as maker, at a price between its stop and its limit, if the market
    comes back (in the same bar or a later one)."""
    order, paper, nautilus = compared.order, compared.paper, compared.nautilus
    stop, limit = order.stop_price, order.price
    if order.type is not OrderType.STOP_LIMIT or stop is None or limit is None:
        return False
    if not paper.fills or (paper.fills[0].price, paper.fills[0].liquidity) != (
        stop,
        LiquiditySide.TAKER,
    ):
        return False
    low, high = sorted((stop, limit))
    return (
        all(
            fill.ts >= paper.fills[0].ts
            and fill.liquidity is LiquiditySide.MAKER
            and low <= fill.price <= high
            for fill in nautilus.fills
        )
        and _total(nautilus.fills) <= order.qty
    )


def _touch_moved(compared: Compared, context: Context) -> bool:
    """After an order fills at a quote, NautilusTrader's touch on that order's side is the
    fill's price until the next quote (a buy's fill sets the ask, a sell's the bid; a
    market order's sets neither). A resting limit or stop that the same quote reaches,
    but the moved touch does not, waits for a later quote, and fills there at the same
    price as on the paper venue (or not at all), which fills it at that quote."""
    order, paper, nautilus = compared.order, compared.paper, compared.nautilus
    if order.type not in (OrderType.LIMIT, OrderType.STOP) or not paper.fills:
        return False
    first = paper.fills[0]
    level = order.price if order.type is OrderType.LIMIT else order.stop_price
    if level is None:
        return False
    moved = any(
        _hides(order, level, other, fill)
        for other, fill in context.nautilus_fills.get(first.ts, ())
        if other.id != order.id and other.type is not OrderType.MARKET and other.side is order.side
    )
    return (
        moved
        and all(
            f.ts > first.ts and (f.price, f.liquidity) == (first.price, first.liquidity)
            for f in nautilus.fills
        )
        and _total(nautilus.fills) <= order.qty
    )


def _hides(order: ParityOrder, level: Decimal, other: ParityOrder, fill: Fill) -> bool:
    """Whether `other`'s fill, moving the touch on their common side to its price, puts
    `order` (a limit at `level`, or a stop at `level`) out of the market's reach."""
    moved = fill.price
    if order.type is OrderType.LIMIT:  # a buy needs ask <= limit; a sell bid >= limit
        return moved > level if order.side is Side.BUY else moved < level
    return moved < level if order.side is Side.BUY else moved > level  # stops: the reverse


def _reduce_only_shrunk(compared: Compared, context: Context) -> bool:
    """A reduce-only order larger than the position: NautilusTrader cuts it to the
    position (`OrderUpdated`) and it ends FILLED; the paper venue fills the position's
    size and cancels the rest (`REDUCE_ONLY_CANCELED`). The same executions."""
    paper, nautilus = compared.paper, compared.nautilus
    return (
        compared.order.reduce_only
        and _same_fills(paper.fills, nautilus.fills)
        and _ended(paper, OrderStatus.CANCELED, ReasonCode.REDUCE_ONLY_CANCELED)
        and nautilus.status is OrderStatus.FILLED
        and nautilus.shrunk_to == _total(nautilus.fills)
    )


def _reduce_only_refused(compared: Compared, context: Context) -> bool:
    """A reduce-only order that meets no position to reduce (flat, or on its own side):
    NautilusTrader refuses it on arrival (`REDUCE_ONLY_NO_POSITION`); the paper venue
    accepts it and cancels it when it would fill (`REDUCE_ONLY_CANCELED`). Neither fills."""
    order, paper, nautilus = compared.order, compared.paper, compared.nautilus
    return (
        order.reduce_only
        and _nothing_to_reduce(order, nautilus.position_sent)
        and not paper.fills
        and not nautilus.fills
        and paper.reason_code == ReasonCode.REDUCE_ONLY_CANCELED
        and nautilus.status is OrderStatus.REJECTED
        and nautilus.reason_code == ReasonCode.REDUCE_ONLY_NO_POSITION
    )


def _reduce_only_grows(compared: Compared, context: Context) -> bool:
    """A reduce-only order that rests while the position turns to its own side: when it
    fills, NautilusTrader checks only that a position is open and not smaller than the
    fill, not its side, so it fills and grows the position (a NautilusTrader 1.221
    defect); the paper venue cancels it (`REDUCE_ONLY_CANCELED`), as a reduce-only
    order must."""
    order, paper, nautilus = compared.order, compared.paper, compared.nautilus
    met = nautilus.position_met
    return (
        order.reduce_only
        and met is not None
        and met != ZERO
        and _nothing_to_reduce(order, met)
        and paper.position_met == met
        and not paper.fills
        and _ended(paper, OrderStatus.CANCELED, ReasonCode.REDUCE_ONLY_CANCELED)
        and nautilus.fills != []
        and _total(nautilus.fills) <= abs(met)
    )


def _nothing_to_reduce(order: ParityOrder, position: Decimal) -> bool:
    return position == ZERO or (position > ZERO) == (order.side is Side.BUY)


def _position_differs(compared: Compared, context: Context) -> bool:
    """A reduce-only order that met different positions on the two venues when they acted
    on it (an earlier order's explained difference left them apart): what it may fill
    differs."""
    order, paper, nautilus = compared.order, compared.paper, compared.nautilus
    return (
        order.reduce_only
        and paper.position_met != nautilus.position_met
        and _total(paper.fills) <= order.qty
        and _total(nautilus.fills) <= order.qty
    )


def _no_margin_check(compared: Compared, context: Context) -> bool:
    """An order beyond the account's free margin: the paper venue refuses it
    (`VENUE_INSUFFICIENT_MARGIN`); NautilusTrader's margin account checks none and takes
    it (its risk engine skips margin accounts, its exchange never refuses for margin)."""
    paper, nautilus = compared.paper, compared.nautilus
    return (
        _ended(paper, OrderStatus.REJECTED, ReasonCode.VENUE_INSUFFICIENT_MARGIN)
        and not paper.fills
        and nautilus.accepted
    )


def _stop_gap(compared: Compared, context: Context) -> bool:
    """A stop reached by a gap (the first point of a bar, jumping from the last close
    past the stop): the paper venue fills it at that point's price, worse than the stop,
    as a market order would; NautilusTrader fills a triggered stop at its trigger price
    whatever the quote."""
    order, paper, nautilus = compared.order, compared.paper, compared.nautilus
    stop = order.stop_price
    if order.type is not OrderType.STOP or stop is None or len(paper.fills) != 1:
        return False
    fill = paper.fills[0]
    points = context.market.points_at(fill.ts)
    if not points or not _triggers(order.side, stop, points[0]):
        return False
    gap_price = points[0].ask if order.side is Side.BUY else points[0].bid
    expected = Fill(fill.ts, fill.qty, stop, ZERO, LiquiditySide.TAKER)
    return (
        fill.price == gap_price != stop
        and len(nautilus.fills) == 1
        and _same_execution(nautilus.fills[0], expected)
        and _same_ending(paper, nautilus)
    )


RULES: Final = (
    Rule(
        "book-depth-passive",
        "a resting order larger than NautilusTrader's top of book fills in pieces of the "
        "top's size, at its price, the first where the paper venue filled it whole",
        _book_depth_passive,
    ),
    Rule(
        "book-depth-taker",
        "a taker order larger than NautilusTrader's top of book: the rest one tick worse "
        "(market, stop), canceled (IOC), nothing (FOK) or resting (limit)",
        _book_depth_taker,
    ),
    Rule(
        "stop-limit-maker",
        "a stop-limit: the paper venue fills it at its stop as taker (a bar is walked "
        "continuously); NautilusTrader, when the triggering quote does not fill it, rests "
        "it and fills it later as maker between its stop and its limit",
        _stop_limit_maker,
    ),
    Rule(
        "touch-moved",
        "after a fill, NautilusTrader's touch on that side is the fill's price until the "
        "next quote: an order that quote reached fills later, at the same price",
        _touch_moved,
    ),
    Rule(
        "stop-gap",
        "a stop reached by a gap: the paper venue fills it at the gap's price, "
        "NautilusTrader at its trigger",
        _stop_gap,
    ),
    Rule(
        "reduce-only-shrunk",
        "a reduce-only order larger than the position: cut to it and FILLED by "
        "NautilusTrader, filled and the rest canceled by the paper venue",
        _reduce_only_shrunk,
    ),
    Rule(
        "reduce-only-refused",
        "a reduce-only order with nothing to reduce: refused by NautilusTrader, accepted "
        "then canceled by the paper venue",
        _reduce_only_refused,
    ),
    Rule(
        "reduce-only-grows",
        "a reduce-only order that fills against a position on its own side: NautilusTrader "
        "fills it and grows the position (its defect), the paper venue cancels it",
        _reduce_only_grows,
    ),
    Rule(
        "position-differs",
        "a reduce-only order meeting different positions (left apart by an earlier "
        "explained difference)",
        _position_differs,
    ),
    Rule(
        "no-margin-check",
        "an order beyond free margin: refused by the paper venue, taken by NautilusTrader "
        "(its margin account checks none)",
        _no_margin_check,
    ),
)

RULE_SUMMARIES: Final = {
    FEE_PRECISION: "the same execution's fee differs only below NautilusTrader's precision "
    "(money in the currency's decimals, computed in floats)",
    **{rule.name: rule.summary for rule in RULES},
}
