"""Journal stores: in-memory and SQLite, with read models in the same transaction."""
