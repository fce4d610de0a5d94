"""Which environment variables ordergate reads, seed 002's names among them, and the
refusal of any it does not.

Two namespaces belong to ordergate: `ORDERGATE_` (every setting) and `ORDERMANAGER_`
(seed 002's order manager, whose own `.env` must work as a drop-in). A variable in either
that no setting reads stops start-up with `UnknownSetting`, naming it and, when one is
close, the name it was probably meant to be: a misspelt risk limit must never run as no
limit at all. Checked alike in the process environment and in the `.env` file.

- `ORDERGATE_TEST_*` is reserved for the test suite and tools (where PostgreSQL and
  RabbitMQ are, which store the engine suite runs on); settings never read it.
- `ORDERGATE_CLIENT_*` is reserved for clients of a server (the CLI views' URL and key):
  a key a client sends must never configure the server started from the same shell.
- `OMS_*` (the seed paper OMS's two names) is not policed: the prefix is too common to
  claim.

Seed 002's names (`SEED_002`) each map onto the ordergate setting of the same meaning,
some of them a global risk limit (`ORDERGATE_LIMITS__*`). Precedence, as for any setting:
a command-line flag, then the process environment, then the `.env` file. Within one of
those, an `ORDERGATE_` name and its `ORDERMANAGER_` twin given different values stop
start-up with `ConflictingSettings`; the same value under both is fine (decision 0018).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping
from dataclasses import fields
from decimal import Decimal, InvalidOperation
from typing import Any, Final, get_args, get_origin

from pydantic import AliasChoices
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from ordergate.domain.errors import ConflictingSettings, UnknownSetting
from ordergate.domain.limits import RiskLimits
from ordergate.engine.reconcile import ReconcilePolicy

PREFIX: Final = "ORDERGATE_"
SEED_002_PREFIX: Final = "ORDERMANAGER_"
RESERVED_TEST_PREFIX: Final = "ORDERGATE_TEST_"
RESERVED_CLIENT_PREFIX: Final = "ORDERGATE_CLIENT_"
NESTED: Final = "__"

# Seed 002's environment block, name by name, onto the ordergate setting with the same
# meaning: a top-level setting, or (limits, field) for a global risk limit.
SEED_002: Final[dict[str, tuple[str, ...]]] = {
    "ORDERMANAGER_PORT": ("port",),
    "ORDERMANAGER_API_KEY": ("api_key",),
    "ORDERMANAGER_LOG_LEVEL": ("log_level",),
    "ORDERMANAGER_SERVICE_NAME": ("service_name",),
    "ORDERMANAGER_ENABLE_DRY_RUN": ("enable_dry_run",),
    "ORDERMANAGER_MAX_SINGLE_ORDER_SIZE": ("max_single_order_size",),
    "ORDERMANAGER_ENABLE_ORDER_SPLITTING": ("enable_order_splitting",),
    "ORDERMANAGER_ORDER_EXECUTION_TIMEOUT": ("order_execution_timeout",),
    "ORDERMANAGER_MAX_POSITION_SIZE": ("limits", "max_position_qty"),
    "ORDERMANAGER_MAX_EXPOSURE": ("limits", "max_gross_exposure"),
    "ORDERMANAGER_MAX_ORDER_SIZE_RATIO": ("limits", "max_order_size_ratio"),
    "ORDERMANAGER_BYBIT_API_RETRY_MAX_ATTEMPTS": ("venue_retry_max_attempts",),
    "ORDERMANAGER_BYBIT_API_RETRY_BASE_DELAY": ("venue_retry_base_delay",),
    "ORDERMANAGER_BYBIT_API_RETRY_MAX_DELAY": ("venue_retry_max_delay",),
    "ORDERMANAGER_BYBIT_API_RETRY_MULTIPLIER": ("venue_retry_multiplier",),
    "ORDERMANAGER_MARKET_ORDER_CONFIDENCE_THRESHOLD": ("market_order_confidence_threshold",),
    "ORDERMANAGER_MARKET_ORDER_SPREAD_THRESHOLD": ("market_order_spread_threshold",),
    "ORDERMANAGER_LIMIT_ORDER_PRICE_OFFSET_RATIO": ("limit_order_price_offset_ratio",),
    "ORDERMANAGER_POSITION_SNAPSHOT_INTERVAL": ("position_snapshot_interval",),
    "ORDERMANAGER_POSITION_VALIDATION_INTERVAL": ("position_validation_interval",),
    "ORDERMANAGER_CANCEL_OPPOSITE_ORDERS_ONLY": ("cancel_opposite_orders_only",),
    "ORDERMANAGER_CANCEL_STALE_ORDER_TIMEOUT": ("cancel_stale_order_timeout",),
    "ORDERMANAGER_UNREALIZED_LOSS_WARNING_THRESHOLD": ("limits", "unrealized_loss_warning_pct"),
}

# Nested settings whose keys are fixed (each `ORDERGATE_<SETTING>__<KEY>` is checked); the
# other dict settings take free keys (balances per account, ccxt options, route prefixes).
_FIXED_KEYS: Final[dict[str, tuple[str, ...]]] = {
    "limits": tuple(f.name for f in fields(RiskLimits)),
    "reconcile": tuple(ReconcilePolicy.__struct_fields__),
}


def ordergate_name(path: tuple[str, ...]) -> str:
    """The `ORDERGATE_` variable of a setting path: ("limits", "max_position_qty") is
    `ORDERGATE_LIMITS__MAX_POSITION_QTY`."""
    return PREFIX + NESTED.join(part.upper() for part in path)


def field_names(name: str, field: FieldInfo) -> tuple[str, ...]:
    """The variables one setting is read from (upper case)."""
    alias = field.validation_alias
    if isinstance(alias, AliasChoices):
        return tuple(str(choice).upper() for choice in alias.choices)
    if isinstance(alias, str):
        return (alias.upper(),)
    return (PREFIX + name.upper(),)


def _is_mapping(field: FieldInfo) -> bool:
    annotation = field.annotation
    candidates = (annotation, *get_args(annotation))
    return any(c is dict or get_origin(c) is dict for c in candidates)


class KnownNames:
    """Every variable name the settings read, and the prefixes of free nested keys."""

    def __init__(self, settings_cls: type[BaseSettings]) -> None:
        names: set[str] = set(SEED_002)
        free: set[str] = set()
        for name, field in settings_cls.model_fields.items():
            names.update(field_names(name, field))
            if name in _FIXED_KEYS:
                names.update(ordergate_name((name, key)) for key in _FIXED_KEYS[name])
            elif _is_mapping(field):
                free.add(ordergate_name((name,)) + NESTED)
        self.names = frozenset(names)
        self.free_prefixes = tuple(sorted(free))

    def policed(self, name: str) -> bool:
        """Whether `name` is in ordergate's namespaces (and not a reserved one)."""
        upper = name.upper()
        if upper.startswith((RESERVED_TEST_PREFIX, RESERVED_CLIENT_PREFIX)):
            return False
        return upper.startswith((PREFIX, SEED_002_PREFIX))

    def known(self, name: str) -> bool:
        upper = name.upper()
        return upper in self.names or upper.startswith(self.free_prefixes)

    def suggestion(self, name: str) -> str | None:
        close = difflib.get_close_matches(name.upper(), sorted(self.names), n=1, cutoff=0.8)
        return close[0] if close else None

    def check(self, names: Iterable[str], source: str) -> None:
        """Refuse the first unknown name of ordergate's namespaces (sorted: a stable error)."""
        for name in sorted(n.upper() for n in names):
            if self.policed(name) and not self.known(name):
                raise UnknownSetting(name, source, self.suggestion(name))


