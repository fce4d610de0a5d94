"""`Mt5Config`: one MT5 account behind one EA, as the `mt5` venue trades it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ordergate.domain.errors import ConfigurationError

CloseOrder = Literal["oldest", "newest"]


@dataclass(frozen=True, slots=True)
class Mt5Config:
    """Where the EA listens, and how the venue trades through it.

    `account`: ordergate's name for the MT5 account (one EA serves one login).
    `symbols`: the symbols traded (empty: every symbol the EA offers).
    `timeout` and `attempts`: Lazy Pirate (a request unanswered after `timeout` seconds is
    sent again on a new socket, `attempts` times in all).
    `close_order`: on a hedging account, which of a symbol's positions an order that
    reduces the net position closes first.
    `heartbeat_timeout`: the EA is taken as gone after this long without a frame.
    `clock_check_interval`: how often the EA's offset from UTC is read again (brokers
    change it for daylight saving).
    """

    account: str
    rep_url: str
    pub_url: str
    symbols: tuple[str, ...] = ()
    name: str = "mt5"
    live: bool = False
    timeout: float = 2.0
    attempts: int = 3
    close_order: CloseOrder = "oldest"
    magic: int = 0
    heartbeat_timeout: float = 3.0
    clock_check_interval: float = 60.0

    def __post_init__(self) -> None:
        if (
            self.timeout <= 0
            or self.attempts < 1
            or self.heartbeat_timeout <= 0
            or self.clock_check_interval <= 0
        ):
            raise ConfigurationError(
                "mt5: the timeout and heartbeat timeout must be positive and attempts at least 1"
            )
        if self.close_order not in ("oldest", "newest"):
            raise ConfigurationError(f"mt5: close order {self.close_order!r} is not oldest/newest")
        for url in (self.rep_url, self.pub_url):
            if not url.startswith(("tcp://", "ipc://", "inproc://")):
                raise ConfigurationError(f"mt5: {url!r} is not a ZeroMQ endpoint (tcp://host:port)")
