"""Wire protocols shared by both ends ordergate ships.

A protocol here is a contract between an adapter (`venues`) and the server it talks to,
which ordergate also provides (a simulator under `simulators`, an expert advisor under
`mql5/`): one ordergate defines (`mt5`), or the part of a venue's own that both ends
must compute alike (`robinhood`: its authenticator codes). Neither end may import the
other, so the contract lives in this room, which imports nothing of ours but `domain`
(docs/decisions/0015).
"""
