"""Deterministic ids in the UUID shape venues use, from a seed and a counter per kind.

Bybit's order and execution ids and Robinhood's order, execution, instrument and
workflow ids are UUIDs; a simulator's are too, but derived from (seed, kind, n), so the
same run of requests gets the same ids every time and a test can name them.
"""

from __future__ import annotations

import hashlib
import uuid


class IdSource:
    """Hands out UUID-shaped ids, numbered per kind ("order", "execution" …)."""

    __slots__ = ("_counts", "_seed")

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._counts: dict[str, int] = {}

    def next(self, kind: str) -> str:
        count = self._counts.get(kind, 0) + 1
        self._counts[kind] = count
        return derived_uuid(f"{self._seed}:{kind}:{count}")

    def derive(self, kind: str, name: str) -> str:
        """The id of `name` (e.g. an engine trade id): the same name, the same id."""
        return derived_uuid(f"{self._seed}:{kind}:{name}")


def derived_uuid(text: str) -> str:
    digest = hashlib.sha256(text.encode()).digest()[:16]
    return str(uuid.UUID(bytes=digest, version=4))
