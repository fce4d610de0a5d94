"""The Robinhood venue (`venue = robinhood`), logged in and wired for an engine.

One Robinhood login is traded as `default_account`, through robin_stocks
(`venues.robinhood`). Instruments are the configured stocks; prices are Robinhood's
quotes, polled every `quote_poll_interval`; the clock is the wall clock. With
`robinhood_url` (the simulator, `ordergate simulate robinhood`) every request goes
there instead of Robinhood.

A login that needs a person does not stop the process: the venue refuses orders and
says why on `/health` and `/v1/health/trading` until it is restarted after the person
has acted.

Apart from `venue_selection` so that robin_stocks loads only when this venue is chosen.
"""

from __future__ import annotations

from collections.abc import Callable

from ordergate.app.venue_wiring import VenueWiring, polled_wiring, unassigned_wiring
from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError
from ordergate.venues.robinhood import RobinhoodConfig, RobinhoodVenue

NAME = "robinhood"


def robinhood_config(settings: Settings) -> RobinhoodConfig:
    """The venue's config from `settings` (`ConfigurationError` when unusable)."""
    password = settings.robinhood_password
    if not settings.robinhood_username or password is None:
        raise ConfigurationError(
            "venue robinhood needs ORDERGATE_ROBINHOOD_USERNAME and "
            "ORDERGATE_ROBINHOOD_PASSWORD (robin_stocks would otherwise ask on stdin)"
        )
    totp, code = settings.robinhood_totp_secret, settings.robinhood_mfa_code
    return RobinhoodConfig(
        account=settings.default_account,
        username=settings.robinhood_username,
        password=password.get_secret_value(),
        symbols=tuple(settings.robinhood_symbols),
        base_url=settings.robinhood_url,
        totp_secret=None if totp is None else totp.get_secret_value(),
        mfa_code=None if code is None else code.get_secret_value(),
        live=settings.robinhood_live,
        timeout=settings.robinhood_timeout,
        poll_interval=settings.robinhood_poll_interval,
        extended_hours=settings.robinhood_extended_hours,
    )


async def open_robinhood(
    settings: Settings,
    holds: Callable[[str], bool] | None = None,
    may_send: Callable[[], bool] | None = None,
) -> VenueWiring:
    """The venue logged in, its prices read once (or stopped, saying why)."""
    config = robinhood_config(settings)
    if holds is not None and not holds(config.account):
        return unassigned_wiring(NAME, config.live)
    venue = RobinhoodVenue(config, may_send=may_send)
    return await polled_wiring(venue, config.account, settings.quote_poll_interval, lanes=1)
