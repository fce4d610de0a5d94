"""Check a presented key against the store, with a short cache.

The store is read at most once per key per `cache_seconds`, so a key created by
`ordergate keys create` works at once (a miss is never cached) and a revocation takes
effect within `cache_seconds`.

`verify` is synchronous. `averify` is the one to call on an event loop: a cached key is
answered at once, as by `verify`; so is a miss on a local store (SQLite, memory: a read of
a few microseconds, cheaper than any hop to a thread). A miss on a store whose reads cross
the network (`RemoteKeyStore`: PostgreSQL, a round trip or, while the database is away, up
to the store's timeout) is looked up on a worker thread, so the loop, which the engine
shares, keeps running. Concurrent misses of one key share one lookup.
"""

from __future__ import annotations

import asyncio
import hmac
import time
from collections.abc import Callable
from typing import Final, Protocol, runtime_checkable

from ordergate.auth.keys import ApiKey, hash_secret, split_key
from ordergate.auth.ports import KeyStore
from ordergate.domain.errors import AccessDenied, InvalidApiKey, MissingApiKey

CACHE_SECONDS: Final = 1.0
# Compared against when the key id is unknown, so both paths do the same work.
_NO_HASH: Final = hash_secret("no such key")


@runtime_checkable
class RemoteKeyStore(Protocol):
    """A key store whose reads wait on the network; it says so with this attribute."""

    @property
    def reads_over_network(self) -> bool: ...


def reads_over_network(store: KeyStore) -> bool:
    """Whether `store.get` waits on the network, so must not run on an event loop."""
    return isinstance(store, RemoteKeyStore) and store.reads_over_network


class KeyVerifier:
    """`lookup_in_thread`: where `averify` reads the store on a miss; None: on a worker
    thread if the store's reads cross the network (`reads_over_network`), else inline."""

    def __init__(
        self,
        store: KeyStore,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        lookup_in_thread: bool | None = None,
        configured: ApiKey | None = None,
    ) -> None:
        """`configured`: a key set in the configuration (`configured_key`), accepted beside
        the store's: presented whole, it is matched by the hash of all of it."""
        self._store = store
        self._configured = configured
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[ApiKey, float]] = {}
        self.lookup_in_thread = (
            reads_over_network(store) if lookup_in_thread is None else lookup_in_thread
        )
        self._lookups: dict[str, asyncio.Future[ApiKey | None]] = {}

    def verify(self, presented: str | None) -> ApiKey:
        """The key named by `presented`; `MissingApiKey` or `InvalidApiKey` if none."""
        if configured := self._matches_configured(presented):
            return configured
        key_id, secret = _parts(presented)
        key = self._cached(key_id)
        if key is None:
            key = self._load(key_id)
        return _checked(key, secret)

    def verify_cached(self, presented: str | None) -> ApiKey | None:
        """The key, if `presented` verifies against one verified in the last
        `cache_seconds`; else None. Never reads the store, never raises."""
        if configured := self._matches_configured(presented):
            return configured
        try:
            key_id, secret = _parts(presented)
            key = self._cached(key_id)
            return None if key is None else _checked(key, secret)
        except AccessDenied:
            return None

    async def averify(self, presented: str | None) -> ApiKey:
        """`verify` for code on an event loop: a miss on a remote store waits off the loop."""
        if configured := self._matches_configured(presented):
            return configured
        key_id, secret = _parts(presented)
        key = self._cached(key_id)
        if key is None and self.lookup_in_thread:
            key = await self._load_in_thread(key_id)
        elif key is None:
            key = self._load(key_id)
        return _checked(key, secret)

    def _matches_configured(self, presented: str | None) -> ApiKey | None:
        configured = self._configured
        if configured is None or not presented:
            return None
        if hmac.compare_digest(hash_secret(presented), configured.secret_hash):
            return configured
        return None

    def _cached(self, key_id: str) -> ApiKey | None:
        cached = self._cache.get(key_id)
        if cached is not None and self._clock() - cached[1] < self._cache_seconds:
            return cached[0]
        return None

    def _load(self, key_id: str) -> ApiKey | None:
        started = self._clock()
        key = self._store.get(key_id)
        self._remember(key_id, key, started)
        return key

    async def _load_in_thread(self, key_id: str) -> ApiKey | None:
        lookup = self._lookups.get(key_id)
        if lookup is None:
            lookup = asyncio.ensure_future(self._read_in_thread(key_id))
            self._lookups[key_id] = lookup
            lookup.add_done_callback(lambda done: self._lookup_done(key_id, done))
        # A caller that gives up (its request is cancelled) leaves the lookup to the others.
        return await asyncio.shield(lookup)

    async def _read_in_thread(self, key_id: str) -> ApiKey | None:
        # The cache ages from the start of the read: the answer is at least that fresh.
        started = self._clock()
        key = await asyncio.to_thread(self._store.get, key_id)
        self._remember(key_id, key, started)
        return key

    def _lookup_done(self, key_id: str, done: asyncio.Future[ApiKey | None]) -> None:
        if self._lookups.get(key_id) is done:
            del self._lookups[key_id]
        if not done.cancelled():
            done.exception()  # retrieved here too: every waiter may have been cancelled

    def _remember(self, key_id: str, key: ApiKey | None, at: float) -> None:
        if key is None:
            self._cache.pop(key_id, None)
        else:
            self._cache[key_id] = (key, at)


def _parts(presented: str | None) -> tuple[str, str]:
    if not presented:
        raise MissingApiKey
    parts = split_key(presented)
    if parts is None:
        raise InvalidApiKey
    return parts


def _checked(key: ApiKey | None, secret: str) -> ApiKey:
    matches = hmac.compare_digest(hash_secret(secret), _NO_HASH if key is None else key.secret_hash)
    if key is None or not matches or key.revoked:
        raise InvalidApiKey
    return key
