"""The deterministic paper venue: the matching core (`ordergate.matching`) behind the
`Venue` port, in process.

Build the bundled demo venue::

    market = load_demo_market()
    venue = PaperVenue.from_market(market, {"main": {"USD": Decimal(100_000)}}, session="42")
    await venue.connect()
    runner = asyncio.create_task(venue.run(bars_per_second=1.0))

`venue` is the `Venue`, the `MarketData` and the `Clock` of a paper deployment;
`market.instruments` are what it trades. After a restart, `venue.restore(...)` re-seeds it
from the journal and `venue.seek(last_ts)` resumes market-data time after it.
"""

from ordergate.venues.paper.venue import PaperVenue

__all__ = ["PaperVenue"]
