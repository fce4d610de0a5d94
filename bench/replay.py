"""Full journal replay, stage by stage: events a second for reading, checking, decoding,
folding and verifying a SQLite journal (issue 13 asks for 200,000).

    python -m bench.replay [--filled 50000] [--resting 5000] [--db FILE] [--runs 3]
    python -m bench.replay --stages fold,fold@child,verify --runs 5

The journal is built once through the real engine and paper venue (`bench.history`'s
build: `--filled` market orders that fill, `--resting` limit orders that rest) and kept
at `--db` (default: one per size in the temporary directory) for the next run. Each
stage then runs `--runs` times, each in a fresh process, the stages interleaved (the
machine is noisy); the medians are printed. Stages:

- `read`: `records_after()` iterated one `JournalRecord` at a time (what a follower of the
  journal, the event relay, sees);
- `check`, `decode`: replay's checked pages, checked in this process, then decoded;
- `check@child`, `decode@child`: the same, checked in a child process (`checker.py`);
- `fold`, `fold@child`: `replay_records` (start-up replay, `ordergate replay`), checked here
  or in a child; `verify`, `verify@child`: `verify_store` (`ordergate verify-journal`):
  the fold, then the read models compared with the stored ones;
- `cli-replay`, `cli-verify`: the commands themselves, timed from process start to exit.

In-process stages tune the garbage collector as `ordergate serve` does (`--gc default`:
leave it). "cpu" is the measured process's CPU time, "child cpu" the checker's. Run on a
tree without checked pages (before them), `check` and `decode` check and decode one
`JournalRecord` at a time, and the `@child` stages are skipped.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

from bench.history import ORDERGATE, PYTHON, run_child

STAGES = (
    "read",
    "check",
    "decode",
    "check@child",
    "decode@child",
    "fold",
    "fold@child",
    "verify",
    "verify@child",
    "cli-replay",
    "cli-verify",
)


def cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


async def run_stage(stage: str, db: Path) -> int:
    """Run one in-process stage on `db`; return the events it went through."""
    from ordergate.engine.chain import GENESIS, check_link
    from ordergate.engine.codec import decode
    from ordergate.engine.replay import replay_records, verify_store
    from ordergate.store.sqlite import SqliteStore

    name, _, where = stage.partition("@")
    store = SqliteStore(db)

    def records() -> AsyncIterator[Any]:
        try:
            return store.records_after(check_elsewhere=where == "child")
        except TypeError:  # a tree from before checked pages
            if where:
                raise
            return store.records_after()

    try:
        if name == "read":
            return sum([1 async for _ in store.records_after()])
        if name in ("check", "decode"):
            source = records()
            if not hasattr(source, "checked_pages"):  # a tree from before checked pages
                count, head = 0, GENESIS
                async for record in source:
                    count += 1
                    head = check_link(record, head, count)
                    if name == "decode":
                        decode(record.type, record.version, record.payload)
                return count
            count = 0
            async for page in source.checked_pages(0, GENESIS):
                count += len(page)
                if name == "decode":
                    for type_name, version, payload in zip(
                        page.types, page.versions, page.payloads, strict=True
                    ):
                        decode(type_name, version, payload)
            return count
        if name == "fold":
            _, report = await replay_records(records(), store.partition)
        else:

            class Store:  # the store, its records checked where the stage says
                partition = store.partition
                records_after = staticmethod(lambda after_seq=0: records())
                snapshot = store.snapshot
                read_models_equal = getattr(store, "read_models_equal", None)  # a newer tree

            report = await verify_store(Store())
        if not report.ok:
            raise SystemExit(f"{stage}: {report.problems[:3]}")
        return report.events
    finally:
        await store.close()


def run_cli(stage: str, db: Path) -> int:
    command = "replay" if stage == "cli-replay" else "verify-journal"
    done = subprocess.run(
        [ORDERGATE, command, "--db", str(db)], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{stage} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")
    found = re.search(r"^events\s+(\d+)", done.stdout, re.MULTILINE)
    assert found is not None
    return int(found.group(1))


def child(stage: str, db: Path, gc_mode: str) -> None:
    """The measured process: one stage, its figures as a line of JSON."""
    if gc_mode == "tuned" and not stage.startswith("cli-"):
        from ordergate.cli.process import tune_garbage_collector

        tune_garbage_collector()
    work: Callable[[], int]
    if stage.startswith("cli-"):
        work = lambda: run_cli(stage, db)  # noqa: E731
    else:
        work = lambda: asyncio.run(run_stage(stage, db))  # noqa: E731
    cpu = cpu_seconds(resource.RUSAGE_SELF)
    children = cpu_seconds(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    events = work()
    wall = time.perf_counter() - started
    cpu = cpu_seconds(resource.RUSAGE_SELF) - cpu
    children = cpu_seconds(resource.RUSAGE_CHILDREN) - children
    if stage.startswith("cli-"):
        cpu, children = children, 0.0
    print(json.dumps({"events": events, "wall": wall, "cpu": cpu, "child_cpu": children}))


def measure(stage: str, db: Path, gc_mode: str) -> dict[str, float] | None:
    done = subprocess.run(
        [PYTHON, "-m", "bench.replay", "--child", stage, str(db), gc_mode],
        capture_output=True,
        text=True,
        env={**os.environ, "ORDERGATE_LOG_LEVEL": "WARNING"},
        check=False,
    )
    if done.returncode != 0:
        if "unexpected keyword argument 'check_elsewhere'" in done.stderr:
            return None  # a tree from before checked pages
        raise SystemExit(f"{stage} failed:\n{done.stderr[-3000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def journal(options: argparse.Namespace) -> Path:
    db = options.db or Path(tempfile.gettempdir()) / (
        f"ordergate-bench-replay-{options.filled}-{options.resting}.db"
    )
    if not db.exists():
        print(f"building {db}: {options.filled:,} filled, {options.resting:,} resting orders")
        run_child("build", str(db), str(options.filled), str(options.resting))
    return Path(db)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(sys.argv[2], Path(sys.argv[3]), sys.argv[4])
        return
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--filled", type=int, default=50_000)
    parser.add_argument("--resting", type=int, default=5_000)
    parser.add_argument("--db", type=Path, default=None, help="the journal (built if missing)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--stages", default=",".join(STAGES))
    parser.add_argument("--gc", choices=("tuned", "default"), default="tuned")
    options = parser.parse_args()
    stages = [s for s in options.stages.split(",") if s]
    unknown = set(stages) - set(STAGES)
    if unknown:
        parser.error(f"unknown stages: {', '.join(sorted(unknown))}")
    db = journal(options)
    results: dict[str, list[dict[str, float]]] = {s: [] for s in stages}
    for run in range(options.runs):
        for stage in stages:
            figures = measure(stage, db, options.gc)
            if figures is None:
                results.pop(stage, None)
                continue
            if stage in results:
                results[stage].append(figures)
                rate = figures["events"] / figures["wall"]
                print(f"run {run + 1} {stage:14} {rate:>10,.0f} events/s", file=sys.stderr)
    report(results)


def report(results: dict[str, list[dict[str, float]]]) -> None:
    print(f"{'stage':14} {'events':>9} {'events/s':>10} {'wall s':>8} {'cpu s':>7} {'child':>7}")
    for stage, runs in results.items():
        if not runs:
            continue
        events = runs[0]["events"]
        wall = statistics.median(r["wall"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        child_cpu = statistics.median(r["child_cpu"] for r in runs)
        spread = ", ".join(f"{r['events'] / r['wall']:,.0f}" for r in runs)
        print(
            f"{stage:14} {events:>9,.0f} {events / wall:>10,.0f} {wall:>8.2f} {cpu:>7.2f} "
            f"{child_cpu:>7.2f}   ({spread})"
        )


if __name__ == "__main__":
    main()
