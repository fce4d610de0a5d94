"""The signal size limit as configured: its setting, and the consumer refusing a bad one.

What the consumer does with an oversized body is tested against RabbitMQ itself
(tests/integration/bus): the consumer has no seam below the broker's message object.
"""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ordergate.bus.signals_in import DEFAULT_MAX_BODY_BYTES, SIGNAL_TOO_LARGE, SignalConsumer
from ordergate.config.settings import Settings
from ordergate.domain.errors import InvalidRequest
from ordergate.domain.signal_model import SignalReason

pytestmark = pytest.mark.usefixtures("isolated_environment")  # no stray configuration


async def _never(_body: bytes, _delivery: object) -> None:
    raise AssertionError("not called")


def test_signal_max_bytes_defaults_to_64_kib_as_the_consumer_does():
    assert Settings().signal_max_bytes == DEFAULT_MAX_BODY_BYTES == 65_536


def test_signal_max_bytes_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("ORDERGATE_SIGNAL_MAX_BYTES", "1024")

    assert Settings().signal_max_bytes == 1024


@pytest.mark.parametrize("value", [0, -1, 128 * 1024 * 1024 + 1])
def test_signal_max_bytes_out_of_bounds_is_refused(value):
    with pytest.raises(ValidationError, match="signal_max_bytes"):
        Settings(signal_max_bytes=value)


@pytest.mark.parametrize("value", [0, -5])
def test_consumer_without_room_for_a_body_is_refused(value):
    with pytest.raises(InvalidRequest) as refused:
        SignalConsumer(
            object(),  # type: ignore[arg-type]
            "q",
            _never,
            dead_letter_queue="q.dlq",
            max_body_bytes=value,
        )
    assert refused.value.code == "BUS_MAX_BODY_INVALID"


def test_the_reason_code_is_a_stable_signal_reason():
    assert SIGNAL_TOO_LARGE == SignalReason.SIGNAL_TOO_LARGE == "SIGNAL_TOO_LARGE"
