"""The Python API: ordergate embedded in a strategy's own process.

    async with Oms(Settings(db="bot.db")) as oms:
        order = await oms.place("BTCUSDT", Side.BUY, Decimal("0.01"), idempotency_key="k1")

`BlockingOms` offers the same calls to synchronous code.
"""

from ordergate.oms.blocking import BlockingOms
from ordergate.oms.embedded import Oms

__all__ = ["BlockingOms", "Oms"]
