"""What a ccxt venue needs to know: which exchange, which account, how hard to push it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.limits import Rate
from ordergate.engine.retry import RetryPolicy

MARKET_TYPES: Final = frozenset({"spot", "swap", "future"})
# The largest REST answer or websocket message read by default (see `payloads`).
# Generous: the largest legitimate answers are market lists loaded once at connect,
# megabytes on the biggest exchanges. The bound is against a broken or hostile peer.
DEFAULT_MAX_PAYLOAD_BYTES: Final = 32 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class CcxtVenueConfig:
    """One exchange account behind ccxt.

    - `exchange_id`: ccxt's id (`bybit`, `binance`, `kraken`, ...).
    - `account`: the name ordergate uses for this account; requests for another account
      are refused.
    - `symbols`: the venue-style symbols ordergate trades here (`BTCUSDT`), each the
      `id` of exactly one ccxt market of `market_type`.
    - `market_type`: ccxt's market type of those symbols: spot, swap or future.
    - `live`: real money. A sandbox, testnet or simulator is not live.
    - `sandbox`: switch ccxt to the exchange's testnet (`set_sandbox_mode`).
    - `urls`, `options`: merged into ccxt's own `urls` and `options` for the exchange;
      `overrides`: any other ccxt constructor settings, merged last (a simulator's
      `ccxt_settings`, for one).
    - `request_rate`: ordergate's budget for all REST requests of this adapter, on top
      of ccxt's own rate limiter; a request waits for a token rather than failing.
    - `request_timeout`: seconds before ccxt gives up on one HTTP request.
    - `retry`: backoff for the adapter's own reads (the engine retries order requests).
    - `poll_interval`: seconds between REST polls while the websocket stream is down.
    - `confirm_after`: seconds to wait for the stream to confirm a submit, cancel or
      replace before asking the venue by REST.
    - `fill_grace`: seconds an order may report more filled than its streamed fills
      before the missing executions are fetched by REST.
    - `max_payload_bytes`: the largest REST answer or websocket message read; a larger
      one is unreadable, as one that is not JSON is (see `payloads`).
    """

    exchange_id: str
    account: str
    symbols: tuple[str, ...]
    market_type: str
    api_key: str = field(repr=False)
    api_secret: str = field(repr=False)
    live: bool
    password: str | None = field(default=None, repr=False)
    uid: str | None = None
    sandbox: bool = False
    urls: Mapping[str, Any] = field(default_factory=dict)
    options: Mapping[str, Any] = field(default_factory=dict)
    overrides: Mapping[str, Any] = field(default_factory=dict)
    request_rate: Rate = field(default_factory=lambda: Rate(Decimal(10), 10))
    request_timeout: float = 10.0
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    poll_interval: float = 1.0
    confirm_after: float = 2.0
    fill_grace: float = 0.5
    max_payload_bytes: int = DEFAULT_MAX_PAYLOAD_BYTES
    name: str | None = None

    def __post_init__(self) -> None:
        if not self.exchange_id or not self.account:
            raise InvalidRequest("a ccxt venue needs an exchange id and an account name")
        if not self.symbols:
            raise InvalidRequest(f"{self.exchange_id}: no symbols configured")
        if self.market_type not in MARKET_TYPES:
            raise InvalidRequest(
                f"{self.exchange_id}: market_type must be one of {sorted(MARKET_TYPES)}"
            )
        for name in (
            "request_timeout",
            "poll_interval",
            "confirm_after",
            "fill_grace",
            "max_payload_bytes",
        ):
            if getattr(self, name) <= 0:
                raise InvalidRequest(f"{self.exchange_id}: {name} must be positive")

    @property
    def venue_name(self) -> str:
        return self.name or self.exchange_id

    def exchange_settings(self, defaults: Mapping[str, Any]) -> dict[str, Any]:
        """The ccxt constructor config: the dialect's `defaults`, then this config's.

        ccxt's rate limiter is on (a simulator's `overrides` may turn it off, as the
        simulator enforces the limits itself), and numbers always come back as strings
        (see `decimals`).
        """
        settings = merged(
            defaults,
            {
                "apiKey": self.api_key,
                "secret": self.api_secret,
                "enableRateLimit": True,
                "timeout": int(self.request_timeout * 1000),
                "urls": self.urls,
                "options": self.options,
            },
        )
        if self.password is not None:
            settings["password"] = self.password
        if self.uid is not None:
            settings["uid"] = self.uid
        settings = merged(settings, self.overrides)
        settings["number"] = str  # not overridable: the adapter reads every number this way
        return settings


def merged(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it, nested mappings merged key by key."""
    out = dict(base)
    for key, value in extra.items():
        current = out.get(key)
        if isinstance(current, Mapping) and isinstance(value, Mapping):
            out[key] = merged(current, value)
        else:
            out[key] = value
    return out
