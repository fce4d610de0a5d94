"""The shadow venue: the real venue's account and live quotes, a paper book's fills,
nothing ever sent (ordergate's `mode = shadow`).

    shadow = ShadowVenue(ReadOnlyVenue(real), real_quotes, instruments, ["main"],
                         session="s0", start_ns=clock.now_ns())
    await shadow.connect()          # seeds the book from the real account
    feed = asyncio.create_task(shadow.run())   # live quotes move the book

The real venue is held only through `VenueReads` (no submit, cancel or replace), wrapped
in `ReadOnlyVenue`, which keeps its read methods and nothing else.
"""

from ordergate.venues.shadow.reads import ReadOnlyVenue, VenueReads
from ordergate.venues.shadow.venue import (
    OPENING_PREFIX,
    SHADOW_ID_PREFIX,
    ShadowVenue,
    opening_order_id,
)

__all__ = [
    "OPENING_PREFIX",
    "SHADOW_ID_PREFIX",
    "ReadOnlyVenue",
    "ShadowVenue",
    "VenueReads",
    "opening_order_id",
]
