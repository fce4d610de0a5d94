"""Where an open order's memory goes: tracemalloc over resting limit orders placed through
`Oms` (engine and paper venue together), grouped by the line that allocated it.

    python -m bench.open_order_memory [--orders 5000] [--top 25]

`make bench-history` gives the resident figure (bytes per open order, the issue-13 bound
of 2 KB); this says which objects make it up, so that a change to one of them shows as
bytes saved per order. Traced bytes are below resident ones (the allocator's pools and
fragmentation come on top: about 1.2x here).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import tempfile
import tracemalloc
from decimal import Decimal
from pathlib import Path

from bench.history import settings

WINDOW = 256
WARM_UP = 300  # orders placed before measuring: the first ones grow tables once


async def measure(orders: int, top: int) -> None:
    from ordergate.cli.process import tune_garbage_collector
    from ordergate.domain.values import OrderType, Side
    from ordergate.oms.embedded import Oms

    tune_garbage_collector()

    async def rest(oms: Oms) -> None:
        await oms.place(
            "BTCUSDT", Side.BUY, Decimal("0.005"), OrderType.LIMIT, price=Decimal("1000.0")
        )

    with tempfile.TemporaryDirectory() as workdir:
        async with Oms(settings(Path(workdir) / "open.db")) as oms:
            for _ in range(WARM_UP):
                await rest(oms)
            await oms.app.partition.engine.settle()
            gc.collect()
            tracemalloc.start(6)
            before = tracemalloc.take_snapshot()
            for start in range(0, orders, WINDOW):
                await asyncio.gather(*(rest(oms) for _ in range(min(WINDOW, orders - start))))
            await oms.app.partition.engine.settle()
            gc.collect()
            after = tracemalloc.take_snapshot()
    stats = after.compare_to(before, "traceback")
    print(f"traced per open order: {sum(s.size_diff for s in stats) / orders:,.0f} B")
    for stat in stats[:top]:
        where = stat.traceback.format()[-2:]
        share = f"{stat.size_diff / orders:8.1f} B  x{stat.count_diff / orders:4.2f}"
        print(f"{share}  {where[0].strip()}")
        print(f"{'':22}{where[1].strip()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=5000)
    parser.add_argument("--top", type=int, default=25)
    options = parser.parse_args()
    asyncio.run(measure(options.orders, options.top))


if __name__ == "__main__":
    main()
