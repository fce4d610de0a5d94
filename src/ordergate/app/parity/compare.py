"""`compare`: what `ordergate parity` does, from file names to a finished report.

Loads the instrument (from a market file, or the bundled demo market; the file's
execution rules for it apply to the paper venue), the bars and
the orders (generating them first if asked), runs both venues (`run`), judges every
order (`rules`) and renders the report (`report`). Orders sent before the bars begin
or after they end are refused: there would be no market to compare them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import msgspec

from ordergate.app.parity.orders import generate_orders, read_orders, write_orders
from ordergate.app.parity.report import ParityReport, ReportSource, build_report, render_markdown
from ordergate.app.parity.rules import judge_all
from ordergate.app.parity.run import run_parity
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.matching.market import load_demo_market, load_market
from ordergate.matching.marketdata import format_timestamp, load_bar_series
from ordergate.matching.rules import ExecutionRules
from ordergate.venues.nautilus import DEFAULT_QUOTE_SIZE


@dataclass(frozen=True, slots=True)
class ParityOutcome:
    report: ParityReport
    markdown: str
    json: str


async def compare(
    bars_file: Path,
    orders_file: Path,
    *,
    symbol: str,
    market_file: Path | None,
    quote_size: Decimal | None,
    balance: Decimal,
    generate: int | None,
    seed: int,
    command: str,
) -> ParityOutcome:
    """Run the comparison and render its report (see the module)."""
    instrument, rules = _instrument(symbol, market_file)
    series = load_bar_series(bars_file)
    if generate is not None:
        # One in twenty generated orders reaches past NautilusTrader's top of book, when
        # it was given a size worth reaching past.
        write_orders(
            orders_file,
            generate_orders(series, instrument, generate, seed=seed, large_qty=quote_size),
        )
    orders = read_orders(orders_file)
    first = series.event_times[0] - series.interval_ns
    last = series.event_times[-1]
    for order in orders:
        if not first <= order.at <= last:
            raise InvalidRequest(
                f"order {order.id!r} is sent at {format_timestamp(order.at)}, outside the "
                f"bars ({format_timestamp(first)} to {format_timestamp(last)})"
            )
    run = await run_parity(
        instrument,
        series,
        orders,
        balance=balance,
        quote_size=DEFAULT_QUOTE_SIZE if quote_size is None else quote_size,
        rules=rules,
    )
    report = build_report(run, judge_all(run.market, run.orders))
    source = ReportSource(str(bars_file), str(orders_file), balance, command)
    markdown = render_markdown(report, run, source)
    return ParityOutcome(report, markdown, msgspec.json.encode(report).decode())


def _instrument(symbol: str, market_file: Path | None) -> tuple[Instrument, ExecutionRules | None]:
    """The instrument and the paper venue's execution rules for it."""
    market = load_demo_market() if market_file is None else load_market(market_file)
    for instrument in market.instruments:
        if instrument.symbol == symbol:
            return instrument, market.rules.get(symbol)
    known = ", ".join(i.symbol for i in market.instruments)
    raise InvalidRequest(f"no instrument {symbol!r} in the market (it has {known})")
