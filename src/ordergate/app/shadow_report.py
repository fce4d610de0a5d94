"""What a shadow run would have sent, and how its book differs from the real one
(`ordergate shadow-report`), apart from how the command line shows it.

It reads two things and changes neither: the shadow journal (a SQLite file, through its
read models; its mode from the `JournalOpened` its replay folds) and the real venue the
same settings as `serve` name, through `ReadOnlyVenue` (positions, balances, open
orders). The shadow book is the journal's: positions and cash as its fills left them.

Divergences, one plain line each, per account the real venue serves:
- POSITION   a symbol whose quantity differs (a side with none counts as zero);
- OPEN_ORDER an order open at the real venue: the shadow book never has real orders;
- BALANCE    a currency whose cash differs.

A journal not made in shadow mode is refused (`ConfigurationError`): a live journal's
orders were sent, and reading them as "would have been" would mislead.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path

import msgspec

from ordergate.app.venue_selection import open_venue
from ordergate.config.settings import Settings, is_postgres_url
from ordergate.domain.errors import ConfigurationError
from ordergate.domain.values import ZERO, OrderStatus, OrderType, Side
from ordergate.engine.queries import OrderFilter, OrderSort, PageRequest
from ordergate.engine.resume import resume
from ordergate.engine.state import OmsState
from ordergate.engine.views import OrderView
from ordergate.store.sqlite import SqliteStore
from ordergate.venues.shadow import OPENING_PREFIX, ReadOnlyVenue

_PAGE = 1000


class ReportOrder(msgspec.Struct, frozen=True):
    """One order of the shadow journal, as the shadow book left it."""

    ts: int
    order_id: str
    client_order_id: str
    account: str
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    stop_price: Decimal | None
    status: OrderStatus
    filled_qty: Decimal
    avg_fill_price: Decimal | None
    reason_code: str | None


class RealOrder(msgspec.Struct, frozen=True):
    """An order open at the real venue."""

    account: str
    client_order_id: str
    venue_order_id: str | None
    symbol: str
    side: Side
    type: OrderType
    qty: Decimal
    price: Decimal | None
    status: OrderStatus
    filled_qty: Decimal


class BookPosition(msgspec.Struct, frozen=True):
    account: str
    symbol: str
    qty: Decimal
    avg_price: Decimal


class BookBalance(msgspec.Struct, frozen=True):
    account: str
    currency: str
    balance: Decimal


class Book(msgspec.Struct, frozen=True):
    """Positions (flat ones left out) and cash of one side."""

    positions: list[BookPosition]
    balances: list[BookBalance]


class Divergence(msgspec.Struct, frozen=True):
    """One way the shadow book differs from the real one; `line` says it in words."""

    kind: str  # POSITION, OPEN_ORDER or BALANCE
    account: str
    subject: str  # the symbol, the real order's client order id, or the currency
    shadow: str | None
    real: str | None
    line: str


class ShadowReport(msgspec.Struct, frozen=True):
    """The would-be orders (none was sent), the two books side by side, the divergences.

    `opening`: the external orders that carry the real positions the shadow book started
    from (adopted at start, not would-be orders)."""

    journal: str
    journal_mode: str
    venue: str
    accounts: list[str]
    orders: list[ReportOrder]
    opening: list[ReportOrder]
    shadow: Book
    real: Book
    real_open_orders: list[RealOrder]
    divergences: list[Divergence]


async def shadow_report(settings: Settings) -> ShadowReport:
    """Read the shadow journal `settings.db` and the real venue the settings name, and
    compare them. `ConfigurationError` for a journal or a venue it cannot compare."""
    path = _journal_path(settings.db)
    _check_venue(settings)
    orders, shadow, mode = await _read_journal(path)
    real_settings = settings.model_copy(update={"mode": "live"})
    wiring = await open_venue(real_settings, OmsState(), session="shadow-report")
    reads = ReadOnlyVenue(wiring.venue)
    try:
        accounts = sorted(wiring.accounts)
        real_positions: list[BookPosition] = []
        real_balances: list[BookBalance] = []
        real_orders: list[RealOrder] = []
        for account in accounts:
            real_positions += [
                BookPosition(p.account, p.symbol, p.qty, p.avg_price)
                for p in await reads.get_positions(account)
                if p.qty != ZERO
            ]
            real_balances += [
                BookBalance(b.account, b.currency, b.balance)
                for b in await reads.get_balances(account)
            ]
            real_orders += [
                RealOrder(
                    r.account,
                    r.client_order_id,
                    r.venue_order_id,
                    r.symbol,
                    r.side,
                    r.type,
                    r.qty,
                    r.price,
                    r.status,
                    r.filled_qty,
                )
                for r in await reads.get_open_orders(account)
            ]
    finally:
        try:
            await reads.disconnect()
        finally:
            if wiring.close is not None:
                await wiring.close()
    real = Book(_sorted_positions(real_positions), _sorted_balances(real_balances))
    return ShadowReport(
        journal=str(path),
        journal_mode=mode,
        venue=reads.name,
        accounts=accounts,
        orders=[o for o in orders if not o.client_order_id.startswith(OPENING_PREFIX)],
        opening=[o for o in orders if o.client_order_id.startswith(OPENING_PREFIX)],
        shadow=shadow,
        real=real,
        real_open_orders=real_orders,
        divergences=divergences(accounts, shadow, real, real_orders, reads.name),
    )


def divergences(
    accounts: Iterable[str], shadow: Book, real: Book, real_orders: list[RealOrder], venue: str
) -> list[Divergence]:
    """Every difference between the books, for the accounts the real venue serves."""
    found: list[Divergence] = []
    for account in sorted(accounts):
        ours = {p.symbol: p.qty for p in shadow.positions if p.account == account}
        theirs = {p.symbol: p.qty for p in real.positions if p.account == account}
        for symbol in sorted(set(ours) | set(theirs)):
            here, there = ours.get(symbol, ZERO), theirs.get(symbol, ZERO)
            if here != there:
                found.append(
                    Divergence(
                        "POSITION",
                        account,
                        symbol,
                        str(here),
                        str(there),
                        f"POSITION {account}/{symbol}: {here} in the shadow book, "
                        f"{there} at {venue} (the shadow's is {here - there:+} off)",
                    )
                )
        for order in real_orders:
            if order.account != account:
                continue
            terms = f"{order.side} {order.qty} {order.type}"
            if order.price is not None:
                terms += f" @ {order.price}"
            found.append(
                Divergence(
                    "OPEN_ORDER",
                    account,
                    order.client_order_id,
                    None,
                    terms,
                    f"OPEN_ORDER {account}/{order.symbol}: {terms} ({order.client_order_id}) "
                    f"is open at {venue}, not in the shadow book",
                )
            )
        cash = {b.currency: b.balance for b in shadow.balances if b.account == account}
        held = {b.currency: b.balance for b in real.balances if b.account == account}
        for currency in sorted(set(cash) | set(held)):
            here, there = cash.get(currency, ZERO), held.get(currency, ZERO)
            if here != there:
                found.append(
                    Divergence(
                        "BALANCE",
                        account,
                        currency,
                        str(here),
                        str(there),
                        f"BALANCE {account} {currency}: {here} in the shadow book, "
                        f"{there} at {venue}",
                    )
                )
    return found


# --- reading ---------------------------------------------------------------------------------


def _journal_path(db: str) -> Path:
    if db == ":memory:" or is_postgres_url(db):
        raise ConfigurationError(
            f"shadow-report reads a shadow run's SQLite journal file, not {db!r}"
        )
    path = Path(db)
    if not path.is_file():
        raise ConfigurationError(f"there is no journal at {db}")
    return path


def _check_venue(settings: Settings) -> None:
    """The real venue must be one that outlives the shadow run: a paper venue or an
    in-process simulator would be a new, empty one, with nothing to compare."""
    if settings.venue == "paper":
        raise ConfigurationError(
            "the paper venue lives in its process: there is no real book to compare with "
            "(shadow a bybit-sim with --sim-url, or a ccxt venue)"
        )
    if settings.venue == "bybit-sim" and settings.sim_url is None:
        raise ConfigurationError(
            "bybit-sim needs --sim-url (ORDERGATE_SIM_URL): the simulator the shadow run read"
        )


async def _read_journal(path: Path) -> tuple[list[ReportOrder], Book, str]:
    store = SqliteStore(path)
    try:
        state = (await resume(store)).state
        if state.journal_id is None:
            raise ConfigurationError(f"the journal {path} has never been opened")
        if state.journal_mode != "shadow":
            raise ConfigurationError(
                f"the journal {path} was made in {state.journal_mode} mode, not shadow: "
                "its orders were not a shadow's"
            )
        views: list[OrderView] = []
        cursor: str | None = None
        while True:
            page = await store.orders(
                OrderFilter(),
                PageRequest(limit=_PAGE, cursor=cursor, descending=False),
                OrderSort.CREATED_TS,
            )
            views += page.items
            if page.next_cursor is None:
                break
            cursor = page.next_cursor
        positions = [
            BookPosition(p.account, p.symbol, p.qty, p.avg_price)
            for p in await store.positions()
            if p.qty != ZERO
        ]
        balances = [BookBalance(b.account, b.currency, b.balance) for b in await store.balances()]
    finally:
        await store.close()
    orders = [
        ReportOrder(
            o.created_ts,
            o.order_id,
            o.client_order_id,
            o.account,
            o.symbol,
            o.side,
            o.type,
            o.qty,
            o.price,
            o.stop_price,
            o.status,
            o.filled_qty,
            o.avg_fill_price,
            o.reason_code,
        )
        for o in views
    ]
    book = Book(_sorted_positions(positions), _sorted_balances(balances))
    return orders, book, state.journal_mode


def _sorted_positions(positions: list[BookPosition]) -> list[BookPosition]:
    return sorted(positions, key=lambda p: (p.account, p.symbol))


def _sorted_balances(balances: list[BookBalance]) -> list[BookBalance]:
    return sorted(balances, key=lambda b: (b.account, b.currency))
