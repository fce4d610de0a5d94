"""Configuration: environment (`ORDERGATE_` prefix), a `.env` file, or CLI flags.

Venue retries are named like seed 002's (`ORDERGATE_VENUE_RETRY_MAX_ATTEMPTS`,
`_BASE_DELAY`, `_MAX_DELAY`, `_MULTIPLIER`) and apply to every venue: the engine's
order requests and a ccxt adapter's own reads.

The seed paper OMS's own names `OMS_MIN_QTY` and `OMS_ALLOWED_SYMBOLS` are accepted as
aliases of `ORDERGATE_MIN_QTY` and `ORDERGATE_ALLOWED_SYMBOLS`, and every variable of seed
002's environment block under its own `ORDERMANAGER_` name (`config.environment`, which
also refuses any unknown `ORDERGATE_`/`ORDERMANAGER_` variable at start-up).

`env.example` and `docs/configuration.md` are generated from this class
(`ordergate config reference`); a test fails when they are stale.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import socket
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AliasChoices,
    Field,
    HttpUrl,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import (
    BaseSettings,
    DotEnvSettingsSource,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from ordergate.config.environment import Seed002Source
from ordergate.config.risk_file import load_limits
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.limits import LimitsBook, RiskLimits
from ordergate.domain.signal_policy import SignalPolicy
from ordergate.domain.values import OrderType
from ordergate.engine.checkpoint import CheckpointPolicy
from ordergate.engine.reconcile import ReconcilePolicy, Remedy
from ordergate.engine.retention import RetentionPolicy
from ordergate.engine.retry import RetryPolicy
from ordergate.engine.watch import WatchPolicy

DEFAULT_BALANCES: dict[str, dict[str, Decimal]] = {
    "default": {"USD": Decimal(100_000), "USDT": Decimal(100_000)}
}


MAX_BODY_LIMIT: Final = 16 * 1024 * 1024
"""No route group may accept a body larger than this (16 MiB): a limit is a limit."""

PLACEHOLDER_SECRETS: Final = frozenset({"your-api-key-here", "changeme", "change-me", "secret"})
"""Example secrets: accepted on paper and the simulator (with a warning), refused live."""

POSTGRES_SCHEMES: Final = ("postgresql://", "postgres://")


def is_postgres_url(db: str) -> bool:
    """Whether the journal `db` names a PostgreSQL database (`postgresql://...`, the scheme
    in any case) rather than a SQLite file."""
    return db.lower().startswith(POSTGRES_SCHEMES)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ORDERGATE_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        env_nested_delimiter="__",
    )

    host: str = Field(default="127.0.0.1", description="the interface the API listens on")
    port: int = Field(default=8000, ge=1, le=65535, description="the API's port")
    db: str = Field(
        default="ordergate.db",
        description="SQLite journal path, or ':memory:' for a journal that is not kept",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL", "EXTRA"] = Field(
        default="FULL",
        description="FULL fsyncs every commit: an answered order survives a power cut",
    )
    venue: Literal[
        "paper", "bybit-sim", "ccxt", "nautilus", "nautilus-live", "mt5", "robinhood"
    ] = Field(
        default="paper",
        description="paper (embedded), bybit-sim (ccxt against an in-process Bybit "
        "simulator), ccxt (a real exchange, ORDERGATE_CCXT_*), nautilus (NautilusTrader's "
        "backtest matching engine over the paper venue's data), nautilus-live "
        "(NautilusTrader's Bybit adapter, ORDERGATE_NAUTILUS_*), mt5 (MetaTrader 5 "
        "through the bridge EA, ORDERGATE_MT5_*) or robinhood (robin_stocks, "
        "ORDERGATE_ROBINHOOD_*)",
    )
    mode: Literal["live", "shadow", "dry-run"] = Field(
        default="live",
        description="live sends orders; shadow fills them in a paper book fed by the "
        "venue's live quotes, sending nothing; dry-run journals each decision and its risk "
        "verdict, sending nothing (a journal keeps the mode it was made in)",
    )
    paper_data: Path | None = Field(
        default=None,
        description="TOML file naming instruments and their CSV data; default: bundled demo",
    )
    paper_bars_per_second: float = Field(
        default=2.0, ge=0, description="market-data pace under serve; 0 holds the clock still"
    )
    paper_loop: bool = Field(default=True, description="replay the data again when it ends")
    paper_balances: dict[str, dict[str, Decimal]] = Field(
        default_factory=lambda: {a: dict(b) for a, b in DEFAULT_BALANCES.items()},
        description="initial cash per account and currency, as JSON",
    )
    default_account: str = Field(
        default="default", description="the account of the seed APIs; a ccxt venue's account"
    )
    account_currency: str | None = Field(
        default=None,
        pattern=r"^[A-Z0-9]{2,12}$",
        description="the account's main currency, in which the unified interface reports "
        "balance, equity and margin; unset: the currency of the largest balance",
    )
    sim_port: int = Field(
        default=8300,
        ge=0,
        le=65535,
        description="bybit-sim: the in-process simulator's loopback port; 0 picks a free one",
    )
    sim_bars_per_second: float = Field(
        default=2.0,
        ge=0,
        description="bybit-sim: the simulator's replay pace; 0: a still market that only "
        "POST /sim/quote moves",
    )
    sim_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="bybit-sim: the REST URL of a simulator already running (`ordergate "
        "simulate bybit`) to trade on instead of starting one in process",
    )
    sim_api_key: str | None = Field(
        default=None, description="bybit-sim with sim_url: its key (default: the simulator's)"
    )
    sim_api_secret: SecretStr | None = Field(
        default=None, description="bybit-sim with sim_url: its secret (default: the simulator's)"
    )
    sim_usdt: Decimal = Field(
        default=Decimal(100_000), ge=0, description="bybit-sim: the simulated account's USDT"
    )
    ccxt_exchange: str | None = Field(
        default=None, description="ccxt: the exchange id (bybit, binance, kraken, ...)"
    )
    ccxt_api_key: SecretStr | None = Field(default=None, description="ccxt: the exchange API key")
    ccxt_api_secret: SecretStr | None = Field(
        default=None, description="ccxt: the exchange API secret"
    )
    ccxt_password: SecretStr | None = Field(
        default=None, description="ccxt: the passphrase some exchanges require"
    )
    ccxt_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="ccxt: comma-separated venue symbols (BTCUSDT)"
    )
    ccxt_market_type: Literal["spot", "swap", "future"] = Field(
        default="swap", description="ccxt: the kind of market the symbols name"
    )
    ccxt_live: bool = Field(
        default=False,
        description="ccxt: the account trades real money (orders need the venue armed)",
    )
    ccxt_sandbox: bool = Field(default=False, description="ccxt: use the exchange's testnet")
    ccxt_options: dict[str, Any] = Field(
        default_factory=dict, description="ccxt: merged into the exchange's options, as JSON"
    )
    nautilus_bybit_api_key: SecretStr | None = Field(
        default=None, description="nautilus-live: the Bybit API key"
    )
    nautilus_bybit_api_secret: SecretStr | None = Field(
        default=None, description="nautilus-live: the Bybit API secret"
    )
    nautilus_bybit_http_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="nautilus-live: Bybit's REST URL; unset: NautilusTrader's default for "
        "the environment (with sim_url: the simulator's)",
    )
    nautilus_bybit_ws_private_url: str | None = Field(
        default=None,
        pattern=r"^wss?://",
        description="nautilus-live: Bybit's private websocket URL; unset: as the REST URL",
    )
    nautilus_bybit_ws_trade_url: str | None = Field(
        default=None,
        pattern=r"^wss?://",
        description="nautilus-live: Bybit's trade websocket URL; unset: as the REST URL",
    )
    nautilus_bybit_use_ws_trade_api: bool = Field(
        default=False,
        description="nautilus-live: place, amend and cancel over the trade websocket "
        "instead of REST",
    )
    nautilus_bybit_testnet: bool = Field(
        default=False, description="nautilus-live: Bybit's testnet (its default URLs)"
    )
    nautilus_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["BTCUSDT"],
        description="nautilus-live: comma-separated linear perpetuals to trade (BTCUSDT)",
    )
    nautilus_live: bool = Field(
        default=False,
        description="nautilus-live: the account trades real money (orders need the venue armed)",
    )
    mt5_rep_url: str = Field(
        default="tcp://127.0.0.1:8866",
        pattern=r"^(tcp|ipc)://",
        description="mt5: the bridge EA's command (REP) endpoint",
    )
    mt5_pub_url: str = Field(
        default="tcp://127.0.0.1:8867",
        pattern=r"^(tcp|ipc)://",
        description="mt5: the bridge EA's event (PUB) endpoint",
    )
    mt5_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="mt5: comma-separated symbols to trade (empty: every symbol the EA offers)",
    )
    mt5_timeout: float = Field(
        default=2.0, gt=0, description="mt5: seconds to wait for the EA's reply before resending"
    )
    mt5_attempts: int = Field(
        default=3, ge=1, description="mt5: sends of one command before its outcome is unknown"
    )
    mt5_close_order: Literal["oldest", "newest"] = Field(
        default="oldest",
        description="mt5, hedging account: which positions an order that reduces closes first",
    )
    mt5_magic: int = Field(
        default=0, ge=0, description="mt5: the magic number on every order ordergate sends"
    )
    mt5_live: bool = Field(
        default=False,
        description="mt5: the account trades real money (orders need the venue armed)",
    )
    robinhood_username: str | None = Field(
        default=None, description="robinhood: the account's user name (an e-mail address)"
    )
    robinhood_password: SecretStr | None = Field(
        default=None, description="robinhood: the account's password"
    )
    robinhood_totp_secret: SecretStr | None = Field(
        default=None,
        description="robinhood: the authenticator app's secret; each login's MFA code is "
        "made from it",
    )
    robinhood_mfa_code: SecretStr | None = Field(
        default=None, description="robinhood: one MFA code, for a single login"
    )
    robinhood_symbols: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["AAPL", "MSFT", "SPY"],
        description="robinhood: comma-separated stocks to trade",
    )
    robinhood_url: str | None = Field(
        default=None,
        pattern=r"^https?://",
        description="robinhood: where Robinhood's API is (unset: Robinhood; a simulator's "
        "URL, `ordergate simulate robinhood`)",
    )
    robinhood_timeout: float = Field(
        default=10.0, gt=0, description="robinhood: seconds for every request"
    )
    robinhood_poll_interval: float = Field(
        default=1.0, gt=0, description="robinhood: seconds between polls of working orders"
    )
    robinhood_extended_hours: bool = Field(
        default=False, description="robinhood: orders may trade in extended hours"
    )
    robinhood_live: bool = Field(
        default=False,
        description="robinhood: the account trades real money (orders need the venue armed)",
    )
    venue_retry_max_attempts: int = Field(
        default=3, ge=1, description="tries of a venue request that certainly did nothing"
    )
    venue_retry_base_delay: float = Field(
        default=0.2, gt=0, description="seconds: the first backoff's ceiling (full jitter)"
    )
    venue_retry_max_delay: float = Field(default=5.0, gt=0, description="seconds: backoff cap")
    venue_retry_multiplier: float = Field(
        default=2.0, ge=1, description="backoff growth per attempt"
    )
    venue_request_rate: Decimal = Field(
        default=Decimal(10), gt=0, description="ccxt: REST requests a second, on average"
    )
    venue_request_burst: int = Field(
        default=10, ge=1, description="ccxt: REST requests at once, above the rate"
    )
    venue_request_timeout: float = Field(
        default=10.0, gt=0, description="ccxt: seconds before one HTTP request is given up"
    )
    venue_max_payload_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        le=1024 * 1024 * 1024,
        description="ccxt and bybit-sim: bytes of the largest REST answer or websocket "
        "message read from the venue; a larger one is unreadable, like one that is not JSON",
    )
    venue_lanes: int = Field(
        default=16,
        ge=1,
        le=256,
        description="ccxt and bybit-sim: venue requests in flight at once (one order's "
        "requests always share a lane, so they stay in order)",
    )
    venue_poll_interval: float = Field(
        default=1.0, gt=0, description="ccxt: seconds between REST polls while the stream is down"
    )
    venue_confirm_after: float = Field(
        default=2.0,
        gt=0,
        description="ccxt: seconds to wait for the stream to confirm a request before asking",
    )
    venue_fill_grace: float = Field(
        default=0.5,
        gt=0,
        description="ccxt: seconds an order may say more filled than its streamed fills "
        "before they are fetched",
    )
    quote_poll_interval: float = Field(
        default=1.0, gt=0, description="ccxt and bybit-sim: seconds between ticker polls"
    )
    min_qty: Decimal | None = Field(
        default=None,
        gt=0,
        validation_alias=AliasChoices("ORDERGATE_MIN_QTY", "OMS_MIN_QTY"),
        description="a floor above every instrument's own minimum quantity",
    )
    allowed_symbols: Annotated[list[str] | None, NoDecode] = Field(
        default=None,
        validation_alias=AliasChoices("ORDERGATE_ALLOWED_SYMBOLS", "OMS_ALLOWED_SYMBOLS"),
        description="comma-separated; default: every configured instrument",
    )
    allowed_order_types: Annotated[list[OrderType], NoDecode] = Field(
        default_factory=lambda: list(OrderType),
        description="comma-separated order types a global limit allows (default: all)",
    )
    risk_file: Path | None = Field(
        default=None,
        description="TOML of risk limits: global, per account, instrument and strategy",
    )
    limits: dict[str, Any] = Field(
        default_factory=dict,
        description="global risk limits, e.g. ORDERGATE_LIMITS__MAX_POSITION_QTY=5",
    )
    reconcile_interval_seconds: float | None = Field(
        default=60.0,
        gt=0,
        description="reconcile every account with the venue this often (also on start)",
    )
    reconcile: dict[str, str] = Field(
        default_factory=dict,
        description="remedy per difference, e.g. ORDERGATE_RECONCILE__POSITION_MISMATCH=ALERT",
    )
    max_batch: int = Field(
        default=4096, ge=1, description="commands the single writer decides per journal commit"
    )
    retention_max_age_seconds: float = Field(
        default=3600.0,
        ge=0,
        description="finished orders (and trading signals, with their last order) leave the "
        "engine's memory this long after finishing",
    )
    checkpoint_every_events: int | None = Field(
        default=100_000,
        ge=1,
        description="checkpoint the engine's state after this many events (a start replays "
        "only the events after the newest checkpoint)",
    )
    checkpoint_interval_seconds: float | None = Field(
        default=300.0,
        gt=0,
        description="and at least this often while events are journaled",
    )
    retention_max_finished: int = Field(
        default=10_000,
        ge=0,
        description="and beyond this many finished orders (or signals) held, the oldest "
        "leave at once",
    )
    api_wait_ms: int = Field(
        default=2000,
        ge=0,
        description="how long POST /v1/orders waits for the venue's answer before replying",
    )
    api_rate_per_second: float = Field(
        default=50.0, gt=0, description="requests a second each API key may make, on average"
    )
    api_rate_burst: int = Field(
        default=100, ge=1, description="requests an API key may make at once, above its rate"
    )
    api_max_body_bytes: int = Field(
        default=65_536,
        ge=1024,
        le=MAX_BODY_LIMIT,
        description="largest request body a route accepts, unless api_body_limits says else",
    )
    api_body_limits: dict[str, int] = Field(
        default_factory=dict,
        description="body limit per route group, by path prefix (longest wins), e.g. "
        "ORDERGATE_API_BODY_LIMITS='{\"/v1/admin\": 4096}'",
    )
    api_header_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description="a connection must send a request's whole header within this, from its "
        "first byte (or from opening)",
    )
    api_body_timeout_seconds: float = Field(
        default=10.0, gt=0, le=300, description="a request's whole body must arrive within this"
    )
    api_keepalive_seconds: int = Field(
        default=5, ge=1, le=300, description="an idle connection is closed after this"
    )
    api_max_header_bytes: int = Field(
        default=16_384, ge=4096, le=1_048_576, description="largest request line and headers"
    )
    api_max_connections: int = Field(
        default=1024, ge=1, le=100_000, description="open connections on the API listener"
    )
    api_max_in_flight: int = Field(
        default=256,
        ge=1,
        le=100_000,
        description="authenticated requests handled at once; more are answered 503 SERVER_BUSY",
    )
    api_max_streams: int = Field(
        default=64,
        ge=1,
        le=10_000,
        description="live event streams (GET /v1/stream, the blotter's) open at once on the "
        "API listener; each also holds one of its api_max_connections",
    )
    api_stream_queue: int = Field(
        default=2000,
        ge=10,
        le=1_000_000,
        description="events one stream may hold for a reader that falls behind; past it they "
        "are dropped and the reader told to resync",
    )
    api_auth_failure_rate: float = Field(
        default=1.0,
        gt=0,
        description="failed key attempts a second one client address may make, on average",
    )
    api_auth_failure_burst: int = Field(
        default=20,
        ge=1,
        description="failed key attempts one client address may make at once; past them, "
        "every request from it is answered 429 until its rate allows",
    )
    admin_host: str = Field(
        default="127.0.0.1", description="where the admin listener (health and kill switch) binds"
    )
    admin_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="the admin listener's port (default: the API port + 1)",
    )
    admin_max_connections: int = Field(
        default=32,
        ge=1,
        le=10_000,
        description="open connections on the admin listener (and admin requests at once)",
    )
    node_id: str | None = Field(
        default=None,
        min_length=1,
        max_length=32,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="PostgreSQL: this node's name in the cluster (default: host and pid)",
    )
    partitions: int = Field(
        default=1,
        ge=1,
        le=1024,
        description="PostgreSQL: partitions the accounts hash to; the same on every node",
    )
    cluster_name: str = Field(
        default="ordergate",
        min_length=1,
        max_length=20,
        pattern=r"^[A-Za-z0-9_.-]+$",
        description="PostgreSQL: nodes of one cluster share partitions; clusters sharing a "
        "database never touch each other's",
    )
    amqp_url: SecretStr | None = Field(
        default=None,
        description="RabbitMQ (amqp://user:pass@host:5672/vhost): turns on the signal consumer "
        "and the event relay",
    )
    signals_queue: str = Field(
        default="model-service.trading_signals", min_length=1, description="signals come in here"
    )
    partition_exchange: str = Field(
        default="ordergate.signals",
        min_length=1,
        description="a cluster: the direct exchange signals are routed on to their "
        "partition's queue (<name>.p07)",
    )
    events_exchange: str = Field(
        default="order-manager.order_events",
        min_length=1,
        description="the topic exchange every journaled event goes out on",
    )
    signal_prefetch: int = Field(
        default=100, ge=1, le=65535, description="signals handled at once (unacknowledged)"
    )
    signal_delivery_limit: int = Field(
        default=20,
        ge=1,
        description="deliveries of one signal before the broker dead-letters it (a failover "
        "redelivers every signal in flight)",
    )
    signal_max_bytes: int = Field(
        default=65_536,
        ge=1,
        le=134_217_728,
        description="bytes: a signal body longer than this is dead-lettered as "
        "SIGNAL_TOO_LARGE without being decoded",
    )
    events_window: int = Field(
        default=500, ge=1, description="events the relay keeps in flight awaiting confirms"
    )
    market_order_confidence_threshold: Decimal = Field(
        default=Decimal("0.9"),
        ge=0,
        le=1,
        description="a signal this confident (and a tight spread) becomes a market order",
    )
    market_order_spread_threshold: Decimal = Field(
        default=Decimal("0.1"),
        ge=0,
        description="percent of the mid: a wider spread makes a limit order",
    )
    limit_order_price_offset_ratio: Decimal = Field(
        default=Decimal("0.5"),
        ge=0,
        le=1,
        description="a limit's place across the spread from its own side (0.5: the mid)",
    )
    max_single_order_size: Decimal = Field(
        default=Decimal(10000),
        gt=0,
        description="quote-currency notional above which a signal's order is split",
    )
    enable_order_splitting: bool = Field(
        default=False,
        description="split a signal's order above max_single_order_size into several",
    )
    max_split_orders: int = Field(
        default=100, ge=1, le=9999, description="most orders one signal may be split into"
    )
    cancel_opposite_orders_only: bool = Field(
        default=False,
        description="a signal cancels the strategy's orders on the other side only "
        "(default: on both sides) before placing",
    )
    cancel_stale_order_timeout: int | None = Field(
        default=3600,
        ge=0,
        description="seconds after which a signal order still working is canceled; 0: never",
    )
    enable_dry_run: bool = Field(
        default=False,
        description="signals run the whole path and journal what they would send, sending nothing",
    )
    audit_jsonl: Path | None = Field(
        default=None,
        description="append every committed journal event to this JSON-lines file "
        "(the format of `ordergate export --jsonl`), after commit; rotated by size",
    )
    audit_jsonl_max_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=65_536,
        description="the audit file is rotated (to <name>.1, ...) once it is this large",
    )
    audit_jsonl_backups: int = Field(
        default=5, ge=0, le=1000, description="rotated audit files kept"
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    log_json: bool = Field(default=True, description="JSON lines; false: readable console lines")
    service_name: str = Field(
        default="ordergate",
        min_length=1,
        max_length=64,
        description="named as `service` on every log line (seed 002's ORDERMANAGER_SERVICE_NAME)",
    )
    api_key: SecretStr | None = Field(
        default=None,
        min_length=8,
        description="a key configured here rather than issued (seed 002's "
        "ORDERMANAGER_API_KEY), sent as X-API-Key as it is; issued keys keep working",
    )
    api_key_scope: Literal["read", "trade", "admin"] = Field(
        default="admin",
        description="the configured api_key's scope (seed 002's one key could do everything)",
    )
    position_snapshot_interval: float | None = Field(
        default=None,
        gt=0,
        description="seconds of engine time between journaled snapshots of every open "
        "position (PositionsSnapshotted); unset: none",
    )
    position_validation_interval: float | None = Field(
        default=None,
        gt=0,
        description="seconds of engine time between validations of positions against the "
        "venue (a positions-only reconciliation), beside reconcile_interval_seconds; unset: none",
    )
    order_execution_timeout: float | None = Field(
        default=None,
        gt=0,
        description="seconds of engine time a SUBMITTED order may wait for the venue to "
        "confirm it; then it is UNKNOWN, its instrument dirty, and the venue is asked",
    )

    # --- observability (issue 18): health probes and alert sinks -------------------------
    health_probe_timeout_seconds: float = Field(
        default=1.0, gt=0, le=30, description="each dependency probe's deadline"
    )
    health_interval_seconds: float = Field(
        default=5.0, gt=0, description="how often the monitor probes, for alerts and metrics"
    )
    alert_log: bool = Field(default=True, description="log every alert (WARNING/ERROR)")
    alert_webhook_url: HttpUrl | None = Field(
        default=None, description="POST each alert as JSON here (http or https)"
    )
    alert_webhook_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="each webhook POST's deadline"
    )
    alert_webhook_max_attempts: int = Field(
        default=5, ge=1, le=20, description="webhook attempts per alert, the first included"
    )
    alert_webhook_backoff_seconds: float = Field(
        default=0.5, ge=0, le=60, description="first retry's pause; doubled for each next one"
    )
    alert_dedupe_seconds: float = Field(
        default=300.0, ge=0, description="one alert per kind and subject within this window"
    )
    alert_rate_per_minute: int = Field(default=10, ge=1, description="alerts a minute, per kind")
    alert_runbook_url: str = Field(
        default="docs/runbook.md",
        min_length=1,
        description="the runbook each alert links to (a section anchor is appended)",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags, the environment, the `.env` file, each followed by seed 002's names in
        it; every source's ORDERGATE_/ORDERMANAGER_ names are checked (`environment`)."""
        assert isinstance(env_settings, EnvSettingsSource)
        assert isinstance(dotenv_settings, DotEnvSettingsSource)
        return (
            init_settings,
            env_settings,
            Seed002Source(settings_cls, env_settings.env_vars, "the environment"),
            dotenv_settings,
            Seed002Source(settings_cls, dotenv_settings.env_vars, "the .env file"),
            file_secret_settings,
        )

    @field_validator("log_level")
    @classmethod
    def _check_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in logging.getLevelNamesMapping():
            raise ValueError(f"unknown log level {value!r}")
        return level

    @field_validator("allowed_symbols", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> object:
        if isinstance(value, str):
            symbols = [s.strip() for s in value.split(",") if s.strip()]
            return symbols or None
        return value

    @field_validator(
        "ccxt_symbols", "nautilus_symbols", "mt5_symbols", "robinhood_symbols", mode="before"
    )
    @classmethod
    def _split_ccxt_symbols(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip() for s in value.split(",") if s.strip()]
        return value

    @field_validator("allowed_order_types", mode="before")
    @classmethod
    def _split_types(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip().upper() for s in value.split(",") if s.strip()]
        return value

    @field_validator("api_body_limits")
    @classmethod
    def _check_body_limits(cls, value: dict[str, int]) -> dict[str, int]:
        for prefix, limit in value.items():
            if not prefix.startswith("/"):
                raise ValueError(f"a route group is a path prefix starting with '/': {prefix!r}")
            if not 0 <= limit <= MAX_BODY_LIMIT:
                raise ValueError(f"the body limit of {prefix} must be 0..{MAX_BODY_LIMIT} bytes")
        return value

    @model_validator(mode="after")
    def _check_admin_port(self) -> Settings:
        if self.admin_listener_port == self.port:
            raise ValueError("the admin listener needs its own port (ORDERGATE_ADMIN_PORT)")
        return self

    @model_validator(mode="after")
    def _check_api_key(self) -> Settings:
        if self.api_key_is_placeholder and self.venue == "ccxt" and self.ccxt_live:
            raise ValueError(
                "the configured API key is a placeholder; a live venue needs a real secret"
            )
        return self

    @property
    def api_key_is_placeholder(self) -> bool:
        """Whether the configured key is an example's text (seed 002's `your-api-key-here`)."""
        if self.api_key is None:
            return False
        return self.api_key.get_secret_value().strip().lower() in PLACEHOLDER_SECRETS

    @property
    def admin_listener_port(self) -> int:
        """Where the admin listener binds: `admin_port`, else the API's port + 1."""
        if self.admin_port is not None:
            return self.admin_port
        return self.port + 1 if self.port < 65535 else self.port - 1

    @property
    def in_memory(self) -> bool:
        return self.db == ":memory:"

    @property
    def on_postgres(self) -> bool:
        """The journal is a PostgreSQL database: this process is a node of a cluster."""
        return is_postgres_url(self.db)

    @property
    def node_name(self) -> str:
        return self.node_id or f"{socket.gethostname()[:20]}-{os.getpid()}"

    def limits_book(self) -> LimitsBook:
        """The risk file, then global limits from the environment (the seeds' names too)."""
        overrides: dict[str, Any] = dict(self.limits)
        if self.min_qty is not None:
            overrides["min_qty"] = self.min_qty
        if self.allowed_symbols is not None:
            overrides["allowed_symbols"] = self.allowed_symbols
        if set(self.allowed_order_types) != set(OrderType):
            overrides["allowed_order_types"] = [str(t) for t in self.allowed_order_types]
        book = load_limits(self.risk_file, overrides)
        if self.venue == "robinhood" and book.global_limits.allowed_order_types is None:
            # Limit orders only on Robinhood unless configured otherwise (seed 003): a
            # market or stop request is denied, naming the supported types.
            limit_only = RiskLimits(allowed_order_types=frozenset({OrderType.LIMIT}))
            book = dataclasses.replace(book, global_limits=book.global_limits.merged(limit_only))
        return book

    def retention_policy(self) -> RetentionPolicy:
        return RetentionPolicy(
            max_age_seconds=self.retention_max_age_seconds,
            max_finished=self.retention_max_finished,
        )

    def checkpoint_policy(self) -> CheckpointPolicy:
        return CheckpointPolicy(
            every_events=self.checkpoint_every_events,
            every_seconds=self.checkpoint_interval_seconds,
        )

    def watch_policy(self) -> WatchPolicy:
        return WatchPolicy(
            position_snapshot_interval=self.position_snapshot_interval,
            position_validation_interval=self.position_validation_interval,
            order_execution_timeout=self.order_execution_timeout,
        )

    def reconcile_policy(self) -> ReconcilePolicy:
        try:
            remedies = {
                kind.lower(): Remedy(value.upper()) for kind, value in self.reconcile.items()
            }
            return ReconcilePolicy(**remedies)
        except (ValueError, TypeError) as exc:
            raise InvalidRequest(f"bad reconciliation policy {self.reconcile}: {exc}") from exc

    @property
    def signal_policy(self) -> SignalPolicy:
        return SignalPolicy(
            market_order_confidence_threshold=self.market_order_confidence_threshold,
            market_order_spread_threshold=self.market_order_spread_threshold,
            limit_order_price_offset_ratio=self.limit_order_price_offset_ratio,
            max_single_order_size=self.max_single_order_size,
            enable_order_splitting=self.enable_order_splitting,
            max_split_orders=self.max_split_orders,
            cancel_opposite_orders_only=self.cancel_opposite_orders_only,
            cancel_stale_order_timeout=self.cancel_stale_order_timeout or None,
            dry_run=self.enable_dry_run or self.mode == "dry-run",
        )

    @property
    def venue_retry(self) -> RetryPolicy:
        return RetryPolicy(
            max_attempts=self.venue_retry_max_attempts,
            base_delay=self.venue_retry_base_delay,
            max_delay=self.venue_retry_max_delay,
            multiplier=self.venue_retry_multiplier,
        )