def same_value(a: str, b: str) -> bool:
    """Whether two variables' texts say the same: equal numbers (`1` and `1.0`), equal
    booleans (`true` and `1`), else equal text."""
    a, b = a.strip(), b.strip()
    if a == b:
        return True
    booleans = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
    if a.lower() in booleans and b.lower() in booleans:
        return booleans[a.lower()] == booleans[b.lower()]
    try:
        return Decimal(a) == Decimal(b)
    except (InvalidOperation, ValueError):
        return False


class Seed002Source(PydanticBaseSettingsSource):
    """Seed 002's variables of one source (the environment or the `.env` file), as the
    ordergate settings they mean; and the check of that source's names.

    Placed right after the source it reads, so it ranks with it: the environment's
    `ORDERMANAGER_PORT` beats a `.env` file's `ORDERGATE_PORT`.
    """

    def __init__(
        self,
        settings_cls: type[BaseSettings],
        variables: Mapping[str, str | None],
        source: str,
    ) -> None:
        super().__init__(settings_cls)
        self._variables = {name.upper(): value for name, value in variables.items()}
        self._source = source
        self._known = KnownNames(settings_cls)

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # everything is done in __call__

    def __call__(self) -> dict[str, Any]:
        self._known.check(self._variables, self._source)
        values: dict[str, Any] = {}
        for seed_name, path in SEED_002.items():
            value = self._variables.get(seed_name)
            if value is None:
                continue
            twin = ordergate_name(path)
            theirs = self._variables.get(twin)
            if theirs is not None and not same_value(theirs, value):
                raise ConflictingSettings(
                    f"{twin}={theirs!r} and {seed_name}={value!r} (in {self._source}) are "
                    "one setting given two values; set one of them, or both alike"
                )
            target = values
            for part in path[:-1]:
                target = target.setdefault(part, {})
            target[path[-1]] = value
        return values
