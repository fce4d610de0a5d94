"""What a simulated Robinhood account trades and how the simulator behaves.

Every field has a default that runs as-is; the credentials are public test values (the
simulator holds no money), so tools and tests find it without setup.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Final, Literal

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.values import ZERO
from ordergate.protocols.robinhood.totp import totp_for
from ordergate.simulators.robinhood.stocks import CATALOGUE, DEFAULT_SYMBOLS

DEFAULT_PORT: Final = 8400
DEFAULT_USERNAME: Final = "trader@example.com"
DEFAULT_PASSWORD: Final = "correct-horse"
DEFAULT_TOTP_SECRET: Final = "JBSWY3DPEHPK3PXP"
# Where robin_stocks sends its requests. Answers carry URLs on API_ORIGIN (as Robinhood's
# do), so a client redirected by a transport adapter follows them through the adapter.
API_ORIGIN: Final = "https://api.robinhood.com"
PHOENIX_ORIGIN: Final = "https://phoenix.robinhood.com"
# The simulator serves phoenix's paths under this prefix of its one port.
PHOENIX_PREFIX: Final = "/phoenix"

MarketMode = Literal["manual", "replay"]
MfaMode = Literal["none", "code", "workflow"]
Hours = Literal["always", "us_equities"]


@dataclass(frozen=True, slots=True)
class RobinhoodSimConfig:
    """How to build a simulator.

    - `market`: "manual" (prices move only by `set_quote`; each stock starts quoted at
      its level, see `stocks`) or "replay" (the bundled bars shaped into stock prices,
      `bars_per_second` bars a second, looped).
    - `cash`: the account's cash, which is its buying power while no buy is open.
    - `mfa`: "none"; "code": a login needs `mfa_code`, the current TOTP of
      `totp_secret` (base32 of 80 bits or more, as Robinhood's 16 characters);
      "workflow": a login with the right password answers a `verification_workflow`
      that only a person can approve (nobody does).
    - `hours`: "always" (every order may trade at once) or "us_equities" (regular
      09:30-16:00 America/New_York on weekdays, extended 07:00-09:30 and 16:00-20:00 for
      limit orders sent with extended hours; an order outside its session is `queued`
      until it opens; holidays are not modelled).
    - `resting_liquidity`: shares a limit order can fill per market step, by symbol
      (unset: all it wants), so an order fills partly over several steps.
    - `confirm_after_steps`: 0, a posted order is `confirmed` at once; n > 0, it answers
      `unconfirmed`, is `queued` from the next market step of its symbol and
      `confirmed` on the n-th.
    - `page_size`: orders per page of `GET orders/` (Robinhood's is 100).
    - `url_origin`: the origin of the URLs in answers (`url`, `cancel`, `next` ...);
      None: the simulator's own `base_url`, for a client that is not redirected.
    - `clock`: wall time in ns: timestamps, token expiry and trading hours read it.
    - `seed`: order, execution and workflow ids derive from it, so runs repeat (tokens
      are random).
    """

    symbols: tuple[str, ...] = DEFAULT_SYMBOLS
    market: MarketMode = "manual"
    cash: Decimal = Decimal(100_000)
    username: str = DEFAULT_USERNAME
    password: str = DEFAULT_PASSWORD
    mfa: MfaMode = "none"
    totp_secret: str = DEFAULT_TOTP_SECRET
    token_lifetime_s: int = 86_400
    hours: Hours = "always"
    resting_liquidity: Mapping[str, Decimal] = field(default_factory=dict)
    confirm_after_steps: int = 0
    page_size: int = 100
    bars_per_second: float = 2.0
    account_number: str = "5RS71234"
    url_origin: str | None = API_ORIGIN
    clock: Callable[[], int] = time.time_ns
    seed: int = 0

    def __post_init__(self) -> None:
        unknown = sorted(set(self.symbols) - set(CATALOGUE))
        if not self.symbols or unknown or len(set(self.symbols)) != len(self.symbols):
            raise InvalidRequest(
                f"symbols must be distinct and among {sorted(CATALOGUE)} (unknown: {unknown})"
            )
        _one_of("market", self.market, ("manual", "replay"))
        _one_of("mfa", self.mfa, ("none", "code", "workflow"))
        _one_of("hours", self.hours, ("always", "us_equities"))
        if self.cash < ZERO:
            raise InvalidRequest("cash must not be negative")
        if not self.username or not self.password:
            raise InvalidRequest("the simulator needs a non-empty username and password")
        totp_for(self.totp_secret)
        if self.token_lifetime_s <= 0:
            raise InvalidRequest("token_lifetime_s must be positive")
        stray = sorted(set(self.resting_liquidity) - set(self.symbols))
        if stray or any(shares <= ZERO for shares in self.resting_liquidity.values()):
            raise InvalidRequest(f"resting_liquidity: positive shares of listed symbols ({stray})")
        if self.confirm_after_steps < 0:
            raise InvalidRequest("confirm_after_steps must not be negative")
        if self.page_size < 1:
            raise InvalidRequest("page_size must be at least 1")
        if self.bars_per_second <= 0:
            raise InvalidRequest("bars_per_second must be positive")
        if not self.account_number.isalnum():
            raise InvalidRequest("account_number must be letters and digits")


def _one_of(name: str, value: str, allowed: tuple[str, ...]) -> None:
    if value not in allowed:
        raise InvalidRequest(f"{name} must be one of {allowed}, not {value!r}")
