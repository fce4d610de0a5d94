"""Give a fresh key store its first admin key; name who acts in the audit."""

from __future__ import annotations

import getpass
from typing import Final

from ordergate.auth.keys import IssuedKey, Scope
from ordergate.auth.ports import KeyStore

FIRST_KEY_LABEL: Final = "local-admin"


def ensure_first_key(store: KeyStore, *, actor: str) -> IssuedKey | None:
    """Create an admin key labelled `local-admin` if the store has no key at all.

    The check and the create are one step (on PostgreSQL, under a lock): nodes of a
    cluster that start together on a fresh database make one first key, not one each.
    """
    return store.create_if_empty(Scope.ADMIN, FIRST_KEY_LABEL, actor=actor)


def local_actor(via: str) -> str:
    """Who acts, for the audit: `cli:<os user>`."""
    try:
        return f"{via}:{getpass.getuser()}"
    except (OSError, KeyError):
        return via
