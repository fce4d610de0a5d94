"""The `nautilus` venue: NautilusTrader's simulated exchange over the paper venue's data.

Wired as the paper venue is (`venue_selection._paper`): the same market (bundled demo or
`paper_data`), the same configured cash, its own clock and market data, paced at
`paper_bars_per_second`, and on a restart moved past the journal's last event and
re-seeded with the journal's open orders, positions and cash (it forgets everything when
the process stops).

Its own module so that NautilusTrader (about 1.5 s and 250 MB to import) loads only when
`venue = nautilus` asks for it: `venue_selection` imports this inside its branch.
"""

from __future__ import annotations

from decimal import Decimal

from ordergate.app.venue_wiring import VenueWiring, reseed_paper_venue
from ordergate.config.settings import Settings
from ordergate.engine.state import OmsState
from ordergate.matching.market import PaperMarket, load_demo_market, load_market
from ordergate.venues.nautilus import NautilusVenue


def open_nautilus(settings: Settings, state: OmsState, session: str) -> VenueWiring:
    """The NautilusTrader simulated venue, re-seeded from the journal after a restart."""
    market = _market(settings)
    balances = settings.paper_balances
    venue = NautilusVenue.from_market(market, balances, session=session)
    if state.last_ts:
        venue.seek(state.last_ts)
        reseed_paper_venue(venue, state)
    else:
        venue.advance()  # a fresh start: give the market its first prices

    async def configured(account: str) -> dict[str, Decimal]:
        return dict(balances.get(account, {}))

    async def close() -> None:
        venue.close()

    pace = settings.paper_bars_per_second
    return VenueWiring(
        venue=venue,
        clock=venue,
        market=venue,
        instruments=list(market.instruments),
        accounts=sorted(balances),
        opening_balances=configured,
        opening_reason="nautilus account opened",
        feeds=[lambda: venue.run(pace)] if pace > 0 else [],
        close=close,
    )


def _market(settings: Settings) -> PaperMarket:
    if settings.paper_data is None:
        return load_demo_market(loop=settings.paper_loop)
    return load_market(settings.paper_data, loop=settings.paper_loop)
