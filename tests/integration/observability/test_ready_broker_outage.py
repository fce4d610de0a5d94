"""/ready names the broker while it is down, and is ready again once it is back.

RabbitMQ is "stopped" by a proxy of this test's own (`outage.Outage`): the node's
connection goes through it, the proxy stops listening and resets its links, then listens
again. The shared broker keeps running for everyone else.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from tests.amqp_support import BrokerSession, publish
from tests.integration.api.support import Api, make_settings, running, write_market
from tests.integration.observability.outage import Outage, not_ready, readiness
from tests.waiting import eventually
from yarl import URL


async def samples(api: Api) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    text = (await api.http.get("/metrics")).text
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


async def test_metrics_signals_and_relay_with_a_broker(
    broker: BrokerSession, isolated_environment: Path
) -> None:
    queue = broker.unique("og-obs-signals")
    exchange = broker.unique("og-obs-events")
    broker.track(queues=(queue, f"{queue}.dlq"), exchanges=(exchange, f"{queue}.dlx"))
    market = isolated_environment / "market"
    market.mkdir()
    settings = make_settings(
        write_market(market), amqp_url=broker.url, signals_queue=queue, events_exchange=exchange
    )
    async with running(settings) as api:
        await publish(broker.connection, queue, [b"not json"])

        async def dead_lettered() -> float:
            return sum(
                value
                for (name, _), value in (await samples(api)).items()
                if name == "ordergate_signals_dead_lettered_total"
            )

        assert await eventually(dead_lettered, message="the bad signal to be dead-lettered") == 1
        seen = await samples(api)
        assert seen[("ordergate_signals_consumed_total", ())] == 1
        assert seen[("ordergate_signals_redelivered_total", ())] == 0
        await eventually(lambda: relay_lag_is_zero(api), message="the relay to publish every event")


async def relay_lag_is_zero(api: Api) -> bool:
    lag = (await samples(api)).get(("ordergate_relay_lag_events", (("partition", "0"),)))
    return lag == 0


async def test_ready_broker_stopped_503_naming_it_then_ready_when_back(
    broker: BrokerSession, isolated_environment: Path
) -> None:
    target = URL(broker.url)
    queue = broker.unique("og-obs-signals")
    exchange = broker.unique("og-obs-events")
    broker.track(queues=(queue, f"{queue}.dlq"), exchanges=(exchange, f"{queue}.dlx"))
    market = isolated_environment / "market"
    market.mkdir()
    async with Outage(target.host or "127.0.0.1", target.port or 5672) as proxy:
        url = str(target.with_host("127.0.0.1").with_port(proxy.port))
        settings = make_settings(
            write_market(market),
            amqp_url=url,
            signals_queue=queue,
            events_exchange=exchange,
            health_interval_seconds=0.2,
        )
        async with running(settings) as api:
            assert await readiness(api) == (200, {"status": "ready"})
            health = (await api.http.get("/health")).json()
            assert {d["name"]: d["state"] for d in health["dependencies"]} == {
                "journal": "up",
                "broker": "up",
                "venue": "up",
            }

            await proxy.stop_listening()

            body = await eventually(lambda: not_ready(api), message="/ready to answer 503")
            assert body["status"] == "not ready"
            assert [f["name"] for f in body["failing"]] == ["broker"]
            assert body["failing"][0]["reason"]
            health = (await api.http.get("/health")).json()
            broker_state = next(d for d in health["dependencies"] if d["name"] == "broker")
            assert broker_state["state"] == "down"
            assert broker_state["latency_ms"] >= 0
            await eventually(
                lambda: api.application.observability.book.alerts.get(  # type: ignore[union-attr]
                    ("BROKER_DOWN", "raised")
                ),
                message="a BROKER_DOWN alert",
            )

            await proxy.listen_again()

            async def ready_again() -> bool:
                return await readiness(api) == (200, {"status": "ready"})

            await eventually(ready_again, message="/ready to answer 200 again")
