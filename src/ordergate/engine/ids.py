"""Deterministic identifiers: no randomness, so a replay gives the same ids."""

from __future__ import annotations

import hashlib


def order_id_for(partition: int, number: int) -> str:
    """Name the `number`-th order of a partition: unique across partitions, readable in curl."""
    return f"{partition}-{number}"


def order_number_of(order_id: str) -> int:
    return int(order_id.rsplit("-", 1)[1])


def order_id_parts(order_id: str) -> tuple[int, int]:
    """The partition and number `order_id_for` named (`ValueError` for another id)."""
    partition, number = order_id.split("-", 1)
    return int(partition), int(number)


def client_order_id_for(
    account: str, idempotency_key: str | None, order_id: str, journal_id: str | None = None
) -> str:
    """Derive the client order id sent to the venue.

    From the idempotency key when there is one, so a retried intent carries the same id
    and the venue de-duplicates too, even across a lost journal; otherwise from the
    journal's id and the order id, as order numbers restart in a new journal (a journal
    from before journal ids keeps deriving from the order id alone). 32 lowercase hex
    characters: accepted as-is by Bybit `orderLinkId`, Binance `newClientOrderId` and
    Kraken `cl_ord_id` (a short UUID).
    """
    if idempotency_key:
        source = f"key\x1f{account}\x1f{idempotency_key}"
    elif journal_id is not None:
        source = f"journal\x1f{journal_id}\x1f{order_id}"
    else:
        source = f"id\x1f{order_id}"
    return hashlib.blake2b(source.encode(), digest_size=16).hexdigest()


def partition_of(account: str, partitions: int) -> int:
    """The partition an account's orders live in: a stable hash, the same in every process
    and release (Python's `hash` is salted per process), so REST, the signal router and
    every node agree."""
    if partitions < 1:
        raise ValueError("there must be at least one partition")
    digest = hashlib.blake2b(account.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") % partitions
