"""The NautilusTrader live venue (`venue = nautilus-live`), connected and wired for an engine.

NautilusTrader's Bybit adapter trades one Bybit unified account (`default_account` in
ordergate). With `sim_url` (a Bybit simulator, `ordergate simulate bybit`), the REST and
both websocket URLs and the key default to the simulator's; otherwise they are
NautilusTrader's defaults for Bybit (or its testnet), and the key and secret must be
given (`ORDERGATE_NAUTILUS_BYBIT_*`). Prices are Bybit's REST tickers, polled every
`quote_poll_interval` (decision 0033: NautilusTrader's data client cannot be pointed at
a simulator), and the clock is the wall clock.

Apart from `venue_selection` so that NautilusTrader (about 1.5 s and 250 MB to import)
loads only when this venue is chosen.
"""

from __future__ import annotations

from collections.abc import Callable

from ordergate.app.venue_wiring import VenueWiring, polled_wiring, unassigned_wiring
from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError
from ordergate.simulators.bybit import RemoteSimulator
from ordergate.simulators.bybit.trade_stream import TRADE_PATH
from ordergate.venues.nautilus_live import NautilusLiveConfig, NautilusLiveVenue

NAME = "nautilus-live"


def nautilus_live_config(settings: Settings) -> NautilusLiveConfig:
    """The venue's config from `settings` (`ConfigurationError` when unusable)."""
    http, private, trade = (
        settings.nautilus_bybit_http_url,
        settings.nautilus_bybit_ws_private_url,
        settings.nautilus_bybit_ws_trade_url,
    )
    key = settings.nautilus_bybit_api_key
    secret = settings.nautilus_bybit_api_secret
    api_key = None if key is None else key.get_secret_value()
    api_secret = None if secret is None else secret.get_secret_value()
    if settings.sim_url is not None:
        simulator = _simulator(settings)
        http = http or simulator.rest_url
        private = private or simulator.ws_private_url
        trade = trade or _ws_base(simulator.rest_url) + TRADE_PATH
        api_key = api_key or simulator.api_key
        api_secret = api_secret or simulator.api_secret
    elif http is not None:
        private = private or _ws_base(http) + "/v5/private"
        trade = trade or _ws_base(http) + TRADE_PATH
    if not api_key or not api_secret:
        raise ConfigurationError(
            "venue nautilus-live needs ORDERGATE_NAUTILUS_BYBIT_API_KEY and "
            "ORDERGATE_NAUTILUS_BYBIT_API_SECRET (or a simulator: --sim-url)"
        )
    if not settings.nautilus_symbols:
        raise ConfigurationError("venue nautilus-live needs ORDERGATE_NAUTILUS_SYMBOLS")
    return NautilusLiveConfig(
        account=settings.default_account,
        symbols=tuple(settings.nautilus_symbols),
        api_key=api_key,
        api_secret=api_secret,
        http_url=http,
        ws_private_url=private,
        ws_trade_url=trade,
        use_ws_trade_api=settings.nautilus_bybit_use_ws_trade_api,
        testnet=settings.nautilus_bybit_testnet,
        live=settings.nautilus_live,
        max_retries=settings.venue_retry_max_attempts - 1,
    )


async def open_nautilus_live(
    settings: Settings,
    holds: Callable[[str], bool] | None = None,
    may_send: Callable[[], bool] | None = None,
) -> VenueWiring:
    """The venue connected (its node started and reconciled), its prices polled once.

    In a cluster only the partition holding `default_account` connects; the others get an
    `UnassignedVenue`. `may_send` (a partition lease) is asked before each request is
    handed to NautilusTrader.
    """
    config = nautilus_live_config(settings)
    if holds is not None and not holds(config.account):
        return unassigned_wiring(NAME, settings.nautilus_live)
    venue = NautilusLiveVenue(config, may_send=may_send)
    return await polled_wiring(
        venue, config.account, settings.quote_poll_interval, settings.venue_lanes
    )


def _simulator(settings: Settings) -> RemoteSimulator:
    assert settings.sim_url is not None
    defaults = RemoteSimulator(settings.sim_url)
    secret = settings.sim_api_secret
    return RemoteSimulator(
        settings.sim_url,
        api_key=settings.sim_api_key or defaults.api_key,
        api_secret=defaults.api_secret if secret is None else secret.get_secret_value(),
    )


def _ws_base(http_url: str) -> str:
    return "ws" + http_url.removeprefix("http").rstrip("/")
