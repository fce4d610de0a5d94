"""Venue simulators: local servers that speak a real venue's own API.

Unlike the paper venue (an in-process `Venue`), a simulator is reached over the network
through the venue's wire protocol, so a third-party client library (ccxt) and
ordergate's adapter for it can be tested unchanged, faults included. The matching
itself is the paper venue's deterministic engine.
"""
