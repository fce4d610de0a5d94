"""Engine names, as `ordergate.unified.connect(engine=...)` and `ordergate run --engine`
take them, and the settings each one means.

    paper               the embedded paper venue           Settings(venue="paper")
    bybit-sim           ccxt against the Bybit simulator   Settings(venue="bybit-sim")
    ccxt:<exchange>     a real exchange through ccxt       Settings(venue="ccxt", ccxt_exchange=...)
    nautilus            NautilusTrader's simulated exchange Settings(venue="nautilus")
    nautilus-live       NautilusTrader's Bybit adapter     Settings(venue="nautilus-live")
    mt5                 MetaTrader 5 through the bridge EA Settings(venue="mt5")
    robinhood           Robinhood through robin_stocks     Settings(venue="robinhood")

Everything else comes from the environment and `.env` as `ordergate serve` reads them,
overridden by keyword.
"""

from __future__ import annotations

import re
from typing import Any, Final

from pydantic import ValidationError

from ordergate.config.settings import Settings
from ordergate.domain.errors import ConfigurationError

AVAILABLE: Final = (
    "paper",
    "bybit-sim",
    "ccxt:<exchange>",
    "nautilus",
    "nautilus-live",
    "mt5",
    "robinhood",
)
ENGINE_NAMES: Final = AVAILABLE

_EXCHANGE = re.compile(r"^[a-z0-9][a-z0-9_]{0,63}$")


def engine_settings(engine: str) -> dict[str, str]:
    """The settings `engine` names (`venue`, and `ccxt_exchange` for a ccxt engine).

    Raise `ConfigurationError` for a name that is none of `ENGINE_NAMES`. Names are
    case-insensitive
    (`--engine=NAUTILUS`, as seed 004 writes it).
    """
    name = engine.strip().lower()
    if name in ("paper", "bybit-sim", "nautilus", "nautilus-live", "mt5", "robinhood"):
        return {"venue": name}
    if name.startswith("ccxt:"):
        exchange = name.removeprefix("ccxt:")
        if not _EXCHANGE.match(exchange):
            raise ConfigurationError(
                f"engine {engine!r}: name the exchange as ccxt names it, e.g. ccxt:bybit"
            )
        return {"venue": "ccxt", "ccxt_exchange": exchange}
    raise ConfigurationError(f"unknown engine {engine!r}; engines: {', '.join(ENGINE_NAMES)}")


def engine_name(settings: Settings) -> str:
    """The engine name of `settings`' venue (the inverse of `engine_settings`)."""
    if settings.venue == "ccxt":
        return f"ccxt:{settings.ccxt_exchange or '?'}"
    return settings.venue


def settings_for(engine: str | None = None, mode: str | None = None, **overrides: Any) -> Settings:
    """The settings of `engine` in `mode`: the environment and `.env` as `serve` reads
    them, then `overrides` (any `Settings` field, by name).

    `engine` and `mode` None: as the environment says (by default `paper`, `live`). The
    venue is named by `engine` only: a `venue` keyword is refused rather than let one
    of the two win silently. Unusable settings raise `ConfigurationError`.
    """
    fields: dict[str, Any] = {}
    if engine is not None:
        fields.update(engine_settings(engine))
        clash = sorted(k for k in fields if k in overrides and overrides[k] != fields[k])
        if clash:
            raise ConfigurationError(f"engine {engine!r} and {', '.join(clash)}= disagree")
    if mode is not None:
        fields["mode"] = mode
    try:
        return Settings(**{**overrides, **fields})
    except ValidationError as exc:
        raise ConfigurationError(f"unusable settings: {exc}") from exc
