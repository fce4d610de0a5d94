"""The fold alone, for instruction counts: a journal's first events, decoded up front, then
applied to a new `OmsState` (as replay does, changes dropped every 4,096).

    valgrind --tool=callgrind python -m bench.fold_instructions --db J --events 40000
    valgrind --tool=callgrind python -m bench.fold_instructions --db J --events 40000 --load-only

Timings of the fold on this machine wander by a quarter from run to run; callgrind's
instruction count does not. The fold's share is the difference between the two commands
(the second reads and decodes only). `python -m bench.replay` builds a journal to use
(`--db`: any SQLite journal).
"""

from __future__ import annotations

import argparse
import sqlite3

from ordergate.cli.process import tune_garbage_collector
from ordergate.engine.codec import decode
from ordergate.engine.state import OmsState

DISCARD_EVERY = 4096


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--events", type=int, default=40_000)
    parser.add_argument("--load-only", action="store_true", help="read and decode only")
    options = parser.parse_args()
    tune_garbage_collector()
    con = sqlite3.connect(options.db)
    rows = con.execute(
        "SELECT type, version, payload FROM journal ORDER BY seq LIMIT ?", (options.events,)
    ).fetchall()
    events = [decode(type_name, version, payload) for type_name, version, payload in rows]
    if options.load_only:
        return
    state = OmsState(0)
    for n, event in enumerate(events):
        state.apply(event)
        if n % DISCARD_EVERY == 0:
            state.discard_changes()


if __name__ == "__main__":
    main()
