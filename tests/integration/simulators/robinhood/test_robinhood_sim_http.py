"""The simulator over plain HTTP: authentication, trading hours, confirmation delay,
paging on its own origin, the market routes, the request faults' wire form, replay."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import aiohttp
import pytest
from tests.waiting import eventually

from ordergate.simulators.robinhood import CATALOGUE, RobinhoodSimConfig, RobinhoodSimulator

D = Decimal
ACCOUNT = "5RS71234"


class Clock:
    """A wall clock a test moves."""

    def __init__(self, moment: datetime) -> None:
        self.ns = int(moment.timestamp()) * 1_000_000_000

    def __call__(self) -> int:
        return self.ns

    def set(self, moment: datetime) -> None:
        self.ns = int(moment.timestamp()) * 1_000_000_000


class Raw:
    """A plain HTTP client of the simulator, logged in."""

    def __init__(self, session: aiohttp.ClientSession, sim: RobinhoodSimulator) -> None:
        self.session = session
        self.sim = sim
        self.token = ""

    async def login(self, **extra: str) -> tuple[int, dict[str, Any]]:
        form = {
            "grant_type": "password",
            "username": self.sim.config.username,
            "password": self.sim.config.password,
            **extra,
        }
        async with self.session.post(f"{self.sim.base_url}/oauth2/token/", data=form) as answer:
            body = await answer.json()
        if "access_token" in body:
            self.token = body["access_token"]
        return answer.status, body

    async def get(self, path_or_url: str, **query: str) -> tuple[int, Any]:
        url = path_or_url if "://" in path_or_url else f"{self.sim.base_url}{path_or_url}"
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        async with self.session.get(url, params=query, headers=headers) as answer:
            return answer.status, await answer.json(content_type=None)

    async def status(self, path: str) -> int:
        headers = {"Authorization": f"Bearer {self.token}"}
        async with self.session.get(f"{self.sim.base_url}{path}", headers=headers) as answer:
            return answer.status

    async def post(self, path: str, form: dict[str, str] | None = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {self.token}"}
        url = f"{self.sim.base_url}{path}"
        async with self.session.post(url, data=form or {}, headers=headers) as answer:
            return answer.status, await answer.json(content_type=None)

    async def order(self, symbol: str, side: str, quantity: str, **fields: str) -> dict[str, Any]:
        spec = CATALOGUE[symbol]
        form = {
            "account": f"https://api.robinhood.com/accounts/{ACCOUNT}/",
            "instrument": f"https://api.robinhood.com/instruments/{spec.instrument_id}/",
            "symbol": symbol,
            "side": side,
            "quantity": quantity,
            "type": "limit",
            "time_in_force": "gtc",
            **fields,
        }
        status, body = await self.post("/orders/", form)
        assert status == 201, body
        return body


@pytest.fixture
async def raw(sim: RobinhoodSimulator) -> AsyncIterator[Raw]:
    async with aiohttp.ClientSession() as session:
        client = Raw(session, sim)
        status, _ = await client.login()
        assert status == 200
        yield client


async def test_requests_without_a_valid_token_answer_401(sim: RobinhoodSimulator):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{sim.base_url}/accounts/") as answer:
            assert answer.status == 401
            assert answer.headers["WWW-Authenticate"] == 'Bearer realm="api"'
            assert await answer.json() == {
                "detail": "Authentication credentials were not provided."
            }
        forged = {"Authorization": "Bearer forged"}
        async with session.get(f"{sim.base_url}/accounts/", headers=forged) as answer:
            assert (answer.status, await answer.json()) == (401, {"detail": "Invalid token."})


async def test_a_refresh_token_issues_a_new_access_token_once(raw: Raw, sim: RobinhoodSimulator):
    _, first = await raw.login()
    sim.expire_tokens()
    assert (await raw.get("/accounts/"))[0] == 401

    status, renewed = await raw.login(
        grant_type="refresh_token", refresh_token=first["refresh_token"]
    )
    raw.token = renewed["access_token"]
    again, refused = await raw.login(
        grant_type="refresh_token", refresh_token=first["refresh_token"]
    )

    assert status == 200
    assert (await raw.get("/accounts/"))[0] == 200
    assert (again, refused) == (400, {"error": "invalid_grant"})


class TestTokenLifetime:
    @pytest.fixture
    def clock(self) -> Clock:
        return Clock(datetime(2024, 3, 4, 15, 0, tzinfo=UTC))

    @pytest.fixture
    def config(self, clock: Clock) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(token_lifetime_s=60, clock=clock)

    async def test_a_token_answers_401_once_its_lifetime_is_over(self, raw: Raw, clock: Clock):
        _, login = await raw.login()
        assert login["expires_in"] == 60
        clock.ns += 59 * 1_000_000_000
        assert (await raw.get("/accounts/"))[0] == 200
        clock.ns += 1_000_000_000
        assert (await raw.get("/accounts/"))[0] == 401


class TestUsEquityHours:
    @pytest.fixture
    def clock(self) -> Clock:
        return Clock(datetime(2024, 3, 9, 15, 0, tzinfo=UTC))  # a Saturday

    @pytest.fixture
    def config(self, clock: Clock) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(hours="us_equities", clock=clock)

    async def test_an_order_outside_its_session_is_queued_until_it_opens(
        self, raw: Raw, sim: RobinhoodSimulator, clock: Clock
    ):
        order = await raw.order("AAPL", "buy", "1", price="191.00")
        assert order["state"] == "queued"

        sim.set_quote("AAPL", bid=D("190.00"), ask=D("190.01"))
        assert (await raw.get(f"/orders/{order['id']}/"))[1]["state"] == "queued"

        clock.set(datetime(2024, 3, 11, 13, 31, tzinfo=UTC))  # Monday 09:31 in New York
        sim.set_quote("AAPL", bid=D("190.00"), ask=D("190.01"))
        await raw.login()  # the weekend outlived the token
        after = (await raw.get(f"/orders/{order['id']}/"))[1]
        assert after["state"] == "filled"
        assert after["executions"][0]["settlement_date"] == "2024-03-12"

    async def test_extended_hours_trade_limits_sent_for_them_and_hold_market_orders(
        self, raw: Raw, sim: RobinhoodSimulator, clock: Clock
    ):
        clock.set(datetime(2024, 3, 11, 12, 0, tzinfo=UTC))  # Monday 08:00 in New York
        await raw.login()
        extended = await raw.order("AAPL", "buy", "1", price="180.00", extended_hours="True")
        regular = await raw.order("AAPL", "buy", "1", price="180.00")
        market = await raw.order("AAPL", "buy", "1", type="market")

        assert [extended["state"], regular["state"], market["state"]] == [
            "confirmed",
            "queued",
            "queued",
        ]

    async def test_a_day_order_is_cancelled_when_its_session_closes(
        self, raw: Raw, sim: RobinhoodSimulator, clock: Clock
    ):
        clock.set(datetime(2024, 3, 11, 19, 59, tzinfo=UTC))  # Monday 15:59 in New York
        await raw.login()
        day = await raw.order("AAPL", "buy", "1", price="180.00", time_in_force="gfd")
        lasting = await raw.order("AAPL", "buy", "1", price="180.00", time_in_force="gtc")

        clock.set(datetime(2024, 3, 11, 20, 1, tzinfo=UTC))
        sim.set_quote("AAPL", bid=D("190.00"), ask=D("190.01"))

        states = [(await raw.get(f"/orders/{o['id']}/"))[1]["state"] for o in (day, lasting)]
        assert states == ["cancelled", "confirmed"]


class TestConfirmationDelay:
    @pytest.fixture
    def config(self) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(confirm_after_steps=2)

    async def test_an_order_goes_unconfirmed_queued_confirmed_step_by_step(
        self, raw: Raw, sim: RobinhoodSimulator
    ):
        order = await raw.order("MSFT", "buy", "1", price="300.00")
        states = [order["state"]]
        for _ in range(2):
            sim.set_quote("MSFT", bid=D("370.00"), ask=D("370.01"))
            states.append((await raw.get(f"/orders/{order['id']}/"))[1]["state"])

        assert states == ["unconfirmed", "queued", "confirmed"]


class TestOwnOrigin:
    @pytest.fixture
    def config(self) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(url_origin=None, page_size=1)

    async def test_urls_point_at_the_simulator_and_next_pages_follow(
        self, raw: Raw, sim: RobinhoodSimulator
    ):
        first = await raw.order("AAPL", "buy", "1", price="150.00")
        second = await raw.order("AAPL", "buy", "1", price="151.00")

        _, page = await raw.get("/orders/")
        _, following = await raw.get(page["next"])
        _, back = await raw.get(following["previous"])

        assert first["url"] == f"{sim.base_url}/orders/{first['id']}/"
        assert [o["id"] for o in page["results"] + following["results"]] == [
            second["id"],
            first["id"],
        ]
        assert (following["next"], back["results"][0]["id"]) == (None, second["id"])


async def test_market_routes_answer_instruments_and_quotes(raw: Raw, sim: RobinhoodSimulator):
    sim.set_quote("SPY", bid=D("470.10"), ask=D("470.12"), last=D("470.11"))
    spy = CATALOGUE["SPY"]

    _, instruments = await raw.get("/instruments/", symbol="SPY")
    _, quotes = await raw.get("/quotes/", symbols="SPY,NOPE")
    _, by_id = await raw.get(f"/marketdata/quotes/{spy.instrument_id}/")
    missing, _ = await raw.get("/quotes/NOPE/")

    (instrument,) = instruments["results"]
    assert (instrument["id"], instrument["type"], instrument["symbol"]) == (
        spy.instrument_id,
        "etp",
        "SPY",
    )
    spy_quote, unknown = quotes["results"]
    assert unknown is None
    assert (spy_quote["bid_price"], spy_quote["ask_price"], spy_quote["last_trade_price"]) == (
        "470.100000",
        "470.120000",
        "470.110000",
    )
    assert by_id == spy_quote
    assert missing == 404


async def test_unknown_orders_and_cursors_answer_404(raw: Raw):
    assert await raw.get("/orders/00000000-0000-4000-8000-000000000000/") == (
        404,
        {"detail": "Not found."},
    )
    assert await raw.get("/orders/", cursor="garbage") == (404, {"detail": "Invalid cursor"})


async def test_request_faults_answer_on_the_wire(raw: Raw, sim: RobinhoodSimulator):
    sim.fault("rate_limit", path="/accounts/", retry_after=9)
    sim.fault("server_error", path="/positions/", status=503)
    sim.fault("lost_response", path="/orders/{order_id}/cancel/")
    order = await raw.order("AAPL", "buy", "1", price="150.00")

    async with raw.session.get(
        f"{sim.base_url}/accounts/", headers={"Authorization": f"Bearer {raw.token}"}
    ) as throttled:
        assert (throttled.status, throttled.headers["Retry-After"]) == (429, "9")
        assert await throttled.json() == {
            "detail": "Request was throttled. Expected available in 9 seconds."
        }
    assert await raw.status("/positions/") == 503
    with pytest.raises(aiohttp.ClientError):
        await raw.post(f"/orders/{order['id']}/cancel/")

    assert (await raw.get(f"/orders/{order['id']}/"))[1]["state"] == "cancelled"
    assert sim.fired == ["rate_limit", "server_error", "lost_response"]
    assert [(seen.method, seen.path) for seen in sim.requests][-2:] == [
        ("POST", f"/orders/{order['id']}/cancel/"),
        ("GET", f"/orders/{order['id']}/"),
    ]


class TestReplay:
    @pytest.fixture
    def config(self) -> RobinhoodSimConfig:
        return RobinhoodSimConfig(market="replay", bars_per_second=500.0)

    async def test_the_replay_moves_every_stock_on_the_cent(self, raw: Raw):
        async def moved() -> list[str] | None:
            _, quotes = await raw.get("/quotes/", symbols="AAPL,MSFT,SPY")
            bids = [quote["bid_price"] for quote in quotes["results"]]
            return bids if bids != ["190.000000", "370.000000", "470.000000"] else None

        bids = await eventually(moved)

        for bid in bids:
            assert D(bid) == D(bid).quantize(D("0.01"))
            assert D(100) < D(bid) < D(600)
