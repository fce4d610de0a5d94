"""Each call of the Python API as one REST request and the reading of its answer.

A `Call` is data: method, path, query, body, and how to read the answer. Both clients
send the same `Call`s (`AsyncClient` with `await`, `Client` without) through the same
retry decisions (`retry.py`), so the two cannot drift apart: only the ten lines that
send and sleep are written twice, as httpx itself does.

A `place` without an idempotency key gets one here, once, when the call is built: every
attempt of that call sends the same key, so a retry after a lost answer finds the order
the first attempt placed instead of placing a second one.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Generic, TypeVar
from urllib.parse import quote

from ordergate.client import wire
from ordergate.domain.accounts import CurrencyMargin
from ordergate.domain.errors import OrderGateError
from ordergate.domain.values import OrderStatus, OrderType, Side, TimeInForce
from ordergate.engine.placement import Preview
from ordergate.engine.queries import Page
from ordergate.engine.reconcile import ReconciliationReport
from ordergate.engine.results import CloseAllResult, TargetsResult
from ordergate.engine.target_views import TargetView
from ordergate.engine.views import FillView, OrderView, PositionView

T = TypeVar("T")

KEY_PREFIX = "ogc-"  # generated idempotency keys: `ogc-` and 32 hex digits


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request and how to read its answer into what `Oms` returns."""

    method: str
    path: str
    read: Callable[[object], T]
    params: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, object] | None = None
    trace_id: str | None = None
    # Safe to send again after the connection failed with the request perhaps delivered:
    # a read, or a place, whose idempotency key makes a second delivery answer the first.
    resendable: bool = False
    # Turns a refusal into an answer where `Oms` answers instead of raising.
    on_error: Callable[[OrderGateError], T] | None = None


def new_idempotency_key() -> str:
    return f"{KEY_PREFIX}{uuid.uuid4().hex}"


def _segment(value: str) -> str:
    return quote(value, safe="")


def _wait(wait: bool) -> dict[str, str]:
    return {"wait": "true" if wait else "false"}


def _without_none(values: Mapping[str, object]) -> dict[str, object]:
    return {k: v for k, v in values.items() if v is not None}


def _amount(value: Decimal | None) -> str | None:
    return None if value is None else wire.amount(value)


def place(
    symbol: str,
    side: Side,
    qty: Decimal,
    type: OrderType = OrderType.MARKET,
    *,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    time_in_force: TimeInForce = TimeInForce.GTC,
    reduce_only: bool = False,
    stop_loss: Decimal | None = None,
    take_profit: Decimal | None = None,
    idempotency_key: str | None = None,
    strategy: str | None = None,
    account: str | None = None,
    trace_id: str | None = None,
    wait: bool = True,
    price_at_offset: bool = False,
) -> Call[OrderView]:
    body = _order_body(
        symbol,
        side,
        qty,
        type=type,
        price=price,
        stop_price=stop_price,
        time_in_force=time_in_force,
        reduce_only=reduce_only,
        stop_loss=stop_loss,
        take_profit=take_profit,
        strategy=strategy,
        account=account,
        price_at_offset=price_at_offset or None,
    )
    body["idempotency_key"] = idempotency_key or new_idempotency_key()
    return Call(
        "POST",
        "/v1/orders",
        wire.order_view,
        params=_wait(wait),
        body=body,
        trace_id=trace_id,
        resendable=True,
    )


def _order_body(symbol: str, side: Side, qty: Decimal, **terms: Any) -> dict[str, object]:
    """An `OrderIn`: the arguments of `place` and `preview`, decimals as strings."""
    known = {
        "type",
        "price",
        "stop_price",
        "time_in_force",
        "reduce_only",
        "stop_loss",
        "take_profit",
        "strategy",
        "account",
        "price_at_offset",
    }
    unknown = sorted(set(terms) - known)
    if unknown:
        raise TypeError(f"unexpected arguments {unknown}")
    body: dict[str, object] = {"symbol": symbol, "side": Side(side).value, "qty": wire.amount(qty)}
    for name, value in terms.items():
        if value is None:
            continue
        if isinstance(value, Decimal):
            body[name] = wire.amount(value)
        elif name in {"type", "time_in_force"}:
            body[name] = (OrderType if name == "type" else TimeInForce)(value).value
        else:
            body[name] = value
    return body


def cancel(order_id: str, reason: str | None = None, wait: bool = True) -> Call[OrderView]:
    return Call(
        "POST",
        f"/v1/orders/{_segment(order_id)}/cancel",
        wire.order_view,
        params=_wait(wait),
        body=None if reason is None else {"reason": reason},
    )


def replace(
    order_id: str,
    *,
    qty: Decimal | None = None,
    price: Decimal | None = None,
    stop_price: Decimal | None = None,
    wait: bool = True,
) -> Call[OrderView]:
    body = _without_none(
        {"qty": _amount(qty), "price": _amount(price), "stop_price": _amount(stop_price)}
    )
    return Call(
        "POST",
        f"/v1/orders/{_segment(order_id)}/replace",
        wire.order_view,
        params=_wait(wait),
        body=body,
    )


def close_position(
    symbol: str, qty: Decimal | None = None, account: str | None = None
) -> Call[OrderView]:
    return Call(
        "POST",
        f"/v1/positions/{_segment(symbol)}/close",
        wire.order_view,
        body=_without_none({"qty": _amount(qty), "account": account}),
    )


