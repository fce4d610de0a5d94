"""The parity report: a Markdown document (what `ordergate parity` prints, and what
`--report` keeps) and the same figures as one JSON object (`--json`).

Per order: its terms, both venues' outcomes and fills, and the rule that explains their
difference (blank when they are the same). Above the orders: what was compared, how many
orders each rule explained, the positions both venues ended with, and each rule's text.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from importlib.metadata import version

import msgspec

from ordergate.app.parity.rules import RULE_SUMMARIES, Kind, Verdict
from ordergate.app.parity.run import Fill, Outcome, ParityRun
from ordergate.domain.values import LiquiditySide


@dataclass(frozen=True, slots=True)
class ReportSource:
    """What the run was given, as the report names it."""

    bars: str
    orders: str
    balance: Decimal
    command: str


class OrderRow(msgspec.Struct, frozen=True):
    id: str
    at: str
    order: str
    paper: str
    nautilus: str
    kind: Kind
    rule: str | None


class ParityReport(msgspec.Struct, frozen=True):
    """The whole report, for machines."""

    nautilus_trader: str
    instrument: str
    quote_size: Decimal
    steps: int
    orders: int
    same: int
    explained: dict[str, int]
    unexplained: int
    paper_position: Decimal
    nautilus_position: Decimal
    rows: list[OrderRow]


def build_report(run: ParityRun, verdicts: Sequence[Verdict]) -> ParityReport:
    explained: Counter[str] = Counter()
    for verdict in verdicts:
        if verdict.kind is Kind.EXPLAINED:
            explained[verdict.rules[0]] += 1
    return ParityReport(
        nautilus_trader=version("nautilus_trader"),
        instrument=run.instrument.symbol,
        quote_size=run.market.quote_size,
        steps=run.steps,
        orders=len(verdicts),
        same=sum(1 for v in verdicts if v.kind is Kind.SAME),
        explained=dict(explained.most_common()),
        unexplained=sum(1 for v in verdicts if v.kind is Kind.UNEXPLAINED),
        paper_position=run.paper_position,
        nautilus_position=run.nautilus_position,
        rows=[_row(verdict) for verdict in verdicts],
    )


def render_markdown(report: ParityReport, run: ParityRun, source: ReportSource) -> str:
    """The report as Markdown (plain enough to read in a terminal)."""
    instrument = run.instrument
    series = run.market.series
    times = series.event_times
    lines = [
        f"# Parity: the paper venue and NautilusTrader {report.nautilus_trader}",
        "",
        f"Made by `{source.command}`.",
        "",
        f"- bars: `{source.bars}`, {len(times)} bars, {_when(times[0] - series.interval_ns)} "
        f"to {_when(times[-1])} UTC; {report.steps} market steps matched",
        f"- instrument: {instrument.symbol}, tick {instrument.tick_size}, lot "
        f"{instrument.lot_step}, fees maker {instrument.maker_fee_rate} / taker "
        f"{instrument.taker_fee_rate}; cash {source.balance} {instrument.quote_currency}",
        f"- NautilusTrader's top of book: {report.quote_size} on each side of every quote",
        f"- orders: `{source.orders}`, {report.orders}",
        "",
        "## Summary",
        "",
        "| outcome | orders |",
        "| --- | ---: |",
        f"| same on both venues | {report.same} |",
        *(f"| explained: `{rule}` | {count} |" for rule, count in report.explained.items()),
        f"| **unexplained** | **{report.unexplained}** |",
        "",
        f"Position at the end: paper venue {report.paper_position}, NautilusTrader "
        f"{report.nautilus_position}.",
        "",
        "## Rules",
        "",
        "Each difference is explained by exactly one rule, checked against both venues' "
        "fills and the bar it happened in (docs/parity.md gives each in full).",
        "",
        *(f"- `{rule}`: {text}" for rule, text in RULE_SUMMARIES.items()),
        "",
        "## Orders",
        "",
        "Fills are `qty@price`, M (maker) or T (taker), and their time (UTC); the order's "
        "status (and reason) follows its fills.",
        "",
        "| id | sent (UTC) | order | paper venue | NautilusTrader | rule |",
        "| --- | --- | --- | --- | --- | --- |",
        *(
            f"| {r.id} | {r.at} | {r.order} | {r.paper} | {r.nautilus} | {_rule_cell(r)} |"
            for r in report.rows
        ),
        "",
    ]
    return "\n".join(lines)


def _rule_cell(row: OrderRow) -> str:
    if row.kind is Kind.UNEXPLAINED:
        return "**UNEXPLAINED**"
    return "" if row.rule is None else f"`{row.rule}`"


def _row(verdict: Verdict) -> OrderRow:
    order = verdict.compared.order
    terms = [order.side.value, order.type.value, str(order.qty)]
    if order.price is not None:
        terms.append(f"@{order.price}")
    if order.stop_price is not None:
        terms.append(f"stop {order.stop_price}")
    terms.append(order.time_in_force.value)
    if order.reduce_only:
        terms.append("reduce-only")
    if order.cancel_at is not None:
        terms.append(f"cancel {_when(order.cancel_at)}")
    return OrderRow(
        id=order.id,
        at=_when(order.at),
        order=" ".join(terms),
        paper=_outcome(verdict.compared.paper),
        nautilus=_outcome(verdict.compared.nautilus),
        kind=verdict.kind,
        rule=verdict.rules[0] if verdict.rules else None,
    )


def _outcome(outcome: Outcome) -> str:
    if not outcome.sent:
        return "not sent"
    parts = [_fill(fill) for fill in outcome.fills]
    status = "OPEN" if outcome.status is None else outcome.status.value
    parts.append(status if outcome.reason_code is None else f"{status} {outcome.reason_code}")
    return ", ".join(parts)


def _fill(fill: Fill) -> str:
    liquidity = "M" if fill.liquidity is LiquiditySide.MAKER else "T"
    moment = datetime.fromtimestamp(fill.ts // 10**9, UTC).strftime("%m-%d %H:%M")
    return f"{fill.qty}@{fill.price} {liquidity} {moment}"


def _when(ts: int) -> str:
    return datetime.fromtimestamp(ts // 10**9, UTC).strftime("%Y-%m-%d %H:%M")
