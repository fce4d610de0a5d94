"""Reconciliation: compare ordergate's truth with the venue's snapshots, and act on it.

- `diffs`: the differences between the state and one account's snapshot (pure);
- `remedies`: the policy per kind of difference (ADOPT, HALT, ALERT), applied in the
  writer;
- `scheduler`: the `Reconciler`, which takes the snapshots: on start, on a timer, on
  demand and soon after an account goes dirty.
"""

from ordergate.engine.reconcile.diffs import (
    Diff,
    DiffKind,
    ReconciliationReport,
    Scope,
    VenueSnapshot,
    find_diffs,
    settled_by_retired,
)
from ordergate.engine.reconcile.remedies import (
    ReconcileMemory,
    ReconcilePolicy,
    Remedy,
    remedy,
)
from ordergate.engine.reconcile.scheduler import Reconciler

__all__ = [
    "Diff",
    "DiffKind",
    "ReconcileMemory",
    "ReconcilePolicy",
    "Reconciler",
    "ReconciliationReport",
    "Remedy",
    "Scope",
    "VenueSnapshot",
    "find_diffs",
    "remedy",
    "settled_by_retired",
]
