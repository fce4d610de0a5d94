"""One partition, started: its journal, venue, engine (with its reconciler), market-data
feeds and messaging. The one start-up path, for the single process and a cluster node.

The order is the one a restart and a takeover both need (notes/scale-out.md §5):

1. replay the journal and verify its chain (a journal that does not verify is refused);
2. open the venue (`venue_selection`): the paper venue is moved past the journal's last
   event and re-seeded from it; a ccxt venue connects and loads its markets;
3. start the engine: it journals changed instruments and settles orders left in doubt
   (asking the venue by client order id, never resubmitting blindly);
4. give accounts the journal has never seen their opening cash;
5. reconcile every account with the venue, then keep reconciling (timer, dirty marks);
6. start the market-data feeds (paper pace, ticker polls);
7. with `ORDERGATE_AUDIT_JSONL`, follow the journal into the audit file;
8. with RabbitMQ, start the event relay and consume the partition's signal queue.

`close` undoes it in the opposite order, signals first so nothing new comes in; each step
is closed even if one before it failed, as each holds something.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

import structlog
from aio_pika.abc import AbstractRobustConnection

from ordergate.app.messaging import Messaging, OutboxJournal, open_messaging
from ordergate.app.venue_selection import open_accounts, open_venue
from ordergate.app.venue_wiring import VenueWiring
from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError, JournalCorrupted, OrderGateError
from ordergate.domain.limits import LimitsBook
from ordergate.engine.engine import Engine
from ordergate.engine.ports import Journal
from ordergate.engine.resume import resume
from ordergate.store.audit_file import AuditFile, audit_path

if TYPE_CHECKING:
    from ordergate.app.observability import Observability

log = structlog.get_logger("ordergate.partition")


class PartitionStore(Journal, OutboxJournal, Protocol):
    """A partition's journal store, as a partition uses it: appends, replay, the outbox
    cursor of its relay (memory, SQLite and PostgreSQL stores all are one)."""

    @property
    def head_seq(self) -> int: ...


@dataclass(frozen=True, slots=True)
class SignalWiring:
    """Where a partition's signals come from and its events go: a broker connection the
    caller owns, the queue to consume (None: publish events only) and its dead letters."""

    connection: AbstractRobustConnection
    queue: str | None
    dead_letter_queue: str
    on_consumer_stopped: Callable[[OrderGateError], None] | None = None


@dataclass
class Partition:
    number: int
    store: PartitionStore
    engine: Engine
    wiring: VenueWiring
    messaging: Messaging | None = None
    audit: AuditFile | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    observability: Observability | None = None

    async def close(self) -> None:
        """Stop taking signals, stop the feeds, stop the engine (it finishes its inbox and
        disconnects the venue), close what the venue needs, then the journal."""
        if self.observability is not None:
            self.observability.detach(self)
        closers: list[Callable[[], Awaitable[None]]] = []
        if self.messaging is not None:
            closers.append(self.messaging.aclose)
        closers += [self._cancel_tasks, self.engine.stop]
        if self.audit is not None:
            closers.append(self.audit.stop)  # after the engine: its last commits too
        if self.wiring.close is not None:
            closers.append(self.wiring.close)
        closers.append(self.store.close)
        for close in closers:
            try:
                await close()
            except Exception:  # keep closing the rest: each holds something
                log.exception("closing a partition failed", partition=self.number)

    async def _cancel_tasks(self) -> None:
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


async def start_partition(
    settings: Settings,
    store: PartitionStore,
    *,
    limits: LimitsBook,
    session: str,
    holds: Callable[[str], bool] | None = None,
    may_act: Callable[[], bool] | None = None,
    signals: SignalWiring | None = None,
    observability: Observability | None = None,
) -> Partition:
    """Start the partition whose journal `store` is; on failure close all it opened,
    the store included.

    `limits`: the risk limits the engine enforces (read once by the caller, who may show
    them too). `session`: tells this run's venue client order ids apart from a previous run's where
    the venue forgets (the paper venue). `holds`: the accounts this partition runs, where
    the accounts are spread over partitions (a cluster). `may_act`: asked before every
    append and venue request (a cluster's lease), by the engine and again by the venue as
    the request leaves. `observability`: gives the engine its metrics observer, and
    holds the started partition for the scrape-time levels and the venue probe.
    """
    try:
        resumed = await resume(store)
        state, report = resumed.state, resumed.report
        if not report.ok:
            raise JournalCorrupted(f"partition {store.partition}: {report.problems[0]}")
        if state.journal_id is not None and state.journal_mode != settings.mode:
            # Before the venue is opened: a shadow's or a dry run's orders never happened.
            raise ConfigurationError(
                f"the journal {settings.db} was made in {state.journal_mode} mode; a "
                f"{settings.mode} run needs a journal of its own (another --db)"
            )
        wiring = await open_venue(settings, state, session, holds, may_act)
    except BaseException:
        await store.close()
        raise
    engine = Engine(
        state=state,
        instruments=wiring.instruments,
        journal=store,
        venue=wiring.venue,
        clock=wiring.clock,
        market_data=wiring.market,
        limits=limits,
        max_batch=settings.max_batch,
        venue_lanes=wiring.lanes,
        retry=settings.venue_retry,
        reconcile_policy=settings.reconcile_policy(),
        reconcile_interval=settings.reconcile_interval_seconds,
        signal_policy=settings.signal_policy,
        may_act=may_act,
        retention=settings.retention_policy(),
        checkpoints=settings.checkpoint_policy(),
        checkpointed_seq=resumed.checkpoint_seq,
        watch=settings.watch_policy(),
        mode=settings.mode,
        observer=None
        if observability is None
        else observability.engine_observer(wiring.venue.name, store.partition),
    )
    partition = Partition(store.partition, store, engine, wiring, observability=observability)
    try:
        await engine.start()
        await open_accounts(engine, wiring)
        await engine.reconcile_accounts()  # on start: does the venue agree with the journal?
        engine.start_reconciling()
        partition.tasks = [
            asyncio.create_task(feed(), name=f"p{partition.number}-{wiring.venue.name}-feed")
            for feed in wiring.feeds
        ]
        if settings.audit_jsonl is not None:
            partition.audit = await open_audit_file(settings, store, engine)
        if signals is not None:
            partition.messaging = await open_messaging(
                connection=signals.connection,
                partition=partition.number,
                engine=engine,
                journal=store,
                events_exchange=settings.events_exchange,
                queue=signals.queue,
                dead_letter_queue=signals.dead_letter_queue,
                default_account=settings.default_account,
                prefetch=settings.signal_prefetch,
                events_window=settings.events_window,
                max_body_bytes=settings.signal_max_bytes,
                on_consumer_stopped=signals.on_consumer_stopped,
                signal_observer=None if observability is None else observability.signal_observer(),
            )
        if observability is not None:
            observability.attach(partition)
    except BaseException:
        await partition.close()
        raise
    log.info(
        "partition started",
        partition=partition.number,
        venue=wiring.venue.name,
        events=store.head_seq,
        orders=len(state.orders),
        open_orders=len(state.open_orders),
        retired_orders=state.retired_count,
        from_checkpoint=resumed.checkpoint_seq or None,
        instruments=sorted(state.instruments),
    )
    return partition


async def open_audit_file(settings: Settings, store: PartitionStore, engine: Engine) -> AuditFile:
    """The partition's audit file, caught up with the journal and woken by each commit."""
    assert settings.audit_jsonl is not None
    audit = AuditFile(
        audit_path(settings.audit_jsonl, store.partition),
        store,
        store.partition,
        max_bytes=settings.audit_jsonl_max_bytes,
        backups=settings.audit_jsonl_backups,
    )
    await audit.start(store.head_seq)
    engine.subscribe(lambda _event: audit.notify())
    return audit
