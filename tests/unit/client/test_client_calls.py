"""The calls, their retries and their parity with `Oms`, without a server: httpx's own
`MockTransport` stands in for the network, as in httpx's suite."""

from __future__ import annotations

import inspect
from collections.abc import Callable
from decimal import Decimal

import httpx
import pytest
from tests.unit.client.test_client_wire import an_order

from ordergate.api.schemas import OrderOut
from ordergate.client import AsyncClient, Client, RetryPolicy, calls
from ordergate.client.retry import Attempts, retry_after
from ordergate.domain.errors import RateLimited, ServerUnreachable, VenueError
from ordergate.domain.values import OrderStatus, OrderType, Side
from ordergate.oms import BlockingOms, Oms

# The in-process event feed has no REST equivalent yet (see `AsyncClient`'s docstring).
NOT_OVER_REST = frozenset({"subscribe", "events", "app"})
ORDER_JSON = OrderOut.of(an_order()).model_dump_json()


def public_methods(cls: type) -> dict[str, inspect.Signature]:
    return {
        name: inspect.signature(member)
        for name, member in vars(cls).items()
        if callable(member) and not name.startswith("_") and name not in NOT_OVER_REST
    }


def test_client_calls_async_client_has_every_oms_call_with_its_signature() -> None:
    oms = public_methods(Oms)
    client = public_methods(AsyncClient)
    for name, signature in oms.items():
        assert name in client, name
        assert client[name] == signature, name


def test_client_calls_client_has_the_same_calls_as_the_async_one() -> None:
    asynchronous = public_methods(AsyncClient)
    blocking = public_methods(Client)
    assert set(blocking) == set(asynchronous) - {"aclose"} | {"close"}
    for name, signature in asynchronous.items():
        if name != "aclose":
            assert blocking[name] == signature, name
    assert set(public_methods(BlockingOms)) - NOT_OVER_REST <= set(blocking)


def test_client_calls_place_without_key_gets_one_kept_for_every_attempt() -> None:
    call = calls.place("BTCUSDT", Side.BUY, Decimal("0.01"), OrderType.LIMIT, price=Decimal("1"))
    assert call.body is not None
    key = call.body["idempotency_key"]
    assert isinstance(key, str)
    assert key.startswith(calls.KEY_PREFIX)
    assert call.resendable
    other = calls.place("BTCUSDT", Side.BUY, Decimal("0.01"))
    assert other.body is not None
    assert other.body["idempotency_key"] != key
    given = calls.place("BTCUSDT", Side.BUY, Decimal("0.01"), idempotency_key="mine")
    assert given.body is not None
    assert given.body["idempotency_key"] == "mine"


def test_client_calls_body_carries_decimals_as_strings() -> None:
    call = calls.place(
        "BTCUSDT", Side.SELL, Decimal("0.010"), OrderType.LIMIT, price=Decimal("30000.10")
    )
    assert call.body is not None
    assert (call.body["qty"], call.body["price"], call.body["type"]) == (
        "0.010",
        "30000.10",
        "LIMIT",
    )
    assert "stop_price" not in call.body


def test_client_calls_orders_sends_statuses_as_one_list() -> None:
    statuses = frozenset({OrderStatus.ACCEPTED, OrderStatus.NEW})
    call = calls.orders(symbol="BTCUSDT", statuses=statuses, limit=5)
    assert call.params == {"limit": "5", "status": "ACCEPTED,NEW", "symbol": "BTCUSDT"}
    with pytest.raises(ValueError, match="at least one"):
        calls.orders(statuses=frozenset())


def answered(status: int, **headers: str) -> httpx.Response:
    return httpx.Response(status, headers=headers, json={"reason_code": "X", "detail": "y"})


@pytest.mark.parametrize(
    ("response", "wait"),
    [
        (answered(429, **{"Retry-After": "2"}), 2.0),
        (answered(503, **{"Retry-After": "1"}), 1.0),
        (answered(503), None),  # a venue's error: an answer, not "not now"
        (answered(429, **{"Retry-After": "31"}), None),  # longer than max_retry_after
        (answered(409, **{"Retry-After": "1"}), None),
        (httpx.Response(200, json={}), None),
    ],
)
def test_client_calls_after_answer_waits_what_the_server_asked(
    response: httpx.Response, wait: float | None
) -> None:
    attempts = Attempts(RetryPolicy(max_retry_after=30), calls.cancel("0-1"))
    assert attempts.after_answer(response) == wait


def test_client_calls_after_answer_stops_at_max_attempts() -> None:
    attempts = Attempts(RetryPolicy(max_attempts=2), calls.order("0-1"))
    limited = answered(429, **{"Retry-After": "1"})
    assert attempts.after_answer(limited) == 1.0
    assert attempts.after_answer(limited) is None


