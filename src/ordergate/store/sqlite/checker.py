"""A SQLite journal's records for replay: checked here, or in a process of their own while
this one folds.

Reading records and checking their hashes is about a third of replay, and Python holds
the GIL for both: a row becomes nine objects, and hashlib lets go of the GIL only for
inputs of 2 KiB and more (a record is a few hundred bytes), so a thread would only take
turns with the fold. A journal of `CHECK_ELSEWHERE_FROM` records or more is therefore read
and checked by a child process (`check_process.py`), each record exactly as
`chain.check_rows` checks it, and this process only decodes and applies what it sends: on
two cores the two overlap. bench/replay.py measures both ways.

A child that stops without a verdict on the journal (it could not start, read, or it
died) is a failure to check there, not a problem with the journal: replay goes on
checking here from the last record the child gave.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncGenerator, Callable, Sequence
from contextlib import aclosing
from pathlib import Path
from typing import Final

import msgspec
import structlog

from ordergate.domain.errors import JournalCorrupted, JournalError
from ordergate.engine.chain import PagedRecords, check_pages
from ordergate.engine.records import CheckedPage, RecordRow
from ordergate.store.sqlite import check_process
from ordergate.store.sqlite.check_process import BROKEN, FAILED, HEADER, PAGE

log = structlog.get_logger("ordergate.store.sqlite")

CHECK_ELSEWHERE_FROM: Final = 50_000
"""Records from which a child process checks them. Its start (a Python process and a few
imports) delays the first page by 0.1-0.15 s; reading and checking here costs ~3.5 µs a
record more than decoding what the child sends. On 2 cores (bench/replay.py) it was no
faster than checking here at 43,007 records, and faster at 215,007 only with a core to
spare: on a machine busy with other work it costs more CPU than it saves time."""

_READ_AHEAD: Final = 8 * 1024 * 1024  # bytes of frames buffered ahead of the fold
_PAGE_DECODER: Final = msgspec.msgpack.Decoder(CheckedPage)

PagesAfter = Callable[[int], AsyncGenerator[Sequence[RecordRow], None]]


class SqliteRecords(PagedRecords):
    """The records after `after_seq` (`SqliteStore.records_after`), read in-line a page at
    a time by `pages_after`. Replay takes them checked: by a child process when there are
    `CHECK_ELSEWHERE_FROM` or more (`elsewhere` None) or when `elsewhere` is True, else
    here."""

    __slots__ = ("_after_seq", "_elsewhere", "_pages_after", "_partition", "_path")

    def __init__(
        self,
        pages_after: PagesAfter,
        path: Path,
        partition: int,
        after_seq: int,
        head_seq: int,
        elsewhere: bool | None = None,
    ) -> None:
        super().__init__(pages_after(after_seq))
        self._pages_after = pages_after
        self._path = path
        self._partition = partition
        self._after_seq = after_seq
        if elsewhere is None:
            elsewhere = head_seq - after_seq >= CHECK_ELSEWHERE_FROM
        self._elsewhere = elsewhere

    async def checked_pages(self, seq: int, head_hash: bytes) -> AsyncGenerator[CheckedPage, None]:
        if not self._elsewhere:
            async for page in super().checked_pages(seq, head_hash):
                yield page
            return
        after = self._after_seq
        try:
            async with aclosing(
                checked_elsewhere(self._path, self._partition, after, seq, head_hash)
            ) as pages:
                async for page in pages:
                    yield page
                    after = seq = page.first_seq + len(page) - 1
                    head_hash = page.hashes[-1]
            return
        except JournalCorrupted:
            raise
        except JournalError as exc:
            log.warning("journal checker failed, checking in-line", error=exc.message, seq=seq)
        async for page in check_pages(self._pages_after(after), seq, head_hash):
            yield page


async def checked_elsewhere(
    path: Path, partition: int, after_seq: int, seq: int, head_hash: bytes
) -> AsyncGenerator[CheckedPage, None]:
    """The records of `partition` after `after_seq`, checked from (`seq`, `head_hash`) on by
    a child process. Raises `JournalCorrupted` at the first record that does not link
    (after the pages before it), `JournalError` if the child fails."""
    script = check_process.__file__
    if not sys.executable or script is None:
        raise JournalError("no Python to run the journal checker with")
    try:
        child = await asyncio.create_subprocess_exec(
            # -P: the script's directory (this package) must not shadow any module.
            *(sys.executable, "-P", script, str(path), str(partition), str(after_seq)),
            *(str(seq), head_hash.hex()),
            stdin=asyncio.subprocess.DEVNULL,
            stdout=asyncio.subprocess.PIPE,
            limit=_READ_AHEAD // 2,  # reading pauses at twice the limit
        )
    except OSError as exc:
        raise JournalError(f"the journal checker did not start: {exc!r}") from exc
    assert child.stdout is not None
    try:
        while True:
            try:
                kind, size = HEADER.unpack(await child.stdout.readexactly(HEADER.size))
                body = await child.stdout.readexactly(size)
            except asyncio.IncompleteReadError:
                code = await child.wait()
                raise JournalError(f"the journal checker stopped (exit code {code})") from None
            if kind == PAGE:
                yield _PAGE_DECODER.decode(body)
            elif kind == BROKEN:
                raise JournalCorrupted(body.decode())
            elif kind == FAILED:
                raise JournalError(f"the journal checker could not read: {body.decode()}")
            else:
                return
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
