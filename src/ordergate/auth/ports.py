"""The key store port: where keys and their audit live."""

from __future__ import annotations

from typing import Protocol

from ordergate.auth.keys import ApiKey, AuditEntry, IssuedKey, Scope


class KeyStore(Protocol):
    """Keys by id, hashed, with an append-only audit of every create and revoke.

    Methods are synchronous: each is one small SQLite statement or a dict lookup.
    """

    def create(self, scope: Scope, label: str, *, actor: str) -> IssuedKey:
        """Store a new key and audit it; the returned plaintext is never stored."""
        ...

    def create_if_empty(self, scope: Scope, label: str, *, actor: str) -> IssuedKey | None:
        """Create a key only if the store holds none, as one step: processes that share
        the store and start together make one key between them, not one each."""
        ...

    def revoke(self, key_id: str, *, actor: str) -> ApiKey:
        """Revoke a key and audit it. `NotFound` if unknown, `Conflict` if revoked already."""
        ...

    def get(self, key_id: str) -> ApiKey | None: ...

    def keys(self) -> list[ApiKey]:
        """Every key, revoked ones included, oldest first."""
        ...

    def audit(self) -> list[AuditEntry]:
        """The audit, oldest first."""
        ...

    def count(self) -> int: ...

    def close(self) -> None: ...
