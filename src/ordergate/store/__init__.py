"""Journal stores: in-memory, SQLite and PostgreSQL, each with its read models in the same
transaction as the journal; and the API keys kept beside the journal (SQLite, PostgreSQL).
"""
