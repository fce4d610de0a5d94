"""`ordergate shadow-report`: what a shadow run would have sent, and its book against the
real venue's. The work is `app.shadow_report`; this module shows it."""

from __future__ import annotations

import asyncio
import sys

import click
from rich.console import Console
from rich.markup import escape

from ordergate.app.shadow_report import ShadowReport, shadow_report
from ordergate.cli import tables
from ordergate.cli.config import load_settings
from ordergate.cli.process import configure_logging
from ordergate.domain.errors import OrderGateError

console = Console(stderr=True)

_ORDER_HEADERS = (
    "time (UTC)",
    "id",
    "symbol",
    "side",
    "type",
    "qty",
    "price",
    "shadow status",
    "filled",
    "avg price",
)
_ORDER_NUMBERS = frozenset({5, 6, 8, 9})


@click.command("shadow-report")
@click.option("--db", default=None, help="the shadow run's SQLite journal (ORDERGATE_DB)")
@click.option(
    "--venue",
    type=click.Choice(["bybit-sim", "ccxt"]),
    default=None,
    help="the real venue the shadow run read, as `serve` names it (ORDERGATE_VENUE); "
    "ccxt takes ORDERGATE_CCXT_*",
)
@click.option(
    "--sim-url",
    default=None,
    help="bybit-sim: the simulator the shadow run read (ORDERGATE_SIM_URL)",
)
@click.option("--json", "as_json", is_flag=True, help="one JSON object instead of tables")
def shadow_report_command(
    db: str | None, venue: str | None, sim_url: str | None, as_json: bool
) -> None:
    """What a shadow run would have sent, and its book against the real venue's.

    Reads the shadow journal and, read-only, the real venue (positions, balances, open
    orders): nothing is sent to it. Prints every would-be order (none of them was sent),
    the shadow book beside the real one, and every divergence, one line each. Exit 1
    when the journal is not a shadow run's or the venue cannot be read.
    """
    overrides: dict[str, object] = {
        key: value
        for key, value in (("db", db), ("venue", venue), ("sim_url", sim_url))
        if value is not None
    }
    settings = load_settings(overrides, None)
    configure_logging(settings.log_level, settings.log_json)  # on stderr: stdout is the report
    try:
        report = asyncio.run(shadow_report(settings))
    except OrderGateError as exc:
        console.print(f"[red]shadow-report ({exc.code}):[/] {escape(exc.message)}", soft_wrap=True)
        sys.exit(1)
    if as_json:
        click.echo(tables.as_json(report))
        return
    _show(report)


def _show(report: ShadowReport) -> None:
    click.echo(f"journal    {report.journal} ({report.journal_mode} mode)")
    click.echo(f"venue      {report.venue}, read only; accounts {', '.join(report.accounts)}")
    click.echo("")
    click.echo(f"would-be orders: {len(report.orders)}, none of them sent")
    rows = [
        [
            tables.when(o.ts),
            o.order_id,
            o.symbol,
            str(o.side),
            str(o.type),
            tables.number(o.qty),
            tables.number(o.price),
            str(o.status),
            tables.number(o.filled_qty),
            tables.number(o.avg_fill_price),
        ]
        for o in report.orders
    ]
    click.echo(tables.table(_ORDER_HEADERS, rows, _ORDER_NUMBERS))
    for opening in report.opening:
        click.echo(
            f"opened from the real book: {opening.account}/{opening.symbol} {opening.side} "
            f"{tables.number(opening.filled_qty)} @ {tables.number(opening.avg_fill_price)}"
        )
    click.echo("")
    click.echo("positions (shadow | real)")
    keys = sorted(
        {(p.account, p.symbol) for p in report.shadow.positions}
        | {(p.account, p.symbol) for p in report.real.positions}
    )
    shadow = {(p.account, p.symbol): p for p in report.shadow.positions}
    real = {(p.account, p.symbol): p for p in report.real.positions}
    position_rows = [
        [
            account,
            symbol,
            tables.number(shadow[(account, symbol)].qty) if (account, symbol) in shadow else "0",
            tables.number(real[(account, symbol)].qty) if (account, symbol) in real else "0",
        ]
        for account, symbol in keys
    ]
    headers = ("account", "symbol", "shadow qty", "real qty")
    click.echo(tables.table(headers, position_rows, frozenset({2, 3})))
    click.echo("")
    click.echo("balances (shadow | real)")
    cash = {(b.account, b.currency): b.balance for b in report.shadow.balances}
    held = {(b.account, b.currency): b.balance for b in report.real.balances}
    balance_rows = [
        [account, currency, tables.number(cash.get(key)), tables.number(held.get(key))]
        for key in sorted(set(cash) | set(held))
        for account, currency in (key,)
    ]
    headers = ("account", "currency", "shadow", "real")
    click.echo(tables.table(headers, balance_rows, frozenset({2, 3})))
    click.echo("")
    click.echo(f"divergences: {len(report.divergences)}")
    for divergence in report.divergences:
        click.echo(divergence.line)
