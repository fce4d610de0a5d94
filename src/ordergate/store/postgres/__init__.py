"""The PostgreSQL journal and read models: one `PostgresStore` per partition, many nodes.

`PostgresStore.open(dsn, partition=p)` takes partition `p` over (its epoch fences the
previous owner out) and appends to its hash-chained journal; with `take_over=False` it only
reads. Every store answers queries over all partitions' read models.
"""

from ordergate.store.postgres.connection import SessionSettings
from ordergate.store.postgres.schema import MIGRATIONS, migrate
from ordergate.store.postgres.store import PostgresStore

__all__ = ["MIGRATIONS", "PostgresStore", "SessionSettings", "migrate"]
