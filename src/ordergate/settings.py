"""Configuration: environment (`ORDERGATE_` prefix), a `.env` file, or CLI flags.

The seed paper OMS's own names `OMS_MIN_QTY` and `OMS_ALLOWED_SYMBOLS` are accepted as
aliases of `ORDERGATE_MIN_QTY` and `ORDERGATE_ALLOWED_SYMBOLS`.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from ordergate.domain.values import OrderType

DEFAULT_BALANCES: dict[str, dict[str, Decimal]] = {
    "default": {"USD": Decimal(100_000), "USDT": Decimal(100_000)}
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="ORDERGATE_",
        env_file=".env",
        extra="ignore",
        frozen=True,
        populate_by_name=True,
        env_nested_delimiter="__",
    )

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    db: str = Field(
        default="ordergate.db",
        description="SQLite journal path, or ':memory:' for a journal that is not kept",
    )
    sqlite_synchronous: Literal["NORMAL", "FULL", "EXTRA"] = Field(
        default="FULL",
        description="FULL fsyncs every commit: an answered order survives a power cut",
    )
    venue: Literal["paper"] = "paper"
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
    default_account: str = "default"
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
        default_factory=lambda: list(OrderType)
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
    max_batch: int = Field(default=4096, ge=1)
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
    log_level: str = "INFO"
    log_json: bool = True

    @field_validator("allowed_symbols", mode="before")
    @classmethod
    def _split_symbols(cls, value: object) -> object:
        if isinstance(value, str):
            symbols = [s.strip() for s in value.split(",") if s.strip()]
            return symbols or None
        return value

    @field_validator("allowed_order_types", mode="before")
    @classmethod
    def _split_types(cls, value: object) -> object:
        if isinstance(value, str):
            return [s.strip().upper() for s in value.split(",") if s.strip()]
        return value

    @property
    def in_memory(self) -> bool:
        return self.db == ":memory:"
