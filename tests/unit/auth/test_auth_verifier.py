"""KeyVerifier: missing, malformed, unknown, wrong and revoked keys; the short cache."""

from __future__ import annotations

import pytest
from tests.fakes import FakeClock

from ordergate.auth import InvalidApiKey, KeyVerifier, MemoryKeyStore, MissingApiKey, Scope
from ordergate.auth.keys import ApiKey


class CountingStore(MemoryKeyStore):
    """The in-memory store, counting reads."""

    def __init__(self) -> None:
        super().__init__()
        self.reads = 0

    def get(self, key_id: str) -> ApiKey | None:
        self.reads += 1
        return super().get(key_id)


@pytest.fixture
def store() -> CountingStore:
    return CountingStore()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(100.0)


@pytest.fixture
def verifier(store: CountingStore, clock: FakeClock) -> KeyVerifier:
    return KeyVerifier(store, cache_seconds=1.0, clock=clock)


@pytest.mark.parametrize("presented", [None, ""])
def test_verify_no_key_missing_api_key(verifier: KeyVerifier, presented: str | None) -> None:
    with pytest.raises(MissingApiKey) as raised:
        verifier.verify(presented)

    assert raised.value.code == "API_KEY_MISSING"


def test_verify_malformed_invalid_without_reading_store(
    verifier: KeyVerifier, store: CountingStore
) -> None:
    with pytest.raises(InvalidApiKey) as raised:
        verifier.verify("let-me-in")

    assert raised.value.code == "API_KEY_INVALID"
    assert store.reads == 0


def test_verify_valid_key_returns_its_record(verifier: KeyVerifier, store: CountingStore) -> None:
    issued = store.create(Scope.TRADE, "bot", actor="t")

    assert verifier.verify(issued.plaintext) == issued.key


def test_verify_unknown_id_invalid(verifier: KeyVerifier) -> None:
    with pytest.raises(InvalidApiKey):
        verifier.verify("og_0123456789ab_" + "a" * 43)


def test_verify_known_id_wrong_secret_invalid(verifier: KeyVerifier, store: CountingStore) -> None:
    issued = store.create(Scope.ADMIN, "", actor="t")

    with pytest.raises(InvalidApiKey):
        verifier.verify(f"og_{issued.key.key_id}_{'A' * 43}")


def test_verify_revoked_key_invalid(verifier: KeyVerifier, store: CountingStore) -> None:
    issued = store.create(Scope.ADMIN, "", actor="t")
    store.revoke(issued.key.key_id, actor="t")

    with pytest.raises(InvalidApiKey):
        verifier.verify(issued.plaintext)


def test_verify_repeated_within_cache_window_reads_store_once(
    verifier: KeyVerifier, store: CountingStore, clock: FakeClock
) -> None:
    issued = store.create(Scope.READ, "", actor="t")

    for _ in range(5):
        verifier.verify(issued.plaintext)
        clock.now += 0.1

    assert store.reads == 1


def test_verify_revoked_after_cache_window_refused(
    verifier: KeyVerifier, store: CountingStore, clock: FakeClock
) -> None:
    issued = store.create(Scope.READ, "", actor="t")
    verifier.verify(issued.plaintext)
    store.revoke(issued.key.key_id, actor="t")

    clock.now += 0.5
    still_cached = verifier.verify(issued.plaintext)
    clock.now += 0.6

    assert still_cached.key_id == issued.key.key_id
    with pytest.raises(InvalidApiKey):
        verifier.verify(issued.plaintext)


def test_verify_unknown_id_not_cached_read_every_time(
    verifier: KeyVerifier, store: CountingStore
) -> None:
    for _ in range(3):
        with pytest.raises(InvalidApiKey):
            verifier.verify("og_0123456789ab_" + "a" * 43)

    assert store.reads == 3
