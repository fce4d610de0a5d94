"""The reconciler: when to take a venue snapshot and hand it to the engine.

On start, on a timer, on demand (an operator, the API) and soon after the engine marks an
account dirty. It only reads from the venue; every remedy is decided by the writer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterable

import structlog

from ordergate.engine.ports import Venue
from ordergate.engine.reconcile.diffs import ReconciliationReport, Scope, VenueSnapshot
from ordergate.engine.venue_reports import VenueFill, VenuePosition

log = structlog.get_logger("ordergate.reconcile")

Reconcile = Callable[[VenueSnapshot, Scope], Awaitable[ReconciliationReport]]


class Reconciler:
    """Fetches snapshots and hands them to the engine: on start, on a timer, on demand,
    and soon after the engine marks an account dirty."""

    def __init__(
        self,
        venue: Venue,
        reconcile: Reconcile,
        accounts: Callable[[], Iterable[str]],
        interval: float | None,
        fills_since: Callable[[], int] = lambda: 0,
    ) -> None:
        self._venue = venue
        self._fills_since = fills_since
        self._reconcile = reconcile
        self._accounts = accounts
        self._interval = interval
        self._pending: set[str] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()

    async def run(
        self, accounts: Iterable[str] | None = None, scope: Scope = Scope.ALL
    ) -> list[ReconciliationReport]:
        """Reconcile the given accounts (default: every account) now."""
        reports = []
        async with self._lock:
            for account in sorted(accounts if accounts is not None else self._accounts()):
                snapshot = await self.snapshot(account, scope)
                reports.append(await self._reconcile(snapshot, scope))
        return reports

    async def snapshot(self, account: str, scope: Scope) -> VenueSnapshot:
        venue = self._venue
        orders = await venue.get_open_orders(account) if scope is not Scope.POSITIONS else []
        fills: list[VenueFill] = []
        positions: list[VenuePosition] = []
        if scope is not Scope.ORDERS:
            # Executions from before the journal began are history, not missing fills.
            fills = await venue.get_fills(account, self._fills_since())
            positions = await venue.get_positions(account)
        return VenueSnapshot(account, orders, fills, positions)

    def request(self, accounts: Iterable[str]) -> None:
        """Ask for a reconciliation of these accounts soon (the engine calls this)."""
        self._pending.update(accounts)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="reconciler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), self._interval)
            except TimeoutError:
                self._pending.update(self._accounts())
            self._wake.clear()
            accounts, self._pending = self._pending, set()
            try:
                await self.run(accounts)
            except Exception as exc:  # the venue may be down: try again shortly
                log.warning("reconciliation failed; will retry", error=repr(exc))
                self._pending.update(accounts)
                await asyncio.sleep(1.0)
                self._wake.set()
