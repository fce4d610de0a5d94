"""The REST API of a cluster node: commands go to the node that runs the account's
partition, reads answer for every partition, keys are shared.

Two nodes run in this process, each with its own app on the same PostgreSQL schema.
"""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

from tests.integration.api.support import Api, make_settings, running, write_market
from tests.waiting import eventually

from ordergate.app.cluster.balance import partitions_of
from ordergate.app.cluster.engines import ClusterEngines
from ordergate.engine.ids import partition_of

PARTITIONS = 4
ACCOUNTS = [f"acct-{i}" for i in range(16)]


def node_settings(market: Path, dsn: str, node_id: str, cluster: str):
    return make_settings(
        market,
        db=dsn,
        node_id=node_id,
        partitions=PARTITIONS,
        cluster_name=cluster,
        paper_balances={a: {"USDT": Decimal(100_000)} for a in ACCOUNTS},
        reconcile_interval_seconds=3600,
    )


def engines(api: Api) -> ClusterEngines:
    engine = api.application.trading
    assert isinstance(engine, ClusterEngines)
    return engine


async def until_split(a: Api, b: Api) -> None:
    want = (
        partitions_of("a", ["a", "b"], PARTITIONS),
        partitions_of("b", ["a", "b"], PARTITIONS),
    )
    await eventually(
        lambda: (set(engines(a).running_partitions), set(engines(b).running_partitions)) == want,
        message=f"the partitions to split as {want}",
        interval=0.1,
    )


def account_on(node_id: str) -> str:
    mine = partitions_of(node_id, ["a", "b"], PARTITIONS)
    return next(a for a in ACCOUNTS if partition_of(a, PARTITIONS) in mine)


def order_body(account: str) -> dict[str, str]:
    return {
        "account": account,
        "symbol": "BTCUSDT",
        "side": "BUY",
        "type": "MARKET",
        "qty": "0.010",
    }


async def test_nodes_route_commands_to_the_partition_owner_and_read_every_partition(
    dsn: str, tmp_path: Path
):
    market = write_market(tmp_path)
    cluster = f"api-{uuid.uuid4().hex[:8]}"  # advisory locks are database-wide
    async with (
        running(node_settings(market, dsn, "a", cluster)) as a,
        running(node_settings(market, dsn, "b", cluster)) as b,
    ):
        await until_split(a, b)
        on_a, on_b = account_on("a"), account_on("b")

        placed_on_a = await a.place(**order_body(on_a))
        placed_on_b = await b.place(**order_body(on_b))
        refused = await a.http.post("/v1/orders", json=order_body(on_b))
        cancel_elsewhere = await a.http.post(f"/v1/orders/{placed_on_b['id']}/cancel")
        no_such_partition = await a.http.post("/v1/orders/99-1/cancel")
        # b's key works on a: the key store is shared
        b_key = b.http.headers["X-API-Key"]
        with_b_key = await a.http.get("/v1/orders", headers={"X-API-Key": b_key})
        seen_from_a = {o["id"] for o in await a.orders()}
        health = (await a.http.get("/health")).json()

    assert placed_on_a["account"] == on_a
    assert placed_on_b["account"] == on_b
    assert refused.status_code == 503
    assert refused.json()["reason_code"] == "PARTITION_NOT_OWNED"
    assert "node b" in refused.json()["detail"]
    assert cancel_elsewhere.status_code == 503
    assert cancel_elsewhere.json()["reason_code"] == "PARTITION_NOT_OWNED"
    assert no_such_partition.status_code == 404
    assert no_such_partition.json()["reason_code"] == "ORDER_NOT_FOUND"
    assert with_b_key.status_code == 200
    assert {placed_on_a["id"], placed_on_b["id"]} <= seen_from_a
    assert health["node"] == "a"
    assert set(health["partitions"]) == partitions_of("a", ["a", "b"], PARTITIONS)
