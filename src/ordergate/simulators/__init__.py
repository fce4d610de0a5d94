"""Venue simulators: local servers that speak a real venue's own API.

Test and demo servers, not adapters: ordergate reaches a simulator over the network,
through the venue's wire protocol, exactly as it reaches the real venue, so a third-party
client library (ccxt) and ordergate's adapter for it are tested unchanged, faults
included. The matching itself is `ordergate.matching`, the deterministic core the paper
venue uses too.
"""
