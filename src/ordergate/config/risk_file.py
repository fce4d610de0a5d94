"""Risk limits from configuration: a TOML file, and global limits from the environment.

    [limits]                        # global
    max_order_notional = "250000"
    max_position_qty = "5"
    [limits.accounts.default]       # per account
    max_gross_exposure = "1000000"
    [limits.instruments.BTCUSDT]    # per instrument
    max_position_qty = "2"
    fat_finger_bps = "50"
    [limits.strategies.bot-7]       # per strategy (most specific)
    allowed_order_types = ["LIMIT"]
    limit_offset_bps = "5"
    instrument_submit_rate = { per_second = "5", burst = 10 }

Every field of `RiskLimits` may appear at every level. Decimals are best written as
strings; sets as lists or comma-separated strings; rates as `{per_second, burst}` or
"per_second/burst". Global limits may also come from `ORDERGATE_LIMITS__<FIELD>`
environment variables, which override the file's global level.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Final

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.limits import LimitsBook, Rate, RiskLimits
from ordergate.domain.values import OrderType

_FIELD_TYPES: Final = {f.name: str(f.type) for f in fields(RiskLimits)}
LEVELS: Final = ("accounts", "instruments", "strategies")


def _decimal(value: object, where: str) -> Decimal:
    try:
        result = Decimal(str(value))
    except InvalidOperation as exc:
        raise InvalidRequest(f"{where}: {value!r} is not a number") from exc
    if not result.is_finite():
        raise InvalidRequest(f"{where}: {value!r} is not a finite number")
    return result


def _names(value: object, where: str) -> list[str]:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    if isinstance(value, list | tuple) and all(isinstance(v, str) for v in value):
        return [v.strip() for v in value]
    raise InvalidRequest(f"{where}: expected a list of names")


def _integer(value: object, where: str) -> int:
    number = _decimal(value, where)
    if number != number.to_integral_value():
        raise InvalidRequest(f"{where}: {value!r} is not a whole number")
    return int(number)


def _rate(value: object, where: str) -> Rate:
    if isinstance(value, str) and "/" in value:
        rate_text, burst_text = value.split("/", 1)
        value = {"per_second": rate_text, "burst": burst_text}
    if not isinstance(value, Mapping) or set(value) != {"per_second", "burst"}:
        raise InvalidRequest(f"{where}: a rate is {{per_second, burst}} or 'per_second/burst'")
    per_second = _decimal(value["per_second"], where)
    burst = _integer(value["burst"], where)
    try:
        return Rate(per_second, burst)
    except InvalidRequest as exc:
        raise InvalidRequest(f"{where}: {exc.message}") from exc


def _bool(value: object, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
        return value.lower() in ("true", "1", "yes")
    raise InvalidRequest(f"{where}: expected true or false")


def limits_from_mapping(raw: Mapping[str, Any], where: str) -> RiskLimits:
    """Parse one level's limits; unknown keys are refused so a typo cannot pass silently."""
    values: dict[str, Any] = {}
    for key, value in raw.items():
        name = key.lower()
        kind = _FIELD_TYPES.get(name)
        if kind is None:
            known = ", ".join(sorted(_FIELD_TYPES))
            raise InvalidRequest(f"{where}: unknown limit {key!r} (known: {known})")
        at = f"{where}.{name}"
        if "Rate" in kind:
            values[name] = _rate(value, at)
        elif "bool" in kind:
            values[name] = _bool(value, at)
        elif "OrderType" in kind:
            try:
                values[name] = frozenset(OrderType(n.upper()) for n in _names(value, at))
            except ValueError as exc:
                raise InvalidRequest(f"{at}: unknown order type in {value!r}") from exc
        elif "frozenset" in kind:
            values[name] = frozenset(_names(value, at))
        elif "int" in kind:
            values[name] = _integer(value, at)
        else:
            values[name] = _decimal(value, at)
    try:
        return RiskLimits(**values)
    except InvalidRequest as exc:
        raise InvalidRequest(f"{where}: {exc.message}") from exc


def load_limits(path: Path | None, global_overrides: Mapping[str, Any] | None = None) -> LimitsBook:
    """Read the limits file (if any), then lay the environment's global limits over it."""
    document: Mapping[str, Any] = {}
    if path is not None:
        try:
            with path.open("rb") as stream:
                document = tomllib.load(stream).get("limits", {})
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise InvalidRequest(f"cannot read the risk file {path}: {exc}") from exc
    plain = {k: v for k, v in document.items() if k not in LEVELS}
    global_limits = limits_from_mapping(plain, "limits")
    if global_overrides:
        global_limits = global_limits.merged(limits_from_mapping(global_overrides, "environment"))
    levels: dict[str, dict[str, RiskLimits]] = {}
    for level in LEVELS:
        table = document.get(level, {})
        if not isinstance(table, Mapping):
            raise InvalidRequest(f"limits.{level} must be a table")
        levels[level] = {
            name: limits_from_mapping(entry, f"limits.{level}.{name}")
            for name, entry in table.items()
        }
    return LimitsBook(
        global_limits=global_limits,
        accounts=levels["accounts"],
        instruments=levels["instruments"],
        strategies=levels["strategies"],
    )
