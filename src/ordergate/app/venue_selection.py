"""Which venue `serve` trades on, and what comes with it: clock, prices, instruments, cash.

- `paper` (the default): the embedded paper venue replaying bundled market data. It is
  its own clock and market data, forgets everything when the process stops, and is
  therefore moved past the journal's last event and re-seeded with the journal's open
  orders, positions and cash on every start.
- `bybit-sim`: ccxt's `bybit` class against a Bybit v5 simulator started in this process
  on loopback (replaying the bundled BTCUSDT bars, or a still market its `/sim/quote`
  control route moves), so the whole path ccxt included runs on one machine. The
  simulator starts empty and cannot be re-seeded, so a journal with history is refused:
  it would disagree with the venue from the first reconciliation. With `sim_url`, a
  simulator that runs on its own (`ordergate simulate bybit`) is traded on instead; it
  outlives ordergate's restarts, so any journal is fine.
- `mt5`: MetaTrader 5 through the bridge EA (`ORDERGATE_MT5_*`, `app.mt5_wiring`).
- `robinhood`: Robinhood through robin_stocks (`ORDERGATE_ROBINHOOD_*`,
  `app.robinhood_wiring`).
- `ccxt`: a real exchange (`ORDERGATE_CCXT_*`). Instruments come from the exchange's
  markets, the clock is the wall clock, prices are its tickers polled over REST, and an
  account the journal has never seen opens with the balances the exchange reports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from decimal import Decimal
from typing import Final

import structlog

from ordergate.app.venue_wiring import VenueWiring, reseed_paper_venue, unassigned_wiring
from ordergate.config.settings import Settings
from ordergate.domain.errors import InvalidRequest
from ordergate.engine.commands import AdjustBalance
from ordergate.engine.engine import Engine
from ordergate.engine.state import OmsState
from ordergate.matching.market import PaperMarket, load_demo_market, load_market
from ordergate.venues.paper.venue import PaperVenue

log = structlog.get_logger("ordergate.venue_selection")


# The modules that wire a venue whose adapter is loaded on first use (it takes a second
# or more to import): `preload_venue` imports them ahead.
_WIRING_MODULES: Final[dict[str, str]] = {
    "bybit-sim": "ordergate.app.ccxt_wiring",
    "ccxt": "ordergate.app.ccxt_wiring",
    "nautilus": "ordergate.app.nautilus_wiring",
    "nautilus-live": "ordergate.app.nautilus_live_wiring",
    "mt5": "ordergate.app.mt5_wiring",
    "robinhood": "ordergate.app.robinhood_wiring",
}


def preload_venue(settings: Settings) -> None:
    """Import the adapter of the venue `settings` name, now, outside the event loop's work.

    `open_venue` imports it on first use so that a paper venue and the tools never pay
    for ccxt; but an import blocks the loop, and a cluster node opens venues while it
    holds partition leases, whose heartbeats must run every second or the node fences
    itself (seen: a loaded machine took more than the two seconds `fence_after` allows to
    import ccxt). A node calls this before it takes any lease.
    """
    module = _WIRING_MODULES.get(settings.venue)
    if module is not None:
        importlib.import_module(module)


async def open_venue(
    settings: Settings,
    state: OmsState,
    session: str,
    holds: Callable[[str], bool] | None = None,
    may_send: Callable[[], bool] | None = None,
) -> VenueWiring:
    """The venue `settings` name, connected and ready for an engine over `state`.

    `holds`: the accounts of this partition, where a cluster spreads accounts over
    partitions (None: every account). The paper venue of a partition trades the
    configured accounts it holds. A ccxt venue trades one exchange account
    (`default_account`): the partition holding it connects, every other partition gets an
    `UnassignedVenue`. Every node of a cluster must trade on the same simulator, so
    `bybit-sim` needs `sim_url` there.

    `may_send`: a cluster node's partition lease. A ccxt venue asks it again as each
    request leaves, since a request can wait there (budget, throttle) long after the
    engine asked; the paper venue answers in process, so the engine's asking suffices.

    `mode = shadow`: the venue is built as above, then read and never sent to
    (`app.shadow_wiring`).
    """
    if settings.mode == "shadow":
        from ordergate.app.shadow_wiring import shadow_wiring

        real = await open_venue(
            settings.model_copy(update={"mode": "live"}), state, session, holds, may_send
        )
        return shadow_wiring(real, state, session)
    if settings.venue == "nautilus":
        # NautilusTrader loads only when chosen (app.nautilus_wiring); a partition trades
        # the configured accounts it holds, as on the paper venue.
        from ordergate.app.nautilus_wiring import open_nautilus

        if holds is not None:
            held = {a: b for a, b in settings.paper_balances.items() if holds(a)}
            settings = settings.model_copy(update={"paper_balances": held})
        return open_nautilus(settings, state, session)
    if settings.venue == "nautilus-live":
        # NautilusTrader loads only when chosen (app.nautilus_live_wiring).
        from ordergate.app.nautilus_live_wiring import open_nautilus_live

        return await open_nautilus_live(settings, holds, may_send)
    if settings.venue == "mt5":
        # pyzmq loads only when chosen (app.mt5_wiring).
        from ordergate.app.mt5_wiring import open_mt5

        return await open_mt5(settings, holds, may_send)
    if settings.venue == "robinhood":
        # robin_stocks loads only when chosen (app.robinhood_wiring).
        from ordergate.app.robinhood_wiring import open_robinhood

        return await open_robinhood(settings, holds, may_send)
    if settings.venue == "paper":
        if holds is not None:
            held = {a: b for a, b in settings.paper_balances.items() if holds(a)}
            settings = settings.model_copy(update={"paper_balances": held})
        return _paper(settings, state, session)
    if holds is None:
        # ccxt and the simulator are imported here, on first use: they take a second to
        # load, which a paper venue and the journal tools need not wait for.
        from ordergate.app.ccxt_wiring import open_bybit_sim, open_ccxt

        return await (
            open_bybit_sim(settings, state, may_send)
            if settings.venue == "bybit-sim"
            else open_ccxt(settings, may_send)
        )
    if settings.venue == "bybit-sim" and settings.sim_url is None:
        raise InvalidRequest(
            "the nodes of a cluster must trade on one simulator: run it on its own "
            "(ordergate simulate bybit) and give its URL (--sim-url)"
        )
    if holds(settings.default_account):
        return await open_venue(settings, state, session, may_send=may_send)
    name = "bybit-sim" if settings.venue == "bybit-sim" else settings.ccxt_exchange or "ccxt"
    return unassigned_wiring(name, settings.ccxt_live)


def _paper(settings: Settings, state: OmsState, session: str) -> VenueWiring:
    market = _paper_market(settings)
    venue = PaperVenue.from_market(market, settings.paper_balances, session=session)
    if state.last_ts:
        venue.seek(state.last_ts)
        reseed_paper_venue(venue, state)
    else:
        venue.advance()  # a fresh start: give the market its first prices
    balances = settings.paper_balances

    async def configured(account: str) -> dict[str, Decimal]:
        return dict(balances.get(account, {}))

    pace = settings.paper_bars_per_second
    return VenueWiring(
        venue=venue,
        clock=venue,
        market=venue,
        instruments=list(market.instruments),
        accounts=sorted(balances),
        opening_balances=configured,
        opening_reason="paper account opened",
        feeds=[lambda: venue.run(pace)] if pace > 0 else [],
    )


def _paper_market(settings: Settings) -> PaperMarket:
    if settings.paper_data is None:
        return load_demo_market(loop=settings.paper_loop)
    return load_market(settings.paper_data, loop=settings.paper_loop)


async def open_accounts(engine: Engine, wiring: VenueWiring) -> None:
    """Give each account the journal has never seen its opening cash.

    A venue halted until a person acts cannot say what the cash is: its accounts open at
    the first start after that, and meanwhile every order is denied with the reason."""
    halt = engine.venue_halt()
    if halt is not None:
        log.error("venue halted; accounts open once it takes orders", reason=halt)
        return
    for account in wiring.accounts:
        if account in engine.accounts:
            continue
        balances = await wiring.opening_balances(account)
        for currency, amount in sorted(balances.items()):
            await engine.adjust_balance(
                AdjustBalance(account, currency, amount, wiring.opening_reason)
            )
