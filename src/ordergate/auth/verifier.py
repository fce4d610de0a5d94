"""Check a presented key against the store, with a short cache.

The store is read at most once per key per `cache_seconds`, so a key created by
`ordergate keys create` works at once (a miss is never cached) and a revocation takes
effect within `cache_seconds`.
"""

from __future__ import annotations

import hmac
import time
from collections.abc import Callable
from typing import Final

from ordergate.auth.keys import ApiKey, hash_secret, split_key
from ordergate.auth.ports import KeyStore
from ordergate.domain.errors import InvalidApiKey, MissingApiKey

CACHE_SECONDS: Final = 1.0
# Compared against when the key id is unknown, so both paths do the same work.
_NO_HASH: Final = hash_secret("no such key")


class KeyVerifier:
    def __init__(
        self,
        store: KeyStore,
        *,
        cache_seconds: float = CACHE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._cache_seconds = cache_seconds
        self._clock = clock
        self._cache: dict[str, tuple[ApiKey, float]] = {}

    def verify(self, presented: str | None) -> ApiKey:
        """The key named by `presented`; `MissingApiKey` or `InvalidApiKey` if none."""
        if not presented:
            raise MissingApiKey
        parts = split_key(presented)
        if parts is None:
            raise InvalidApiKey
        key_id, secret = parts
        key = self._lookup(key_id)
        matches = hmac.compare_digest(
            hash_secret(secret), _NO_HASH if key is None else key.secret_hash
        )
        if key is None or not matches or key.revoked:
            raise InvalidApiKey
        return key

    def _lookup(self, key_id: str) -> ApiKey | None:
        now = self._clock()
        cached = self._cache.get(key_id)
        if cached is not None and now - cached[1] < self._cache_seconds:
            return cached[0]
        key = self._store.get(key_id)
        if key is None:
            self._cache.pop(key_id, None)
        else:
            self._cache[key_id] = (key, now)
        return key
