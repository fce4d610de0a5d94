"""CPU seconds from /proc: per process, per process name, and the whole machine."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(pids: list[int] | None = None, comm: str | None = None) -> float:
    """CPU (user + system) seconds used so far by these pids, or by every process named
    `comm`, from /proc; 0 where /proc is not there."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    paths = (
        [Path(f"/proc/{p}/stat") for p in pids]
        if pids is not None
        else Path("/proc").glob("[0-9]*/stat")
    )
    for path in paths:
        try:
            stat = path.read_text()
        except OSError:
            continue
        name, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :]
        if comm is not None and name != comm:
            continue
        fields = rest.split()
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15 of stat)
    return total / ticks


def machine_busy_seconds() -> float:
    """CPU seconds every core has spent busy since boot (/proc/stat), 0 without /proc."""
    try:
        first = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except OSError:
        return 0.0
    ticks = [int(t) for t in first]
    return (sum(ticks[:8]) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")  # - idle, iowait
