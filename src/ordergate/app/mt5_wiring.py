"""The MetaTrader 5 venue (`venue = mt5`), connected and wired for an engine.

One bridge EA serves one MT5 login, traded as ordergate's `default_account`
(docs/mt5-bridge.md). Instruments are the EA's symbols (`ORDERGATE_MT5_SYMBOLS`, or all
it offers), quantities in lots; prices are its ticks, polled every
`quote_poll_interval` (`get_quotes`); the clock is the wall clock, and the EA's times
are turned into UTC with the offset its `hello` gives.

Apart from `venue_selection` so that pyzmq loads only when this venue is chosen.
"""

from __future__ import annotations

from collections.abc import Callable

from ordergate.app.venue_wiring import VenueWiring, polled_wiring, unassigned_wiring
from ordergate.config.settings import Settings
from ordergate.venues.mt5 import Mt5Config, Mt5Venue

NAME = "mt5"


def mt5_config(settings: Settings) -> Mt5Config:
    return Mt5Config(
        account=settings.default_account,
        rep_url=settings.mt5_rep_url,
        pub_url=settings.mt5_pub_url,
        symbols=tuple(settings.mt5_symbols),
        live=settings.mt5_live,
        timeout=settings.mt5_timeout,
        attempts=settings.mt5_attempts,
        close_order=settings.mt5_close_order,
        magic=settings.mt5_magic,
    )


async def open_mt5(
    settings: Settings,
    holds: Callable[[str], bool] | None = None,
    may_send: Callable[[], bool] | None = None,
) -> VenueWiring:
    """The venue connected to its EA, its prices read once.

    In a cluster only the partition holding `default_account` connects; the others get an
    `UnassignedVenue`. `may_send` (a partition lease) is asked as each command leaves.
    """
    config = mt5_config(settings)
    if holds is not None and not holds(config.account):
        return unassigned_wiring(NAME, config.live)
    venue = Mt5Venue(config, may_send=may_send)
    return await polled_wiring(
        venue, config.account, settings.quote_poll_interval, settings.venue_lanes
    )
