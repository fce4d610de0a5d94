"""The ccxt venues: a real exchange (`venue = ccxt`) and ccxt's `bybit` against the Bybit
simulator (`venue = bybit-sim`), connected and wired for an engine. `may_send`, a
cluster node's partition lease, goes to the venue, which asks it as each request leaves.

Apart from `venue_selection` so that ccxt (and the simulator's web server) load only when
one of them is chosen: importing ccxt takes about a second, which `Oms` on the paper
venue, `ordergate serve` on it, and the journal tools need not pay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import structlog

from ordergate.app.venue_wiring import VenueWiring, polled_wiring
from ordergate.config.settings import Settings
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.limits import Rate
from ordergate.engine.state import OmsState
from ordergate.simulators.bybit import (
    DEFAULT_INSTRUMENTS,
    BybitSimulator,
    RemoteSimulator,
    SimulatorConfig,
    ccxt_settings,
)
from ordergate.simulators.bybit.ccxt_settings import SimulatorEndpoints
from ordergate.simulators.bybit.rest import CLIENT_HEADER
from ordergate.venues.ccxt import CcxtVenue, CcxtVenueConfig

log = structlog.get_logger("ordergate.venue_selection")


async def open_bybit_sim(
    settings: Settings, state: OmsState, may_send: Callable[[], bool] | None = None
) -> VenueWiring:
    if settings.sim_url is not None:
        remote = _remote_simulator(settings.sim_url, settings)
        return await _on_simulator(settings, remote, may_send)
    if state.last_ts:
        raise InvalidRequest(
            "the in-process Bybit simulator starts empty and this journal has history: "
            "it would disagree with the venue at once. Use a new journal (or --db :memory:), "
            "or a simulator that outlives ordergate (`ordergate simulate bybit`, --sim-url)"
        )
    balances = {"USDT": settings.sim_usdt}
    pace = settings.sim_bars_per_second
    sim_config = (
        SimulatorConfig(balances=balances, market="replay", replay_bars_per_second=pace)
        if pace > 0
        else SimulatorConfig(balances=balances, market="manual")
    )
    simulator = BybitSimulator(sim_config)
    await simulator.start(host="127.0.0.1", port=settings.sim_port)
    log.info(
        "bybit simulator started",
        rest=simulator.rest_url,
        control=f"{simulator.rest_url}/sim/",
        market=sim_config.market,
    )
    try:
        wiring = await _on_simulator(settings, simulator, may_send)
    except BaseException:
        await simulator.stop()
        raise
    wiring.close = simulator.stop
    return wiring


def _remote_simulator(url: str, settings: Settings) -> RemoteSimulator:
    defaults = RemoteSimulator(url)
    secret = settings.sim_api_secret
    return RemoteSimulator(
        url,
        api_key=settings.sim_api_key or defaults.api_key,
        api_secret=defaults.api_secret if secret is None else secret.get_secret_value(),
    )


async def _on_simulator(
    settings: Settings, simulator: SimulatorEndpoints, may_send: Callable[[], bool] | None
) -> VenueWiring:
    """ccxt's `bybit` connected to `simulator`, trading every instrument it lists."""
    api_key, api_secret = simulator.api_credentials
    config = _ccxt_config(
        settings,
        exchange_id="bybit",
        symbols=tuple(spec.symbol for spec in DEFAULT_INSTRUMENTS),
        market_type="swap",
        api_key=api_key,
        api_secret=api_secret,
        live=False,
        overrides={
            **ccxt_settings(simulator, timeout_ms=int(settings.venue_request_timeout * 1000)),
            # The simulator logs who sent each request (/sim/requests): this node.
            "headers": {CLIENT_HEADER: settings.node_name},
        },
        name="bybit-sim",
    )
    return await _connected(settings, CcxtVenue(config, may_send=may_send))


async def open_ccxt(settings: Settings, may_send: Callable[[], bool] | None = None) -> VenueWiring:
    if not settings.ccxt_exchange or not settings.ccxt_symbols:
        raise InvalidRequest("venue ccxt needs ORDERGATE_CCXT_EXCHANGE and ORDERGATE_CCXT_SYMBOLS")
    if settings.ccxt_api_key is None or settings.ccxt_api_secret is None:
        raise InvalidRequest(
            "venue ccxt needs ORDERGATE_CCXT_API_KEY and ORDERGATE_CCXT_API_SECRET"
        )
    if settings.ccxt_live and settings.ccxt_sandbox:
        raise InvalidRequest("ORDERGATE_CCXT_LIVE and ORDERGATE_CCXT_SANDBOX exclude each other")
    password = settings.ccxt_password
    config = _ccxt_config(
        settings,
        exchange_id=settings.ccxt_exchange,
        symbols=tuple(settings.ccxt_symbols),
        market_type=settings.ccxt_market_type,
        api_key=settings.ccxt_api_key.get_secret_value(),
        api_secret=settings.ccxt_api_secret.get_secret_value(),
        live=settings.ccxt_live,
        password=None if password is None else password.get_secret_value(),
        sandbox=settings.ccxt_sandbox,
        options=settings.ccxt_options,
    )
    return await _connected(settings, CcxtVenue(config, may_send=may_send))


def _ccxt_config(settings: Settings, **fields: Any) -> CcxtVenueConfig:
    return CcxtVenueConfig(
        account=settings.default_account,
        request_rate=Rate(settings.venue_request_rate, settings.venue_request_burst),
        request_timeout=settings.venue_request_timeout,
        max_payload_bytes=settings.venue_max_payload_bytes,
        retry=settings.venue_retry,
        poll_interval=settings.venue_poll_interval,
        confirm_after=settings.venue_confirm_after,
        fill_grace=settings.venue_fill_grace,
        **fields,
    )


async def _connected(settings: Settings, venue: CcxtVenue) -> VenueWiring:
    """Connect, take the first prices, and wire the wall clock and the ticker poll."""
    return await polled_wiring(
        venue, settings.default_account, settings.quote_poll_interval, settings.venue_lanes
    )
