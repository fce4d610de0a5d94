"""US equity sessions in New York time, and T+1 settlement."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest

from ordergate.simulators.robinhood.sessions import (
    Session,
    is_open,
    previous_business_day,
    session_of,
    settlement_date,
)

NEW_YORK = ZoneInfo("America/New_York")


def ny(day: int, hour: int, minute: int = 0, month: int = 3) -> int:
    """ns of a moment in New York, March 2024 (the 11th is a Monday; DST starts on the
    10th, so the offset differs from the week before)."""
    moment = datetime(2024, month, day, hour, minute, tzinfo=NEW_YORK)
    return int(moment.timestamp()) * 1_000_000_000


@pytest.mark.parametrize(
    ("session", "moment", "expected"),
    [
        (Session.REGULAR, ny(11, 9, 29), False),
        (Session.REGULAR, ny(11, 9, 30), True),
        (Session.REGULAR, ny(11, 15, 59), True),
        (Session.REGULAR, ny(11, 16, 0), False),
        (Session.REGULAR, ny(8, 10, 0), True),  # a Friday before the clocks changed
        (Session.REGULAR, ny(9, 10, 0), False),  # Saturday
        (Session.EXTENDED, ny(11, 6, 59), False),
        (Session.EXTENDED, ny(11, 7, 0), True),
        (Session.EXTENDED, ny(11, 19, 59), True),
        (Session.EXTENDED, ny(11, 20, 0), False),
        (Session.EXTENDED, ny(10, 10, 0), False),  # Sunday
        (Session.ALL_DAY, ny(10, 19, 59), False),  # Sunday before 20:00
        (Session.ALL_DAY, ny(10, 20, 0), True),
        (Session.ALL_DAY, ny(12, 3, 0), True),  # Tuesday night
        (Session.ALL_DAY, ny(15, 19, 59), True),  # Friday
        (Session.ALL_DAY, ny(15, 20, 0), False),
        (Session.ALL_DAY, ny(16, 12, 0), False),  # Saturday
    ],
)
def test_sessions_open_and_close_in_new_york_time(session, moment, expected):
    assert is_open(session, moment) is expected


def test_market_orders_trade_regular_hours_only_and_limits_where_sent():
    assert session_of("market", "all_day_hours", True) is Session.REGULAR
    assert session_of("limit", "regular_hours", False) is Session.REGULAR
    assert session_of("limit", "regular_hours", True) is Session.EXTENDED
    assert session_of("limit", "extended_hours", False) is Session.EXTENDED
    assert session_of("limit", "all_day_hours", False) is Session.ALL_DAY


@pytest.mark.parametrize(
    ("moment", "settles"),
    [
        (ny(11, 10), date(2024, 3, 12)),  # Monday -> Tuesday
        (ny(15, 15), date(2024, 3, 18)),  # Friday -> Monday
        (ny(15, 21), date(2024, 3, 18)),  # Friday evening in New York, Saturday in UTC
        (ny(16, 10), date(2024, 3, 18)),  # Saturday -> Monday
    ],
)
def test_trades_settle_the_next_business_day_in_new_york(moment, settles):
    assert settlement_date(moment) == settles


def test_the_previous_close_is_the_weekday_before():
    assert previous_business_day(ny(11, 10)) == date(2024, 3, 8)
    assert previous_business_day(ny(12, 10)) == date(2024, 3, 11)