def test_client_calls_retry_after_reads_an_http_date() -> None:
    in_the_past = httpx.Headers({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"})
    assert retry_after(in_the_past) == 0.0
    assert retry_after(httpx.Headers({"Retry-After": "soon"})) is None
    assert retry_after(httpx.Headers({})) is None


@pytest.mark.parametrize(
    ("call", "resent"),
    [
        (calls.place("BTCUSDT", Side.BUY, Decimal("0.01")), True),
        (calls.order("0-1"), True),
        (calls.preview("BTCUSDT", Side.BUY, Decimal("0.01")), True),
        (calls.cancel("0-1"), False),
        (calls.replace("0-1", price=Decimal("2")), False),
        (calls.close_position("BTCUSDT"), False),
        (calls.close_all(), False),
    ],
    ids=lambda v: v.path if isinstance(v, calls.Call) else str(v),
)
def test_client_calls_lost_connection_resends_only_what_is_safe_twice(
    call: calls.Call[object], resent: bool
) -> None:
    attempts = Attempts(RetryPolicy(backoff=0.5), call)
    lost = httpx.ReadTimeout("no answer")
    if resent:
        assert attempts.after_failure(lost) == 0.5
        assert attempts.after_failure(lost) == 1.0
    else:
        with pytest.raises(ServerUnreachable, match="may have been done"):
            attempts.after_failure(lost)


class Flaky:
    """A network that loses the first `lose` requests' answers, then answers `then`."""

    def __init__(self, lose: int, then: Callable[[httpx.Request], httpx.Response]) -> None:
        self.lose = lose
        self.then = then
        self.bodies: list[bytes] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.bodies.append(request.content)
        if len(self.bodies) <= self.lose:
            raise httpx.ReadError("connection reset", request=request)
        return self.then(request)


def order_answer(request: httpx.Request) -> httpx.Response:
    return httpx.Response(201, content=ORDER_JSON, headers={"content-type": "application/json"})


NO_WAIT = RetryPolicy(backoff=0, max_backoff=0)


def test_client_calls_sync_place_after_lost_answer_resends_same_key() -> None:
    network = Flaky(2, order_answer)
    with Client("http://og", "k", retry=NO_WAIT, transport=httpx.MockTransport(network)) as og:
        order = og.place("BTCUSDT", Side.BUY, Decimal("0.01"))
    assert order == an_order()
    assert len(network.bodies) == 3
    assert len(set(network.bodies)) == 1  # the same bytes: the same idempotency key


async def test_client_calls_async_place_after_lost_answer_resends_same_key() -> None:
    network = Flaky(1, order_answer)
    transport = httpx.MockTransport(network)
    async with AsyncClient("http://og", "k", retry=NO_WAIT, transport=transport) as og:
        order = await og.place("BTCUSDT", Side.BUY, Decimal("0.01"))
    assert order == an_order()
    assert len(network.bodies) == 2
    assert len(set(network.bodies)) == 1


def test_client_calls_sync_cancel_after_lost_answer_is_not_resent() -> None:
    network = Flaky(1, order_answer)
    with (
        Client("http://og", "k", retry=NO_WAIT, transport=httpx.MockTransport(network)) as og,
        pytest.raises(ServerUnreachable),
    ):
        og.cancel("0-7")
    assert len(network.bodies) == 1


async def test_client_calls_async_gives_up_after_max_attempts() -> None:
    network = Flaky(10, order_answer)
    policy = RetryPolicy(max_attempts=3, backoff=0, max_backoff=0)
    transport = httpx.MockTransport(network)
    async with AsyncClient("http://og", "k", retry=policy, transport=transport) as og:
        with pytest.raises(ServerUnreachable, match="3 attempt"):
            await og.order("0-7")
    assert len(network.bodies) == 3


def test_client_calls_sync_rate_limited_past_attempts_raises_with_retry_after() -> None:
    def limited(request: httpx.Request) -> httpx.Response:
        body = {"reason_code": "RATE_LIMITED", "detail": "over the key's rate"}
        return httpx.Response(429, json=body, headers={"Retry-After": "0", "X-Trace-Id": "t"})

    network = Flaky(0, limited)
    policy = RetryPolicy(max_attempts=2)
    with (
        Client("http://og", "k", retry=policy, transport=httpx.MockTransport(network)) as og,
        pytest.raises(RateLimited) as raised,
    ):
        og.positions()
    assert len(network.bodies) == 2
    assert (raised.value.code, raised.value.retry_after, raised.value.trace_id) == (
        "RATE_LIMITED",
        0.0,
        "t",
    )


def test_client_calls_order_not_found_answers_none_like_oms() -> None:
    def missing(request: httpx.Request) -> httpx.Response:
        return httpx.Response(404, json={"reason_code": "ORDER_NOT_FOUND", "detail": "no"})

    with Client("http://og", "k", transport=httpx.MockTransport(missing)) as og:
        assert og.order("0-404") is None


def test_client_calls_venue_error_is_raised_not_retried() -> None:
    def venue_down(request: httpx.Request) -> httpx.Response:
        return httpx.Response(503, json={"reason_code": "VENUE_RETRYABLE", "detail": "down"})

    network = Flaky(0, venue_down)
    with (
        Client("http://og", "k", transport=httpx.MockTransport(network)) as og,
        pytest.raises(VenueError),
    ):
        og.place("BTCUSDT", Side.BUY, Decimal("0.01"))
    assert len(network.bodies) == 1
