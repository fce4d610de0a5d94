"""The MetaTrader 5 venue over the bridge protocol (docs/mt5-bridge.md; issue 16, in
progress): `sequencer` puts the EA's events in order, each once."""
