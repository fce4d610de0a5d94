"""A MetaTrader 5 expert advisor's side of the bridge, simulated (issue 16, in progress).

`trade_server` is a deterministic MT5 trade server and account (netting and hedging,
three ticket spaces, pending orders, SL/TP, the retcodes of its checks); the EA's
protocol layer and the ZeroMQ sockets (`ordergate simulate mt5`) are still to come
(docs/mt5-bridge.md).
"""