def close_all(account: str | None = None) -> Call[CloseAllResult]:
    """`POST /v1/admin/close-all`: it needs a key with the `admin` scope."""
    return Call(
        "POST", "/v1/admin/close-all", wire.close_all, body=_without_none({"account": account})
    )


def set_targets(
    targets: Mapping[str, Decimal],
    *,
    strategy: str,
    account: str | None = None,
    idempotency_key: str | None = None,
    order_type: OrderType = OrderType.MARKET,
    trace_id: str | None = None,
) -> Call[TargetsResult]:
    """`POST /v1/targets`. Without `idempotency_key` one is made for the call, so its
    retries never work the targets twice."""
    body: dict[str, object] = {
        "targets": {symbol: format(qty, "f") for symbol, qty in targets.items()},
        "strategy": strategy,
        "idempotency_key": idempotency_key or new_idempotency_key(),
        "order_type": order_type.value,
    }
    if account is not None:
        body["account"] = account
    return Call(
        "POST",
        "/v1/targets",
        wire.targets_result,
        body=body,
        trace_id=trace_id,
        resendable=True,
    )


def targets(account: str | None = None, strategy: str | None = None) -> Call[list[TargetView]]:
    params = _without_none({"account": account, "strategy": strategy})
    return Call(
        "GET",
        "/v1/targets",
        wire.target_views,
        params={k: str(v) for k, v in params.items()},
        resendable=True,
    )


def _absent(exc: OrderGateError) -> None:
    """`Oms.order` answers None for an order it does not know; so does the client."""
    if exc.code != "ORDER_NOT_FOUND":
        raise exc


def order(order_id: str) -> Call[OrderView | None]:
    path = f"/v1/orders/{_segment(order_id)}"
    return Call("GET", path, wire.order_view, resendable=True, on_error=_absent)


def orders(
    *,
    symbol: str | None = None,
    statuses: frozenset[OrderStatus] | None = None,
    strategy: str | None = None,
    account: str | None = None,
    limit: int = 100,
    cursor: str | None = None,
) -> Call[Page[OrderView]]:
    params: dict[str, str] = {"limit": str(limit)}
    if statuses is not None:
        # The query cannot say "no status at all": an absent `status` means every status.
        if not statuses:
            raise ValueError("statuses must name at least one status (None: every status)")
        params["status"] = ",".join(sorted(OrderStatus(s).value for s in statuses))
    params |= {
        k: v
        for k, v in {
            "symbol": symbol,
            "strategy": strategy,
            "account": account,
            "cursor": cursor,
        }.items()
        if v is not None
    }
    return Call("GET", "/v1/orders", wire.order_page, params=params, resendable=True)


def reconcile(account: str | None = None) -> Call[list[ReconciliationReport]]:
    """`POST /v1/reconcile`: every account, or one, compared with the venue now."""
    params = {} if account is None else {"account": account}
    return Call("POST", "/v1/reconcile", wire.reconciliation_reports, params=params)


def orders_by_update(limit: int, cursor: str | None = None) -> Call[Page[OrderView]]:
    """Orders by their last change, newest first: what following them polls."""
    params = {"limit": str(limit), "sort": "updated_at", "order": "desc"}
    if cursor is not None:
        params["cursor"] = cursor
    return Call("GET", "/v1/orders", wire.order_page, params=params, resendable=True)


def fills(
    *, order_id: str | None = None, limit: int = 100, cursor: str | None = None
) -> Call[Page[FillView]]:
    params = {"limit": str(limit)}
    if order_id is not None:
        params["order_id"] = order_id
    if cursor is not None:
        params["cursor"] = cursor
    return Call("GET", "/v1/fills", wire.fill_page, params=params, resendable=True)


def positions(account: str | None = None) -> Call[list[PositionView]]:
    params = {} if account is None else {"account": account}
    return Call("GET", "/v1/positions", wire.positions, params=params, resendable=True)


def marked_positions(account: str | None = None) -> Call[list[wire.MarkedPosition]]:
    """The positions with the server's mark and unrealized PnL, which `PositionView`
    leaves out (`Oms.positions` answers views; a blotter wants the marks too)."""
    params = {} if account is None else {"account": account}
    return Call("GET", "/v1/positions", wire.marked_positions, params=params, resendable=True)


def _no_account(exc: OrderGateError) -> dict[str, CurrencyMargin]:
    """`Oms.account` answers no currencies for an account it does not know; the API says
    404 `ACCOUNT_NOT_FOUND`. The client answers as `Oms` does."""
    if exc.code != "ACCOUNT_NOT_FOUND":
        raise exc
    return {}


def account(account: str | None = None) -> Call[dict[str, CurrencyMargin]]:
    params = {} if account is None else {"account": account}
    return Call(
        "GET", "/v1/account", wire.account, params=params, resendable=True, on_error=_no_account
    )


def preview(symbol: str, side: Side, qty: Decimal, **terms: Any) -> Call[Preview]:
    """`POST /v1/orders/preview`: it places nothing, so it is safe to send again."""
    body = _order_body(symbol, side, qty, **terms)
    return Call("POST", "/v1/orders/preview", wire.preview, body=body, resendable=True)
