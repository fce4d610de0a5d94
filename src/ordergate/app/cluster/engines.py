"""The engines of the partitions this node runs, behind one `Trading` the API talks to.

A command goes to the engine of its account's partition (`partition_of`); one about an
order goes to the partition its id names (`<partition>-<n>`). A partition another node
runs is refused with `PartitionNotOwned` (503, naming the node that should run it as
this node last saw the live nodes), so a client or a load balancer can send it there.
Commands for every account (close-all, a trading state with no account) go to each
partition this node runs. Reads do not come here: the read models in PostgreSQL hold
every partition's rows.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import TypeVar

from ordergate.app.cluster.node import Node
from ordergate.domain.errors import NotFound, PartitionNotOwned
from ordergate.domain.instruments import Instrument
from ordergate.engine.commands import (
    ArmTrading,
    CancelOrder,
    ClearDirty,
    CloseAll,
    ClosePosition,
    PlaceOrder,
    ProcessSignal,
    ReplaceOrder,
    SetTargets,
    SetTradingState,
)
from ordergate.engine.engine import Engine
from ordergate.engine.ids import order_number_of, partition_of
from ordergate.engine.placement import Preview
from ordergate.engine.reconcile import ReconciliationReport, Scope
from ordergate.engine.results import (
    CloseAllResult,
    Gates,
    HeldTargetOf,
    PlaceResult,
    SignalResult,
    TargetsResult,
)
from ordergate.engine.venue_reports import Quote
from ordergate.engine.views import OrderView

T = TypeVar("T")


class ClusterEngines:
    def __init__(self, node: Node, partitions: int) -> None:
        self._node = node
        self._partitions = partitions

    # --- routing ---------------------------------------------------------------------

    def partition_of_account(self, account: str) -> int:
        return partition_of(account, self._partitions)

    def for_account(self, account: str) -> Engine:
        return self._engine(self.partition_of_account(account))

    def for_order(self, order_id: str) -> Engine:
        try:
            partition = int(order_id.split("-", 1)[0])
            order_number_of(order_id)
        except ValueError:
            partition = -1
        if not 0 <= partition < self._partitions:
            raise NotFound(f"order {order_id} not found", code="ORDER_NOT_FOUND")
        return self._engine(partition)

    def _engine(self, partition: int) -> Engine:
        leased = self._node.partitions.get(partition)
        if leased is None:
            owner = self._node.expected_owner(partition)
            where = "no node yet (a takeover is under way)" if owner is None else f"node {owner}"
            raise PartitionNotOwned(
                f"partition {partition} is run by {where}, not by node {self._node.node_id}; "
                "send the request there"
            )
        return leased.engine

    def _local(self) -> list[Engine]:
        return [r.engine for _, r in sorted(self._node.partitions.items())]

    async def _each(self, call: Callable[[Engine], Awaitable[T]]) -> list[T]:
        return list(await asyncio.gather(*(call(engine) for engine in self._local())))

    # --- commands --------------------------------------------------------------------

    async def place(self, command: PlaceOrder) -> PlaceResult:
        return await self.for_account(command.account).place(command)

    async def process_signal(self, command: ProcessSignal) -> SignalResult:
        return await self.for_account(command.signal.account).process_signal(command)

    async def preview(self, command: PlaceOrder) -> Preview:
        return await self.for_account(command.account).preview(command)

    async def set_targets(self, command: SetTargets) -> TargetsResult:
        return await self.for_account(command.account).set_targets(command)

    async def cancel(self, command: CancelOrder) -> OrderView:
        return await self.for_order(command.order_id).cancel(command)

    async def replace(self, command: ReplaceOrder) -> OrderView:
        return await self.for_order(command.order_id).replace(command)

    async def close_position(self, command: ClosePosition) -> OrderView:
        return await self.for_account(command.account).close_position(command)

    async def close_all(self, command: CloseAll) -> CloseAllResult:
        if command.account is not None:
            return await self.for_account(command.account).close_all(command)
        results = await self._each(lambda engine: engine.close_all(command))
        return CloseAllResult(
            [v for r in results for v in r.canceled], [v for r in results for v in r.closing]
        )

    async def set_trading_state(self, command: SetTradingState) -> Gates:
        if command.account is not None:
            await self.for_account(command.account).set_trading_state(command)
        else:
            await self._each(lambda engine: engine.set_trading_state(command))
        return self.gates

    async def arm(self, command: ArmTrading) -> Gates:
        await self.for_account(command.account).arm(command)
        return self.gates

    async def clear_dirty(self, command: ClearDirty) -> Gates:
        await self.for_account(command.account).clear_dirty(command)
        return self.gates

    async def reconcile_accounts(
        self, accounts: Sequence[str] | None, scope: Scope
    ) -> list[ReconciliationReport]:
        """Reconcile these accounts (every account of this node's partitions: None)."""
        if accounts is None:
            batches = await self._each(lambda engine: engine.reconcile_accounts(None, scope))
            return [report for batch in batches for report in batch]
        reports: list[ReconciliationReport] = []
        for account in accounts:
            leased = self._node.partitions.get(self.partition_of_account(account))
            if leased is None:
                raise PartitionNotOwned(f"account {account!r} is run by another node")
            reports += await leased.engine.reconcile_accounts([account], scope)
        return reports

    # --- what the API reads from the engine -----------------------------------------------

    def order(self, order_id: str) -> OrderView | None:
        return self.for_order(order_id).order(order_id)

    async def wait_for_venue(self, order_id: str, timeout: float) -> OrderView:
        return await self.for_order(order_id).wait_for_venue(order_id, timeout)

    def order_margin(self, account: str) -> dict[str, Decimal]:
        try:
            return self.for_account(account).order_margin(account)
        except PartitionNotOwned:
            return {}  # margin reserved by open orders is only known where they are run

    def held_targets(self, account: str | None = None) -> list[HeldTargetOf]:
        if account is not None:
            return self.for_account(account).held_targets(account)
        return [held for engine in self._local() for held in engine.held_targets()]

    @property
    def gates(self) -> Gates:
        gates = [engine.gates for engine in self._local()]
        return Gates(
            tuple(s for g in gates for s in g.trading_states),
            tuple(d for g in gates for d in g.dirty),
            tuple(a for g in gates for a in g.armed),
            tuple(r for g in gates for r in g.reconciliations),
        )

    @property
    def accounts(self) -> list[str]:
        return sorted({a for engine in self._local() for a in engine.accounts})

    @property
    def instruments(self) -> dict[str, Instrument]:
        merged: dict[str, Instrument] = {}
        for engine in self._local():
            merged.update(engine.instruments)
        return merged

    @property
    def node_id(self) -> str:
        return self._node.node_id

    @property
    def running_partitions(self) -> list[int]:
        """The numbers of the partitions this node runs now."""
        return sorted(self._node.partitions)

    @property
    def running(self) -> bool:
        """This node is up and every partition it runs accepts commands."""
        return all(engine.running for engine in self._local())

    @property
    def venue_name(self) -> str:
        names = {engine.venue_name for engine in self._local()}
        return ",".join(sorted(names)) or "none"

    @property
    def venue_live(self) -> bool:
        return any(engine.venue_live for engine in self._local())

    def venue_halt(self) -> str | None:
        halts = [h for engine in self._local() if (h := engine.venue_halt()) is not None]
        return "; ".join(halts) or None

    @property
    def event_count(self) -> int:
        return sum(engine.event_count for engine in self._local())

    @property
    def order_count(self) -> int:
        return sum(engine.order_count for engine in self._local())

    @property
    def open_order_count(self) -> int:
        return sum(engine.open_order_count for engine in self._local())

    @property
    def retired_order_count(self) -> int:
        return sum(engine.retired_order_count for engine in self._local())

    @property
    def checkpoint_lag(self) -> tuple[int, float | None]:
        lags = [engine.checkpoint_lag for engine in self._local()]
        events = max((e for e, _ in lags), default=0)
        ages = [a for _, a in lags]
        age = None if not ages or None in ages else max(a for a in ages if a is not None)
        return events, age

    # --- market data and time, for marks and health ------------------------------------

    def quote(self, symbol: str) -> Quote | None:
        """The freshest quote of `symbol` among this node's partitions."""
        quotes = [q for engine in self._local() if (q := engine.quote(symbol)) is not None]
        return max(quotes, key=lambda q: q.ts, default=None)

    def now_ns(self) -> int:
        """The latest time among this node's partitions (0 while it runs none)."""
        return max((engine.now_ns() for engine in self._local()), default=0)
