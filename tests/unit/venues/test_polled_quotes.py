"""Quotes polled from a venue: the newest kept, a failed poll changing nothing."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest
from tests.waiting import eventually

from ordergate.domain.errors import InvalidRequest, RetryableVenueError
from ordergate.engine.venue_reports import Quote
from ordergate.venues.polled_quotes import PolledQuotes

D = Decimal


def quote(symbol: str, bid: str, ts: int) -> Quote:
    return Quote(symbol, D(bid), D(bid) + 1, D(bid), ts)


class Answers:
    """A fetch that answers from a script, one entry per call (an exception is raised)."""

    def __init__(self, *answers: list[Quote] | Exception) -> None:
        self._answers = list(answers)
        self.calls = 0

    async def __call__(self) -> list[Quote]:
        self.calls += 1
        answer = self._answers.pop(0) if len(self._answers) > 1 else self._answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


async def test_refresh_keeps_the_newest_quote_per_symbol():
    fetch = Answers(
        [quote("BTC", "100", 2), quote("ETH", "10", 2)],
        [quote("BTC", "99", 1), quote("ETH", "11", 3)],  # BTC's answer was overtaken
    )
    quotes = PolledQuotes(fetch, 1.0)

    await quotes.refresh()
    await quotes.refresh()

    assert quotes.quote("BTC") == quote("BTC", "100", 2)
    assert quotes.quote("ETH") == quote("ETH", "11", 3)
    assert quotes.quote("XRP") is None


async def test_a_failed_poll_keeps_the_last_quotes_and_polling_goes_on():
    fetch = Answers([quote("BTC", "100", 1)], RetryableVenueError("503"), [quote("BTC", "101", 2)])
    quotes = PolledQuotes(fetch, 0.001)

    poller = asyncio.create_task(quotes.run())
    await eventually(lambda: fetch.calls >= 3, message="three polls")
    poller.cancel()
    with pytest.raises(asyncio.CancelledError):
        await poller

    assert fetch.calls >= 3
    assert quotes.quote("BTC") == quote("BTC", "101", 2)


async def test_a_failed_poll_leaves_the_held_quote_as_old_as_it_was():
    fetch = Answers([quote("BTC", "100", 1)], RetryableVenueError("503"))
    quotes = PolledQuotes(fetch, 1.0)
    await quotes.refresh()

    with pytest.raises(RetryableVenueError):
        await quotes.refresh()

    assert quotes.quote("BTC") == quote("BTC", "100", 1)  # stale, so the feed gate sees it


@pytest.mark.parametrize("interval", [0, -1.0])
def test_the_poll_interval_must_be_positive(interval):
    with pytest.raises(InvalidRequest):
        PolledQuotes(Answers([]), interval)
