"""`ordergate import`: records a second restoring a whole export into a new SQLite file and
into PostgreSQL, and the importing process's peak memory.

    python -m bench.journal_import [--filled 10000] [--resting 1000] [--db FILE] [--pg DSN]

The journal is built once through the real engine and paper venue (`bench.history`'s build:
`--filled` market orders that fill, `--resting` limit orders that rest; about five records
an order) and kept at `--db` for the next run. It is exported with `ordergate export
--jsonl`, then each import runs in a fresh process: `import_jsonl` timed in-process (the
verifying first pass, `verify_jsonl`, timed apart as well), and `ordergate import` timed
from process start to exit. PostgreSQL gets a schema of its own, dropped afterwards
(skipped if it cannot be reached).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from bench.history import ORDERGATE, PYTHON, run_child

PG_DSN = os.environ.get("ORDERGATE_TEST_PG_DSN", "postgresql://postgres@127.0.0.1:5432/test")


def child(argv: list[str]) -> None:
    """The measured process: `import FILE TARGET`."""
    from ordergate.app.journal_import import import_jsonl
    from ordergate.app.journal_tools import verify_jsonl
    from ordergate.cli.process import tune_garbage_collector

    tune_garbage_collector()
    export, target = Path(argv[1]), argv[2]
    started = time.perf_counter()
    verify_jsonl(export)
    verify_seconds = time.perf_counter() - started
    started = time.perf_counter()
    summary = asyncio.run(import_jsonl(export, target, lambda description, total: lambda n: None))
    seconds = time.perf_counter() - started
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "records": summary.records,
                "seconds": seconds,
                "verify_seconds": verify_seconds,
                "peak_rss_mib": peak_kib / 1024,
            }
        )
    )


def run_import_child(export: Path, target: str) -> dict[str, Any]:
    done = subprocess.run(
        [PYTHON, "-m", "bench.journal_import", "--child", "import", str(export), target],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"import failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def cli_seconds(*args: str) -> float:
    started = time.perf_counter()
    done = subprocess.run([ORDERGATE, *args], capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"ordergate {args[0]} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    return elapsed


async def _schema(dsn: str, create: bool, name: str) -> bool:
    import asyncpg

    try:
        conn = await asyncpg.connect(dsn, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    try:
        if create:
            await conn.execute(f'CREATE SCHEMA "{name}"')
        else:
            await conn.execute(f'DROP SCHEMA "{name}" CASCADE')
    finally:
        await conn.close()
    return True


def pg_figures(export: Path, dsn: str) -> dict[str, Any] | None:
    name = f"og_bench_{secrets.token_hex(6)}"
    if not asyncio.run(_schema(dsn, True, name)):
        return None
    try:
        parts = urlsplit(dsn)
        query = [(k, v) for k, v in parse_qsl(parts.query) if k != "options"]
        query.append(("options", f"-csearch_path={name}"))  # the schema alone
        return run_import_child(export, urlunsplit(parts._replace(query=urlencode(query))))
    finally:
        asyncio.run(_schema(dsn, False, name))


def show(kind: str, figures: dict[str, Any]) -> None:
    records = figures["records"]
    print(
        f"{kind:<22} {records} records in {figures['seconds']:.2f} s: "
        f"{records / figures['seconds']:,.0f} records/s "
        f"(its verifying pass alone {figures['verify_seconds']:.2f} s); "
        f"peak RSS {figures['peak_rss_mib']:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--filled", type=int, default=10_000)
    parser.add_argument("--resting", type=int, default=1_000)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--pg", default=PG_DSN)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    with tempfile.TemporaryDirectory() as workdir:
        work = Path(workdir)
        db = args.db or work / f"journal-{args.filled}-{args.resting}.db"
        if not db.exists():
            started = time.perf_counter()
            run_child("build", str(db), str(args.filled), str(args.resting))
            print(f"built {db} in {time.perf_counter() - started:.1f} s")
        export = work / "journal.jsonl"
        exported = cli_seconds("export", "--db", str(db), "--jsonl", "-o", str(export))
        print(f"export                 {export.stat().st_size / 2**20:.1f} MiB in {exported:.2f} s")
        show("import into SQLite", run_import_child(export, str(work / "restored.db")))
        command = cli_seconds("import", "--jsonl", str(export), "--db", str(work / "cli.db"))
        print(f"ordergate import       {command:.2f} s, process start to exit (SQLite)")
        pg = pg_figures(export, args.pg)
        if pg is None:
            print(f"import into PostgreSQL skipped: {args.pg} cannot be reached")
        else:
            show("import into PostgreSQL", pg)


if __name__ == "__main__":
    sys.exit(main())
