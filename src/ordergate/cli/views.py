"""`ordergate orders | positions | tail`: a running server's state, read over its REST API.

They talk to a server (`--url`, `ORDERGATE_CLIENT_URL`) with an API key (`--key`,
`ORDERGATE_CLIENT_KEY`; the `read` scope is enough) through `ordergate.client`, as any bot
would: they never open the journal. Neither variable is a server setting; the server
ignores both. Tables for people, `--json` for machines.
"""

from __future__ import annotations

import asyncio
import sys
from typing import NoReturn

import click
from rich.console import Console
from rich.markup import escape

from ordergate.cli import tables
from ordergate.client import AsyncClient, Client, calls
from ordergate.client.follow import changes
from ordergate.domain.errors import OrderGateError
from ordergate.domain.values import OrderStatus

console = Console(stderr=True)

DEFAULT_URL = "http://127.0.0.1:8000"
OPEN_STATUSES = frozenset(s for s in OrderStatus if not s.is_terminal)

_URL = click.option(
    "--url",
    envvar="ORDERGATE_CLIENT_URL",
    default=DEFAULT_URL,
    show_default=True,
    help="the server's API (ORDERGATE_CLIENT_URL)",
)
_KEY = click.option(
    "--key",
    envvar="ORDERGATE_CLIENT_KEY",
    required=True,
    help="an API key, og_... (ORDERGATE_CLIENT_KEY); scope read is enough",
)
_JSON = click.option("--json", "as_json", is_flag=True, help="JSON instead of a table")


def _failed(exc: OrderGateError) -> NoReturn:
    trace = f" (trace id {exc.trace_id})" if exc.trace_id else ""
    console.print(f"[red]{escape(exc.code)}: {escape(exc.message)}{escape(trace)}[/]")
    sys.exit(1)


@click.command("orders")
@_URL
@_KEY
@click.option(
    "--status",
    type=click.Choice(["open", "all"]),
    default="open",
    show_default=True,
    help="open: working or awaiting the venue; all: finished ones too",
)
@click.option("--symbol", default=None, help="only this instrument")
@click.option(
    "--limit", type=click.IntRange(1, 1000), default=100, show_default=True, help="newest first"
)
@_JSON
def orders(url: str, key: str, status: str, symbol: str | None, limit: int, as_json: bool) -> None:
    """The orders, newest first."""
    statuses = OPEN_STATUSES if status == "open" else None
    try:
        with Client(url, key) as client:
            page = client.orders(symbol=symbol, statuses=statuses, limit=limit)
    except OrderGateError as exc:
        _failed(exc)
    if as_json:
        click.echo(tables.as_json(page.items))
        return
    rows = [tables.order_row(o) for o in page.items]
    click.echo(tables.table(tables.ORDER_HEADERS, rows, tables.ORDER_NUMBERS))
    if page.next_cursor is not None:
        console.print(f"more orders than these {limit}: raise --limit, or narrow with --symbol")


@click.command("positions")
@_URL
@_KEY
@click.option("--account", default=None, help="one account (default: every account)")
@_JSON
def positions(url: str, key: str, account: str | None, as_json: bool) -> None:
    """The open positions, marked at the server's current prices."""
    try:
        with Client(url, key) as client:
            marked = client.send(calls.marked_positions(account))
    except OrderGateError as exc:
        _failed(exc)
    if as_json:
        click.echo(tables.as_json(marked))
        return
    rows = [tables.position_row(m) for m in marked]
    click.echo(tables.table(tables.POSITION_HEADERS, rows, tables.POSITION_NUMBERS))


@click.command("tail")
@_URL
@_KEY
@click.option(
    "--backlog",
    type=click.IntRange(min=0),
    default=10,
    show_default=True,
    help="recent changes to show first",
)
@click.option(
    "--interval",
    type=click.FloatRange(min=0.05),
    default=0.5,
    show_default=True,
    help="seconds between polls",
)
@_JSON
def tail(url: str, key: str, backlog: int, interval: float, as_json: bool) -> None:
    """Follow orders and fills as they change, one line each (JSON lines with --json).

    This polls the server's order and fill listings every `--interval` seconds, which a
    cluster node serves too (`GET /v1/stream` is the blotter's and a single node's); an
    order that changes twice between polls shows once, as it is after both. Ctrl-C stops
    it.
    """
    try:
        asyncio.run(_tail(url, key, backlog, interval, as_json))
    except KeyboardInterrupt:
        pass
    except OrderGateError as exc:
        _failed(exc)


async def _tail(url: str, key: str, backlog: int, interval: float, as_json: bool) -> None:
    def lost(exc: OrderGateError) -> None:
        console.print(f"[yellow]{escape(exc.message)}; trying again[/]")

    def started() -> None:
        console.print(f"following {escape(url)}, polling every {interval} s (Ctrl-C stops)")

    async with AsyncClient(url, key) as client:
        follow = changes(client, interval=interval, backlog=backlog, lost=lost, started=started)
        async for change in follow:
            line = tables.change_json(change) if as_json else tables.change_line(change)
            click.echo(line)
