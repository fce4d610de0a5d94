"""Keys that live as long as the process: the store of an in-memory (`:memory:`) ordergate."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ordergate.auth.keys import (
    ApiKey,
    AuditAction,
    AuditEntry,
    IssuedKey,
    Scope,
    check_label,
    issue_key,
    new_key_id,
    utc_now,
)
from ordergate.domain.errors import Conflict, NotFound


class MemoryKeyStore:
    def __init__(self, now: Callable[[], datetime] = utc_now) -> None:
        self._now = now
        self._keys: dict[str, ApiKey] = {}
        self._audit: list[AuditEntry] = []

    def create(self, scope: Scope, label: str, *, actor: str) -> IssuedKey:
        key_id = new_key_id()
        while key_id in self._keys:
            key_id = new_key_id()
        issued = issue_key(key_id, scope, check_label(label), self._now())
        self._keys[key_id] = issued.key
        self._record("create", issued.key, issued.key.created_at, actor)
        return issued

    def create_if_empty(self, scope: Scope, label: str, *, actor: str) -> IssuedKey | None:
        return None if self._keys else self.create(scope, label, actor=actor)

    def revoke(self, key_id: str, *, actor: str) -> ApiKey:
        key = self._keys.get(key_id)
        if key is None:
            raise NotFound(f"no API key {key_id}")
        if key.revoked_at is not None:
            raise Conflict(
                f"API key {key_id} was revoked at {key.revoked_at.isoformat()}",
                code="API_KEY_ALREADY_REVOKED",
            )
        now = self._now()
        revoked = ApiKey(key.key_id, key.label, key.scope, key.secret_hash, key.created_at, now)
        self._keys[key_id] = revoked
        self._record("revoke", revoked, now, actor)
        return revoked

    def get(self, key_id: str) -> ApiKey | None:
        return self._keys.get(key_id)

    def keys(self) -> list[ApiKey]:
        return sorted(self._keys.values(), key=lambda k: (k.created_at, k.key_id))

    def audit(self) -> list[AuditEntry]:
        return list(self._audit)

    def count(self) -> int:
        return len(self._keys)

    def close(self) -> None:
        pass

    def _record(self, action: AuditAction, key: ApiKey, at: datetime, actor: str) -> None:
        self._audit.append(AuditEntry(at, action, key.key_id, key.scope, key.label, actor))
