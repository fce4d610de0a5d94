"""The MetaTrader 5 venue over the bridge protocol (docs/mt5-bridge.md): `venue` is the
`Venue` adapter; `client` speaks to the EA (Lazy Pirate resends, reply errors as
ordergate's venue errors, events through `sequencer`, which delivers each once and in
order); `translate` turns the EA's frames into ordergate's venue reports."""

from ordergate.venues.mt5.config import Mt5Config
from ordergate.venues.mt5.venue import Mt5Venue

__all__ = ["Mt5Config", "Mt5Venue"]
