"""US equity trading sessions and settlement dates, in New York time.

Robinhood trades a market order in the regular session only (09:30-16:00); a limit
order sent with `extended_hours` also in the pre-market (07:00) and after-hours (to
20:00) sessions, and one sent with `market_hours=all_day_hours` around the clock from
Sunday 20:00 to Friday 20:00. Trades settle T+1: the next business day. Exchange
holidays are not modelled: every weekday is a trading and settlement day.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from enum import StrEnum
from typing import Final
from zoneinfo import ZoneInfo

NEW_YORK: Final = ZoneInfo("America/New_York")
_NS_PER_SECOND: Final = 1_000_000_000
_FRIDAY: Final = 4
_SATURDAY: Final = 5
_SUNDAY: Final = 6
_PRE_MARKET: Final = time(7, 0)
_OPEN: Final = time(9, 30)
_CLOSE: Final = time(16, 0)
_AFTER_HOURS_END: Final = time(20, 0)


class Session(StrEnum):
    REGULAR = "regular"
    EXTENDED = "extended"
    ALL_DAY = "all_day"


def session_of(order_type: str, market_hours: str, extended_hours: bool) -> Session:
    """The session an order may trade in (a market order: the regular one only)."""
    if order_type == "market":
        return Session.REGULAR
    if market_hours == "all_day_hours":
        return Session.ALL_DAY
    if extended_hours or market_hours == "extended_hours":
        return Session.EXTENDED
    return Session.REGULAR


def new_york(now_ns: int) -> datetime:
    return datetime.fromtimestamp(now_ns / _NS_PER_SECOND, tz=NEW_YORK)


def is_open(session: Session, now_ns: int) -> bool:
    """Whether `session` trades at `now_ns` (a weekday; its hours, in New York)."""
    moment = new_york(now_ns)
    weekday, clock = moment.weekday(), moment.time()
    if session is Session.ALL_DAY:
        if weekday == _SUNDAY:
            return clock >= _AFTER_HOURS_END
        if weekday == _FRIDAY:
            return clock < _AFTER_HOURS_END
        return weekday < _FRIDAY
    if weekday >= _SATURDAY:
        return False
    if session is Session.EXTENDED:
        return _PRE_MARKET <= clock < _AFTER_HOURS_END
    return _OPEN <= clock < _CLOSE


def settlement_date(now_ns: int) -> date:
    """T+1: the first weekday after the New York trade date."""
    day = new_york(now_ns).date() + timedelta(days=1)
    while day.weekday() >= _SATURDAY:
        day += timedelta(days=1)
    return day


def previous_business_day(now_ns: int) -> date:
    """The weekday before the New York date of `now_ns` (a quote's previous close)."""
    day = new_york(now_ns).date() - timedelta(days=1)
    while day.weekday() >= _SATURDAY:
        day -= timedelta(days=1)
    return day
