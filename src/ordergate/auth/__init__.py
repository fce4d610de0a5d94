"""API keys: scopes, hashed storage beside the journal, verification and rate limits.

The HTTP side (which route needs which scope, the `X-API-Key` dependency) lives in
`ordergate.api.auth`; this package knows nothing of HTTP.
"""

from __future__ import annotations

from ordergate.auth.keys import ApiKey, AuditEntry, IssuedKey, Scope, hash_secret, split_key
from ordergate.auth.memory import MemoryKeyStore
from ordergate.auth.ports import KeyStore
from ordergate.auth.postgres import PostgresKeyStore
from ordergate.auth.provision import (
    FIRST_KEY_LABEL,
    ensure_first_key,
    local_actor,
    open_key_store,
)
from ordergate.auth.ratelimit import RateLimiter
from ordergate.auth.sqlite import SqliteKeyStore
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
    "PostgresKeyStore",
    "RateLimiter",
    "Scope",
    "SqliteKeyStore",
    "ensure_first_key",
    "hash_secret",
    "local_actor",
    "open_key_store",
    "split_key",
]
