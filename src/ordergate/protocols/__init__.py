"""Wire protocols ordergate defines itself, shared by both ends it ships.

A protocol here is a contract between an adapter (`venues`) and the server it talks to,
which ordergate also provides (a simulator under `simulators`, an expert advisor under
`mql5/`). Neither end may import the other, so the contract lives in this room, which
imports nothing of ours but `domain` (docs/decisions/0015).
"""
