"""Cursor pages, as Robinhood's lists (`orders/`, `positions/`, `accounts/`) are paged.

An answer is `{"previous", "results", "next"}`, where `next` and `previous` are full
URLs carrying an opaque `cursor` (null at either end). The cursor here encodes an
offset into the list as it is when read; a list that grows between pages (a new order
is listed first) shifts by the new items, as an offset cursor does.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

from ordergate.simulators.robinhood.errors import detail

T = TypeVar("T")
_PREFIX: Final = "o="


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None
    previous_cursor: str | None


def page_of(items: Sequence[T], cursor: str | None, size: int) -> Page[T]:
    """The page of `items` that `cursor` points at (None: the first)."""
    start = 0 if cursor is None else read_cursor(cursor)
    end = start + size
    return Page(
        list(items[start:end]),
        make_cursor(end) if end < len(items) else None,
        make_cursor(max(start - size, 0)) if start > 0 else None,
    )


def make_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"{_PREFIX}{offset}".encode()).decode()


def read_cursor(cursor: str) -> int:
    """The offset of a cursor made here; anything else answers 404 as DRF's does."""
    try:
        text = base64.urlsafe_b64decode(cursor.encode()).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise detail(404, "Invalid cursor") from exc
    offset = text.removeprefix(_PREFIX)
    if not text.startswith(_PREFIX) or not offset.isdigit():
        raise detail(404, "Invalid cursor")
    return int(offset)
