"""A Robinhood venue simulator that the real robin_stocks 3.4.0 trades stocks against.

    sim = RobinhoodSimulator(RobinhoodSimConfig(mfa="code"))
    await sim.start()                     # 127.0.0.1, a free port: sim.base_url
    # robin_stocks' one global requests.Session, with a transport adapter that rewrites
    # each origin in `sim.origins` (https://api.robinhood.com, and phoenix's) to the
    # simulator, logs in, places, polls and cancels unchanged.
    sim.set_quote("AAPL", bid=Decimal("189.90"), ask=Decimal("190.00"))
    ...
    await sim.stop()

It serves the paths of api.robinhood.com that robin_stocks' login and stock trading use
(`oauth2/token/`, the verification workflow's `pathfinder/` and `push/`, `accounts/`,
`instruments/`, `quotes/`, `marketdata/quotes/`, `orders/` with cursor pages,
`orders/{id}/`, `orders/{id}/cancel/`, `positions/`) and phoenix's `accounts/unified`
under `/phoenix`; every route but the login's needs `Authorization: Bearer <token>`.
The answers have the keys and string formats of Robinhood's recorded payloads. The
broker (`broker`) runs a cash account: orders posted `unconfirmed`, `queued` and
`confirmed` as configured, matched on each market step (a manual quote, or a replayed
bar of the bundled demo data shaped into AAPL, MSFT and SPY prices, see `stocks`),
filled at their limit up to the resting liquidity, in US trading hours or always.
Faults (`faults`) reproduce what a Robinhood client must survive: expired tokens,
throttling, 5xx, a lost answer to an order that was placed, a cancel that loses to a
fill, `unconfirmed` lingering after a fill, a partial fill then cancel, a buying-power
refusal; `fired` logs each as it acts.
"""

from ordergate.simulators.robinhood.config import (
    API_ORIGIN,
    DEFAULT_PASSWORD,
    DEFAULT_PORT,
    DEFAULT_TOTP_SECRET,
    DEFAULT_USERNAME,
    PHOENIX_ORIGIN,
    PHOENIX_PREFIX,
    RobinhoodSimConfig,
)
from ordergate.simulators.robinhood.faults import FaultKind
from ordergate.simulators.robinhood.rest import SeenRequest
from ordergate.simulators.robinhood.server import RobinhoodSimulator
from ordergate.simulators.robinhood.states import OrderState
from ordergate.simulators.robinhood.stocks import CATALOGUE, StockSpec

__all__ = [
    "API_ORIGIN",
    "CATALOGUE",
    "DEFAULT_PASSWORD",
    "DEFAULT_PORT",
    "DEFAULT_TOTP_SECRET",
    "DEFAULT_USERNAME",
    "PHOENIX_ORIGIN",
    "PHOENIX_PREFIX",
    "FaultKind",
    "OrderState",
    "RobinhoodSimConfig",
    "RobinhoodSimulator",
    "SeenRequest",
    "StockSpec",
]
