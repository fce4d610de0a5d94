"""The PostgreSQL journal and read models: one `PostgresStore` per partition, many nodes.

`PostgresStore.open(dsn, partition=p)` takes partition `p` over (its epoch fences the
previous owner out) and appends to its hash-chained journal; with `take_over=False` it only
reads. Every store answers queries over all partitions' read models.

Beside the journal, in the same database: the API keys every node shares
(`PostgresKeyStore`), a partition's lease (`lease`: an advisory lock on a session of its
own) and a node's presence (`presence`: a named session the server ends when the node
dies or freezes).
"""

from ordergate.store.postgres.connection import SessionSettings
from ordergate.store.postgres.keys import PostgresKeyStore
from ordergate.store.postgres.schema import MIGRATIONS, migrate
from ordergate.store.postgres.store import PostgresStore

__all__ = ["MIGRATIONS", "PostgresKeyStore", "PostgresStore", "SessionSettings", "migrate"]
