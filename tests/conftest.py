"""Fixtures shared across the suite's directories."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.amqp_support import BrokerSession, broker_session


@pytest.fixture
async def broker() -> AsyncIterator[BrokerSession]:
    """The test broker (skipped without RabbitMQ, failed under CI=true), with names unique
    to the test and everything the test declared deleted afterwards."""
    async with broker_session() as session:
        yield session
