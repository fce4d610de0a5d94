"""The command line: `ordergate serve | replay | verify-journal | keys | signals | simulate`.

One module per command group, `main` gathers them; `process` holds the set-up that
belongs to whoever owns the process (logging, the garbage collector).
"""

from ordergate.cli.main import main

__all__ = ["main"]
