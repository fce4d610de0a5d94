"""API keys: scopes, hashing, verification and rate limits, and the `KeyStore` port.

The keys are stored beside the journal, by the stores (`store.sqlite.keys`,
`store.postgres.keys`; `auth.memory` for an in-memory ordergate); the composition root
opens the one beside the journal (`app.key_stores`). The HTTP side (which route needs
which scope, the `X-API-Key` dependency) lives in `ordergate.api.auth`. This package
knows nothing of HTTP or of any database.
"""

from __future__ import annotations

from ordergate.auth.keys import ApiKey, AuditEntry, IssuedKey, Scope, hash_secret, split_key
from ordergate.auth.memory import MemoryKeyStore
from ordergate.auth.ports import KeyStore
from ordergate.auth.provision import FIRST_KEY_LABEL, ensure_first_key, local_actor
from ordergate.auth.ratelimit import RateLimiter
from ordergate.auth.verifier import KeyVerifier
from ordergate.domain.errors import (
    AccessDenied,
    InsufficientScope,
    InvalidApiKey,
    MissingApiKey,
)

__all__ = [
    "FIRST_KEY_LABEL",
    "AccessDenied",
    "ApiKey",
    "AuditEntry",
    "InsufficientScope",
    "InvalidApiKey",
    "IssuedKey",
    "KeyStore",
    "KeyVerifier",
    "MemoryKeyStore",
    "MissingApiKey",
    "RateLimiter",
    "Scope",
    "ensure_first_key",
    "hash_secret",
    "local_actor",
    "split_key",
]
