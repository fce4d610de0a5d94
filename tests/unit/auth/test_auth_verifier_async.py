"""KeyVerifier.averify: the same answers as verify, and a miss on a remote store looked up
off the event loop (one lookup per key however many requests wait for it)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable

import pytest
from tests.fakes import FakeClock
from tests.waiting import TIMEOUT, eventually

from ordergate.auth import InvalidApiKey, KeyVerifier, MemoryKeyStore, MissingApiKey, Scope
from ordergate.auth.keys import ApiKey
from ordergate.auth.verifier import reads_over_network
from ordergate.domain.errors import JournalError

LOOKUP_SECONDS = 0.3
TICK_SECONDS = 0.01
UNKNOWN = "og_0123456789ab_" + "a" * 43


class SlowStore(MemoryKeyStore):
    """The in-memory store, made to read like a remote one: each `get` blocks its thread
    for `delay` seconds, or until `answer` is set, and is counted with the thread it ran on."""

    def __init__(self, delay: float = LOOKUP_SECONDS, *, remote: bool = True) -> None:
        super().__init__()
        self.delay = delay
        self.reads_over_network = remote
        self.read_threads: list[int] = []
        self.failures: list[Exception] = []
        self.answer = threading.Event()  # set: every lookup answers now

    def get(self, key_id: str) -> ApiKey | None:
        self.read_threads.append(threading.get_ident())
        self.answer.wait(self.delay)  # the network's latency (a fake's, simulated)
        if self.failures:
            raise self.failures.pop(0)
        return super().get(key_id)


async def ticks_while(
    awaitable: Awaitable[object], store: SlowStore | None = None, enough: float | None = None
) -> int:
    """How many times another task got to run (every TICK_SECONDS) while `awaitable` ran.

    With a `store`, its lookup answers once the ticker has ticked `enough` times: a lookup
    off the loop lasts until then however slow the machine, one on it cannot see a tick."""
    ticks = 0

    async def tick() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(TICK_SECONDS)  # the measure: one tick per turn of the loop
            ticks += 1
            if store is not None and enough is not None and ticks >= enough:
                store.answer.set()

    ticker = asyncio.create_task(tick())
    await asyncio.sleep(0)  # the ticker is running before the lookup starts
    try:
        await awaitable
    finally:
        ticker.cancel()
    return ticks


async def test_averify_remote_store_miss_event_loop_keeps_running() -> None:
    store = SlowStore(delay=TIMEOUT)  # answers once the loop has shown it kept running
    issued = store.create(Scope.TRADE, "bot", actor="t")
    verifier = KeyVerifier(store)
    verified: list[ApiKey] = []

    async def verify() -> None:
        verified.append(await verifier.averify(issued.plaintext))

    ticks = await ticks_while(verify(), store, enough=0.5 * LOOKUP_SECONDS / TICK_SECONDS)

    assert verified == [issued.key]
    assert ticks >= 0.5 * LOOKUP_SECONDS / TICK_SECONDS, ticks
    assert store.read_threads != [threading.get_ident()]


async def test_averify_lookup_on_the_loop_blocks_it_which_the_remote_path_avoids() -> None:
    """The measurement of the test above can fail: the same lookup made inline stops
    every other task until it is done."""
    store = SlowStore()
    issued = store.create(Scope.TRADE, "bot", actor="t")
    verifier = KeyVerifier(store, lookup_in_thread=False)

    ticks = await ticks_while(verifier.averify(issued.plaintext))

    assert ticks <= 1, ticks


async def test_averify_local_store_miss_read_inline_on_the_loop_thread() -> None:
    store = SlowStore(delay=0, remote=False)
    issued = store.create(Scope.READ, "", actor="t")
    verifier = KeyVerifier(store)

    key = await verifier.averify(issued.plaintext)

    assert key == issued.key
    assert verifier.lookup_in_thread is False
    assert store.read_threads == [threading.get_ident()]


async def test_averify_remote_store_concurrent_misses_of_one_key_read_it_once() -> None:
    store = SlowStore(delay=0.05)
    issued = store.create(Scope.READ, "", actor="t")
    verifier = KeyVerifier(store)

    keys = await asyncio.gather(*(verifier.averify(issued.plaintext) for _ in range(20)))

    assert keys == [issued.key] * 20
    assert len(store.read_threads) == 1


async def test_averify_remote_store_cached_key_not_read_again_within_window() -> None:
    store = SlowStore(delay=0)
    clock = FakeClock(100.0)
    issued = store.create(Scope.READ, "", actor="t")
    verifier = KeyVerifier(store, cache_seconds=1.0, clock=clock)

    for _ in range(5):
        await verifier.averify(issued.plaintext)
        clock.now += 0.1

    assert len(store.read_threads) == 1


async def test_averify_remote_store_revoked_refused_once_cache_window_passed() -> None:
    store = SlowStore(delay=0)
    clock = FakeClock(100.0)
    issued = store.create(Scope.READ, "", actor="t")
    verifier = KeyVerifier(store, cache_seconds=1.0, clock=clock)
    await verifier.averify(issued.plaintext)
    store.revoke(issued.key.key_id, actor="t")

    clock.now += 0.5
    still_cached = await verifier.averify(issued.plaintext)
    clock.now += 0.6

    assert still_cached.key_id == issued.key.key_id
    with pytest.raises(InvalidApiKey):
        await verifier.averify(issued.plaintext)


@pytest.mark.parametrize("remote", [True, False])
async def test_averify_refuses_what_verify_refuses(remote: bool) -> None:
    store = SlowStore(delay=0, remote=remote)
    verifier = KeyVerifier(store)
    good = store.create(Scope.ADMIN, "", actor="t")
    revoked = store.create(Scope.ADMIN, "", actor="t")
    store.revoke(revoked.key.key_id, actor="t")
    wrong_secret = f"og_{good.key.key_id}_{'A' * 43}"

    with pytest.raises(MissingApiKey):
        await verifier.averify(None)
    with pytest.raises(MissingApiKey):
        await verifier.averify("")
    reads_before_malformed = len(store.read_threads)
    with pytest.raises(InvalidApiKey):
        await verifier.averify("let-me-in")
    assert len(store.read_threads) == reads_before_malformed
    for refused in (UNKNOWN, wrong_secret, revoked.plaintext):
        with pytest.raises(InvalidApiKey):
            await verifier.averify(refused)
    assert await verifier.averify(good.plaintext) == good.key


async def test_averify_remote_store_unknown_id_not_cached_read_every_time() -> None:
    store = SlowStore(delay=0)
    verifier = KeyVerifier(store)

    for _ in range(3):
        with pytest.raises(InvalidApiKey):
            await verifier.averify(UNKNOWN)

    assert len(store.read_threads) == 3


async def test_averify_remote_store_failure_reaches_every_waiter_next_call_reads_again() -> None:
    store = SlowStore(delay=0.05)
    issued = store.create(Scope.READ, "", actor="t")
    store.failures.append(JournalError("the database is away"))
    verifier = KeyVerifier(store)

    outcomes = await asyncio.gather(
        *(verifier.averify(issued.plaintext) for _ in range(3)), return_exceptions=True
    )
    again = await verifier.averify(issued.plaintext)

    assert [type(o) for o in outcomes] == [JournalError] * 3
    assert again == issued.key
    assert len(store.read_threads) == 2


async def test_averify_cancelled_waiter_leaves_the_lookup_to_the_others() -> None:
    store = SlowStore(delay=TIMEOUT)  # answers when the test says
    issued = store.create(Scope.READ, "", actor="t")
    verifier = KeyVerifier(store)
    first = asyncio.create_task(verifier.averify(issued.plaintext))
    second = asyncio.create_task(verifier.averify(issued.plaintext))
    await eventually(lambda: store.read_threads, message="the lookup to start")

    first.cancel()
    await asyncio.sleep(0)  # the cancellation reaches the first waiter
    store.answer.set()
    key = await second

    assert key == issued.key
    assert first.cancelled()
    assert len(store.read_threads) == 1


def test_reads_over_network_only_for_stores_that_say_so() -> None:
    assert reads_over_network(MemoryKeyStore()) is False
    assert reads_over_network(SlowStore(remote=False)) is False
    assert reads_over_network(SlowStore(remote=True)) is True
