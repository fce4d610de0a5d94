"""API keys: scopes, the key format, and what is stored of a key (never its secret).

A key reads `og_<key_id>_<secret>`: `key_id` is 12 hex digits and names the key in
lists, logs and the audit table; `secret` is `secrets.token_urlsafe(32)`. Only
`sha256(secret)` is kept, so a copy of the database does not yield a usable key.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final, Literal

from ordergate.domain.errors import InvalidRequest

PREFIX: Final = "og"
CONFIGURED_KEY_ID: Final = "configured"
"""The id of the key set in the configuration (`configured_key`), in logs and rate limits."""
_KEY: Final = re.compile(r"og_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")
_SECRET_BYTES: Final = 32  # token_urlsafe(32): 43 characters


class Scope(StrEnum):
    """What a key may do; each scope includes the ones below it: admin ⊇ trade ⊇ read."""

    READ = "read"
    TRADE = "trade"
    ADMIN = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def covers(self, needed: Scope) -> bool:
        """Whether a key with this scope may make a request that needs `needed`."""
        return self.rank >= needed.rank


_RANK: Final = {Scope.READ: 0, Scope.TRADE: 1, Scope.ADMIN: 2}


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key: everything but its secret."""

    key_id: str
    label: str
    scope: Scope
    secret_hash: str = field(repr=False)
    created_at: datetime
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True, slots=True)
class IssuedKey:
    """A key just created: the stored record and the full key, shown to its owner once."""

    key: ApiKey
    plaintext: str = field(repr=False)


AuditAction = Literal["create", "revoke"]


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the append-only key audit: who created or revoked which key, when."""

    at: datetime
    action: AuditAction
    key_id: str
    scope: Scope
    label: str
    actor: str


def utc_now() -> datetime:
    return datetime.now(UTC)


def hash_secret(secret: str) -> str:
    """The stored form of a secret: SHA-256, hex."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_key_id() -> str:
    return secrets.token_hex(6)


def issue_key(key_id: str, scope: Scope, label: str, created_at: datetime) -> IssuedKey:
    """Draw a fresh secret for `key_id`; return the record to store and the full key."""
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    record = ApiKey(key_id, label, scope, hash_secret(secret), created_at)
    return IssuedKey(record, f"{PREFIX}_{key_id}_{secret}")


def configured_key(plaintext: str, scope: Scope, label: str, created_at: datetime) -> ApiKey:
    """The record of a key set in the configuration rather than issued (seed 002's one
    `ORDERMANAGER_API_KEY`): any text, matched whole by its hash; it lives as long as the
    setting does, so it is revoked by removing it and restarting."""
    return ApiKey(CONFIGURED_KEY_ID, label, scope, hash_secret(plaintext), created_at)


def split_key(presented: str) -> tuple[str, str] | None:
    """`(key_id, secret)` of a well-formed key, or None."""
    match = _KEY.fullmatch(presented)
    if match is None:
        return None
    return match["key_id"], match["secret"]


def check_label(label: str) -> str:
    """A label is one line of at most 100 printable characters."""
    if len(label) > 100 or not label.isprintable():
        raise InvalidRequest("a key label is one line of at most 100 printable characters")
    return label
