"""`ordergate import`: a journal store restored from a whole JSONL export, apart from how the
command line shows it (`engine.restore` says how; the stores' `restore` modules write).

The file is verified on its own first (`verify_jsonl`, as `verify-journal --jsonl` does),
and a file that does not verify, or does not start at seq 1 for each partition, is refused
before the target is opened. A SQLite target takes partition 0 only (the one partition a
SQLite journal has); PostgreSQL takes every partition the export holds. API keys are not in
the journal, so not in an export: a restored store has the keys it had before (none, if
new).
"""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path

from ordergate.app.journal_tools import Progress, verify_jsonl
from ordergate.config.settings import is_postgres_url
from ordergate.domain.errors import JournalCorrupted, RestoreRefused
from ordergate.engine.restore import BATCH_RECORDS, RestoreSummary, check_restorable, restore
from ordergate.store.postgres.restore import PostgresRestore, restoring_postgres
from ordergate.store.sqlite.restore import PARTITION, SqliteRestore, restoring_sqlite


async def import_jsonl(
    path: Path, db: str, progress: Progress, *, batch_records: int = BATCH_RECORDS
) -> RestoreSummary:
    """Restore the export at `path` into the new, empty store `db` (a SQLite file or a
    postgresql:// URL): the same records, seqs and hashes, and the read models their fold
    gives, committed at once or not at all.

    `FileNotFoundError` if there is no such file; `JournalCorrupted` if it does not verify;
    `RestoreRefused` if it is partial, holds another partition than a SQLite journal's, or
    the target is not empty; `JournalError` if the target fails. `batch_records`: records
    written at a time, with their read-model rows."""
    report = verify_jsonl(path)
    check_restorable(report)
    others = sorted(set(report.heads) - {PARTITION})
    if others and not is_postgres_url(db):
        raise RestoreRefused(
            f"a SQLite journal holds partition {PARTITION} only; the export holds partition "
            f"{', '.join(map(str, others))}: restore it into PostgreSQL; nothing was imported"
        )
    async with AsyncExitStack() as stack:
        store: PostgresRestore | SqliteRestore
        if is_postgres_url(db):
            store = await stack.enter_async_context(restoring_postgres(db))
        else:
            store = stack.enter_context(restoring_sqlite(Path(db)))
        advance = progress("importing", report.records)
        with path.open("rb") as lines:
            summary = await restore(lines, store, advance, batch_records)
        if summary.heads != report.heads:  # the file changed between the two passes
            raise JournalCorrupted(
                "the export changed while it was imported (its heads are not those verified); "
                "nothing was imported"
            )
    return summary
