"""NautilusTrader's backtest matching engine as a simulated venue (`--venue nautilus`).

A `BacktestEngine` driven one market step at a time over the paper venue's replay feed:
ordergate's orders go in through a logic-free strategy with ordergate's client order
ids, and NautilusTrader's own risk engine and simulated exchange decide what happens to
them. Build it like the paper venue::

    market = load_demo_market()
    venue = NautilusVenue.from_market(market, {"main": {"USDT": Decimal(100_000)}}, session="42")
    await venue.connect()
    runner = asyncio.create_task(venue.run(bars_per_second=1.0))

Importing this package imports NautilusTrader (about 1.5 s and 250 MB): only the
composition root does, and only when `venue = nautilus`. See docs/decisions/0032.
"""

from ordergate.venues.nautilus.venue import DEFAULT_QUOTE_SIZE, NautilusVenue

__all__ = ["DEFAULT_QUOTE_SIZE", "NautilusVenue"]
