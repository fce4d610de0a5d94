"""The composition root: the only room that knows every adapter.

It turns `Settings` into a running ordergate: a journal store, the venue, one engine per
partition with its reconciler and messaging (`partition`), embedded in one process or as
a node of a PostgreSQL cluster (`cluster`), and hands the entrypoints (REST, command line,
Python API) one `Application`. Nothing is built at import time.
"""
