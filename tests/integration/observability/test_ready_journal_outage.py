"""/ready names the journal while PostgreSQL is down, and is ready again once it is back.

PostgreSQL is "stopped" by a proxy of this test's own (`outage.ThreadedOutage`) that the node's
every connection goes through (writer, reads, lease, presence): the proxy stops listening
and resets its links, then listens again. The shared server keeps running; the test's
tables live in a schema of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from tests.integration.api.support import Api, make_settings, running, write_market
from tests.integration.observability.outage import ThreadedOutage, not_ready, readiness
from tests.pg_support import PG_DSN, isolated_schema, require_postgres
from tests.waiting import eventually


@pytest.fixture
async def dsn() -> AsyncIterator[str]:
    await require_postgres()
    async with isolated_schema(PG_DSN) as schema_dsn:
        yield schema_dsn


def through(dsn: str, port: int) -> str:
    parts = urlsplit(dsn)
    user = f"{parts.username}@" if parts.username else ""
    password_user = f"{parts.username}:{parts.password}@" if parts.password is not None else user
    return urlunsplit(parts._replace(netloc=f"{password_user}127.0.0.1:{port}"))


async def test_ready_postgres_stopped_503_naming_the_journal_then_ready_when_back(
    dsn: str, isolated_environment: Path
) -> None:
    parts = urlsplit(dsn)
    market = isolated_environment / "market"
    market.mkdir()
    async with ThreadedOutage(parts.hostname or "127.0.0.1", parts.port or 5432) as proxy:
        settings = make_settings(
            write_market(market),
            db=through(dsn, proxy.port),
            node_id="obs-a",
            partitions=1,
            cluster_name=f"obs-{uuid.uuid4().hex[:8]}",
            reconcile_interval_seconds=3600,
            health_interval_seconds=0.2,
        )
        async with running(settings) as api:
            await eventually(
                lambda: readiness_is(api, 200), message="/ready to answer 200 at first"
            )

            await proxy.stop_listening()

            body = await eventually(lambda: not_ready(api), message="/ready to answer 503")
            assert body["status"] == "not ready"
            assert "journal" in [f["name"] for f in body["failing"]]
            health = (await api.http.get("/health")).json()
            journal = next(d for d in health["dependencies"] if d["name"] == "journal")
            assert journal["state"] == "down"
            assert journal["reason"]
            # The node cannot renew its lease either: the partition stops, and says so.
            await eventually(
                lambda: api.application.observability.book.alerts.get(  # type: ignore[union-attr]
                    ("LEASE_LOST", "raised")
                ),
                message="a LEASE_LOST alert",
            )

            await proxy.listen_again()

            await eventually(lambda: readiness_is(api, 200), message="/ready to answer 200 again")


async def readiness_is(api: Api, status: int) -> bool:
    return (await readiness(api))[0] == status
