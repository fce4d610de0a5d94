"""`ordergate parity`: one order stream on the paper venue and on NautilusTrader over the
same bars, every difference in their fills explained by a written rule (docs/parity.md)."""
