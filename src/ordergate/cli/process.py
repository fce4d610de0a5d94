"""Set-up that belongs to whoever owns the process (`ordergate serve`, a benchmark):
structured logs, how often the garbage collector runs, and room for its connections."""

from __future__ import annotations

import gc
import logging
import resource
import sys

import structlog

from ordergate.domain.errors import OrderGateError

# CPython's default first threshold (700) runs a collection every few hundred orders; the
# engine's long-lived state (every order, with its sets of flags and trade ids) makes
# the occasional full collection long. Measured with bench/engine_throughput.py (30,000
# orders, in-memory journal): 606 collections taking 10% of the run, the longest full
# one 149 ms, against 5 collections and a 30 ms longest at these thresholds.
GC_THRESHOLDS = (50_000, 50, 100)


class StartupRefused(OrderGateError):
    """The process cannot be set up as configured (a limit of the machine is too low)."""

    code = "STARTUP_REFUSED"


def tune_garbage_collector() -> None:
    """Collect cycles rarely: ordergate's hot path allocates many short-lived objects."""
    gc.set_threshold(*GC_THRESHOLDS)


def configure_logging(level: str = "INFO", json: bool = True, service: str | None = None) -> None:
    """JSON lines on stderr by default; readable console output with `json=False`.
    `service`: named on every line (`service`), so one log can hold several services'."""
    numeric = logging.getLevelNamesMapping().get(level.upper())
    if numeric is None:
        raise ValueError(f"unknown log level {level!r}")
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            *([_ServiceName(service)] if service is not None else []),
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


class _ServiceName:
    """A structlog processor: `service` on every line."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(
        self, _logger: object, _method: str, event_dict: structlog.typing.EventDict
    ) -> structlog.typing.EventDict:
        event_dict.setdefault("service", self.name)
        return event_dict


# Descriptors the process needs beside its connections: the journal, the venue's and the
# broker's sockets, the key store, logs, worker threads' pipes.
RESERVED_DESCRIPTORS = 128


def ensure_file_descriptors(connections: int) -> int:
    """Make room for `connections` open connections, or say plainly that there is none.

    The soft limit is raised toward the hard one if it is too low (as servers do); if even
    the hard limit is too low, start-up fails here rather than the API refusing
    connections with EMFILE at the worst moment. Returns the soft limit in force.
    """
    needed = connections + RESERVED_DESCRIPTORS
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY or soft >= needed:
        return soft
    if hard != resource.RLIM_INFINITY and hard < needed:
        raise StartupRefused(
            f"{connections} connections need {needed} file descriptors, and this process "
            f"may open at most {hard} (ulimit -n); lower ORDERGATE_API_MAX_CONNECTIONS "
            "or ORDERGATE_ADMIN_MAX_CONNECTIONS, or raise the limit"
        )
    resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    return needed
