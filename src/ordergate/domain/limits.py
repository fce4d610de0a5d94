"""Risk limits, and how the global ones are overridden per account, instrument, strategy.

Every limit is optional (None: no limit). `LimitsBook.resolve` merges four levels, the
most specific last: global, then the account's, then the instrument's, then the
strategy's. A level sets only the fields it names; the rest fall through.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from decimal import Decimal

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ZERO, OrderType


@dataclass(frozen=True, slots=True)
class Rate:
    """A token bucket's refill rate and size: `per_second` tokens a second, `burst` at most."""

    per_second: Decimal
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= ZERO or self.burst < 1:
            raise InvalidRequest("a rate needs per_second > 0 and burst >= 1")


@dataclass(frozen=True, slots=True)
class RiskLimits:
    """One set of limits. Quantities are in contracts, notionals in the quote currency.

    - `max_order_size_ratio`: an order's notional over the account's equity (seed 002).
    - `max_position_qty`: on the worst case, |position + every open and in-flight order on
      the same side|, so racing fills and acknowledgements can never breach it.
    - `max_gross_exposure`: per account and quote currency, the sum over instruments of
      the worst-case absolute exposure at the mark.
    - `fat_finger_bps`: how far a limit price may sit through the best opposite price.
    - `max_quote_age_ms`: older reference prices deny orders (STALE_REFERENCE_PRICE).
    - `feed_stale_after_ms`: a feed silent that long closes the instrument's gate to new
      risk (FEED_STALE; cancels and reduce-only orders still pass).
    - `limit_offset_bps` / `limit_offset_abs`: the price of a LIMIT order sent without one,
      that far behind the touch (seed 003); `max_slippage_bps` bounds such a price.
    - rates: token buckets for submits, cancels and replaces, per instrument and per account.
    - `spam_window_ms`: the same strategy, symbol, side and qty again within it is denied.
    - `one_pending_order_per_side`: while an order for a symbol and side is pending, no
      second one (seed 003's duplicate prevention).
    - `unrealized_loss_warning_pct`: an alert once a position's unrealized loss passes this
      share of its notional (seed 002).
    """

    min_qty: Decimal | None = None
    max_order_qty: Decimal | None = None
    max_order_notional: Decimal | None = None
    max_order_size_ratio: Decimal | None = None
    max_position_qty: Decimal | None = None
    max_gross_exposure: Decimal | None = None
    fat_finger_bps: Decimal | None = None
    max_quote_age_ms: int | None = None
    feed_stale_after_ms: int | None = None
    allowed_symbols: frozenset[str] | None = None
    allowed_order_types: frozenset[OrderType] | None = None
    limit_offset_bps: Decimal | None = None
    limit_offset_abs: Decimal | None = None
    max_slippage_bps: Decimal | None = None
    instrument_submit_rate: Rate | None = None
    account_submit_rate: Rate | None = None
    instrument_cancel_rate: Rate | None = None
    account_cancel_rate: Rate | None = None
    instrument_replace_rate: Rate | None = None
    account_replace_rate: Rate | None = None
    spam_window_ms: int | None = None
    one_pending_order_per_side: bool | None = None
    unrealized_loss_warning_pct: Decimal | None = None

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, Decimal | int) and not isinstance(value, bool) and value < 0:
                raise InvalidRequest(f"limit {f.name} must not be negative")

    def merged(self, override: RiskLimits) -> RiskLimits:
        """These limits with every field the override sets replaced."""
        changes = {
            f.name: getattr(override, f.name)
            for f in fields(override)
            if getattr(override, f.name) is not None
        }
        return replace(self, **changes) if changes else self

    def as_dict(self) -> dict[str, object]:
        """The fields that are set, for display."""
        out: dict[str, object] = {}
        for f in fields(self):
            value = getattr(self, f.name)
            if value is None:
                continue
            if isinstance(value, frozenset):
                value = sorted(str(v) for v in value)
            elif isinstance(value, Rate):
                value = {"per_second": str(value.per_second), "burst": value.burst}
            elif isinstance(value, Decimal):
                value = str(value)
            out[f.name] = value
        return out


NO_LIMITS = RiskLimits()
_MAX_RESOLVED = 10_000


@dataclass(frozen=True, slots=True)
class LimitsBook:
    """Global limits and the overrides of each level."""

    global_limits: RiskLimits = NO_LIMITS
    accounts: Mapping[str, RiskLimits] = field(default_factory=dict)
    instruments: Mapping[str, RiskLimits] = field(default_factory=dict)
    strategies: Mapping[str, RiskLimits] = field(default_factory=dict)
    # The book never changes, so each combination is merged once (every order asks).
    _resolved: dict[tuple[str | None, str | None, str | None], RiskLimits] = field(
        default_factory=dict, compare=False, repr=False
    )

    def resolve(self, account: str | None, symbol: str | None, strategy: str | None) -> RiskLimits:
        key = (account, symbol, strategy)
        limits = self._resolved.get(key)
        if limits is None:
            if len(self._resolved) >= _MAX_RESOLVED:  # strategy names come from clients
                self._resolved.clear()
            limits = self._resolved[key] = self._merge(account, symbol, strategy)
        return limits

    def _merge(self, account: str | None, symbol: str | None, strategy: str | None) -> RiskLimits:
        limits = self.global_limits
        for level, key in (
            (self.accounts, account),
            (self.instruments, symbol),
            (self.strategies, strategy),
        ):
            if key is not None and key in level:
                limits = limits.merged(level[key])
        return limits
