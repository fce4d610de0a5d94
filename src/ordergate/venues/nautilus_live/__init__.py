"""The NautilusTrader live venue (`venue = nautilus-live`): a `TradingNode` in ordergate's
process hosting a logic-free bridge strategy, trading through NautilusTrader's own Bybit
adapter (decision 0033).

    venue = NautilusLiveVenue(NautilusLiveConfig(account="main", symbols=("BTCUSDT",),
                                                 api_key=..., api_secret=...))
    await venue.connect()        # builds and starts the node on the running loop

Importing this package imports NautilusTrader, which would make uvloop the process's
loop policy; the host's policy is put back (`host.kept_loop_policy`).
"""

from ordergate.venues.nautilus_live.host import kept_loop_policy

with kept_loop_policy():
    from ordergate.venues.nautilus_live.config import NautilusLiveConfig
    from ordergate.venues.nautilus_live.venue import NautilusLiveVenue

__all__ = ["NautilusLiveConfig", "NautilusLiveVenue"]
