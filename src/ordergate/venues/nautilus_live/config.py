"""What the NautilusTrader live venue needs to know: the Bybit account, its URLs, what
it trades, and how long the node may take to start and stop."""

from __future__ import annotations

from dataclasses import dataclass, field

from ordergate.domain.errors import InvalidRequest

_PERPETUAL_SUFFIX = "-LINEAR.BYBIT"


@dataclass(frozen=True, slots=True)
class NautilusLiveConfig:
    """One Bybit unified account traded through NautilusTrader's Bybit adapter.

    `symbols` are Bybit's linear perpetuals ("BTCUSDT"), which are also ordergate's
    symbols. A URL left None is NautilusTrader's default for the environment (`testnet`).
    `max_retries`: how often NautilusTrader's client sends a request again after a
    retryable Bybit error (NautilusTrader's default is never).
    """

    account: str
    symbols: tuple[str, ...]
    api_key: str
    api_secret: str = field(repr=False)
    http_url: str | None = None
    ws_private_url: str | None = None
    ws_trade_url: str | None = None
    use_ws_trade_api: bool = False
    testnet: bool = False
    live: bool = False
    name: str = "nautilus-live"
    trader_id: str = "ORDERGATE-001"
    max_retries: int = 2
    connect_timeout: float = 30.0
    reconciliation_timeout: float = 30.0
    reconciliation_lookback_mins: int = 24 * 60
    stop_timeout: float = 5.0

    def __post_init__(self) -> None:
        if not self.symbols:
            raise InvalidRequest("nautilus-live: name at least one symbol")
        if not self.api_key or not self.api_secret:
            raise InvalidRequest("nautilus-live: the Bybit API key and secret are required")

    def instrument_id(self, symbol: str) -> str:
        """NautilusTrader's id of a Bybit linear perpetual: BTCUSDT-LINEAR.BYBIT."""
        return f"{symbol}{_PERPETUAL_SUFFIX}"

    @property
    def instrument_ids(self) -> dict[str, str]:
        """NautilusTrader instrument id -> ordergate symbol, for every symbol traded."""
        return {self.instrument_id(symbol): symbol for symbol in self.symbols}
