"""The MetaTrader 5 venue over the bridge protocol (docs/mt5-bridge.md; issue 16, in
progress): `client` speaks to the EA (Lazy Pirate resends, reply errors as ordergate's
venue errors, events through `sequencer`, which delivers each once and in order). The
`Venue` adapter over them is still to come."""
