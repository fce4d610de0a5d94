"""The control plane's decisions: trading states, arming, dirty marks, risk alerts."""

from __future__ import annotations

from ordergate.domain.errors import Conflict
from ordergate.domain.events import (
    AlertRaised,
    InstrumentCleared,
    InstrumentMarkedDirty,
    TradingArmed,
    TradingStateChanged,
)
from ordergate.domain.values import ZERO, DirtyCause
from ordergate.engine.commands import ArmTrading, ClearDirty, SetTradingState
from ordergate.engine.context import DecisionContext
from ordergate.engine.placement import mark_of


def set_trading_state(ctx: DecisionContext, command: SetTradingState) -> None:
    ctx.emit(
        TradingStateChanged(
            command.account,
            command.symbol,
            command.state,
            command.reason,
            command.actor,
            ctx.now(),
        )
    )


def arm(ctx: DecisionContext, command: ArmTrading, venue_name: str) -> None:
    if command.venue != venue_name:
        raise Conflict(
            f"this ordergate trades on {venue_name!r}, not {command.venue!r}",
            code="ARM_WRONG_VENUE",
        )
    ctx.emit(TradingArmed(command.account, command.venue, command.actor, ctx.now()))


def clear_dirty(ctx: DecisionContext, command: ClearDirty) -> None:
    reason = f"cleared by {command.actor}: {command.reason}"
    ctx.emit(InstrumentCleared(command.account, command.symbol, reason, ctx.now()))


def mark_dirty(
    ctx: DecisionContext, account: str, symbol: str | None, cause: DirtyCause, detail: str
) -> None:
    """Put an instrument (or the whole account, symbol None) in doubt, once per cause."""
    current = ctx.state.dirty.get((account, symbol))
    if current is not None and current.cause is cause:
        return
    ctx.emit(InstrumentMarkedDirty(account, symbol, cause, detail, ctx.now()))
    ctx.batch.reconcile.add(account)


def mark_all_accounts_dirty(ctx: DecisionContext, cause: DirtyCause, detail: str) -> None:
    for account in sorted(ctx.state.accounts):
        mark_dirty(ctx, account, None, cause, detail)


class LossWatch:
    """Raises an alert when a position's unrealized loss passes its warning threshold,
    once, and again only after it has recovered below it."""

    def __init__(self) -> None:
        # (account, symbol, opening): a position closed and reopened between two checks
        # is another holding, warned about afresh.
        self._warned: set[tuple[str, str, int]] = set()

    def check(self, ctx: DecisionContext) -> None:
        marks = mark_of(ctx)
        positions = list(ctx.state.book)
        self._warned &= {(p.account, p.symbol, p.openings) for p in positions}
        for position in positions:
            key = (position.account, position.symbol, position.openings)
            limits = ctx.limits.resolve(position.account, position.symbol, None)
            threshold = limits.unrealized_loss_warning_pct
            instrument = ctx.state.instruments.get(position.symbol)
            mark = marks(position.symbol)
            if threshold is None or instrument is None or mark is None or position.qty == ZERO:
                self._warned.discard(key)
                continue
            loss_pct = -position.unrealized_pct(mark, instrument.contract_size)
            if loss_pct >= threshold and key not in self._warned:
                self._warned.add(key)
                ctx.emit(
                    AlertRaised(
                        "UNREALIZED_LOSS",
                        position.account,
                        position.symbol,
                        f"unrealized loss is {loss_pct:.2f}% of the position's notional "
                        f"(warning at {threshold}%)",
                        ctx.now(),
                    )
                )
            elif loss_pct < threshold:
                self._warned.discard(key)
