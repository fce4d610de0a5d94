"""Deterministic identifiers: order ids and the client order id sent to the venue."""

from __future__ import annotations

import re

import pytest

from ordergate.engine.ids import (
    client_order_id_for,
    order_id_for,
    order_id_parts,
    order_number_of,
    partition_of,
)

PARTITION_OF_DEFAULT_16 = 2

HEX32 = re.compile(r"[0-9a-f]{32}")


@pytest.mark.parametrize(
    ("account", "key", "order_id"),
    [("acct-1", "key-1", "0-1"), ("acct-1", None, "3-17"), ("Ä", "ключ", "0-1")],
)
def test_client_order_id_for_is_32_lowercase_hex(account, key, order_id):
    assert HEX32.fullmatch(client_order_id_for(account, key, order_id))


def test_client_order_id_for_same_inputs_same_id():
    first = client_order_id_for("acct-1", "key-1", "0-1")

    assert client_order_id_for("acct-1", "key-1", "0-1") == first


def test_client_order_id_for_stable_across_releases():
    # Orders already at a venue carry these ids: the derivation must never change.
    assert client_order_id_for("acct-1", "key-1", "0-1") == "74d6d49446decbe9f0b19fed586bce8b"
    assert client_order_id_for("acct-1", None, "0-1") == "c9c92a97aba96587192eff8b3bc16c80"


def test_client_order_id_for_keyed_ignores_order_id():
    # A retried intent gets a new order id from a fresh engine but must keep its coid.
    assert client_order_id_for("acct-1", "key-1", "0-1") == client_order_id_for(
        "acct-1", "key-1", "5-99"
    )


def test_client_order_id_for_same_key_different_accounts_differ():
    assert client_order_id_for("acct-1", "key-1", "0-1") != client_order_id_for(
        "acct-2", "key-1", "0-1"
    )


def test_client_order_id_for_different_keys_differ():
    assert client_order_id_for("a", "key-1", "0-1") != client_order_id_for("a", "key-2", "0-1")


def test_client_order_id_for_unkeyed_follows_order_id():
    assert client_order_id_for("a", None, "0-1") != client_order_id_for("a", None, "0-2")
    assert client_order_id_for("a", None, "0-1") == client_order_id_for("a", None, "0-1")


def test_client_order_id_for_empty_key_treated_as_no_key():
    assert client_order_id_for("a", "", "0-7") == client_order_id_for("a", None, "0-7")


def test_client_order_id_for_key_cannot_collide_with_order_id_form():
    # "key" and "id" sources are prefixed apart: a key equal to an order id is not that id.
    assert client_order_id_for("a", "0-1", "0-9") != client_order_id_for("a", None, "0-1")


def test_client_order_id_for_account_key_boundary_not_ambiguous():
    assert client_order_id_for("ab", "c", "0-1") != client_order_id_for("a", "bc", "0-1")


@pytest.mark.parametrize(("partition", "number"), [(0, 1), (3, 17), (12, 10_000_000)])
def test_order_id_for_round_trips_through_order_number_of(partition, number):
    order_id = order_id_for(partition, number)

    assert order_id == f"{partition}-{number}"
    assert order_number_of(order_id) == number


def test_order_id_for_distinct_across_partitions():
    assert order_id_for(1, 23) != order_id_for(12, 3)


def test_client_order_id_for_unkeyed_differs_by_journal():
    # Order numbers restart in a new journal; the venue may still know the old orders.
    first = client_order_id_for("a", None, "0-1", "journal-a")

    assert first != client_order_id_for("a", None, "0-1", "journal-b")
    assert first != client_order_id_for("a", None, "0-1")  # nor the pre-journal-id form
    assert first == client_order_id_for("a", None, "0-1", "journal-a")


def test_client_order_id_for_keyed_is_the_same_in_every_journal():
    # A key retried after a lost journal still names the venue's one order.
    assert client_order_id_for("a", "k", "0-1", "journal-a") == client_order_id_for(
        "a", "k", "0-9", "journal-b"
    )


def test_partition_of_is_stable_and_in_range():
    assert partition_of("acct-1", 1) == 0
    assert [partition_of(f"acct-{i}", 16) for i in range(6)] == [
        partition_of(f"acct-{i}", 16) for i in range(6)
    ]
    assert {partition_of(f"acct-{i}", 16) for i in range(500)} == set(range(16))
    # A fixed value: nodes of different releases must route an account alike.
    assert partition_of("default", 16) == PARTITION_OF_DEFAULT_16


def test_partition_of_needs_a_partition():
    with pytest.raises(ValueError, match="at least one partition"):
        partition_of("a", 0)


@pytest.mark.parametrize(("partition", "number"), [(0, 1), (3, 17), (15, 10**12)])
def test_order_id_parts_give_back_what_order_id_for_named(partition, number):
    assert order_id_parts(order_id_for(partition, number)) == (partition, number)


@pytest.mark.parametrize("order_id", ["", "17", "a-1", "0-b"])
def test_order_id_parts_refuse_what_is_not_an_order_id(order_id):
    with pytest.raises(ValueError, match=r"unpack|invalid literal"):
        order_id_parts(order_id)
