"""`RobinhoodConfig`: one Robinhood account, as the `robinhood` venue trades it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from ordergate.domain.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class RobinhoodConfig:
    """Credentials and how the venue polls.

    `base_url`: where Robinhood's API is (None: Robinhood itself; the simulator's URL in
    tests). `totp_secret`: the authenticator app's secret, from which each login's MFA
    code is made; `mfa_code`: one code, for an account whose codes come otherwise (a
    single login only). `timeout`: seconds for every request. `poll_interval`: seconds
    between polls of the working orders (Robinhood has no stream). `symbols`: the stocks
    traded. `collar`: the fraction Robinhood's own market buys are sent above the ask,
    used for this venue's price checks (documented, not sent).
    """

    account: str
    username: str
    password: str
    symbols: tuple[str, ...]
    base_url: str | None = None
    totp_secret: str | None = None
    mfa_code: str | None = None
    name: str = "robinhood"
    live: bool = False
    timeout: float = 10.0
    poll_interval: float = 1.0
    extended_hours: bool = False
    collar: Decimal = Decimal("0.05")

    def __post_init__(self) -> None:
        if not self.username or not self.password:
            raise ConfigurationError(
                "venue robinhood needs ORDERGATE_ROBINHOOD_USERNAME and "
                "ORDERGATE_ROBINHOOD_PASSWORD (robin_stocks would otherwise ask on stdin)"
            )
        if not self.symbols:
            raise ConfigurationError("venue robinhood needs ORDERGATE_ROBINHOOD_SYMBOLS")
        if self.timeout <= 0 or self.poll_interval <= 0:
            raise ConfigurationError("robinhood: the timeout and poll interval must be positive")
