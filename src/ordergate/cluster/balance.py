"""Which node should own each partition: rendezvous (highest random weight) hashing.

Every node computes the same answer from the same list of live nodes, with no
coordination. When a node leaves, only its partitions move (each to the survivor that
ranks next for it); when one joins, it takes about 1/n of them from the others.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence


def _weight(node_id: str, partition: int) -> bytes:
    return hashlib.blake2b(f"{node_id}\x1f{partition}".encode(), digest_size=8).digest()


def owner_of(partition: int, nodes: Sequence[str]) -> str | None:
    """The node that should own `partition`, or None when there is no node."""
    if not nodes:
        return None
    return max(nodes, key=lambda node: (_weight(node, partition), node))


def partitions_of(node_id: str, nodes: Iterable[str], partitions: int) -> set[int]:
    """The partitions `node_id` should own among `nodes` (it need not be one of them)."""
    live = sorted(set(nodes) | {node_id})
    return {p for p in range(partitions) if owner_of(p, live) == node_id}
