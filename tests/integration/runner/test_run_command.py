"""`ordergate run` as an operator runs it: exit statuses, and a clean stop on a signal.

The command runs as a subprocess (it configures logging and signal handlers for the
whole process); the misconfigurations it refuses before starting anything run in
process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from tests.waiting import eventually_sync

from ordergate.cli.run import run

BIN = Path(sys.executable).parent / "ordergate"
EXAMPLES = Path(__file__).parents[3] / "examples"

# Records its calls in the file `RECORD` names: the test reads what ran, in order.
RECORDING = """
import os
from pathlib import Path

RECORD = Path(os.environ["RECORD"])


def note(text):
    with RECORD.open("a") as out:
        out.write(text + "\\n")


class Recorder:
    def start(self, ctx):
        note(f"start {ctx.mode} {','.join(ctx.symbols)}")

    def on_bar(self, ctx, bars):
        note(f"bar {ctx.bar_count}")
        if os.environ.get("FAIL_AT") == str(ctx.bar_count):
            raise RuntimeError("the strategy broke")

    def stop(self, ctx):
        note("stop")
"""


def environment(workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("ORDERGATE_")}
    return {**env, "RECORD": str(workdir / "record.txt"), "ORDERGATE_LOG_LEVEL": "WARNING"}


def recorded(workdir: Path) -> list[str]:
    path = workdir / "record.txt"
    return path.read_text().splitlines() if path.exists() else []


@pytest.fixture
def recorder(isolated_environment: Path) -> Path:
    (isolated_environment / "recorder.py").write_text(RECORDING)
    return isolated_environment


def ordergate_run(workdir: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(BIN), "run", "--engine", "paper", "--strategy", "recorder.py:Recorder", *args],
        cwd=workdir,
        env={**environment(workdir), **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_run_command_bars_done_exits_zero_with_a_journal_per_mode(recorder: Path) -> None:
    process = ordergate_run(recorder, "--bars", "3", "--bars-per-second", "0", "--mode", "dry-run")
    _, err = process.communicate(timeout=120)

    assert process.returncode == 0, err
    assert "done (bars): 3 bars" in err
    assert recorded(recorder) == [
        "start dry-run BTCUSDT,EURUSD,GBPUSD",
        "bar 1",
        "bar 2",
        "bar 3",
        "stop",
    ]
    assert (recorder / "ordergate-dry-run.db").exists()


def test_run_command_strategy_failure_exits_one_after_stopping_it(recorder: Path) -> None:
    process = ordergate_run(recorder, "--bars", "5", "--bars-per-second", "0", FAIL_AT="2")
    _, err = process.communicate(timeout=120)

    assert process.returncode == 1, err
    assert "the strategy broke" in err
    assert recorded(recorder)[-2:] == ["bar 2", "stop"]


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_run_command_signal_stops_cleanly(recorder: Path, signum: signal.Signals) -> None:
    # A paced market and no end: only the signal stops it.
    process = ordergate_run(recorder, "--bars-per-second", "20", "--poll-interval", "0.01")
    try:
        eventually_sync(lambda: "bar 1" in recorded(recorder), message="a first bar")
        process.send_signal(signum)
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()

    assert process.returncode == 0, err
    assert "done (signal)" in err
    assert recorded(recorder)[-1] == "stop"


def test_run_command_unknown_engine_exits_two(isolated_environment: Path) -> None:
    result = CliRunner().invoke(run, ["--engine", "binance", "--strategy", "x:y"])

    assert result.exit_code == 2
    assert "unknown engine 'binance'" in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["--engine", "paper", "--strategy", "no_such_module:X"],
        ["--engine", "ccxt:", "--strategy", "x:y"],
        ["--engine", "paper", "--strategy", f"{EXAMPLES / 'rebalance.py'}:Nothing"],
    ],
)
def test_run_command_misconfiguration_exits_two(args: list[str], isolated_environment: Path):
    result = CliRunner().invoke(run, args)

    assert result.exit_code == 2, result.output
    assert "cannot run" in result.output
