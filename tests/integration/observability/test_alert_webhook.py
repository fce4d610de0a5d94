"""Alerts reach a webhook: a real HTTP server in the test answers 500 to the first attempt
and 200 after; the alert is received once per delivery id, with its runbook link."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from tests.integration.api.support import make_settings, running, write_market
from tests.waiting import eventually

from ordergate.app.observability.alerts import DELIVERY_ID_HEADER
from ordergate.config.settings import Settings


class Receiver:
    """An alert receiver that fails its first `failures` requests with a 500."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts: list[str] = []
        self.received: dict[str, dict[str, Any]] = {}  # by delivery id
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        delivery_id = request.headers[DELIVERY_ID_HEADER]
        self.attempts.append(delivery_id)
        if len(self.attempts) <= self.failures:
            return web.Response(status=500, text="not now")
        self.received[delivery_id] = await request.json()
        return web.Response(status=200)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver(failures=1)
    app = web.Application()
    app.router.add_post("/alerts", receiver.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    receiver.url = f"http://127.0.0.1:{port}/alerts"
    yield receiver
    await runner.cleanup()


async def test_alert_webhook_500_then_200_delivers_exactly_once(
    receiver: Receiver, isolated_environment: Path
) -> None:
    market = isolated_environment / "market"
    market.mkdir()
    settings = make_settings(
        write_market(market),
        alert_webhook_url=receiver.url,
        alert_webhook_backoff_seconds=0.05,
        alert_runbook_url="https://ops.example/runbook.md",
    )
    async with running(settings) as api:
        response = await api.http.post(
            "/v1/admin/state", json={"state": "HALTED", "reason": "webhook test"}
        )
        assert response.status_code == 200, response.text
        # The same halt again inside the de-duplication window: no second alert.
        again = await api.http.post(
            "/v1/admin/state", json={"state": "HALTED", "reason": "webhook test, again"}
        )
        assert again.status_code == 200, again.text

        await eventually(lambda: receiver.received, message="the alert to be delivered")
    # Closed: the webhook sink has drained its queue, so every attempt it made is counted.

    assert len(receiver.attempts) == 2
    assert receiver.attempts[0] == receiver.attempts[1]  # the retry is the same alert
    assert len(receiver.received) == 1
    (alert,) = receiver.received.values()
    assert alert["kind"] == "HALTED"
    assert alert["runbook"] == "https://ops.example/runbook.md#trading-halted"
    assert alert["detail"] == "webhook test"


def test_alert_webhook_bad_url_fails_at_start_up() -> None:
    with pytest.raises(ValueError, match="alert_webhook_url"):
        Settings(_env_file=None, alert_webhook_url="not a url")
