"""The dead-letter queue for operators, on a real RabbitMQ: list it without taking
anything off, replay some or all of it to the signal queue, from Python and the CLI."""

from __future__ import annotations

import asyncio
import json

import pytest
from click.testing import CliRunner, Result
from tests.amqp_support import BrokerSession, publish, take, wait_for_depth

from ordergate.bus import dead_letters as dead_letters_module
from ordergate.bus.dead_letters import dead_letters, reason_of, replay_dead_letters
from ordergate.bus.signals_in import DETAIL_HEADER, QUEUE_HEADER, REASON_HEADER
from ordergate.bus.topology import SignalTopology, declare_signal_queue
from ordergate.cli.main import main
from ordergate.domain.errors import NotFound


@pytest.fixture
async def topology(broker: BrokerSession) -> SignalTopology:
    topology = SignalTopology(signal_queue=broker.unique("test.signals"))
    broker.track(
        queues=(topology.signal_queue, topology.dead_letter_queue),
        exchanges=(topology.dead_letter_exchange,),
    )
    await declare_signal_queue(broker.connection, topology)
    return topology


def signal(signal_id: str) -> bytes:
    return json.dumps({"version": 1, "signal_id": signal_id, "symbol": "BTCUSDT"}).encode()


async def dead_letter(
    broker: BrokerSession, topology: SignalTopology, body: bytes, headers: dict[str, object]
) -> None:
    await publish(
        broker.connection,
        topology.dead_letter_queue,
        [body],
        headers={"x-producer": "model-service", **headers},
    )


async def four_dead_letters(broker: BrokerSession, topology: SignalTopology) -> None:
    """Two refused by the venue's risk, one malformed, one the broker gave up on."""
    refused = {REASON_HEADER: "SIGNAL_REFUSED", DETAIL_HEADER: "venue down"}
    await dead_letter(broker, topology, signal("s1"), {**refused, QUEUE_HEADER: "q.p01"})
    await dead_letter(broker, topology, b"not json", {REASON_HEADER: "SIGNAL_MALFORMED"})
    await dead_letter(broker, topology, signal("s3"), {**refused, QUEUE_HEADER: "q.p02"})
    await dead_letter(
        broker,
        topology,
        signal("s4"),
        {"x-first-death-reason": "delivery_limit", "x-first-death-queue": "q.p03"},
    )


async def test_dead_letters_are_listed_with_their_reasons_and_left_in_place(broker, topology):
    await four_dead_letters(broker, topology)

    total, shown = await dead_letters(broker.connection, topology, limit=3)

    assert total == 4
    assert [(d.signal_id, d.reason, d.queue) for d in shown] == [
        ("s1", "SIGNAL_REFUSED", "q.p01"),
        ("m0", "SIGNAL_MALFORMED", None),  # no signal id of its own: the message id
        ("s3", "SIGNAL_REFUSED", "q.p02"),
    ]
    assert shown[0].detail == "venue down"
    await wait_for_depth(broker.connection, topology.dead_letter_queue, 4)  # all back


async def test_a_dead_letter_refused_for_its_size_is_listed_by_its_message_id_unparsed(
    broker, topology, monkeypatch
):
    parsed: list[bytes] = []  # bodies read for a signal id
    monkeypatch.setattr(dead_letters_module, "_signal_id", lambda message: parsed.append(message))
    await dead_letter(broker, topology, signal("s-big"), {REASON_HEADER: "SIGNAL_TOO_LARGE"})

    _, [shown] = await dead_letters(broker.connection, topology, limit=1)

    assert (shown.signal_id, shown.reason) == ("m0", "SIGNAL_TOO_LARGE")
    assert parsed == []


async def test_replay_of_one_reason_sends_those_back_cleaned_and_keeps_the_rest(broker, topology):
    await four_dead_letters(broker, topology)

    report = await replay_dead_letters(broker.connection, topology, reason="signal_refused")
    replayed = await take(broker.connection, topology.signal_queue, 2)
    left = await take(broker.connection, topology.dead_letter_queue, 2)

    assert (report.replayed, report.kept) == (2, 2)
    assert [m.body for m in replayed] == [signal("s1"), signal("s3")]
    for message in replayed:
        assert message.headers == {"x-producer": "model-service"}  # no mark of its death
        assert message.delivery_mode == 2
    assert [reason_of(m.headers) for m in left] == ["SIGNAL_MALFORMED", "DELIVERY_LIMIT"]


async def test_replay_with_a_limit_sends_that_many_in_queue_order(broker, topology):
    await four_dead_letters(broker, topology)

    report = await replay_dead_letters(broker.connection, topology, limit=3)
    replayed = await take(broker.connection, topology.signal_queue, 3)

    assert (report.replayed, report.kept) == (3, 1)
    assert [m.body for m in replayed] == [signal("s1"), b"not json", signal("s3")]
    await wait_for_depth(broker.connection, topology.dead_letter_queue, 1)


async def test_a_queue_that_never_dead_lettered_is_not_found(broker):
    topology = SignalTopology(signal_queue=broker.unique("test.nothing"))

    with pytest.raises(NotFound):
        await replay_dead_letters(broker.connection, topology)


async def test_cli_lists_and_replays_dead_letters(broker, topology):
    await four_dead_letters(broker, topology)
    runner = CliRunner()
    where = ["--amqp-url", broker.url, "--queue", topology.signal_queue]

    listed = await _invoke(runner, ["signals", "dead-letters", *where, "--limit", "2"])
    replayed = await _invoke(runner, ["signals", "replay", *where, "--reason", "DELIVERY_LIMIT"])
    missing = await _invoke(
        runner, ["signals", "replay", "--amqp-url", broker.url, "--queue", "test.none.x"]
    )

    assert listed.exit_code == 0, listed.output
    assert listed.stdout.splitlines()[0] == f"4 dead letter(s) in {topology.dead_letter_queue}"
    assert "SIGNAL_REFUSED" in listed.stdout
    assert "venue down" in listed.stdout
    assert listed.stdout.splitlines()[-1] == "... and 2 more"
    assert replayed.exit_code == 0, replayed.output
    assert replayed.stdout.strip() == (
        f"replayed 1 to {topology.signal_queue}; 3 left in {topology.dead_letter_queue}"
    )
    assert missing.exit_code == 1
    assert "does not exist" in missing.stderr


async def _invoke(runner: CliRunner, args: list[str]) -> Result:
    """The CLI runs its own event loop: give it a thread, as a shell would a process."""
    return await asyncio.to_thread(runner.invoke, main, args)
