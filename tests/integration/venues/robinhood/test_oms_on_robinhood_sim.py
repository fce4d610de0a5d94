"""ordergate whole against the Robinhood simulator: `Settings(venue="robinhood")`.

This is the path `ordergate serve --venue robinhood` runs against `ordergate simulate
robinhood`: the engine, the journal, and the `robinhood` venue on the real robin_stocks,
its session redirected to the simulator on loopback (`robinhood_oms_support`). Under
each fault ordergate is held to the broker: one order per client order id (by `ref_id`),
every execution booked once, each order in the broker's state, ordergate's position
equal to the account's, and no instrument left dirty.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from robinhood_oms_support import (
    SYMBOL,
    D,
    Rig,
    assert_agrees_with_the_broker,
    robinhood_settings,
    started_rig,
)

from ordergate.domain.events import OrderFilled
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.oms import Oms
from ordergate.simulators.robinhood import RobinhoodSimConfig, RobinhoodSimulator


@pytest.fixture
async def rig() -> AsyncIterator[Rig]:
    async with started_rig() as rig:
        yield rig


async def trade(rig: Rig) -> None:
    """A marketable limit buy; a limit buy that rests until the market falls through it;
    a limit sell that rests and is canceled. Each waits for the one before to settle and
    its instrument to be clean; then ordergate and the broker are compared."""
    taker = await rig.oms.place(
        SYMBOL, Side.BUY, D(3), OrderType.LIMIT, price=D("191.00"), idempotency_key="t1"
    )
    await rig.ended(taker.order_id)
    await rig.clean()
    limit = await rig.oms.place(
        SYMBOL, Side.BUY, D(5), OrderType.LIMIT, price=D("189.00"), idempotency_key="l1"
    )
    await rig.resting(limit.order_id)
    resting = await rig.oms.place(
        SYMBOL, Side.SELL, D(2), OrderType.LIMIT, price=D("195.00"), idempotency_key="s1"
    )
    await rig.resting(resting.order_id)
    await rig.quote("188.90", "188.95")
    await rig.oms.cancel(resting.order_id)
    for order in (limit, resting):
        await rig.ended(order.order_id)
    await rig.clean()
    await assert_agrees_with_the_broker(rig)


async def test_orders_fill_rest_and_cancel_as_the_broker_says(rig: Rig):
    fills: list[OrderFilled] = []
    rig.oms.subscribe(
        lambda item: fills.append(item.event) if isinstance(item.event, OrderFilled) else None
    )

    await trade(rig)

    views = {v.idempotency_key: v for v in (await rig.oms.orders(limit=10)).items}
    assert {k: (v.status, v.filled_qty) for k, v in views.items()} == {
        "t1": (OrderStatus.FILLED, D(3)),
        "l1": (OrderStatus.FILLED, D(5)),
        "s1": (OrderStatus.CANCELED, D(0)),
    }
    assert views["t1"].avg_fill_price == D("190.01")  # a marketable limit takes the ask
    assert views["l1"].avg_fill_price == D("189.00")
    [position] = await rig.oms.positions()
    assert position.qty == D(8)
    posts = [r for r in rig.sim.requests if r.method == "POST" and r.path == "/orders/"]
    assert len(posts) == 3  # one each: no fault, no resend
    # Each fill keeps the day it settles, as Robinhood's execution says (T+1).
    settles = {e["id"]: e["settlement_date"] for o in rig.sim.orders() for e in o["executions"]}
    assert settles
    assert {f.trade_id: f.settlement_date for f in fills} == settles


async def test_a_limit_without_a_price_goes_at_the_configured_offset():
    async with started_rig(limits={"limit_offset_bps": "10"}) as rig:
        order = await rig.oms.place(SYMBOL, Side.BUY, D(1), OrderType.LIMIT, price_at_offset=True)
        await rig.resting(order.order_id)

        # 10 bps under the bid of 190.00 is 189.81, rounded down to the cent.
        assert rig.view(order.order_id).price == D("189.81")
        [posted] = [o for o in rig.sim.orders() if o["state"] == "confirmed"]
        assert D(posted["price"]) == D("189.81")


@pytest.mark.parametrize(
    ("order_type", "terms"),
    [
        (OrderType.MARKET, {}),
        (OrderType.STOP, {"stop_price": D("200.00")}),
        (OrderType.STOP_LIMIT, {"stop_price": D("200.00"), "price": D("201.00")}),
    ],
)
async def test_anything_but_a_limit_is_denied_naming_the_supported_type(
    rig: Rig, order_type: OrderType, terms: dict[str, Any]
):
    order = await rig.oms.place(SYMBOL, Side.BUY, D(1), order_type, **terms)

    assert (order.status, order.reason_code) == (OrderStatus.DENIED, "UNSUPPORTED_ORDER_TYPE")
    assert "supported: LIMIT" in (order.reason or "")
    assert not [r for r in rig.sim.requests if r.path == "/orders/" and r.method == "POST"]


# Faults of the broker and of its HTTP API, set before `trade` runs.
FAULTS: dict[str, dict[str, Any]] = {
    "token-expired": {"kind": "token_expired", "path": "/orders/"},
    "rate-limited": {"kind": "rate_limit", "path": "/orders/"},
    "server-error-on-a-poll": {"kind": "server_error", "path": "/orders/{order_id}/", "count": 2},
    "server-error-on-the-quotes": {"kind": "server_error", "path": "/quotes/", "count": 2},
    "post-created-then-lost": {"kind": "lost_response"},
    "unconfirmed-lingers": {"kind": "unconfirmed_lingers"},
    "poll-rate-limited": {"kind": "rate_limit", "path": "/orders/{order_id}/", "count": 3},
}


@pytest.mark.parametrize("fault", sorted(FAULTS))
async def test_under_a_fault_ordergate_ends_where_the_broker_is(rig: Rig, fault: str):
    rule = dict(FAULTS[fault])
    rig.sim.fault(rule.pop("kind"), **rule)

    await trade(rig)

    assert rig.sim.fired, "the fault never acted"
    [position] = await rig.oms.positions()
    assert position.qty == D(8)


async def test_a_5xx_on_the_post_is_asked_about_and_never_doubled(rig: Rig):
    # Robinhood answered 500 and placed nothing; ordergate cannot know which, so it asks
    # for the order by its ref_id, finds none, and ends it without sending it again.
    rig.sim.fault("server_error", path="/orders/")

    order = await rig.oms.place(
        SYMBOL, Side.BUY, D(2), OrderType.LIMIT, price=D("191.00"), idempotency_key="e1"
    )
    ended = await rig.ended(order.order_id)

    assert ended.status is OrderStatus.REJECTED
    posts = [r for r in rig.sim.requests if r.method == "POST" and r.path == "/orders/"]
    assert len(posts) == 1
    assert rig.sim.orders() == []
    await rig.clean()
    await trade(rig)


async def test_an_expired_token_is_renewed_without_losing_or_doubling_the_order(rig: Rig):
    rig.sim.expire_tokens()

    order = await rig.oms.place(
        SYMBOL, Side.BUY, D(2), OrderType.LIMIT, price=D("191.00"), idempotency_key="x1"
    )
    ended = await rig.ended(order.order_id)

    assert ended.status is OrderStatus.FILLED
    logins = [r for r in rig.sim.requests if r.path == "/oauth2/token/"]
    assert len(logins) == 2  # the start's, and the renewal
    await assert_agrees_with_the_broker(rig)


async def test_a_cancel_that_loses_to_a_fill_ends_filled(rig: Rig):
    rig.sim.fault("fill_on_cancel")
    order = await rig.oms.place(
        SYMBOL, Side.BUY, D(4), OrderType.LIMIT, price=D("189.00"), idempotency_key="c1"
    )
    await rig.resting(order.order_id)

    await rig.oms.cancel(order.order_id)
    ended = await rig.ended(order.order_id)

    assert (ended.status, ended.filled_qty) == (OrderStatus.FILLED, D(4))
    await rig.clean()
    await assert_agrees_with_the_broker(rig)


async def test_a_partial_fill_then_the_brokers_cancel_keeps_the_fill(rig: Rig):
    rig.sim.fault("partial_then_cancel")
    order = await rig.oms.place(
        SYMBOL, Side.BUY, D(6), OrderType.LIMIT, price=D("189.00"), idempotency_key="p1"
    )
    await rig.resting(order.order_id)

    await rig.quote("188.90", "188.95")
    ended = await rig.ended(order.order_id)

    assert (ended.status, ended.filled_qty) == (OrderStatus.CANCELED, D(3))
    await rig.clean()
    await assert_agrees_with_the_broker(rig)


async def test_a_buying_power_refusal_rejects_the_order(rig: Rig):
    rig.sim.fault("buying_power")

    order = await rig.oms.place(
        SYMBOL, Side.BUY, D(1), OrderType.LIMIT, price=D("189.00"), idempotency_key="b1"
    )
    ended = await rig.ended(order.order_id)

    assert (ended.status, ended.reason_code) == (
        OrderStatus.REJECTED,
        "VENUE_INSUFFICIENT_MARGIN",
    )
    assert "Not enough buying power" in (ended.reason or "")
    await trade(rig)  # and trading goes on


async def test_a_login_that_needs_a_person_stops_order_flow_with_one_clear_reason():
    async with started_rig(simulator={"mfa": "workflow"}) as rig:
        order = await rig.oms.place(
            SYMBOL, Side.BUY, D(1), OrderType.LIMIT, price=D("189.00"), idempotency_key="w1"
        )
        halt = rig.oms.app.partition.engine.venue_halt()
        observability = rig.oms.app.observability
        assert observability is not None
        health = await observability.check()

        assert halt is not None
        assert halt.startswith("ROBINHOOD_VERIFICATION_REQUIRED")
        # Denied before anything is sent, with the one reason a person can act on.
        assert (order.status, order.reason_code) == (OrderStatus.DENIED, "VENUE_HALTED")
        assert "ROBINHOOD_VERIFICATION_REQUIRED" in (order.reason or "")
        [venue] = [d for d in health if d.name == "venue"]
        assert not venue.ok
        assert "ROBINHOOD_VERIFICATION_REQUIRED" in (venue.reason or "")
        logins = [r for r in rig.sim.requests if r.path == "/oauth2/token/"]
        assert len(logins) == 1  # no retry loop
        assert not [r for r in rig.sim.requests if r.path.startswith("/pathfinder")]


@pytest.mark.parametrize(
    ("simulator", "settings", "locked", "reason"),
    [
        ({}, {"robinhood_password": "wrong"}, False, "ROBINHOOD_LOGIN_REFUSED"),
        ({"mfa": "code"}, {"robinhood_totp_secret": None}, False, "ROBINHOOD_MFA_REQUIRED"),
        ({}, {}, True, "ROBINHOOD_ACCOUNT_LOCKED"),
    ],
    ids=["credentials-refused", "mfa-code-missing", "account-locked"],
)
async def test_each_login_refusal_halts_the_venue_with_its_reason(
    simulator: dict[str, Any], settings: dict[str, Any], locked: bool, reason: str
):
    config = RobinhoodSimConfig(symbols=(SYMBOL,), **simulator)
    async with RobinhoodSimulator(config) as sim:
        if locked:
            sim.lock_account()
        async with Oms(robinhood_settings(sim, **settings)) as oms:
            order = await oms.place(
                SYMBOL, Side.BUY, D(1), OrderType.LIMIT, price=D("189.00"), idempotency_key="a1"
            )
            halt = oms.app.partition.engine.venue_halt()

    assert halt is not None
    assert halt.startswith(reason)
    assert (order.status, order.reason_code) == (OrderStatus.DENIED, "VENUE_HALTED")
    assert [r.path for r in sim.requests].count("/oauth2/token/") == 1


async def test_an_mfa_code_from_the_totp_secret_logs_in_and_trades():
    async with started_rig(simulator={"mfa": "code"}) as rig:
        await trade(rig)

        login = next(r for r in rig.sim.requests if r.path == "/oauth2/token/")
        assert len(str(login.params["mfa_code"])) == 6


async def test_after_a_restart_a_resting_order_is_known_by_its_ref_id_and_fills(tmp_path: Path):
    config = RobinhoodSimConfig(symbols=(SYMBOL,))
    db = str(tmp_path / "og.db")
    async with RobinhoodSimulator(config) as sim:
        async with Oms(robinhood_settings(sim, db=db)) as oms:
            rig = Rig(oms, sim)
            await rig.quote("190.00", "190.01")
            order = await oms.place(
                SYMBOL, Side.BUY, D(3), OrderType.LIMIT, price=D("189.00"), idempotency_key="r1"
            )
            await rig.resting(order.order_id)
        sim.set_quote(SYMBOL, bid=D("188.50"), ask=D("188.60"))  # it fills while ordergate is down

        async with Oms(robinhood_settings(sim, db=db)) as oms:
            rig = Rig(oms, sim)
            ended = await rig.ended(order.order_id)
            await rig.clean()

            assert (ended.status, ended.filled_qty) == (OrderStatus.FILLED, D(3))
            views = (await oms.orders(limit=10)).items
            assert [v.order_id for v in views] == [order.order_id]  # nothing adopted
            await assert_agrees_with_the_broker(rig)
