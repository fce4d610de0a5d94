"""The Robinhood venue through robin_stocks: `venue` is the `Venue` adapter; `client` runs
robin_stocks on one thread and makes its silent failures typed; `transport` is what its
session sends through; `translate` reads Robinhood's payloads."""

from ordergate.venues.robinhood.config import RobinhoodConfig
from ordergate.venues.robinhood.venue import RobinhoodVenue

__all__ = ["RobinhoodConfig", "RobinhoodVenue"]
