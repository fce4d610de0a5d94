"""Re-seeding the paper venue after a process restart.

The paper venue lives in memory, so a restart loses every order, position and balance.
ordergate re-seeds it from its journal's view: open orders (as reports), positions and
cash. A `VenueOrderReport` does not carry an order's time in force or reduce-only flag;
`RestoredOrder` adds them. An IOC or FOK order the journal still sees open (the process
stopped before it learnt the outcome) cannot rest: it is restored as canceled, with the
`VenueOrderCanceled` it would have had, so ordergate learns the outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

from ordergate.domain.errors import InvalidRequest
from ordergate.domain.instruments import Instrument
from ordergate.domain.values import ZERO, OrderStatus, TimeInForce
from ordergate.engine.venue_reports import VenueOrderReport
from ordergate.matching.checks import check_terms

_RESTORABLE = (OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)


@dataclass(frozen=True, slots=True)
class RestoredOrder:
    """An open order to re-seed, with the terms its report does not carry."""

    report: VenueOrderReport
    time_in_force: TimeInForce = TimeInForce.GTC
    reduce_only: bool = False


def check_restored_order(
    item: RestoredOrder, instrument: Instrument | None, duplicate: bool
) -> None:
    """Refuse, with `InvalidRequest`, an order that could not be open at the venue."""
    report = item.report
    name = f"restored order {report.account}/{report.client_order_id}"
    if duplicate:
        raise InvalidRequest(f"{name}: client order id restored twice")
    if report.status not in _RESTORABLE:
        raise InvalidRequest(f"{name}: status {report.status} is not open")
    if instrument is None:
        raise InvalidRequest(f"{name}: unknown symbol {report.symbol!r}")
    if not ZERO <= report.filled_qty < report.qty:
        raise InvalidRequest(f"{name}: filled {report.filled_qty} of {report.qty}")
    if report.filled_qty > ZERO and report.avg_fill_price is None:
        raise InvalidRequest(f"{name}: filled without an average price")
    refusal = check_terms(instrument, report.type, report.qty, report.price, report.stop_price)
    if refusal is not None:
        raise InvalidRequest(f"{name}: {refusal.reason}")
