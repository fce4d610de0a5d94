"""Connect to RabbitMQ: one robust connection, named, with a short heartbeat.

The heartbeat decides how fast the broker notices a dead or cut-off consumer and hands a
single-active-consumer queue to the standby: measured here, about three heartbeats (15 s
at 5 s, 180 s at the default 60 s). The robust connection reconnects by itself and
restores channels, declared queues and consumers.
"""

from __future__ import annotations

from typing import Final

import aio_pika
import structlog
from aio_pika.abc import AbstractRobustConnection
from aio_pika.exceptions import CONNECTION_EXCEPTIONS
from yarl import URL

from ordergate.domain.errors import BusUnavailable, InvalidRequest

DEFAULT_HEARTBEAT: Final = 5  # seconds; the broker gives up on a peer after about three
DEFAULT_CONNECT_TIMEOUT: Final = 10.0
DEFAULT_RECONNECT_INTERVAL: Final = 1.0

log = structlog.get_logger("ordergate.bus")


def bus_unavailable(what: str, exc: BaseException) -> BusUnavailable:
    """Translate a third-party broker failure into ordergate's error, naming what failed."""
    return BusUnavailable(f"{what}: {type(exc).__name__}: {exc}")


def redacted(url: URL) -> str:
    """Render a broker URL for a log line or an error: never with its password."""
    return str(url.with_password("***") if url.password else url)


async def connect(
    url: str,
    *,
    name: str,
    heartbeat: int | None = None,
    timeout: float = DEFAULT_CONNECT_TIMEOUT,
    reconnect_interval: float = DEFAULT_RECONNECT_INTERVAL,
) -> AbstractRobustConnection:
    """Open a robust connection named `name` (the broker's connection list shows it).

    `heartbeat` (seconds) defaults to the URL's `heartbeat` query parameter, else 5 s.
    The first connection must succeed within `timeout`, or `OrderGateError` with code
    `BUS_UNAVAILABLE` is raised; later losses are repaired in the background, every
    `reconnect_interval` seconds.
    """
    try:
        parsed = URL(url)
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(f"not a broker URL: {exc}", code="BUS_URL_INVALID") from exc
    if parsed.scheme not in ("amqp", "amqps") or not parsed.host:
        raise InvalidRequest(
            f"not a broker URL (amqp://user:password@host:port/vhost): {redacted(parsed)}",
            code="BUS_URL_INVALID",
        )
    if heartbeat is not None or "heartbeat" not in parsed.query:
        parsed = parsed.update_query(heartbeat=heartbeat or DEFAULT_HEARTBEAT)
    try:
        connection = await aio_pika.connect_robust(
            parsed,
            timeout=timeout,
            reconnect_interval=reconnect_interval,
            client_properties={"connection_name": name, "product": "ordergate"},
        )
    except (TimeoutError, *CONNECTION_EXCEPTIONS) as exc:
        raise bus_unavailable(f"cannot connect to {redacted(parsed)}", exc) from exc
    log.info("bus.connected", connection=name, broker=redacted(parsed))
    return connection
