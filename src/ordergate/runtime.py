"""Process-level tuning that belongs to whoever owns the process (`ordergate serve`)."""

from __future__ import annotations

import gc

# CPython's default first threshold (700) runs a collection every few hundred orders; the
# engine's long-lived state (every order, with its sets of flags and trade ids) makes
# the occasional full collection long. Measured with bench/engine_throughput.py (30,000
# orders, in-memory journal): 606 collections taking 10% of the run, the longest full
# one 149 ms, against 5 collections and a 30 ms longest at these thresholds.
GC_THRESHOLDS = (50_000, 50, 100)


def tune_garbage_collector() -> None:
    """Collect cycles rarely: ordergate's hot path allocates many short-lived objects."""
    gc.set_threshold(*GC_THRESHOLDS)
