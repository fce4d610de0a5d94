"""state_digest hashes what it always hashed: a digest printed by an older ordergate (or
another node) still compares with today's."""

from __future__ import annotations

import hashlib

import msgspec
import pytest
from tests.unit.store.scenario import session_batches

from ordergate.engine.digest import state_digest
from ordergate.engine.state import OmsState
from ordergate.engine.views import BalanceView, OrderView, PositionView


def digest_as_it_was(state: OmsState) -> str:
    """The digest as first written: each value's JSON and a newline, one at a time."""
    encoder = msgspec.json.Encoder()
    digest = hashlib.sha256()

    def feed(value: object) -> None:
        digest.update(encoder.encode(value))
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


@pytest.mark.parametrize("batches", [0, 1, 4, len(session_batches())])
def test_state_digest_same_as_first_written(batches):
    events = [e for batch in session_batches()[:batches] for e in batch]

    state = OmsState.replay(events, partition=3)

    assert state_digest(state) == digest_as_it_was(state)


def test_state_digest_same_across_chunks(monkeypatch):
    events = [e for batch in session_batches() for e in batch]
    state = OmsState.replay(events)
    monkeypatch.setattr("ordergate.engine.digest._CHUNK", 3)

    assert state_digest(state) == digest_as_it_was(state)
