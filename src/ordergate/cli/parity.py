"""`ordergate parity`: the paper venue against NautilusTrader. The work is
`app.parity`; this module reads the options and shows the report."""

from __future__ import annotations

import asyncio
import shlex
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from ordergate.domain.errors import OrderGateError

console = Console(stderr=True)


class _DecimalParam(click.ParamType[Decimal, Any]):
    name = "decimal"

    def convert(
        self, value: object, param: click.Parameter | None, ctx: click.Context | None
    ) -> Decimal:
        try:
            number = Decimal(str(value))
        except InvalidOperation:
            self.fail(f"{value!r} is not a decimal number", param, ctx)
        if not number.is_finite() or number <= 0:
            self.fail(f"{value!r} must be a positive number", param, ctx)
        return number


DECIMAL = _DecimalParam()


@click.command("parity")
@click.option(
    "--bars",
    "bars_file",
    required=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="OHLC bars (CSV, optionally .gz: timestamp, open, high, low, close)",
)
@click.option(
    "--orders",
    "orders_file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="the order stream, JSON lines (docs/parity.md); written first with --generate",
)
@click.option(
    "--generate",
    type=click.IntRange(min=1),
    default=None,
    help="write a mixed stream of this many orders to --orders first (market, limit, "
    "stop, stop-limit, IOC, FOK, DAY)",
)
@click.option("--seed", type=int, default=1, show_default=True, help="--generate's seed")
@click.option(
    "--symbol",
    default="BTCUSDT",
    show_default=True,
    help="the instrument the bars are prices of, as --market defines it",
)
@click.option(
    "--market",
    "market_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    default=None,
    help="a market TOML file defining the instrument (default: the bundled demo market)",
)
@click.option(
    "--quote-size",
    type=DECIMAL,
    default=None,
    help="size of both sides of NautilusTrader's top of book (default 1,000,000: every "
    "ordinary order fills at the touch, as on the paper venue)",
)
@click.option(
    "--balance",
    type=DECIMAL,
    default=Decimal(1_000_000),
    show_default=True,
    help="the account's cash, in the instrument's quote currency",
)
@click.option(
    "--report",
    "report_file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="also write the report (Markdown) to this file",
)
@click.option("--json", "as_json", is_flag=True, help="one JSON object instead of Markdown")
def parity(
    bars_file: Path,
    orders_file: Path,
    generate: int | None,
    seed: int,
    symbol: str,
    market_file: Path | None,
    quote_size: Decimal | None,
    balance: Decimal,
    report_file: Path | None,
    as_json: bool,
) -> None:
    """Run one order stream on the paper venue and on NautilusTrader over the same bars,
    and explain every difference.

    Both venues replay the bars step by step; each order is sent to both when its time
    comes. Per order the report shows both venues' fills and the documented rule
    (docs/parity.md) that explains their difference. Exit 1 when a difference has no
    rule, 2 when the input is wrong.
    """
    from ordergate.app.parity.compare import compare  # imports NautilusTrader: only when run

    try:
        outcome = asyncio.run(
            compare(
                bars_file,
                orders_file,
                symbol=symbol,
                market_file=market_file,
                quote_size=quote_size,
                balance=balance,
                generate=generate,
                seed=seed,
                command=" ".join(["ordergate parity", *map(shlex.quote, sys.argv[2:])]),
            )
        )
    except OrderGateError as exc:
        console.print(f"[red]parity ({exc.code}):[/] {escape(exc.message)}", soft_wrap=True)
        sys.exit(2)
    if report_file is not None:
        report_file.write_text(outcome.markdown, encoding="utf-8")
    click.echo(outcome.json if as_json else outcome.markdown)
    unexplained = outcome.report.unexplained
    if unexplained:
        console.print(
            f"[red]parity:[/] {unexplained} of {outcome.report.orders} orders differ "
            "without a rule (marked UNEXPLAINED)"
        )
        sys.exit(1)
