"""The partition assignment: one owner each, even loads, the same answer on every node."""

from __future__ import annotations

from collections import Counter

from hypothesis import given
from hypothesis import strategies as st

from ordergate.app.cluster.balance import assignment, owner_of, partitions_of

node_names = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
node_sets = st.lists(node_names, min_size=1, max_size=8, unique=True)
partition_counts = st.integers(min_value=1, max_value=128)


@given(node_sets, partition_counts)
def test_assignment_gives_every_partition_one_live_owner(nodes, partitions):
    owners = assignment(nodes, partitions)

    assert sorted(owners) == list(range(partitions))
    assert set(owners.values()) <= set(nodes)


@given(node_sets, partition_counts)
def test_assignment_loads_differ_by_at_most_one(nodes, partitions):
    loads = Counter(assignment(nodes, partitions).values())
    counts = [loads.get(node, 0) for node in nodes]

    assert max(counts) - min(counts) <= 1
    assert sum(counts) == partitions


@given(node_sets, partition_counts, st.randoms())
def test_assignment_ignores_the_order_and_repeats_of_the_node_list(nodes, partitions, rng):
    shuffled = list(nodes) + list(nodes)
    rng.shuffle(shuffled)

    assert assignment(shuffled, partitions) == assignment(nodes, partitions)


@given(node_sets, partition_counts)
def test_partitions_of_each_node_split_the_assignment(nodes, partitions):
    owners = assignment(nodes, partitions)
    shares = {node: partitions_of(node, nodes, partitions) for node in nodes}

    assert all(owners[p] == node for node, share in shares.items() for p in share)
    assert sum(len(share) for share in shares.values()) == partitions
    assert all(owner_of(p, nodes, partitions) == owners[p] for p in range(partitions))


@given(node_sets, partition_counts, node_names)
def test_partitions_of_a_node_not_yet_listed_counts_it_in(nodes, partitions, newcomer):
    listed = sorted({*nodes, newcomer})

    assert partitions_of(newcomer, nodes, partitions) == partitions_of(newcomer, listed, partitions)


@given(node_sets, partition_counts)
def test_a_node_leaving_keeps_most_partitions_where_they_were(nodes, partitions):
    """Its own partitions must move; of the others, few do (the bound shifts some)."""
    if len(nodes) < 2:
        return
    before = assignment(nodes, partitions)
    leaving = nodes[0]
    after = assignment(nodes[1:], partitions)
    staying = [p for p, owner in before.items() if owner != leaving]
    moved = [p for p in staying if after[p] != before[p]]

    assert all(after[p] != leaving for p in range(partitions))
    assert len(moved) <= len(staying) // 2 + 1


def test_no_node_means_no_owner():
    assert assignment([], 16) == {}
    assert owner_of(3, [], 16) is None


def test_two_nodes_split_sixteen_partitions_evenly_whatever_their_names():
    for names in (["n1", "n2"], ["a", "b"], ["node-1", "node-2"]):
        assert sorted(Counter(assignment(names, 16).values()).values()) == [8, 8]
