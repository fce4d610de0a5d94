"""`mode = shadow`: the venue the settings name, read but never sent to.

`open_venue` builds the real wiring as it always does (paper, bybit-sim or ccxt) and
hands it here. The engine gets a `ShadowVenue` as its venue and market data: it reads
the real account and the real wiring's live quotes, and fills the engine's orders in a
paper book. The clock stays the real wiring's; its feeds keep running (the ticker poll,
the paper replay) beside the shadow book's own and a reader of the real venue's event stream
(logged, never acted on); closing closes both.

A fresh journal starts the shadow book from the real account (balances, positions, and
the opening fills that bring the journal's positions to the venue's, see
`venues.shadow`); a journal with history re-seeds it with the journal's own open orders,
positions and cash, as the paper venue is after a restart: the journal is the shadow
book's truth, and how far it has drifted from the real book is what `shadow-report` shows.
"""

from __future__ import annotations

from decimal import Decimal

import structlog

from ordergate.app.venue_wiring import VenueWiring, reseed_paper_venue
from ordergate.domain.values import ZERO
from ordergate.engine.state import OmsState
from ordergate.venues.shadow import ReadOnlyVenue, ShadowVenue

log = structlog.get_logger("ordergate.shadow")


def shadow_wiring(real: VenueWiring, state: OmsState, session: str) -> VenueWiring:
    """Wrap the connected `real` wiring: the engine trades on a shadow of its venue."""
    shadow = ShadowVenue(
        ReadOnlyVenue(real.venue),
        real.market,
        real.instruments,
        real.accounts,
        session=session,
        start_ns=real.clock.now_ns(),
    )
    if state.last_ts:
        reseed_paper_venue(shadow, state)

    async def opening_balances(account: str) -> dict[str, Decimal]:
        # The cash the shadow book was seeded with, which the real venue reported: the
        # journal and the book start from the same figures.
        balances = await shadow.get_balances(account)
        return {b.currency: b.balance for b in balances if b.balance != ZERO}

    async def watch_real_events() -> None:
        # Nothing else reads the real venue's stream in shadow mode: read it here so it
        # does not pile up, and log what the real account did meanwhile (not ours).
        async for event in real.venue.events():
            log.info("the real venue reported", venue=real.venue.name, event=repr(event))

    async def close() -> None:
        try:
            await shadow.disconnect()
        finally:
            if real.close is not None:
                await real.close()

    return VenueWiring(
        venue=shadow,
        clock=real.clock,
        market=shadow,
        instruments=real.instruments,
        accounts=real.accounts,
        opening_balances=opening_balances,
        opening_reason=f"opening balance reported by {real.venue.name} (shadow)",
        feeds=[*real.feeds, shadow.run, watch_real_events],
        close=close,
        lanes=1,  # the book answers in process: one lane keeps fills in the engine's order
    )
