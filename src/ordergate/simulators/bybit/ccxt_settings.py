"""The ccxt configuration that points ccxt's `bybit` at a simulator: the one place.

The same dictionary builds `ccxt.async_support.bybit` and `ccxt.pro.bybit`. Why each
setting:

- `urls`: every REST base (`public`, `private`, and the legacy `spot`/`futures`/`v2`
  ccxt still lists) and every websocket URL is the simulator, so nothing can reach the
  real exchange. The simulator serves the private stream only; ccxt's public-stream
  URLs point at the simulator too, where they are refused (404) rather than silently
  going to Bybit.
- `options.fetchMarkets.types = ["linear"]`: the simulator lists USDT perpetuals only;
  ccxt would otherwise also ask for spot, inverse and six option chains.
- `has.fetchCurrencies = False`: ccxt's `load_markets` would call the private
  `/v5/asset/coin/query-info`, which the simulator does not serve; markets do not need it.
- `options.defaultType = "swap"`, `defaultSubType = "linear"`, `defaultSettle = "USDT"`:
  calls without a symbol (open orders, positions, cancel-all) ask for the linear USDT
  category, the one the simulator trades.
- `options.recvWindow = 5000`: Bybit's default, checked by the simulator.
- `enableRateLimit = False`: the simulator enforces Bybit's limits itself (and rate
  limit faults come from it); ccxt's client-side throttle would only slow tests down.
- `timeout = 10000` ms: ccxt's default, spelled out because lost-response faults rely
  on the client timing out; tests of that fault pass a shorter one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from ordergate.simulators.bybit.config import DEFAULT_API_KEY, DEFAULT_API_SECRET

PRIVATE_PATH: Final = "/v5/private"


class SimulatorEndpoints(Protocol):
    """What `ccxt_settings` reads of a running simulator."""

    @property
    def rest_url(self) -> str: ...

    @property
    def ws_private_url(self) -> str: ...

    @property
    def api_credentials(self) -> tuple[str, str]: ...


@dataclass(frozen=True, slots=True)
class RemoteSimulator:
    """A simulator served by another process (`ordergate simulate bybit`), by its address."""

    rest_url: str
    api_key: str = DEFAULT_API_KEY
    api_secret: str = field(default=DEFAULT_API_SECRET, repr=False)

    @property
    def ws_private_url(self) -> str:
        return self.rest_url.replace("http", "ws", 1).rstrip("/") + PRIVATE_PATH

    @property
    def api_credentials(self) -> tuple[str, str]:
        return self.api_key, self.api_secret


def ccxt_settings(sim: SimulatorEndpoints, *, timeout_ms: int = 10_000) -> dict[str, Any]:
    """The constructor config for ccxt's `bybit` (async_support and pro) against `sim`."""
    api_key, secret = sim.api_credentials
    rest = sim.rest_url
    private = sim.ws_private_url
    public = rest.replace("http://", "ws://", 1) + "/v5/public"
    return {
        "apiKey": api_key,
        "secret": secret,
        "enableRateLimit": False,
        "timeout": timeout_ms,
        "has": {"fetchCurrencies": False},
        "urls": {
            "api": {
                "spot": rest,
                "futures": rest,
                "v2": rest,
                "public": rest,
                "private": rest,
                "ws": {
                    "public": {
                        "spot": f"{public}/spot",
                        "inverse": f"{public}/inverse",
                        "option": f"{public}/option",
                        "linear": f"{public}/linear",
                    },
                    "private": {
                        "spot": {"unified": private, "nonUnified": private},
                        "contract": private,
                        "usdc": private,
                        "trade": private,
                    },
                },
            },
        },
        "options": {
            "defaultType": "swap",
            "defaultSubType": "linear",
            "defaultSettle": "USDT",
            "recvWindow": 5000,
            "fetchMarkets": {"types": ["linear"]},
        },
    }
