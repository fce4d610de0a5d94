"""The Python API of a running ordergate server, over its REST API.

`AsyncClient` and `Client` (for synchronous code) make the calls `Oms` makes, with the
same names, arguments, answers and exceptions, to a server instead of an engine in this
process::

    async with AsyncClient("http://127.0.0.1:8000", api_key=KEY) as oms:
        order = await oms.place("BTCUSDT", Side.BUY, Decimal("0.01"))

Both send the same `calls` through the same `retry` decisions; `wire` reads the JSON
back into the engine's views and `errors` the refusals into the one hierarchy.
`follow.changes` follows orders and fills as they change.
"""

from ordergate.client.asynchronous import AsyncClient
from ordergate.client.blocking import Client
from ordergate.client.retry import RetryPolicy

__all__ = ["AsyncClient", "Client", "RetryPolicy"]
