"""The ccxt venue: any exchange ccxt supports, behind ordergate's `Venue` port.

Build and connect one::

    config = CcxtVenueConfig(
        exchange_id="bybit", account="main", symbols=("BTCUSDT",), market_type="swap",
        api_key=..., api_secret=..., live=True,
    )
    venue = CcxtVenue(config)
    await venue.connect()        # loads markets, checks the keys, starts the streams
    venue.instruments            # the configured markets as ordergate instruments

Modules, one job each: `config` (what to connect to), `dialects` (each exchange's way of
saying ordergate's requests through ccxt), `maps` (two-way vocabularies), `markets`
(symbols and instruments), `translate` (ccxt structures to ordergate messages),
`errors` (ccxt's exceptions classified), `budget` and `gateway` (REST under a budget,
classified and retried), `tracker` and `intake` (what the venue said, said once),
`stream` (websockets, polling while they are down, reconnection), `venue` (the port).
"""

from ordergate.venues.ccxt.config import CcxtVenueConfig
from ordergate.venues.ccxt.errors import UnmappedVenueValue, UnsupportedByVenue
from ordergate.venues.ccxt.venue import CcxtVenue

__all__ = ["CcxtVenue", "CcxtVenueConfig", "UnmappedVenueValue", "UnsupportedByVenue"]
