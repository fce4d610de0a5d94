"""Set-up that belongs to whoever owns the process (`ordergate serve`, a benchmark):
structured logs, and how often the garbage collector runs."""

from __future__ import annotations

import gc
import logging
import sys

import structlog

# CPython's default first threshold (700) runs a collection every few hundred orders; the
# engine's long-lived state (every order, with its sets of flags and trade ids) makes
# the occasional full collection long. Measured with bench/engine_throughput.py (30,000
# orders, in-memory journal): 606 collections taking 10% of the run, the longest full
# one 149 ms, against 5 collections and a 30 ms longest at these thresholds.
GC_THRESHOLDS = (50_000, 50, 100)


def tune_garbage_collector() -> None:
    """Collect cycles rarely: ordergate's hot path allocates many short-lived objects."""
    gc.set_threshold(*GC_THRESHOLDS)


def configure_logging(level: str = "INFO", json: bool = True) -> None:
    """JSON lines on stderr by default; readable console output with `json=False`."""
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
