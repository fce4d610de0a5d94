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
def test_a_node_leaving_hands_its_partitions_to_the_others(nodes, partitions):
    """Its own partitions must move, to nodes that stay; the loads stay even."""
    if len(nodes) < 2:
        return
    leaving = nodes[0]
    after = assignment(nodes[1:], partitions)
    loads = Counter(after.values())

    assert sorted(after) == list(range(partitions))
    assert leaving not in after.values()
    assert max(loads.values()) - min(loads.get(n, 0) for n in nodes[1:]) <= 1


def movement(names: list[str], partitions: int, leaving: str) -> tuple[int, int]:
    """(partitions of the staying nodes that move, partitions the staying nodes held)."""
    before = assignment(names, partitions)
    after = assignment([n for n in names if n != leaving], partitions)
    staying = [p for p, owner in before.items() if owner != leaving]
    return sum(1 for p in staying if after[p] != before[p]), len(staying)


def test_a_node_leaving_keeps_most_other_partitions_where_they_were():
    """Of the staying nodes' partitions, few move when one node leaves: over clusters of
    2 to 8 nodes (n1, n2, ...), 1 to 64 partitions and each node leaving, under 12% on
    average (8.3% measured), and where every node holds at least two partitions, never
    more than half (plus one).

    Not for every input: with about as many partitions as nodes (each holds one or two)
    the bounded loads cascade, and hypothesis found cases where most move (7 nodes and
    8 partitions: 5 of the 6 others). `balance` says so; this is the corpus it is held to.
    """
    fractions = []
    for size in range(2, 9):
        names = [f"n{i}" for i in range(1, size + 1)]
        for partitions in range(1, 65):
            for leaving in names:
                moved, staying = movement(names, partitions, leaving)
                if staying:
                    fractions.append(moved / staying)
                if partitions >= 2 * size:
                    assert moved <= staying // 2 + 1, (names, partitions, leaving)
    assert sum(fractions) / len(fractions) < 0.12


def test_a_node_leaving_can_cascade_when_nodes_hold_one_or_two():
    """The case hypothesis found, kept as the known worst: what `balance` documents."""
    names = ["11", "11489qbd", "0", "1", "d", "00", "0000"]

    assert movement(names, 8, "11") == (5, 6)


def test_no_node_means_no_owner():
    assert assignment([], 16) == {}
    assert owner_of(3, [], 16) is None


def test_two_nodes_split_sixteen_partitions_evenly_whatever_their_names():
    for names in (["n1", "n2"], ["a", "b"], ["node-1", "node-2"]):
        assert sorted(Counter(assignment(names, 16).values()).values()) == [8, 8]
