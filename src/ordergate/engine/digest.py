"""A digest of the whole state: two replays of one journal must give the same one."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Final

import msgspec

from ordergate.engine.state import OmsState
from ordergate.engine.views import BalanceView, OrderView, PositionView

_ENCODER = msgspec.json.Encoder()
_CHUNK: Final = 4096  # values encoded at a time: the state can be far larger than one buffer


def state_digest(state: OmsState) -> str:
    """Hash instruments, orders, positions, balances and counters in a canonical order.

    Each value is hashed as its JSON followed by a newline (what `encode_lines` writes), a
    chunk of values at a time rather than one by one, which a replay of every order ever
    placed notices.
    """
    digest = hashlib.sha256()
    for chunk in _chunks(_values(state)):
        digest.update(_ENCODER.encode_lines(chunk))
    return digest.hexdigest()


def _values(state: OmsState) -> Iterator[object]:
    for symbol in sorted(state.instruments):
        yield state.instruments[symbol]
    orders = state.orders
    yield from (OrderView.of(orders[order_id]) for order_id in sorted(orders))
    for position in sorted(state.book, key=lambda p: (p.account, p.symbol)):
        yield PositionView.of(position)
    for account_id in sorted(state.accounts):
        yield from BalanceView.all_of(state.accounts[account_id])
    yield [state.partition, state.order_count, state.event_count, state.last_ts]
    # Only where there is something: a journal without targets keeps its digest.
    if state.journal_mode != "live":
        yield state.journal_mode
    for target in sorted(state.targets):
        yield [*target, *state.targets[target]]
    for target_set in sorted(state.target_sets):
        yield state.target_sets[target_set]


def _chunks(values: Iterable[object]) -> Iterator[list[object]]:
    iterator = iter(values)
    while chunk := list(islice(iterator, _CHUNK)):
        yield chunk
