"""A digest of the whole state: two replays of one journal must give the same one."""

from __future__ import annotations

import hashlib

import msgspec

from ordergate.engine.state import OmsState
from ordergate.engine.views import BalanceView, OrderView, PositionView

_ENCODER = msgspec.json.Encoder()


def state_digest(state: OmsState) -> str:
    """Hash instruments, orders, positions, balances and counters in a canonical order."""
    digest = hashlib.sha256()

    def feed(value: object) -> None:
        digest.update(_ENCODER.encode(value))
        digest.update(b"\n")

    for symbol in sorted(state.instruments):
        feed(state.instruments[symbol])
    for order_id in sorted(state.orders):
        feed(OrderView.of(state.orders[order_id]))
    for position in sorted(state.book, key=lambda p: (p.account, p.symbol)):
        feed(PositionView.of(position))
    for account_id in sorted(state.accounts):
        for balance in BalanceView.all_of(state.accounts[account_id]):
            feed(balance)
    feed([state.partition, state.order_count, state.event_count, state.last_ts])
    return digest.hexdigest()
