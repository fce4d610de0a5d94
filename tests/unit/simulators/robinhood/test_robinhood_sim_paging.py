"""Cursor pages: a page, the cursors to the next and previous ones, bad cursors."""

from __future__ import annotations

import pytest

from ordergate.simulators.robinhood.errors import RobinhoodError
from ordergate.simulators.robinhood.paging import make_cursor, page_of, read_cursor
from ordergate.simulators.robinhood.wire import Urls


def test_pages_walk_the_list_forward_and_back():
    items = list(range(5))

    first = page_of(items, None, 2)
    second = page_of(items, first.next_cursor, 2)
    last = page_of(items, second.next_cursor, 2)
    back = page_of(items, last.previous_cursor, 2)

    assert (first.items, first.previous_cursor) == ([0, 1], None)
    assert second.items == [2, 3]
    assert (last.items, last.next_cursor) == ([4], None)
    assert back.items == [2, 3]


def test_a_list_that_fits_has_no_other_page():
    page = page_of([1, 2], None, 2)

    assert (page.items, page.next_cursor, page.previous_cursor) == ([1, 2], None, None)


@pytest.mark.parametrize("cursor", ["garbage!", make_cursor(3)[:-2] + "zz", "eD0x"])
def test_a_cursor_not_made_here_answers_404(cursor):
    with pytest.raises(RobinhoodError) as refused:
        read_cursor(cursor)

    assert (refused.value.status, refused.value.body) == (404, {"detail": "Invalid cursor"})


def test_next_urls_keep_the_query_and_carry_the_cursor():
    urls = Urls("https://api.robinhood.com", "5RS71234")

    url = urls.page("/orders/", {"account_numbers": "5RS71234"}, make_cursor(100))

    assert url == (
        "https://api.robinhood.com/orders/?account_numbers=5RS71234&cursor="
        + make_cursor(100).replace("=", "%3D")
    )
    assert urls.page("/orders/", {}, None) is None
    assert read_cursor(make_cursor(100)) == 100
